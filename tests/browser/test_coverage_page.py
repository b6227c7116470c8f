"""The /coverage page in headless Chromium: polygons, table sorting, controls in the URL, print view."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import DESKTOP, SHOTS

pytestmark = pytest.mark.browser


def _open(make_page: Any, path: str, **ctx: Any) -> Any:
    probe = make_page(DESKTOP, **ctx)
    page = probe.page
    page.goto(probe.base + path)
    page.wait_for_selector("body[data-ready]", timeout=15_000)
    page.wait_for_selector(".leaflet-overlay-pane path", timeout=15_000)
    return probe, page


def test_coverage_page_map_table_sort_and_controls(make_page):
    probe, page = _open(make_page, "/coverage?n=3")
    # the choropleth: one path per district at least, plus gap areas once fetched
    assert page.locator(".leaflet-overlay-pane path").count() >= 26
    page.wait_for_selector(".leaflet-overlay-pane path.gap-area", timeout=15_000)
    page.wait_for_selector(".site-icon", timeout=30_000)
    assert page.locator(".site-icon").count() == 3
    assert page.locator("#sites li").count() == 3
    assert page.locator("#weighting-note").is_visible()
    # the table: 26 districts, districts without venues first and marked
    rows = page.locator("#table tbody tr")
    assert rows.count() == 26
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "coverage-desktop.png"), full_page=True)

    # sort by covered % (a button in the header; the 8th cell: after the people columns), ascending then descending
    th = page.locator('#table th[data-key="covered_pct"]')
    th.locator("button").click()
    assert th.get_attribute("aria-sort") == "ascending"
    vals = [
        float(v)
        for v in page.locator("#table tbody tr td:nth-child(8)").evaluate_all("els => els.map(e => e.dataset.v)")
    ]
    assert vals == sorted(vals)
    th.locator("button").press("Enter")  # keyboard works: headers are buttons
    assert th.get_attribute("aria-sort") == "descending"
    vals = [
        float(v)
        for v in page.locator("#table tbody tr td:nth-child(8)").evaluate_all("els => els.map(e => e.dataset.v)")
    ]
    assert vals == sorted(vals, reverse=True)

    # change the radius: the form submits and the URL carries the state
    with page.expect_navigation():
        page.select_option("#radius-choice", "3000")
    page.wait_for_selector("body[data-ready]")
    assert "radius=3000" in page.url
    assert "n=3" in page.url
    assert page.locator("#radius").input_value() == "3000"
    page.wait_for_selector(".leaflet-overlay-pane path")
    assert probe.errors == []
    assert probe.foreign == []


def test_coverage_page_english_and_print(make_page):
    probe, page = _open(make_page, "/coverage?lang=en&n=0&category=innovation_studio&measure=venues_per_10k")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#table tbody tr.no-venues").count() >= 1
    first = page.locator("#table tbody tr").first
    assert "no-venues" in (first.get_attribute("class") or "")
    page.wait_for_selector(".leaflet-overlay-pane path.gap-area", timeout=15_000)
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.locator("#controls").is_hidden()
    page.screenshot(path=str(SHOTS / "coverage-print.png"), full_page=True)
    assert probe.errors == []
    assert probe.foreign == []


def _first_vertex(page: Any, adcode: str) -> list[float]:
    """[lat, lng] of the first vertex of the district's polygon as the page drew it."""
    return page.evaluate(  # type: ignore[no-any-return]
        """(code) => {
          const p = window.__polygons.find((l) => l.feature && l.feature.properties.adcode === code);
          let ll = p.getLatLngs();
          while (Array.isArray(ll[0])) ll = ll[0];
          return [ll[0].lat, ll[0].lng];
        }""",
        adcode,
    )


