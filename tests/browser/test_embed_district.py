"""An embed limited to one district at phone size: the nearest search looks across the border and says so;
a host page that withholds location is named as the cause, not the visitor."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.serving import make_server

from locator.web.state import get_register

from .conftest import PHONE, SHOTS

pytestmark = pytest.mark.browser

LONGHUA = "460106"  # 龙华区, Haikou
EMBED = f"/embed?category=outdoor_station&district={LONGHUA}&nearest=1"


def _station_across_the_border(app: Any) -> Any:
    """An always-open outdoor station in another Haikou district (open, so no "nearest open" reordering)."""
    return next(
        v
        for v in sorted(get_register(app).index.venues(), key=lambda v: v.id)
        if v.category == "outdoor_station"
        and v.district_code.startswith("4601")
        and v.district_code != LONGHUA
        and (v.opening_hours or "").strip() == "24/7"
    )


def test_district_embed_finds_the_nearest_station_across_the_border(make_page, live_app: Any) -> None:
    v = _station_across_the_border(live_app)
    probe = make_page(PHONE, geolocation={"latitude": v.lat, "longitude": v.lon}, permissions=["geolocation"])
    page = probe.open(EMBED)
    page.click("#near-btn")
    first = page.locator("#results-list li").nth(0)
    first.wait_for()
    assert v.name in first.inner_text()
    assert "本图范围以外 · " in first.locator(".badge.outside").inner_text()
    assert "已在所有市县中查找最近的场所" in page.locator("#results-note").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-zh-embed-across-border.png"), full_page=True)
    assert probe.errors == []


@pytest.fixture(scope="module")
def strict_host(live_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A host site on another origin whose <iframe> lacks allow="geolocation" (so the policy refuses location)."""
    root = tmp_path_factory.mktemp("strict-host")
    (root / "index.html").write_text(
        f'<!doctype html><meta charset="utf-8"><title>host</title>'
        f'<iframe id="f" src="{live_server}{EMBED}" width="380" height="700" title="map"></iframe>',
        encoding="utf-8",
    )
    server = make_server("127.0.0.1", 0, SharedDataMiddleware(lambda e, s: [], {"/": str(root)}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_host_page_without_allow_geolocation_is_named_not_the_visitor(browser: Any, strict_host: str) -> None:
    # the visitor has granted location; only the host page's policy withholds it
    ctx = browser.new_context(
        viewport=PHONE,
        service_workers="block",
        geolocation={"latitude": 20.0, "longitude": 110.3},
        permissions=["geolocation"],
    )
    try:
        page = ctx.new_page()
        page.goto(strict_host + "/index.html")
        frame = page.frame_locator("#f")
        frame.locator("body[data-venues]").wait_for(state="attached")
        frame.locator("#near-btn").click()
        status = frame.locator("#status")
        status.filter(has_text="嵌入本地图的网页不允许使用位置信息。").wait_for()
        assert "您没有允许" not in status.inner_text()
    finally:
        ctx.close()
