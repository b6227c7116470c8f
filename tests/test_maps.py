"""Map building: tile providers (locator.tiles), the compact layer (locator.web.mapdata),
outlines and the folium file (locator.io.maps)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from locator import tiles
from locator.categories import CATEGORY_CODES
from locator.hours import TZ
from locator.io import maps
from locator.venues import Venue
from locator.web.mapdata import compact_layer, hours_intervals
from locator.web.state import get_register
from locator.web.views import vendor_file

CDN = re.compile(r"cdn\.jsdelivr|cdnjs|code\.jquery|unpkg|bootstrapcdn|netdna|googleapis|maxcdn")
MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)


def venue(**kw):
    base = dict(id="v1", name="站", category="outdoor_station", district_code="460106", lon=110.33, lat=20.03)
    return Venue(**{**base, **kw})


@pytest.mark.parametrize(
    ("code", "key", "expected"),
    [
        (None, "", "osm"),
        ("", "", "osm"),
        ("osm", "", "osm"),
        (" OSM ", "", "osm"),
        ("amap", "", "amap"),
        ("none", "", "none"),
        ("tianditu", "", "none"),  # no key, no tiles rather than 403s
        ("tianditu", "abc", "tianditu"),
    ],
)
def test_tile_provider(code, key, expected):
    assert tiles.tile_provider(code, key).code == expected


@pytest.mark.parametrize("bad", ["google", "osm2", "天地图"])
def test_tile_provider_rejects_unknown_codes_quoting_them(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        tiles.tile_provider(bad)


def test_tile_provider_json_fills_key_and_language():
    tdt = tiles.tile_provider("tianditu", "KEY")
    zh, en = tdt.to_json("KEY", "zh"), tdt.to_json("KEY", "en")
    assert all("tk=KEY" in u for u in zh["urls"]) and len(zh["urls"]) == 2
    assert "LAYER=cva" in zh["urls"][1] and "LAYER=eva" in en["urls"][1]
    assert tiles.tile_provider("amap").to_json()["crs"] == "gcj02"
    assert tiles.tile_provider("none").to_json()["urls"] == []


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("leaflet.js", True),
        ("leaflet.css", True),
        ("images/marker-icon.png", True),
        ("MarkerCluster.Default.css", True),
        ("leaflet.markercluster.js", True),
        ("../package.json", False),
        ("leaflet-src.js", False),
        ("leaflet/dist/leaflet.js", False),
        ("", False),
    ],
)
def test_vendor_allowlist(name, allowed):
    assert (vendor_file(name) is not None) is allowed


def test_compact_layer_rows():
    v = venue(amenities=("toilet", "microwave"), opening_hours="Mo-Fr 08:00-12:00", phone="0898-1", address="路1号")
    layer = compact_layer([v, venue(id="v0", category="reading_room")], now=MONDAY_10, version=7)
    assert layer["version"] == 7 and layer["categories"] == list(CATEGORY_CODES)
    first, second = layer["venues"]
    assert first[0] == "v0" and second[0] == "v1"  # sorted by id
    vid, lon, lat, cat, name, addr, bits, hours, phone, district, open_now, town, confirmed, closed = second
    assert (lon, lat, CATEGORY_CODES[cat], name, addr, phone) == (
        110.33,
        20.03,
        "outdoor_station",
        "站",
        "路1号",
        "0898-1",
    )
    assert {a for i, a in enumerate(layer["amenities"]) if bits & (1 << i)} == {"toilet", "microwave"}
    assert layer["hours"][hours][0] == "Mo-Fr 08:00-12:00"
    assert open_now == 1 and district == -1 and first[7] == -1 and first[10] is None
    assert town == 0 and first[11] == 0
    placed = compact_layer([venue(id="t1", location_precision="town")], now=MONDAY_10)["venues"][0]
    assert placed[11] == 1  # the card then says 位置为乡镇中心，仅供参考
    assert (confirmed, closed) == (None, 0)  # the card: 尚无确认记录
    fresh = venue(id="f1", last_confirmed="2026-11-03T02:10:00+00:00", reported_closed=True)
    assert compact_layer([fresh], now=MONDAY_10)["venues"][0][12:] == ["2026-11-03T02:10:00+00:00", 1]


def test_hours_intervals_cover_a_week_in_unix_minutes():
    iv = hours_intervals("Mo-Fr 08:00-12:00", MONDAY_10, days=8)
    assert iv is not None and len(iv) == 7  # rest of Monday, Tue-Fri, next Monday, next Tuesday to 10:00
    assert iv[-1][1] == int(MONDAY_10.timestamp() // 60) + 8 * 1440
    assert iv[0] == [int(MONDAY_10.timestamp() // 60), int(MONDAY_10.replace(hour=12).timestamp() // 60)]
    assert hours_intervals("24/7", MONDAY_10, days=1) == [[iv[0][0], iv[0][0] + 1440]]
    assert hours_intervals("not hours", MONDAY_10) is None


def test_real_layer_and_outlines_are_small(ro_app):
    import gzip
    import json

    reg = get_register(ro_app)
    layer = json.dumps(compact_layer(reg.index.venues(), reg.districts), separators=(",", ":")).encode()
    outlines = json.dumps(maps.district_outlines(reg.districts), separators=(",", ":")).encode()
    assert len(gzip.compress(layer)) < 120_000
    assert len(gzip.compress(outlines)) < 40_000
    assert len(json.loads(outlines)["features"]) == len(reg.districts)


def test_build_map_is_self_contained_and_escapes(ro_app, tmp_path):
    reg = get_register(ro_app)
    hostile = venue(name="<script>alert(1)</script>", address="<img src=x onerror=alert(2)>")
    html = (
        maps.build_map([hostile, *reg.index.venues()[:50]], list(reg.districts)[:2], tiles="none").get_root().render()
    )
    assert not CDN.search(html)
    assert "L.markerClusterGroup" in html and "leaflet" in html.lower()
    assert "<script>alert(1)</script>" not in html  # data sits in JSON, escaped, set with textContent
    assert "textContent" in html
    assert "tile.openstreetmap.org" not in html
    osm = maps.build_map(reg.index.venues()[:5], tiles="osm").get_root().render()
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in osm and not CDN.search(osm)


def test_build_map_shifts_to_gcj02_for_amap_tiles():
    v = venue(lon=110.33, lat=20.03)
    wgs = maps.build_map([v], tiles="none").get_root().render()
    gcj = maps.build_map([v], tiles="amap").get_root().render()
    assert "[20.03, 110.33," in wgs
    assert "[20.03, 110.33," not in gcj and "webrd0" in gcj


def test_locator_map_command_writes_a_standalone_file(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from locator.cli.map import map_command

    monkeypatch.setenv("LOCATOR_DATABASE", str(tmp_path / "db.sqlite3"))
    out = tmp_path / "map.html"
    args = ["--category", "outdoor_station", "--district", "秀英区", "--tiles", "none", "-o", str(out)]
    result = CliRunner().invoke(map_command, args)
    assert result.exit_code == 0, result.output
    assert "venues)" in result.output
    html = out.read_text("utf-8")
    assert "L.markerClusterGroup" in html and not CDN.search(html)
    bad = CliRunner().invoke(map_command, ["--category", "cafe", "-o", str(out)])
    assert bad.exit_code == 2 and "'cafe'" in bad.output
    bad = CliRunner().invoke(map_command, ["--district", "Atlantis", "-o", str(out)])
    assert bad.exit_code == 2 and "'Atlantis'" in bad.output


def test_standalone_legend_lists_only_the_categories_shown(ro_app):
    venues = [v for v in get_register(ro_app).index.venues() if v.category == "outdoor_station"][:20]
    html = maps.build_map(venues, tiles="none").get_root().render()
    assert "Outdoor-worker rest station" in html and "Reading room" not in html


def test_build_map_draws_markers_and_popups_with_the_pages_common_module():
    html = maps.build_map([venue(name="<b>站</b>")], tiles="none").get_root().render()
    assert "var LocatorCommon = (function ()" in html
    assert "function venueIcon(" in html and "function textBox(" in html
    assert "LocatorCommon.venueIcon(" in html and "LocatorCommon.textBox(" in html
    assert not re.search(r"^export ", html, flags=re.MULTILINE)  # runs as a classic script
    assert ".vm-outdoor_station{background:#c2410c}" in html


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://t{s}.tianditu.gov.cn/vec_w/wmts?tk={key}", "https://*.tianditu.gov.cn"),
        ("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}", "https://*.is.autonavi.com"),
        ("http://localhost:8080/{z}/{x}/{y}.png", "http://localhost:8080"),
    ],
)
def test_tile_origin_is_the_csp_source_of_a_url_template(url, origin):
    assert tiles.tile_origin(url) == origin


def test_each_provider_lists_its_tile_origins():
    assert tiles.tile_provider("amap").origins() == ["https://*.is.autonavi.com"]
    assert tiles.tile_provider("none").origins() == []
