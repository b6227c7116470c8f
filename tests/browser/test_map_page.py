"""The worker map in headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from locator.hours import TZ
from locator.web.api import nearest_open, open_now
from locator.web.state import get_register
from locator.web.views import SHELL_VERSION

from .conftest import DESKTOP, PHONE, SHOTS, XSS_IMG, XSS_SCRIPT

pytestmark = pytest.mark.browser

HAIKOU = (110.33, 20.03)  # lon, lat


def clusters(page) -> int:
    page.wait_for_selector(".marker-cluster", timeout=10_000)
    return page.locator(".marker-cluster").count()


def test_loads_clusters_with_no_console_errors_and_no_foreign_requests(make_page, live_app):
    probe = make_page()
    page = probe.open("/")
    assert clusters(page) > 5
    page.wait_for_selector(".leaflet-overlay-pane svg path", timeout=10_000)  # outlines load on their own request
    assert page.locator("path.leaflet-interactive, svg path").count() > 20  # district outlines drawn with no tiles
    total = len(get_register(live_app).index)  # 2,621 + the two hostile test records
    assert f"{total} 个场所（共 {total} 个）" in page.locator("#count").inner_text()
    page.wait_for_timeout(300)
    assert probe.errors == []
    assert probe.foreign == []


def test_blocked_tiles_leave_outlines_and_venues_usable(make_page):
    probe = make_page()
    page = probe.open("/?tiles=osm")  # the route aborts every tile request, as a blocked network would
    assert clusters(page) > 5
    page.wait_for_selector("#map.no-tiles")
    assert probe.foreign and all(u.startswith("https://tile.openstreetmap.org/") for u in probe.foreign)
    assert [e for e in probe.errors if "Failed to load resource" not in e] == []


def test_venues_are_drawn_and_the_page_records_when(make_page):
    """How fast is bench/map_load.py's question (budget 1.5 s); here, that they appear and the figure exists."""
    probe = make_page(DESKTOP)
    probe.page.goto(probe.base + "/")
    probe.page.wait_for_selector("body[data-drawn-ms]", timeout=60_000)  # a hang guard, not a budget
    assert probe.page.locator(".marker-cluster").count() > 5
    assert float(probe.page.get_attribute("body", "data-drawn-ms")) > 0


def _unambiguous_point(index, category="outdoor_station"):
    """A point near Haikou whose nearest station is clearly nearer than the second."""
    for dlon in (0.0, 0.01, -0.01, 0.02, -0.02):
        lon, lat = HAIKOU[0] + dlon, HAIKOU[1] + dlon / 2
        hits = index.nearest(lon, lat, 2, [category])
        if hits[1].distance_m - hits[0].distance_m > 30 + 0.01 * hits[0].distance_m:
            return lon, lat, hits[0].venue
    raise AssertionError("no unambiguous test point")


def test_nearest_with_mocked_geolocation_lists_expected_venue_first(make_page, live_app):
    lon, lat, expected = _unambiguous_point(get_register(live_app).index)
    # at a fixed daytime clock: at night a closed nearest gives way to the nearest open one (test_map_night.py)
    day = datetime.now(TZ).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
    if open_now(expected.opening_hours, day) is not True:
        expected = nearest_open(get_register(live_app).index, lon, lat, 1, ["outdoor_station"], None, day)[0].venue
    probe = make_page(geolocation={"latitude": lat, "longitude": lon}, permissions=["geolocation"])
    probe.page.clock.set_fixed_time(day)
    page = probe.open("/")
    page.click("#near-btn")
    page.wait_for_selector("#results-list li")
    entries = page.locator("#results-list li")
    assert entries.count() == 5
    first = entries.nth(0).inner_text()
    assert expected.name in first
    assert re.search(r"\d+ (米|公里)", first) and "步行约" in first
    assert re.search(r"正在开放|已关闭|开放时间未知", first)
    entries.nth(0).locator("button").click()
    assert page.locator("#card-name").inner_text() == expected.name
    assert "venue=" + expected.id in page.url
    assert page.locator("#card-phone").get_attribute("href") in (None, "tel:" + re.sub(r"[^0-9+]", "", expected.phone))
    assert page.locator("#nav-amap").get_attribute("href").startswith("https://uri.amap.com/navigation?from=")
    assert "coord_type=bd09ll" in page.locator("#nav-baidu").get_attribute("href")
    assert probe.errors == [] and probe.foreign == []


def test_geolocation_denied_explains_and_falls_back_to_a_map_tap(make_page, live_app):
    probe = make_page(permissions=[])
    page = probe.open("/")
    page.click("#near-btn")
    page.wait_for_selector("#status.error")
    status = page.locator("#status")
    assert "位置" in status.inner_text() and "点" in status.inner_text()
    assert page.locator("#pick-btn").get_attribute("aria-pressed") == "true"
    page.locator("#map").click(position={"x": 200, "y": 200})
    page.wait_for_selector("#results-list li")
    assert page.locator("#results-list li").count() == 5
    assert page.locator("#results-title").inner_text() == "离所选位置最近"


