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

    # sort by covered % (a button in the header), ascending then descending
    th = page.locator('#table th[data-key="covered_pct"]')
    th.locator("button").click()
    assert th.get_attribute("aria-sort") == "ascending"
    vals = [
        float(v)
        for v in page.locator("#table tbody tr td:nth-child(6)").evaluate_all("els => els.map(e => e.dataset.v)")
    ]
    assert vals == sorted(vals)
    th.locator("button").press("Enter")  # keyboard works: headers are buttons
    assert th.get_attribute("aria-sort") == "descending"
    vals = [
        float(v)
        for v in page.locator("#table tbody tr td:nth-child(6)").evaluate_all("els => els.map(e => e.dataset.v)")
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
