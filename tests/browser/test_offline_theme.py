"""Offline honesty, the dark theme and tap targets at phone size."""

from __future__ import annotations

from typing import Any

import pytest

from locator.web.views import SHELL_VERSION

from .conftest import PHONE, SHOTS

pytestmark = pytest.mark.browser

HAIKOU = (110.33, 20.03)


@pytest.mark.parametrize(("lang", "banner"), [("zh", "离线 · 数据更新于 "), ("en", "Offline · data from ")])
def test_offline_reload_shows_the_banner_in_the_page_language(browser: Any, live_server: str, lang, banner) -> None:
    ctx = browser.new_context(viewport=PHONE)
    try:
        page = ctx.new_page()
        page.goto(f"{live_server}/?lang={lang}")
        page.wait_for_selector("body[data-venues]")
        assert page.locator("#offline").is_hidden()
        page.evaluate(
            """async (version) => {
                await navigator.serviceWorker.ready;
                const wait = (ms) => new Promise((r) => setTimeout(r, ms));
                for (let i = 0; i < 100 && !navigator.serviceWorker.controller; i++) await wait(50);
                for (let i = 0; i < 100; i++) {
                  const keys = await (await caches.open('locator-shell-' + version)).keys();
                  if (keys.length >= 14) return;
                  await new Promise(r => setTimeout(r, 100));
                }
            }""",
            SHELL_VERSION,
        )
        page.reload()  # now under the worker: the page is kept under its language's key
        page.wait_for_selector("body[data-venues]")
        ctx.set_offline(True)
        page.reload()
        page.wait_for_selector("body[data-venues]", timeout=10_000)
        text = page.locator("#offline").inner_text()
        assert text.startswith(banner) and any(c.isdigit() for c in text)
        assert page.locator("html").get_attribute("lang") == ("en" if lang == "en" else "zh-CN")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"phone-{lang}-offline.png"))
        ctx.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        assert page.locator("#offline").is_hidden()
    finally:
        ctx.close()


def test_dark_theme_follows_the_phone(make_page) -> None:
    probe = make_page(
        color_scheme="dark", geolocation={"latitude": HAIKOU[1], "longitude": HAIKOU[0]}, permissions=["geolocation"]
    )
    page = probe.open("/")
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    fg = page.evaluate("getComputedStyle(document.body).color")
    assert bg == "rgb(15, 23, 42)" and fg == "rgb(229, 231, 235)"
    page.click("#near-btn")
    page.locator("#results-list li button").nth(0).click()
    page.wait_for_timeout(300)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-zh-dark.png"), full_page=True)
    light = make_page(color_scheme="light").open("/")
    assert light.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"


def test_every_tap_target_is_at_least_44_px(make_page) -> None:
    probe = make_page(geolocation={"latitude": HAIKOU[1], "longitude": HAIKOU[0]}, permissions=["geolocation"])
    page = probe.open("/")
    page.wait_for_selector(".marker-cluster")
    page.click("#near-btn")
    page.locator("#results-list li button").nth(0).click()
    page.wait_for_timeout(600)  # the map zooms to the venue: single markers appear
    # a checkbox's target is its label (the whole 44 px row); Leaflet's attribution links are Leaflet's
    small = page.evaluate(
        """() => [...document.querySelectorAll('a[href], button, select, input, summary, .leaflet-marker-icon')]
            .filter((e) => !e.closest('.leaflet-control-attribution'))
            .map((e) => { const t = e.closest('label') || e, r = t.getBoundingClientRect();
                          return [e.id || e.className || e.tagName, Math.round(r.width), Math.round(r.height)]; })
            .filter(([, w, h]) => w > 0 && h > 0 && (w < 44 || h < 44))"""
    )
    assert small == []
    markers = page.evaluate(
        "() => [...document.querySelectorAll('.leaflet-marker-icon')].map(e => e.getBoundingClientRect().width)"
    )
    assert markers and min(markers) >= 44 - 0.01  # layout sizes are floats (43.999996 px is 44 px)
