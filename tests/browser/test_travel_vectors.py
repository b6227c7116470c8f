"""The walk-or-ride rule of static/js/common.js (travelTime) against tests/vectors/shared.json, in Chromium."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

CASES = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "shared.json").read_text("utf-8"))["travel"]


def test_common_js_travel_time_answers_the_shared_table(browser: Any, live_server: str) -> None:
    ctx = browser.new_context(service_workers="block")
    try:
        page = ctx.new_page()
        page.goto(live_server + "/")
        got = page.evaluate(
            """async (cases) => {
                const C = await import('/static/js/common.js');
                return cases.map((c) => C.travelTime(c.m));
            }""",
            CASES,
        )
    finally:
        ctx.close()
    assert got == [{"mode": c["mode"], "minutes": c["minutes"]} for c in CASES]