def test_amap_tiles_put_coverage_layers_where_the_map_page_puts_them(make_page, live_app):
    """On GCJ-02 tiles both pages shift WGS-84 outlines, gaps and sites the same way (common.js)."""
    from locator import geo
    from locator.io import maps
    from locator.web.state import get_register

    from .conftest import RECORD_LAYERS

    with live_app.app_context():
        districts = get_register(live_app).districts
        coarse, fine = maps.district_outlines(districts), maps.district_outlines(districts, tolerance=0.002)

    def first(feature: dict[str, Any]) -> tuple[float, float]:
        coords = feature["geometry"]["coordinates"]
        ring = coords[0] if feature["geometry"]["type"] == "Polygon" else coords[0][0]
        return tuple(ring[0])  # type: ignore[return-value]

    # a district whose outline starts at the same point in both simplifications
    adcode, (lon, lat) = next(
        (a["id"], first(a)) for a, b in zip(coarse["features"], fine["features"], strict=True) if first(a) == first(b)
    )
    glon, glat = geo.wgs84_to_gcj02(lon, lat)
    assert geo.distance_m(lon, lat, glon, glat) > 100  # the shift is worth testing here

    probe = make_page(DESKTOP)
    probe.page.add_init_script(RECORD_LAYERS)
    probe.open("/?tiles=amap")
    probe.page.wait_for_function(
        "(c) => window.__polygons.some((l) => l.feature && l.feature.properties.adcode === c)", arg=adcode
    )
    on_map = _first_vertex(probe.page, adcode)

    cprobe = make_page(DESKTOP)
    cprobe.page.add_init_script(RECORD_LAYERS)
    cprobe.page.goto(cprobe.base + "/coverage?tiles=amap&n=2")
    cprobe.page.wait_for_selector("body[data-ready]", timeout=15_000)
    on_coverage = _first_vertex(cprobe.page, adcode)

    assert on_coverage == pytest.approx(on_map, abs=1e-9)
    assert on_coverage == pytest.approx([glat, glon], abs=1e-9)  # GCJ-02, not the WGS-84 [lat, lon]

    # the suggested sites too: each marker sits on the API's WGS-84 point shifted to GCJ-02
    cprobe.page.wait_for_selector(".site-icon", timeout=30_000)
    drawn = cprobe.page.evaluate(
        "() => window.__markers.filter((m) => m.options.icon.options.className === 'site-icon')"
        ".map((m) => [m.getLatLng().lat, m.getLatLng().lng])"
    )
    api = cprobe.page.evaluate(
        "(u) => fetch(u).then((r) => r.json())",
        cprobe.page.evaluate("() => JSON.parse(document.getElementById('cov-cfg').textContent).urls.suggestions"),
    )
    expected = [list(reversed(geo.wgs84_to_gcj02(*f["geometry"]["coordinates"]))) for f in api["features"]]
    assert len(drawn) == len(expected) == 2
    for got, want in zip(drawn, expected, strict=True):
        assert got == pytest.approx(want, abs=1e-9)
    # the only failures are the Amap tiles, which the test browser may not fetch
    assert [e for e in probe.errors + cprobe.errors if "Failed to load resource" not in e] == []
    assert {u.split("/")[2] for u in probe.foreign + cprobe.foreign} <= {f"webrd0{i}.is.autonavi.com" for i in "1234"}
    cprobe.page.screenshot(path=str(SHOTS / "coverage-amap.png"))


@pytest.mark.parametrize("adcode", ["460400", "460106"])  # the largest district, and a city district
def test_district_report_prints_on_one_a4_page(make_page, adcode):
    probe = make_page(DESKTOP)
    page = probe.page
    page.goto(probe.base + f"/coverage/district/{adcode}?category=outdoor_station&radius=1000&n=5")
    page.wait_for_selector("#district-map path.outline")
    assert page.locator("#district-map g.site").count() == 5
    assert probe.foreign == []  # no tiles, no CDN: the map is the page's own SVG
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type /Page/") == 1, "pages"
    page.emulate_media(media="print")
    page.screenshot(path=str(SHOTS / f"coverage-district-{adcode}-print.png"), full_page=True)
