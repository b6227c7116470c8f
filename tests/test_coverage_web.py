"""The /coverage page, its downloads, and /api/v1/coverage{,/gaps,/suggestions}."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from locator import create_app
from locator.web.coverage import COLUMNS, coverage_state, get_analyzer
from locator.web.state import get_register
from locator.web.translations import EN

ROOT = Path(__file__).resolve().parents[1]
MSGID = re.compile(r"""\b_\(\s*(["'])(.+?)\1""")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    db = tmp_path_factory.mktemp("cov") / "test.sqlite3"
    return create_app({"TESTING": True, "DATABASE": str(db), "INDEX_REFRESH_SECONDS": 0, "TILES": "none"})


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def _problem(resp, name):
    assert resp.status_code == 400, resp.data[:300]
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["status"] == 400 and body["title"] and body["detail"]
    assert [p["name"] for p in body["invalid_params"]] == [name]
    return body


# -- the API ---------------------------------------------------------------------
def test_table_shape_and_cache(app, client):
    r = client.get("/api/v1/coverage?category=outdoor_station&radius=1000")
    assert r.status_code == 200 and r.mimetype == "application/json"
    doc = r.get_json()
    assert set(doc) == {"params", "summary", "districts"}
    assert doc["params"]["categories"] == ["outdoor_station"] and doc["params"]["radius_m"] == 1000
    assert len(doc["districts"]) == 26
    assert "districts_without_venues" in doc["summary"]
    with app.app_context():  # the second request is served from the analyzer's cache (speed: bench/coverage.py)
        first = get_analyzer().table(("outdoor_station",), 1000.0)
    assert client.get("/api/v1/coverage?category=outdoor_station&radius=1000").get_json() == doc
    with app.app_context():
        assert get_analyzer().table(("outdoor_station",), 1000.0) is first


def test_defaults_are_outdoor_stations_at_1000_m(client):
    doc = client.get("/api/v1/coverage").get_json()
    assert doc["params"]["categories"] == ["outdoor_station"]
    assert doc["params"]["radius_m"] == 1000


def test_districts_without_venues_match_the_register(app, client):
    venues = get_register(app).index.venues()
    have = {v.district_code for v in venues if v.category == "innovation_studio" and v.status == "active"}
    expected = sorted(d.adcode for d in get_register(app).districts if d.adcode not in have)
    assert len(expected) >= 3  # the shipped data: several districts have no innovation studio
    doc = client.get("/api/v1/coverage?category=innovation_studio").get_json()
    listed = [d["adcode"] for d in doc["summary"]["districts_without_venues"]]
    assert sorted(listed) == expected
    # and they come first in the table
    assert [r["adcode"] for r in doc["districts"][: len(expected)]] == listed


def test_several_categories_as_a_comma_list(client):
    doc = client.get("/api/v1/coverage?category=reading_room,workers_home&radius=2000").get_json()
    assert doc["params"]["categories"] == ["workers_home", "reading_room"]


def test_gaps_geojson(client):
    r = client.get("/api/v1/coverage/gaps?category=outdoor_station&radius=1000")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = r.get_json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 26
    f = fc["features"][0]
    assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert {"adcode", "name_zh", "gap_km2", "gap_pct"} <= set(f["properties"])


def test_gaps_at_the_largest_radius_do_not_fail(client):
    # GEOS's precision snap throws on some of these unions; the web layer repairs them
    r = client.get("/api/v1/coverage/gaps?category=outdoor_station&radius=20000")
    assert r.status_code == 200
    assert len(r.get_json()["features"]) == 26


def test_suggestions_geojson(client):
    r = client.get("/api/v1/coverage/suggestions?category=outdoor_station&radius=3000&n=3")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = r.get_json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 3
    p = fc["features"][0]["properties"]
    assert {"rank", "marginal_gain", "covered_before", "covered_after", "covered_after_pct"} <= set(p)
    assert [c["sites"] for c in fc["curve"]] == [0, 1, 2, 3]
    assert fc["weighting"] == "population" and "population" in fc["note"]  # the shipped modelled surface, by default
    ranks = [f["properties"]["rank"] for f in fc["features"]]
    assert ranks == [1, 2, 3]
    gains = [f["properties"]["covered_after"] - f["properties"]["covered_before"] for f in fc["features"]]
    assert all(g >= 0 for g in gains)


@pytest.mark.parametrize(
    "url, name",
    [
        ("/api/v1/coverage?radius=49", "radius"),
        ("/api/v1/coverage?radius=20001", "radius"),
        ("/api/v1/coverage?radius=abc", "radius"),
        ("/api/v1/coverage?radius=nan", "radius"),
        ("/api/v1/coverage?radius=1e999", "radius"),
        ("/api/v1/coverage?radius=1000&radius=2000", "radius"),
        ("/api/v1/coverage?category=bogus", "category"),
        ("/api/v1/coverage?category=outdoor_station,bogus", "category"),
        ("/api/v1/coverage?category=%2C", "category"),
        ("/api/v1/coverage?category=a&category=b", "category"),
        ("/api/v1/coverage/gaps?radius=-5", "radius"),
        ("/api/v1/coverage/gaps?category=nope", "category"),
        ("/api/v1/coverage/suggestions?n=0", "n"),
        ("/api/v1/coverage/suggestions?n=201", "n"),
        ("/api/v1/coverage/suggestions?n=2.5", "n"),
        ("/api/v1/coverage/suggestions?n=ten", "n"),
        ("/api/v1/coverage/suggestions?n=1&n=2", "n"),
        ("/api/v1/coverage/suggestions?n=1&region=999999", "region"),
        # a request over the siting budget is 422, not 400: tests/test_budget.py
        ("/api/v1/coverage?measure=bogus", "measure"),
        ("/coverage/download.csv?radius=1", "radius"),
        ("/coverage/download.pdf", "format"),
    ],
)
def test_bad_input_is_a_problem_naming_the_parameter(client, url, name):
    _problem(client.get(url, headers={"Accept": "application/json"}), name)


def test_api_is_get_only(client):
    r = client.post("/api/v1/coverage")
    assert r.status_code == 405 and r.mimetype == "application/problem+json"


# -- downloads -----------------------------------------------------------------
def _disposition_ok(resp, ext):
    cd = resp.headers["Content-Disposition"]
    assert cd.startswith("attachment;")
    assert re.search(rf'filename="hainan-coverage-[A-Za-z0-9_+.-]+\.{ext}"', cd)
    assert "filename*=UTF-8''" in cd and cd.endswith(f".{ext}")


def test_csv_has_bom_and_chinese_headers(client):
    r = client.get("/coverage/download.csv?category=outdoor_station&radius=1000")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.data.startswith(b"\xef\xbb\xbf")
    text = r.data.decode("utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[:2] == [COLUMNS["adcode"], COLUMNS["name_zh"]]
    assert "覆盖率（%）" in header
    assert len(text.splitlines()) == 27
    _disposition_ok(r, "csv")


def test_xlsx_has_the_sheets(client):
    from openpyxl import load_workbook

    r = client.get("/coverage/download.xlsx?category=outdoor_station&radius=3000&n=3")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    assert {"districts", "summary", "suggestions"} <= set(wb.sheetnames)
    assert wb["districts"].max_row == 27
    assert wb["districts"]["A1"].value == COLUMNS["adcode"]
    assert wb["suggestions"].max_row == 4
    _disposition_ok(r, "xlsx")
    assert "suggestions" not in load_workbook(io.BytesIO(client.get("/coverage/download.xlsx").data)).sheetnames


def test_geojson_download_has_districts_and_gaps(client):
    r = client.get("/coverage/download.geojson?category=outdoor_station&radius=1000")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = json.loads(r.data)
    layers = [f["properties"]["layer"] for f in fc["features"]]
    assert layers.count("district") == 26 and layers.count("gap") == 26
    district = next(f for f in fc["features"] if f["properties"]["layer"] == "district")
    assert "covered_pct" in district["properties"] and district["geometry"]["type"] in ("Polygon", "MultiPolygon")
    _disposition_ok(r, "geojson")


def test_geopackage_layers_and_crs(client, tmp_path):
    import pyogrio

    r = client.get("/coverage/download.gpkg?category=outdoor_station&radius=3000&n=3")
    assert r.status_code == 200
    path = tmp_path / "c.gpkg"
    path.write_bytes(r.data)
    names = [name for name, _ in pyogrio.list_layers(path)]
    assert names == ["districts", "gaps", "suggestions"]
    for layer, count in (("districts", 26), ("gaps", 26), ("suggestions", 3)):
        info = pyogrio.read_info(path, layer=layer)
        assert info["crs"] == "EPSG:4326"
        assert info["features"] == count
    assert "covered_pct" in pyogrio.read_info(path, layer="districts")["fields"]
    _disposition_ok(r, "gpkg")


# -- the page ----------------------------------------------------------------------
def _visible_text(html):
    text = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", text)


def test_page_in_chinese(client):
    r = client.get("/coverage?lang=zh")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "职工服务阵地覆盖分析" in html
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "<script>" not in html  # no inline scripts
    cfg = json.loads(re.search(r'<script type="application/json" id="cov-cfg">(.*?)</script>', html, re.S).group(1))
    assert cfg["measure"] == "covered_pct" and len(cfg["rows"]) == 26
    assert len(cfg["districts"]["features"]) == 26
    assert cfg["urls"]["gaps"].startswith("/api/v1/coverage/gaps?")
    assert html.count("<tr data-adcode=") == 26
    assert 'id="weighting-note"' in html  # n defaults to 5: the area-weighting caveat is shown


def test_page_in_english_has_no_chinese_outside_data(client):
    html = client.get("/coverage?lang=en&category=innovation_studio").get_data(as_text=True)
    text = _visible_text(html).replace("中文", "")
    assert not re.search(r"[\u4e00-\u9fff]", text), re.findall(r".{20}[\u4e00-\u9fff]+.{20}", text)[:5]
    assert "no venue" in text


def test_page_keeps_state_in_links_and_accepts_the_forms_repeated_categories(client):
    html = client.get("/coverage?category=reading_room&category=workers_home&radius=1500&n=0&measure=dist_median_m")
    assert html.status_code == 200
    page = html.get_data(as_text=True)
    assert "/coverage/download.csv?category=workers_home,reading_room&amp;radius=1500" in page
    assert 'value="dist_median_m" selected' in page
    assert 'id="weighting-note"' not in page  # n=0: no suggestions, no caveat


@pytest.mark.parametrize("query, name", [("n=51", "n"), ("radius=30", "radius"), ("measure=x", "measure")])
def test_page_rejects_bad_input_with_a_400(client, query, name):
    r = client.get(f"/coverage?{query}")
    assert r.status_code == 400 and name in r.get_data(as_text=True)


def test_every_coverage_string_has_an_english_translation():
    ids = set(COLUMNS.values())
    for path in (ROOT / "templates/coverage.html", ROOT / "static/js/coverage.js"):
        ids |= {m.group(2) for m in MSGID.finditer(path.read_text("utf-8"))}
    assert sorted(i for i in ids if i not in EN) == []


def test_analyzer_is_built_once_per_app(app):
    with app.app_context():
        a = get_analyzer()
        assert get_analyzer() is a
        assert coverage_state().analyzer is a
        assert a.target_per_10k == app.config["COVERAGE_TARGET_PER_10K"]


def test_suggestions_within_one_district(client):
    fc = client.get("/api/v1/coverage/suggestions?radius=500&n=2&region=460106").get_json()
    assert [f["properties"]["adcode"] for f in fc["features"]] == ["460106", "460106"]
    html = client.get("/coverage?radius=500&n=2&region=460106").get_data(as_text=True)
    assert 'value="460106" selected' in html
    assert "region=460106" in html


def test_every_download_sheet_has_headers_in_the_pages_language(client):
    from openpyxl import load_workbook

    from locator.io.coverage_report import CURVE_COLUMNS, DISTRICT_COLUMNS, SITE_COLUMNS, SUMMARY_COLUMNS

    expected = {"districts": DISTRICT_COLUMNS, "summary": SUMMARY_COLUMNS, "suggestions": SITE_COLUMNS}
    expected["curve"] = CURVE_COLUMNS
    for lang in ("zh", "en"):
        r = client.get(f"/coverage/download.xlsx?category=outdoor_station&radius=3000&n=2&lang={lang}")
        wb = load_workbook(io.BytesIO(r.data))
        assert wb.sheetnames == list(expected)
        for name, columns in expected.items():
            assert [c.value for c in wb[name][1]] == [c.label(lang) for c in columns], (lang, name)
    r = client.get("/coverage/download.csv?category=outdoor_station&lang=en")
    assert r.data.decode("utf-8-sig").splitlines()[0].startswith("Adcode,District,English name,")


def test_report_english_headers_match_the_catalogue():
    from locator.io.coverage_report import DISTRICT_COLUMNS

    assert {c.zh: c.en for c in DISTRICT_COLUMNS} == {zh: EN[zh] for zh in COLUMNS.values()}


def test_geojson_download_rings_are_counter_clockwise(client):
    import shapely
    from shapely.geometry import shape

    fc = json.loads(client.get("/coverage/download.geojson?category=outdoor_station&radius=1000").data)
    checked = 0
    for f in fc["features"]:
        if not f["geometry"] or f["geometry"]["type"] not in ("Polygon", "MultiPolygon"):
            continue
        for part in shapely.get_parts(shape(f["geometry"])):
            assert part.exterior.is_ccw, f["id"]
            assert not any(ring.is_ccw for ring in part.interiors), f["id"]
            checked += 1
    assert checked >= 52
    gaps = client.get("/api/v1/coverage/gaps?category=outdoor_station&radius=1000").get_json()
    assert all(
        shape(g["geometry"]).geoms[0].exterior.is_ccw
        if g["geometry"]["type"] == "MultiPolygon"
        else shape(g["geometry"]).exterior.is_ccw
        for g in gaps["features"]
        if g["geometry"]
    )
