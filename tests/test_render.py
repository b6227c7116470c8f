"""The one renderer registry (locator.io.render): spreadsheet safety, every format, atomic writes."""

from __future__ import annotations

import csv
import io
import json
import os
import stat

import pytest

from locator.io.render import (
    RENDERERS,
    Column,
    Document,
    Layer,
    Sheet,
    control_characters,
    from_spreadsheet_text,
    render,
    spreadsheet_text,
    write_atomic,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # what a spreadsheet would run as a formula gets an apostrophe
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+2", "'+1+2"),
        ("-3", "'-3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        # control characters are dropped, and what they hid is then caught
        ("\x00=1+1", "'=1+1"),
        ("a\x00b\x07c\x1bd\x7f", "abcd"),
        ("\x1f\x0b\x0c", ""),
        # ordinary text, line breaks and tabs inside, and numbers pass unchanged
        ("海口市龙华区职工之家", "海口市龙华区职工之家"),
        ("Mo-Fr 08:00-18:00", "Mo-Fr 08:00-18:00"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
        ("第一行\n第二行\t末", "第一行\n第二行\t末"),
        ("", ""),
        (-3, -3),
        (1.5, 1.5),
        (None, None),
        (True, True),
    ],
)
def test_spreadsheet_text(value, expected):
    assert spreadsheet_text(value) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("'=SUM(1)", "=SUM(1)"),
        ("'+1+2", "+1+2"),
        ("'-3", "-3"),
        ("'@SUM(1)", "@SUM(1)"),
        ("'\t=1", "\t=1"),
        ("'quoted", "'quoted"),  # not an apostrophe spreadsheet_text adds
        ("''=x", "''=x"),
        ("'", "'"),
        ("=SUM(1)", "=SUM(1)"),
        (3, 3),
        (None, None),
    ],
)
def test_from_spreadsheet_text_undoes_only_the_formula_apostrophe(cell, expected):
    assert from_spreadsheet_text(cell) == expected


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x","y")', "+1+2", "-3", "@SUM(1)", "plain", "'quoted", "新"])
def test_spreadsheet_text_round_trips_text_without_control_characters(value):
    assert from_spreadsheet_text(spreadsheet_text(value)) == value


def test_control_characters_lists_each_forbidden_character_once():
    assert control_characters("a\x00b\x00\x07\t\n\r\x7f新") == ["\x00", "\x07", "\x7f"]
    assert control_characters("海口 Haikou\t\r\n") == []


def point(fid, lon, lat, **props):
    return {"type": "Feature", "id": fid, "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


@pytest.fixture
def doc():
    columns = [Column("name", "名称", "Name"), Column("count", "数量", "Count"), Column("code", "编码")]
    rows = [
        {"name": "秀英区", "count": 3, "code": "460105"},
        {"name": "=1+1", "count": 2.5, "code": "-9"},
        {"name": "tags", "count": None, "code": ["a", "b"]},
    ]
    return Document(
        name="demo",
        sheets=(
            Sheet("区县", columns, rows, name_en="Districts"),
            Sheet("空表", [Column("x", "某列", "Some column")], [{"x": "+SUM(A1)"}], name_en="Empty"),
        ),
        layers=(
            Layer("venues", [point("v1", 110.33, 20.03, name="站一"), point("v2", 110.34, 20.04, name="@站二")]),
            Layer("gaps", [point("g1", 109.5, 18.25, people=120)]),
        ),
        meta={"radius_m": 1000},
    )


@pytest.mark.parametrize(
    ("lang", "header"),
    [("zh", ["名称", "数量", "编码"]), ("en", ["Name", "Count", "编码"])],
)
def test_csv_has_a_bom_crlf_headers_in_the_language_and_safe_cells(doc, lang, header):
    data = render(doc, "csv", lang)
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert text.count("\r\n") == 4 and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [header, ["秀英区", "3", "460105"], ["'=1+1", "2.5", "'-9"], ["tags", "", "a; b"]]


@pytest.mark.parametrize(
    ("lang", "titles", "header"), [("zh", ["区县", "空表"], "名称"), ("en", ["Districts", "Empty"], "Name")]
)
def test_xlsx_has_a_sheet_per_sheet_headers_in_the_language_and_no_formula(doc, lang, titles, header):
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(render(doc, "xlsx", lang)))
    assert wb.sheetnames == titles
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == [header, "数量" if lang == "zh" else "Count", "编码"]
    assert [[c.value for c in row] for row in ws.iter_rows(min_row=2)] == [
        ["秀英区", 3, "460105"],
        ["'=1+1", 2.5, "'-9"],
        ["tags", None, "a; b"],
    ]
    assert wb.worksheets[1]["A2"].value == "'+SUM(A1)"
    cells = [c for sheet in wb.worksheets for row in sheet.iter_rows() for c in row]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]


