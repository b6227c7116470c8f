"""The shared table (tests/vectors/shared.json) against the server's code.

The same table is evaluated in Chromium against ``static/js/common.js``
(tests/browser/test_vectors.py), so the datum shifts, text search and nearest
of the map page cannot drift from the API's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from locator import geo, params
from locator.index import VenueIndex
from locator.search import filter_venues
from locator.venues import Venue

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "vectors" / "shared.json").read_text("utf-8"))


def _id(case: dict[str, Any]) -> str:
    return f"{case['from']}-{case['to']}-{case['note'].split(',')[0]}"


@pytest.mark.parametrize("case", VECTORS["datum"], ids=_id)
def test_datum_pairs(case: dict[str, Any]) -> None:
    lon, lat = geo.to_wgs84(*case["in"], case["from"])
    out = geo.from_wgs84(lon, lat, case["to"])
    if case["to"] == "gcj02" and case["from"] == "bd09":
        out = geo.bd09_to_gcj02(*case["in"])  # direct, not through WGS-84
    assert out == pytest.approx(case["out"], abs=case["tol_deg"] or 1e-15), case["source"]


def test_published_pairs_are_strict_enough_to_catch_a_wrong_formula() -> None:
    """A formula off by a tenth of a metre (1e-6 deg) would still round-trip, but fails the pairs."""
    strict = [
        c for c in VECTORS["datum"] if c["from"] == "wgs84" and c["to"] == "gcj02" and "eviltransform" in c["source"]
    ]
    assert len(strict) == 3 and all(c["tol_deg"] <= 1e-9 for c in strict)
    shifted = [geo.wgs84_to_gcj02(c["in"][0] + 1e-6, c["in"][1]) for c in strict]
    assert any(s != pytest.approx(c["out"], abs=c["tol_deg"]) for s, c in zip(shifted, strict, strict=True))


@pytest.mark.parametrize("case", VECTORS["search"], ids=lambda c: c["why"][:40])
def test_search_cases(case: dict[str, Any]) -> None:
    v = Venue(
        id="v",
        name=case["name"],
        address=case["address"],
        category="outdoor_station",
        district_code=(case.get("district") or ["460106"])[0],
        lon=110.33,
        lat=20.03,
    )
    q = params.q_param(MultiDict({"q": case["q"]}))  # as the API parses ?q=
    assert bool(filter_venues([v], q=q)) is case["match"], case["why"]


def _index() -> VenueIndex:
    rows = VECTORS["nearest"]["venues"]
    return VenueIndex(
        Venue(id=r["id"], name=r["id"], category=r["cat"], district_code="460106", lon=r["lon"], lat=r["lat"])
        for r in rows
    )


@pytest.mark.parametrize("case", VECTORS["nearest"]["cases"], ids=lambda c: c["why"][:40])
def test_nearest_cases(case: dict[str, Any]) -> None:
    index = _index()
    tol = VECTORS["nearest"]["tol_m"]
    for hits in (
        index.nearest(*case["point"], k=case["k"], categories=case["categories"]),
        index.brute_force_nearest(*case["point"], k=case["k"], categories=case["categories"]),
    ):
        assert [h.venue.id for h in hits] == case["expect"], case["why"]
        assert [h.distance_m for h in hits] == pytest.approx(case["distances_m"], abs=tol)
