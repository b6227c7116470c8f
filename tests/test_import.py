"""Importing and exporting the register: the report, exit codes, atomicity, round trips."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from locator.cli import main
from locator.districts import load_districts
from locator.errors import DataError
from locator.gazetteer import load_gazetteer
from locator.geo import distance_m, wgs84_to_gcj02
from locator.io.exporter import export_bytes
from locator.io.importer import read_register
from locator.storage import sqlite as store_module
from locator.storage.sqlite import SQLiteStore
from locator.venues import Venue
from locator.web.state import get_register

from .conftest import GEODATA, ROOT

EXAMPLE = ROOT / "examples" / "register_example.csv"
HEADER = ["名称", "类别", "所属市县", "地址", "经度", "纬度", "开放时间", "设施", "联系电话"]


@pytest.fixture(scope="module")
def districts():
    return load_districts(GEODATA / "districts.geojson")


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer(GEODATA / "places.json")


def gcj(lon, lat):
    g = wgs84_to_gcj02(lon, lat)
    return f"{g[0]:.6f}", f"{g[1]:.6f}"


def messy_rows():
    """What a county union might send: GBK, Chinese headers, Amap coordinates, mistakes."""
    lon, lat = gcj(110.3201, 20.0402)  # 龙华区, on land
    dup_lon, dup_lat = gcj(110.3202, 20.0403)  # ~15 m away
    sw_lon, sw_lat = gcj(110.4660, 19.2480)  # 琼海市 嘉积
    return [
        HEADER,
        [
            "滨海大道户外劳动者服务站",
            "户外劳动者服务站",
            "龙华区",
            "滨海大道105号",
            lon,
            lat,
            "24/7",
            "微波炉、卫生间",
            "0898-66512345",
        ],
        [
            "嘉积镇职工服务中心",
            "职工服务(帮扶)中心",
            "琼海市",
            "爱华路66号",
            sw_lat,
            sw_lon,
            "Mo-Fr 08:00-17:30",
            "",
            "",
        ],
        ["滨海大道户外劳动者服务站", "户外劳动者服务站", "龙华区", "滨海大道107号", dup_lon, dup_lat, "24/7", "", ""],
        ["海上职工之家", "职工之家", "美兰区", "琼州海峡", *gcj(110.60, 20.30), "", "", ""],
        ["健身中心", "健身房", "秀英区", "长滨路1号", *gcj(110.28, 20.01), "", "", ""],
        ["无坐标职工书屋", "职工书屋", "文昌市", "文城镇", "", "", "", "", ""],
        ["海秀职工书屋", "职工书屋", "龙华区", "海秀路9号", *gcj(110.30, 20.02), "每天早八点", "图书、按摩椅", ""],
        ["国兴大道职工之家", "职工之家", "美兰区", "国兴大道5号", *gcj(110.335, 20.030), "", "", ""],
        ["坏坐标站", "户外劳动者服务站", "龙华区", "某路", "110.3x", "20.0", "", "", ""],
    ]


def write_csv(path: Path, rows, encoding="gbk") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


EXPECTED_REPORT = [
    "row 3: warning: lon/lat: latitude and longitude swapped (19.2464, 110.47); corrected to (110.47, 19.2464)",
    "row 4: error: name: duplicate of row 2: the same name within 50 m",
    "row 5: error: lon/lat: point (110.600000, 20.300000) lies outside Hainan's land",
    "row 6: error: category: unknown category '健身房'; expected one of 职工之家, 职工书屋, 职工服务(帮扶)中心, "
    "户外劳动者服务站, 劳模和工匠人才创新工作室、职工创新工作室, 其他",
    "row 7: located at 文城镇 (town level) from its address",
    "row 8: warning: amenities: unknown amenity '按摩椅' ignored",
    "row 8: warning: opening_hours: opening hours '每天早八点': could not read '早八点'; left unknown",
    "row 9: warning: district: point lies in 龙华区 (460106), not in 美兰区 as named; kept in 龙华区",
    "row 10: error: lon/lat: '110.3x' is not a coordinate (decimal degrees, or degrees°minutes′seconds″)",
    "9 rows read: 5 valid, 4 invalid, 4 warning(s)",
]


def test_messy_file_yields_exactly_the_expected_report(tmp_path, districts, gazetteer):
    path = write_csv(tmp_path / "messy.csv", messy_rows())
    report = read_register(path, districts, crs="gcj02", gazetteer=gazetteer)
    assert report.lines() == EXPECTED_REPORT
    good = {v.name: v for v in report.venues}
    assert set(good) == {
        "国兴大道职工之家",
        "嘉积镇职工服务中心",
        "滨海大道户外劳动者服务站",
        "无坐标职工书屋",
        "海秀职工书屋",
    }
    assert good["无坐标职工书屋"].location_precision == "town" and good["无坐标职工书屋"].district_code == "469005"
    assert good["海秀职工书屋"].opening_hours is None  # unreadable hours: kept, hours unknown
    assert sorted(v.location_precision for v in report.venues) == ["exact"] * 4 + ["town"]
    # GCJ-02 was converted back to WGS-84 (to well under a metre), also for the swapped row.
    assert (
        distance_m(good["滨海大道户外劳动者服务站"].lon, good["滨海大道户外劳动者服务站"].lat, 110.3201, 20.0402) < 0.05
    )
    assert distance_m(good["嘉积镇职工服务中心"].lon, good["嘉积镇职工服务中心"].lat, 110.4660, 19.2480) < 0.05
    assert good["滨海大道户外劳动者服务站"].amenities == ("microwave", "toilet")
    assert good["国兴大道职工之家"].district_code == "460106"  # where the point lies


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCATOR_DATABASE", str(tmp_path / "reg.sqlite3"))
    runner = CliRunner()
    return lambda *a: runner.invoke(main, list(a), catch_exceptions=False)


def test_cli_import_of_messy_file_writes_nothing_and_exits_1(cli, tmp_path):
    path = write_csv(tmp_path / "messy.csv", messy_rows())
    before = cli("versions").output
    r = cli("import", str(path), "--crs", "gcj02")
    assert r.exit_code == 1
    assert r.output.splitlines()[: len(EXPECTED_REPORT)] == EXPECTED_REPORT
    assert "nothing written" in r.output
    assert cli("versions").output == before


def test_cli_import_skip_invalid_merges_valid_rows_and_keeps_a_version(cli, tmp_path):
    path = write_csv(tmp_path / "messy.csv", messy_rows())
    r = cli("import", str(path), "--crs", "gcj02", "--skip-invalid")
    assert r.exit_code == 1 and "wrote 5 venues (merge)" in r.output
    out = cli("nearest", "--lat", "20.0402", "--lon", "110.3201", "-k", "1", "--format", "json").output
    assert "滨海大道户外劳动者服务站" in out
    versions = cli("versions").output
    assert "before: import messy.csv (merge)" in versions and "2621" in versions
    assert cli("rollback", "1").exit_code == 0
    out = cli("nearest", "--lat", "20.0402", "--lon", "110.3201", "-k", "1", "--format", "json").output
    assert "滨海大道户外劳动者服务站" not in out


def test_example_file_imports_cleanly(cli):
    r = cli("import", str(EXAMPLE), "--crs", "gcj02", "--mode", "replace")
    assert r.exit_code == 0, r.output
    assert "5 rows read: 5 valid, 0 invalid, 0 warning(s)" in r.output
    check = cli("data", "check")
    assert check.exit_code == 0 and "total              合计                                      5" in check.output


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "is empty"),
        ("地址,电话\n海口,1\n".encode(), "nohead.csv", "no column for name, category"),
        (b"{]", "bad.geojson", "is not valid JSON"),
        (b'{"type": "Feature"}', "f.geojson", "is not a GeoJSON FeatureCollection"),
        (b"PK\x03\x04garbage", "bad.xlsx", "is not a readable XLSX workbook"),
        (b"x", "register.docx", "unknown file type '.docx'"),
    ],
)
def test_unreadable_files_exit_2_with_one_line(cli, tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    r = cli("import", str(path))
    assert r.exit_code == 2
    assert r.output.strip().count("\n") == 0 and message in r.output


def test_missing_file_exits_2(cli, tmp_path):
    r = cli("import", str(tmp_path / "nope.csv"))
    assert r.exit_code == 2 and "cannot read" in r.output


def test_a_failure_in_the_middle_of_an_import_leaves_the_register_intact(tmp_path, monkeypatch):
    store = SQLiteStore(tmp_path / "r.sqlite3")
    seed = [
        Venue(id=f"v{i}", name=f"站{i}", category="other", district_code="460106", lon=110.3 + i * 1e-4, lat=20.0)
        for i in range(500)
    ]
    store.seed_if_empty(seed)
    real = store_module.venue_row
    calls = {"n": 0}

    def flaky(v):
        calls["n"] += 1
        if calls["n"] == 300:
            raise OSError("disk full (injected)")
        return real(v)

    monkeypatch.setattr(store_module, "venue_row", flaky)
    with pytest.raises(OSError, match="injected"):
        store.replace_all([Venue(**{**v.as_dict(), "amenities": (), "name": "新" + v.name}) for v in seed])
    monkeypatch.setattr(store_module, "venue_row", real)
    other = SQLiteStore(tmp_path / "r.sqlite3")  # another process's view
    assert other.venues() == sorted(seed, key=lambda v: v.id) and other.version() == 1 and other.versions() == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson"])
def test_export_then_import_gives_an_identical_register(tmp_path, districts, fmt):
    store = SQLiteStore(tmp_path / "a.sqlite3")
    from locator.venues import load_venues

    venues = load_venues(GEODATA / "venues.geojson")
    venues[5] = Venue(**{**venues[5].as_dict(), "amenities": venues[5].amenities, "status": "closed"})
    store.seed_if_empty(venues)
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(export_bytes(store.venues(include_closed=True), fmt))
    report = read_register(path, districts)
    assert report.ok, report.lines()[:5]
    fresh = SQLiteStore(tmp_path / "b.sqlite3")
    fresh.replace_all(report.venues)
    assert fresh.venues(include_closed=True) == store.venues(include_closed=True)


def test_csv_export_has_a_bom_for_excel_and_gpkg_opens(tmp_path):
    from locator.venues import load_venues

    venues = load_venues(GEODATA / "venues.geojson")[:20]
    assert export_bytes(venues, "csv").startswith("\ufeff编号,名称".encode())
    gpkg = tmp_path / "v.gpkg"
    gpkg.write_bytes(export_bytes(venues, "gpkg"))
    import pyogrio

    df = pyogrio.read_dataframe(gpkg)
    assert len(df) == 20 and df.crs.to_epsg() == 4326 and set(df["id"]) == {v.id for v in venues}
    with pytest.raises(ValueError, match="unknown export format 'shp'"):
        export_bytes(venues, "shp")


def test_export_cli_writes_atomically_and_refuses_binary_to_stdout(cli, tmp_path):
    out = tmp_path / "r.xlsx"
    assert cli("export", "--format", "xlsx", "-o", str(out)).exit_code == 0
    assert out.read_bytes()[:2] == b"PK" and out.stat().st_mode & 0o044
    r = cli("export", "--format", "gpkg")
    assert r.exit_code == 2 and "give -o FILE" in r.output
    r = cli("export", "-o", str(tmp_path / "no" / "such" / "dir.csv"))
    assert r.exit_code == 1 and r.output.startswith("locator: error: cannot write")


def test_a_running_app_picks_up_an_import_without_restart(app, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("LOCATOR_DATABASE", app.config["DATABASE"])
    reg = get_register(app)
    assert len(reg.index) == 2621
    r = cli("import", str(EXAMPLE), "--crs", "gcj02", "--mode", "replace")
    assert r.exit_code == 0
    deadline = time.monotonic() + 30  # only stops a hang: the poller thread catches up in the background (issue 13)
    while len(reg.index) != 5:
        assert time.monotonic() < deadline, "the running app never picked up the import"
        time.sleep(0.02)


def test_unknown_crs_is_rejected(districts):
    with pytest.raises(DataError, match="unknown crs 'epsg:3857'"):
        read_register(EXAMPLE, districts, crs="epsg:3857")


FORMULA_NAMES = ['=HYPERLINK("http://x","y")', "+1+2", "-3", "@SUM(1)", "'quoted", "a=b"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_like_names_are_written_as_text_and_read_back_unchanged(tmp_path, districts, fmt):
    venues = [
        Venue(id=f"f{i}", name=name, category="other", district_code="460106", lon=110.33 + i * 1e-4, lat=20.03)
        for i, name in enumerate(FORMULA_NAMES)
    ]
    path = tmp_path / f"formulas.{fmt}"
    path.write_bytes(export_bytes(venues, fmt))
    if fmt == "csv":
        cells = [row[1] for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))][1:]
    else:
        from openpyxl import load_workbook

        ws = load_workbook(path).worksheets[0]
        assert [c.data_type for c in ws["B"][1:]] == ["s"] * len(FORMULA_NAMES)
        cells = [c.value for c in ws["B"][1:]]
    # Only what a spreadsheet would run gets the apostrophe; the rest is written as it is.
    assert cells == ["'" + n for n in FORMULA_NAMES[:4]] + ["'quoted", "a=b"]
    report = read_register(path, districts)
    assert report.ok, report.lines()
    assert [v.name for v in report.venues] == FORMULA_NAMES


def test_control_characters_in_a_field_are_refused_naming_the_field(tmp_path, districts):
    rows = [
        HEADER,
        ["站\x00一", "职工之家", "龙华区", "海秀路\x07号", "110.33", "20.03", "", "", ""],
        ["好站", "职工之家", "龙华区", "海秀路\t9号", "110.3305", "20.0305", "", "", ""],
    ]
    report = read_register(write_csv(tmp_path / "control.csv", rows, encoding="utf-8"), districts)
    assert report.lines() == [
        "row 2: error: address: control character(s) '\\x07' in '海秀路\\x07号'",
        "row 2: error: name: control character(s) '\\x00' in '站\\x00一'",
        "2 rows read: 1 valid, 1 invalid, 0 warning(s)",
    ]
    assert [(v.name, v.address) for v in report.venues] == [("好站", "海秀路\t9号")]
