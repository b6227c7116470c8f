"""The OGC API items page in a browser: the features on the Leaflet map, hostile names shown as text."""

from __future__ import annotations

import pytest

from tests.browser.conftest import XSS_IMG, XSS_SCRIPT

pytestmark = pytest.mark.browser


def _open(probe, path):
    page = probe.page
    page.goto(probe.base + path)
    page.wait_for_selector("body[data-map-ready]", timeout=30_000)  # a hang guard, not a speed check
    return page


def test_items_page_shows_each_feature_as_a_marker(make_page):
    probe = make_page(viewport={"width": 1200, "height": 900})
    page = _open(probe, "/api/v1/collections/venues/items?f=html&limit=25")
    rows = page.locator("#features-table tbody tr").count()
    assert rows == 25
    assert page.locator("body").get_attribute("data-map-ready") == "25"
    assert page.locator("#map path.leaflet-interactive").count() == 25
    assert probe.errors == [] and probe.foreign == []


def test_hostile_names_stay_text_in_the_table_and_the_popup(make_page):
    probe = make_page(viewport={"width": 1200, "height": 900})
    page = _open(probe, "/api/v1/collections/venues/items?f=html&lang=en&bbox=109.51,19.02,109.54,19.05")
    assert page.locator("#map path.leaflet-interactive").count() == 2
    cells = page.locator("#features-table tbody td").all_inner_texts()
    assert XSS_SCRIPT in cells and XSS_IMG in cells and "<b>addr</b>" in cells  # shown as text
    shown = []
    for i in range(2):
        page.locator("#map path.leaflet-interactive").nth(i).click(force=True)
        popup = page.locator(".leaflet-popup-content").last
        popup.wait_for()
        shown.append(popup.inner_text())
        assert popup.locator("script, img, svg, b").count() == 0
    assert any(XSS_SCRIPT in t for t in shown) or any(XSS_IMG in t for t in shown)
    assert page.locator("#features-table :is(script, img, svg, b)").count() == 0
    assert page.evaluate("window.__xss") is None
    assert probe.errors == [] and probe.foreign == []


def test_district_item_page_draws_its_polygon(make_page):
    probe = make_page(viewport={"width": 1200, "height": 900})
    page = _open(probe, "/api/v1/collections/districts/items/460106?f=html")
    assert page.locator("#map path.leaflet-interactive").count() == 1
    assert probe.errors == [] and probe.foreign == []