def test_far_from_any_station_still_lists_the_nearest_with_distance(make_page):
    # the Xisha islands: hundreds of km from any station
    probe = make_page(geolocation={"latitude": 16.83, "longitude": 112.34}, permissions=["geolocation"])
    page = probe.open("/")
    page.click("#near-btn")
    page.wait_for_selector("#results-list li")
    assert page.locator("#results-list li").count() == 5
    assert "公里" in page.locator("#results-list li").nth(0).inner_text()
    assert page.locator("#results-note").is_visible()


def test_filters_change_list_and_url_and_reload_restores_them(make_page):
    probe = make_page(geolocation={"latitude": HAIKOU[1], "longitude": HAIKOU[0]}, permissions=["geolocation"])
    page = probe.open("/")
    all_count = page.locator("#count").inner_text()
    page.click("#near-btn")
    page.wait_for_selector("#results-list li")
    before = page.locator("#results-list").inner_text()
    page.click("#filters summary")
    page.check("input[name=amen][value=microwave]")
    page.check("input[name=amen][value=ebike_charging]")
    page.check("input[name=cat][value=outdoor_station]")
    after_count = page.locator("#count").inner_text()
    assert after_count != all_count
    assert page.locator("#results-list").inner_text() != before
    query = parse_qs(urlparse(page.url).query)
    assert query["amen"] == ["microwave,ebike_charging"]
    assert query["cat"] == ["outdoor_station"]
    page.reload()
    page.wait_for_selector("body[data-venues]")
    assert page.locator("input[name=amen][value=microwave]").is_checked()
    assert page.locator("input[name=cat][value=outdoor_station]").is_checked()
    assert not page.locator("input[name=cat][value=reading_room]").is_checked()
    assert page.locator("#count").inner_text() == after_count
    assert probe.errors == []


def test_search_finds_by_name_and_hostile_names_are_text(make_page):
    probe = make_page()
    page = probe.open("/?q=" + "window.__xss")
    page.wait_for_selector("#results-list li")
    text = page.locator("#results-list").inner_text()
    assert XSS_SCRIPT in text and XSS_IMG in text
    page.locator("#results-list li button").nth(0).click()
    assert page.locator("#card-name").inner_text() in (XSS_SCRIPT, XSS_IMG)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#panel img, #panel script, #card svg[onload]").count() == 0
    # the share link reopens the card
    page.goto(probe.base + "/?venue=xss-img")
    page.wait_for_selector("#card:not([hidden])")
    assert page.locator("#card-name").inner_text() == XSS_IMG
    assert page.evaluate("window.__xss") is None


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_renders_in_both_languages_and_screenshots(make_page, lang, size):
    probe = make_page(
        PHONE if size == "phone" else DESKTOP,
        geolocation={"latitude": HAIKOU[1], "longitude": HAIKOU[0]},
        permissions=["geolocation"],
    )
    page = probe.open(f"/?lang={lang}")
    assert page.locator("html").get_attribute("lang") == ("en" if lang == "en" else "zh-CN")
    heading = page.locator("h1").inner_text()
    button = page.locator("#near-btn").inner_text()
    if lang == "en":
        assert heading == "Hainan worker service venues" and button == "Nearest to me"
        # nothing Chinese in the interface itself (venue data stays as registered)
        chrome = page.locator(
            ".top, .actions, .near-cat label, .search label, #filters summary, #count"
        ).all_inner_texts()
        assert not re.search(r"[\u4e00-\u9fff]", " ".join(chrome).replace("中文", ""))
    else:
        assert heading == "海南职工服务阵地" and button == "离我最近"
    clusters(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{size}-{lang}-start.png"))
    page.click("#near-btn")
    page.locator("#results-list li button").nth(0).click()
    page.wait_for_timeout(400)
    page.screenshot(path=str(SHOTS / f"{size}-{lang}-card.png"), full_page=size == "phone")
    assert probe.errors == [] and probe.foreign == []


def test_works_offline_from_the_service_worker(browser, live_server):
    ctx = browser.new_context(
        viewport=PHONE, geolocation={"latitude": HAIKOU[1], "longitude": HAIKOU[0]}, permissions=["geolocation"]
    )
    try:
        page = ctx.new_page()
        page.goto(live_server + "/")
        page.wait_for_selector("body[data-venues]")
        cached = page.evaluate(
            """async (version) => {
                await navigator.serviceWorker.ready;
                for (let i = 0; i < 100; i++) {
                    const keys = await (await caches.open('locator-shell-' + version)).keys();
                    if (keys.length >= 13) return keys.map(r => new URL(r.url).pathname);
                    await new Promise(r => setTimeout(r, 100));
                }
                return [];
            }""",
            SHELL_VERSION,
        )
        assert "/api/v1/map/venues" in cached and "/" in cached
        ctx.set_offline(True)
        page.reload()
        page.wait_for_selector("body[data-venues]", timeout=10_000)
        assert page.locator(".marker-cluster").count() > 0
        page.click("#near-btn")
        page.wait_for_selector("#results-list li")
        assert page.locator("#results-list li").count() == 5
    finally:
        ctx.close()
