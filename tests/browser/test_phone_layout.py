"""After 离我最近 on a phone (390×844): the map with its numbered pins and the list are both in view, and
tapping an entry shows it on the map, still in view above the card."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import PHONE, SHOTS

pytestmark = pytest.mark.browser

HAIKOU = (110.33, 20.03)

#: the map's box and the centres of the numbered pins inside the viewport
GEOMETRY = """() => {
  const m = document.getElementById('map').getBoundingClientRect();
  const pins = [...document.querySelectorAll('.hit')].map(e => e.getBoundingClientRect())
    .filter(r => r.width && r.top + r.height / 2 >= Math.max(0, m.top) && r.top + r.height / 2 <= m.bottom
      && r.left + r.width / 2 >= m.left && r.left + r.width / 2 <= m.right);
  return { top: m.top, bottom: m.bottom, pins: pins.length, vh: window.innerHeight };
}"""


def _in_view(page: Any, selector: str) -> bool:
    return page.evaluate(
        "(s) => { const r = document.querySelector(s).getBoundingClientRect();"
        " return r.height > 0 && r.top < window.innerHeight && r.bottom > 0; }",
        selector,
    )


def test_after_nearest_the_map_pins_and_list_share_the_phone_screen(make_page: Any) -> None:
    probe = make_page(PHONE, geolocation={"latitude": HAIKOU[1], "longitude": HAIKOU[0]}, permissions=["geolocation"])
    page = probe.open("/")
    page.click("#near-btn")
    page.wait_for_selector("#results-list li button")
    page.wait_for_timeout(600)  # let the smooth fit and scroll settle (not a speed check)
    g = page.evaluate(GEOMETRY)
    assert g["top"] >= -1 and g["bottom"] - max(g["top"], 0) >= 200, g  # the map is on screen
    assert g["pins"] >= 3, g  # with its numbered pins
    assert _in_view(page, "#results-list li:first-child button"), "the first entry is on screen with the map"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-zh-nearest-map-and-list.png"))
    page.locator("#results-list li button").nth(2).click()
    page.wait_for_selector("#card:not([hidden])")
    page.wait_for_timeout(600)
    g = page.evaluate(GEOMETRY)
    assert g["top"] >= -1 and g["bottom"] - max(g["top"], 0) >= 200, g
    assert _in_view(page, "#card-name"), "the card is on screen"
    # the chosen venue is on the map in view: its selection ring lies inside the visible map
    ring = page.evaluate(
        """() => { const m = document.getElementById('map').getBoundingClientRect();
        return [...document.querySelectorAll('#map path')].map(p => p.getBoundingClientRect())
          .some(r => r.width >= 30 && r.width <= 60 && r.top >= Math.max(0, m.top) && r.bottom <= m.bottom); }"""
    )
    assert ring, "the chosen venue's ring is inside the visible map"
    page.screenshot(path=str(SHOTS / "phone-zh-nearest-entry-on-map.png"))
    assert probe.errors == []
