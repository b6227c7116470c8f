"""Freshness on the card at phone size (issue 16, item 5): 最后确认 …, 有人反映已关闭, and a one-tap
confirmation that is acknowledged, queued for moderation, and refused politely past the hourly limit.

Its own app (``REPORTS_PER_HOUR=1``), so that the second tap meets the limit without touching the
session-wide app the other browser tests share.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from locator import create_app
from locator.web.state import get_register

from .conftest import PHONE, SHOTS, PageProbe, serve_in_thread

pytestmark = pytest.mark.browser

CONFIRMED = "2026-11-03T02:10:00+00:00"  # 10:10 in Hainan: the card says 2026-11-03


@pytest.fixture(scope="module")
def confirm_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.mktemp("confirm") / "locator.sqlite3"
    app = create_app(
        {"TESTING": True, "DATABASE": str(db), "TILES": "none", "INDEX_REFRESH_SECONDS": 0, "REPORTS_PER_HOUR": 1}
    )
    reg = get_register(app)
    first, second = reg.store.venues()[:2]
    reg.store.merge(
        [
            dataclasses.replace(first, last_confirmed=CONFIRMED),
            dataclasses.replace(second, reported_closed=True),
        ],
        note="browser tests: freshness",
    )
    reg.refresh()
    app.config["VENUES"] = (first.id, second.id)
    return app


@pytest.fixture(scope="module")
def confirm_server(confirm_app: Any) -> Iterator[str]:
    yield from serve_in_thread(confirm_app)


@pytest.fixture
def probe(browser: Any, confirm_server: str) -> Iterator[PageProbe]:
    ctx = browser.new_context(viewport=PHONE, service_workers="block")
    page = ctx.new_page()
    page.set_default_timeout(30_000)  # hang guard, never a speed assertion
    yield PageProbe(page, confirm_server)
    ctx.close()


def test_a_tap_is_acknowledged_queued_and_a_second_refused_politely(probe, confirm_app):
    confirmed, _ = confirm_app.config["VENUES"]
    store = get_register(confirm_app).store
    page = probe.open(f"/?venue={confirmed}")
    card = page.locator("#card")
    card.wait_for(state="visible")
    assert page.locator("#card-confirmed").inner_text() == "最后确认 2026-11-03"
    assert page.locator("#card-reported-closed").is_hidden()
    assert [b.inner_text() for b in page.locator("#card [data-confirm]").all()] == ["开着", "关着", "设施有问题"]
    for b in page.locator("#card [data-confirm]").all():
        box = b.bounding_box()
        assert box and box["height"] >= 44 and box["width"] >= 44  # tap targets

    page.click("#card [data-confirm=open]")
    status = page.locator("#confirm-status")
    page.locator("#confirm-status.ok").wait_for()
    assert status.inner_text() == "谢谢！已收到，管理员核实后更新。"
    (queued,) = store.reports()
    assert (queued.venue_id, queued.kind, queued.status) == (confirmed, "confirm_open", "pending")
    card.screenshot(path=str(SHOTS / "phone-zh-card-freshness.png"))

    page.click("#card [data-confirm=closed]")  # one report an hour for this app: refused
    page.locator("#confirm-status.error").wait_for()
    assert status.inner_text() == "提交太频繁，请一小时后再试。"
    assert len(store.reports()) == 1
    card.screenshot(path=str(SHOTS / "phone-zh-card-freshness-refused.png"))
    # the browser logs the refused request itself; the page threw nothing
    assert [e for e in probe.errors if "429" not in e] == []


def test_the_card_says_reported_closed_and_never_confirmed_in_english(probe, confirm_app):
    _, flagged = confirm_app.config["VENUES"]
    page = probe.open(f"/?venue={flagged}&lang=en")
    page.locator("#card").wait_for(state="visible")
    assert page.locator("#card-confirmed").inner_text() == "Not confirmed yet"
    assert page.locator("#card-reported-closed").inner_text() == "Reported closed"
    assert [b.inner_text() for b in page.locator("#card [data-confirm]").all()] == [
        "Open",
        "Closed",
        "Facilities problem",
    ]
    page.locator("#card").screenshot(path=str(SHOTS / "phone-en-card-reported-closed.png"))
    assert probe.errors == []
