"""The shared table (tests/vectors/shared.json) against static/js/common.js, in Chromium.

tests/test_vectors.py asserts the same cases against the Python code, so the
map's datum shifts, search and nearest answer as the API does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "shared.json").read_text("utf-8")
)

EVALUATE = """async (V) => {
  const C = await import('/static/js/common.js');
  const fn = { 'wgs84>gcj02': C.wgs84ToGcj02, 'gcj02>wgs84': C.gcj02ToWgs84, 'gcj02>bd09': C.gcj02ToBd09,
    'bd09>gcj02': C.bd09ToGcj02, 'wgs84>bd09': C.wgs84ToBd09, 'bd09>wgs84': C.bd09ToWgs84 };
  return {
    datum: V.datum.map((c) => fn[c.from + '>' + c.to](c.in[0], c.in[1])),
    search: V.search.map((c) => C.matchesText(c.name, c.address, C.searchQuery(c.q))),
    nearest: V.nearest.cases.map((c) =>
      C.nearest(V.nearest.venues, c.point[0], c.point[1], c.k, c.categories).map((h) => [h.item.id, h.d])),
  };
}"""


@pytest.fixture(scope="module")
def answers(browser: Any, live_server: str) -> dict[str, Any]:
    """Every case evaluated once by common.js in the map page (which loads geographiclib)."""
    ctx = browser.new_context(service_workers="block")
    try:
        page = ctx.new_page()
        page.goto(live_server + "/")
        page.wait_for_selector("body[data-venues]", timeout=15_000)
        return page.evaluate(EVALUATE, VECTORS)  # type: ignore[no-any-return]
    finally:
        ctx.close()


@pytest.mark.parametrize("i", range(len(VECTORS["datum"])))
def test_datum_pairs_in_the_browser(answers: dict[str, Any], i: int) -> None:
    case = VECTORS["datum"][i]
    assert answers["datum"][i] == pytest.approx(case["out"], abs=case["tol_deg"] or 1e-15), (
        case["note"],
        case["source"],
    )


@pytest.mark.parametrize("i", range(len(VECTORS["search"])))
def test_search_cases_in_the_browser(answers: dict[str, Any], i: int) -> None:
    case = VECTORS["search"][i]
    assert answers["search"][i] is case["match"], case["why"]


@pytest.mark.parametrize("i", range(len(VECTORS["nearest"]["cases"])))
def test_nearest_cases_in_the_browser(answers: dict[str, Any], i: int) -> None:
    case = VECTORS["nearest"]["cases"][i]
    got = answers["nearest"][i]
    assert [g[0] for g in got] == case["expect"], case["why"]
    assert [g[1] for g in got] == pytest.approx(case["distances_m"], abs=VECTORS["nearest"]["tol_m"])
