"""How long a straight-line distance takes a worker: walking near, an e-bike farther. Pure.

Couriers and sanitation workers ride e-bikes; a card that says "步行约 50.8 小时"
helps nobody. Up to :data:`WALK_MAX_M` the map gives a walking time (4.5 km/h),
beyond it a riding time (e-bike, 15 km/h), both over streets taken as a quarter
longer than the straight line. ``static/js/common.js: travelTime`` is the same
rule in the browser; ``tests/vectors/shared.json`` ("travel") holds the cases both answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from locator.errors import InvalidParameter

__all__ = ["DETOUR", "RIDE_M_PER_MIN", "WALK_MAX_M", "WALK_M_PER_MIN", "Travel", "travel_time"]

DETOUR = 1.25
"""Streets are about a quarter longer than the straight line."""
WALK_MAX_M = 2000.0
"""Walk up to this straight-line distance (metres); ride beyond it."""
WALK_M_PER_MIN = 75.0
"""4.5 km/h."""
RIDE_M_PER_MIN = 250.0
"""An e-bike in town, 15 km/h."""


@dataclass(frozen=True, slots=True)
class Travel:
    """A way to go and the whole minutes it takes (at least 1)."""

    mode: Literal["walk", "ride"]
    minutes: int


def travel_time(metres: float) -> Travel:
    """Walking time up to :data:`WALK_MAX_M`, e-bike time beyond; raises for a negative or non-finite distance."""
    if isinstance(metres, bool) or not isinstance(metres, (int, float)) or not math.isfinite(metres) or metres < 0:
        raise InvalidParameter("metres", f"must be a finite distance of 0 or more, got {metres!r}")
    walk = metres <= WALK_MAX_M
    speed = WALK_M_PER_MIN if walk else RIDE_M_PER_MIN
    # JavaScript's Math.round rounds halves up; Python's round() to even: floor(x + 0.5) agrees with the browser
    return Travel("walk" if walk else "ride", max(1, math.floor(metres * DETOUR / speed + 0.5)))
