"""The venue card at phone size: distance and time, 报告问题, route links from the start point in each app's datum."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from locator.geo import distance_m, wgs84_to_bd09, wgs84_to_gcj02
from locator.travel import travel_time
from locator.web.state import get_register

from .conftest import SHOTS

pytestmark = pytest.mark.browser

HAIKOU = (110.33, 20.03)


#: The map's venue layer rounds positions to 5 decimals (about 1 m; locator.web.mapdata); the start point is exact.
VENUE_TOL = 1e-5


def _close(text: str, lat: float, lon: float, tol: float = 2e-6) -> None:
    a, b = (float(x) for x in text.split(",")[:2])
    assert abs(a - lat) < tol and abs(b - lon) < tol, (text, lat, lon)


def _q(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(href).query).items()}


def test_card_routes_from_the_start_point_in_each_datum(make_page, live_app):
    probe = make_page(geolocation={"latitude": HAIKOU[1], "longitude": HAIKOU[0]}, permissions=["geolocation"])
    page = probe.open("/")
    page.click("#near-btn")
    page.locator("#results-list li button").nth(0).click()
    vid = parse_qs(urlparse(page.url).query)["venue"][0]
    v = get_register(live_app).index.get(vid)
    d = float(distance_m(HAIKOU[0], HAIKOU[1], v.lon, v.lat))
    t = travel_time(d)
    dist = page.locator("#card-dist").inner_text()
    assert dist.startswith("距起点 ") and f"约 {t.minutes} 分钟" in dist
    assert ("步行" if t.mode == "walk" else "骑电动车") in dist
    assert page.locator("#card-report").get_attribute("href") == f"/report/{vid}"

    og, vg = wgs84_to_gcj02(*HAIKOU), wgs84_to_gcj02(v.lon, v.lat)
    ob, vb = wgs84_to_bd09(*HAIKOU), wgs84_to_bd09(v.lon, v.lat)
    amap = page.locator("#nav-amap").get_attribute("href")
    assert amap.startswith("https://uri.amap.com/navigation?")
    q = _q(amap)
    a = q["from"].split(",")
    _close(f"{a[1]},{a[0]}", og[1], og[0])
    b = q["to"].split(",")
    _close(f"{b[1]},{b[0]}", vg[1], vg[0], VENUE_TOL)
    assert q["coordinate"] == "gaode" and q["mode"] == ("walk" if t.mode == "walk" else "ride")
    baidu = page.locator("#nav-baidu").get_attribute("href")
    assert baidu.startswith("https://api.map.baidu.com/direction?")
    q = _q(baidu)
    assert q["coord_type"] == "bd09ll"
    _close(q["origin"].split("|")[0].removeprefix("latlng:"), ob[1], ob[0])
    _close(q["destination"].split("|")[0].removeprefix("latlng:"), vb[1], vb[0], VENUE_TOL)
    q = _q(page.locator("#nav-apple").get_attribute("href"))
    _close(q["saddr"], og[1], og[0])
    _close(q["daddr"], vg[1], vg[0], VENUE_TOL)
    q = _q(page.locator("#nav-google").get_attribute("href"))
    assert urlparse(page.locator("#nav-google").get_attribute("href")).path == "/maps/dir/"
    _close(q["origin"], HAIKOU[1], HAIKOU[0])
    _close(q["destination"], v.lat, v.lon, VENUE_TOL)
    page.locator("#card").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-zh-card-routes.png"), full_page=True)
    assert probe.errors == [] and probe.foreign == []


def test_without_a_start_point_the_links_are_markers(make_page, live_app):
    v = get_register(live_app).index.nearest(HAIKOU[0], HAIKOU[1], 1, ["outdoor_station"])[0].venue
    page = make_page().open(f"/?venue={v.id}&lang=en")
    page.wait_for_selector("#card:not([hidden])")
    assert page.locator("#card-dist").is_hidden()
    assert page.locator("#nav-amap").get_attribute("href").startswith("https://uri.amap.com/marker?")
    assert page.locator("#nav-baidu").get_attribute("href").startswith("https://api.map.baidu.com/marker?")
    q = _q(page.locator("#nav-apple").get_attribute("href"))
    vg = wgs84_to_gcj02(v.lon, v.lat)
    _close(q["ll"], vg[1], vg[0], VENUE_TOL)
    assert page.locator("#card-report").inner_text() == "Report a problem"
    assert "location only" in page.locator("#nav-note").inner_text()
