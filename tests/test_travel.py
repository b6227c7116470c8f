"""The walk-or-ride rule (locator/travel.py) against the shared table the browser answers too."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from locator.errors import InvalidParameter
from locator.travel import WALK_MAX_M, Travel, travel_time

CASES = json.loads((Path(__file__).parent / "vectors" / "shared.json").read_text("utf-8"))["travel"]


@pytest.mark.parametrize("case", CASES, ids=[str(c["m"]) for c in CASES])
def test_shared_travel_cases(case):
    assert travel_time(case["m"]) == Travel(case["mode"], case["minutes"])


def test_never_a_walk_beyond_the_limit_nor_a_ride_within():
    assert {travel_time(m).mode for m in range(0, int(WALK_MAX_M) + 1, 50)} == {"walk"}
    assert {travel_time(WALK_MAX_M + m).mode for m in (0.1, 1, 500, 10_000, 300_000)} == {"ride"}
    assert max(travel_time(m).minutes for m in range(0, int(WALK_MAX_M) + 1, 10)) <= 35


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf, "100", None, True])
def test_bad_distance_is_refused_quoting_it(bad):
    with pytest.raises(InvalidParameter, match="metres"):
        travel_time(bad)
