"""The courier's night and the start point, at phone size (390×844) with a fixed clock.

At 23:30 downtown Haikou the nearest stations are closed: the list must lead
with the nearest open one. ``near=`` in the URL carries the start point (a
place from the gazetteer or ``lat,lon``), so a shared link lists the same venues.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from locator.hours import TZ
from locator.web.api import nearest_open, open_now
from locator.web.places import gazetteer
from locator.web.state import get_register

from .conftest import SHOTS

pytestmark = pytest.mark.browser

HAIKOU = (110.33, 20.03)  # lon, lat: downtown


def next_night(hour: int = 23, minute: int = 30) -> datetime:
    """The next 23:30 in Hainan: within the week of hours the map's venue layer carries."""
    now = datetime.now(TZ)
    night = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return night if night > now + timedelta(minutes=10) else night + timedelta(days=1)


def test_at_2330_downtown_the_nearest_open_station_leads(make_page, live_app):
    night = next_night()
    index = get_register(live_app).index
    closest = index.nearest(HAIKOU[0], HAIKOU[1], 1, ["outdoor_station"])[0]
    want = nearest_open(index, HAIKOU[0], HAIKOU[1], 1, ["outdoor_station"], None, night)[0]
    assert open_now(closest.venue.opening_hours, night) is not True  # the situation the issue describes
    probe = make_page(geolocation={"latitude": HAIKOU[1], "longitude": HAIKOU[0]}, permissions=["geolocation"])
    probe.page.clock.set_fixed_time(night)
    page = probe.open("/")
    page.click("#near-btn")
    page.wait_for_selector("#results-list li")
    entries = page.locator("#results-list li")
    assert entries.count() == 5
    first = entries.nth(0)
    assert "lead" in (first.get_attribute("class") or "")
    text = first.inner_text()
    assert want.venue.name in text and "最近的开放站点 · " in text and "正在开放" in text
    badges = page.locator("#results-list li .badge").all_inner_texts()
    assert badges[0] == "正在开放"
    assert "已关闭" in badges[1:]  # the closer ones follow, marked closed
    assert "现在已关闭" in page.locator("#results-note").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-zh-night.png"), full_page=True)
    assert probe.errors == [] and probe.foreign == []


def test_at_2330_in_english(make_page):
    probe = make_page(geolocation={"latitude": HAIKOU[1], "longitude": HAIKOU[0]}, permissions=["geolocation"])
    probe.page.clock.set_fixed_time(next_night())
    page = probe.open("/?lang=en")
    page.click("#near-btn")
    page.wait_for_selector("#results-list li.lead")
    assert "Nearest open station · " in page.locator("#results-list li.lead").inner_text()
    assert "closed now" in page.locator("#results-note").inner_text()


@pytest.mark.parametrize("place", ["三亚", "那大镇"])
def test_near_a_place_lists_venues_near_it(make_page, live_app, place):
    with live_app.app_context():
        p = gazetteer().lookup(place)[0]
    index = get_register(live_app).index
    want = [h.venue.name for h in index.nearest(p.lon, p.lat, 5, ["outdoor_station"])]
    probe = make_page()
    probe.page.clock.set_fixed_time(datetime.now(TZ).replace(hour=10, minute=0) + timedelta(days=1))  # daytime
    page = probe.open("/?near=" + place)
    page.wait_for_selector("#results-list li")
    assert page.locator("#results-title").inner_text() == f"距 {p.name_zh} 最近"
    names = page.locator("#results-list .entry-name").all_inner_texts()
    # by day the list is the five nearest in order (the leading open one is the nearest itself or near it)
    assert set(names) <= {h.venue.name for h in index.nearest(p.lon, p.lat, 50, ["outdoor_station"])}
    assert names[0] in want
    dists = page.locator("#results-list .dist").all_inner_texts()
    assert all("公里" in d or "米" in d for d in dists)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"phone-zh-near-{p.id.replace(':', '-')}.png"))
    assert probe.errors == [] and probe.foreign == []


def test_search_moves_the_start_point_filters_by_name_and_clearing_resets(make_page, live_app):
    probe = make_page()
    page = probe.open("/")
    page.fill("#q", "那大")
    page.press("#q", "Enter")
    page.wait_for_selector("#results-list li")
    assert page.locator("#results-title").inner_text() == "距 那大镇 最近"
    assert "near=%E9%82%A3%E5%A4%A7" in page.url
    # a reload of the shared URL gives the same list
    before = page.locator("#results-list").inner_text()
    page.reload()
    page.wait_for_selector("#results-list li")
    assert page.locator("#results-list").inner_text() == before
    # a venue name filters (no start point)
    page.fill("#q", "window.__xss")
    page.press("#q", "Enter")
    page.locator("#results-title", has_text="搜索结果").wait_for()
    assert "near=" not in page.url and "q=window.__xss" in page.url
    # clearing resets both
    page.fill("#q", "")
    page.press("#q", "Enter")
    page.wait_for_selector("#results", state="hidden")
    assert "near=" not in page.url and "q=" not in page.url
    total = len(get_register(live_app).index)
    assert f"{total} 个场所（共 {total} 个）" in page.locator("#count").inner_text()


def test_near_lat_lon_in_the_url(make_page, live_app):
    index = get_register(live_app).index
    want = index.nearest(HAIKOU[0], HAIKOU[1], 1, ["outdoor_station"])[0].venue.name
    page = make_page().open(f"/?near={HAIKOU[1]},{HAIKOU[0]}")
    page.wait_for_selector("#results-list li")
    assert want in page.locator("#results-list").inner_text()