def test_geojson_has_every_layer_and_the_meta(doc):
    fc = json.loads(render(doc, "geojson"))
    assert fc["type"] == "FeatureCollection" and fc["radius_m"] == 1000
    assert [(f["id"], f["properties"]["layer"]) for f in fc["features"]] == [
        ("venues-v1", "venues"),
        ("venues-v2", "venues"),
        ("gaps-g1", "gaps"),
    ]
    assert fc["features"][1]["properties"]["name"] == "@站二"  # not a spreadsheet: nothing to neutralise


def test_geojson_of_one_layer_keeps_the_ids():
    one = Document(name="one", layers=(Layer("venues", [point("v1", 110.33, 20.03, name="站")]),))
    fc = json.loads(render(one, "geojson"))
    assert [f["id"] for f in fc["features"]] == ["v1"] and "layer" not in fc["features"][0]["properties"]


def test_json_is_the_body_or_else_the_sheets(doc):
    assert json.loads(render(doc, "json"))["区县"][0] == {"name": "秀英区", "count": 3, "code": "460105"}
    body = Document(name="b", body={"名称": "站", "n": 1})
    assert render(body, "json").decode() == '{\n  "名称": "站",\n  "n": 1\n}\n'


def test_gpkg_opens_with_the_layers_in_wgs84(doc, tmp_path):
    import pyogrio

    path = tmp_path / "demo.gpkg"
    path.write_bytes(render(doc, "gpkg"))
    assert sorted(name for name, _ in pyogrio.list_layers(path)) == ["gaps", "venues"]
    venues = pyogrio.read_dataframe(path, layer="venues")
    assert venues.crs.to_epsg() == 4326
    assert list(venues["id"]) == ["v1", "v2"] and list(venues["name"]) == ["站一", "@站二"]
    assert (venues.geometry.x.round(6).tolist(), venues.geometry.y.round(6).tolist()) == (
        [110.33, 110.34],
        [20.03, 20.04],
    )
    assert pyogrio.read_dataframe(path, layer="gaps")["people"].tolist() == [120]


def test_gpkg_of_a_document_without_features_is_refused():
    with pytest.raises(ValueError, match="no features"):
        render(Document(name="empty", layers=(Layer("venues", []),)), "gpkg")


def test_every_renderer_says_its_media_type_and_extension():
    assert {f: (r.media_type.split(";")[0], r.extension) for f, r in RENDERERS.items()} == {
        "csv": ("text/csv", "csv"),
        "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        "json": ("application/json", "json"),
        "geojson": ("application/geo+json", "geojson"),
        "gpkg": ("application/geopackage+sqlite3", "gpkg"),
    }


@pytest.mark.parametrize(
    ("fmt", "lang", "message"),
    [
        ("shp", "zh", "unknown format 'shp'"),
        ("CSV", "zh", "unknown format 'CSV'"),
        ("", "zh", "unknown format ''"),
        ("csv", "fr", "unknown language 'fr'"),
        ("csv", "", "unknown language ''"),
    ],
)
def test_unknown_format_or_language_is_a_value_error_quoting_it(doc, fmt, lang, message):
    with pytest.raises(ValueError, match=message):
        render(doc, fmt, lang)


# -- write_atomic -------------------------------------------------------------------------


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_write_atomic_replaces_the_file(tmp_path):
    path = tmp_path / "out.csv"
    path.write_bytes(b"old")
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and leftovers(tmp_path) == []


def fail(*args):
    raise OSError("disk full (injected)")


@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_a_disk_failure_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, where):
    path = tmp_path / "out.csv"
    path.write_bytes(b"old")
    monkeypatch.setattr(os, where, fail)
    with pytest.raises(OSError, match="injected"):
        write_atomic(path, b"new")
    monkeypatch.undo()
    assert path.read_bytes() == b"old" and leftovers(tmp_path) == []


@pytest.mark.parametrize("data", ["text, not bytes", None, 42])
def test_data_that_cannot_be_written_leaves_the_old_file_and_no_temporary(tmp_path, data):
    path = tmp_path / "out.csv"
    path.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_atomic(path, data)
    assert path.read_bytes() == b"old" and leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_leaves_the_old_file(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "out.csv"
    path.write_bytes(b"old")
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError):
            write_atomic(path, b"new")
        assert path.read_bytes() == b"old" and leftovers(folder) == []
    finally:
        folder.chmod(0o755)


def test_a_missing_folder_is_an_os_error_and_nothing_is_made(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "no" / "out.csv", b"x")
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_honours_mode_and_else_the_umask(tmp_path):
    secret = tmp_path / "secret"
    write_atomic(secret, b"s", mode=0o600)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    write_atomic(secret, b"t", mode=0o640)  # replacing keeps the mode asked for, not the old file's
    assert stat.S_IMODE(secret.stat().st_mode) == 0o640 and secret.read_bytes() == b"t"
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "plain", b"p")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "plain").stat().st_mode) == 0o640
