"""The planning parameters, checked once at the boundary. Pure.

Every function returns the canonical value or raises
:class:`~locator.errors.InvalidParameter` naming the parameter as the API calls
it and quoting the bad value, so the web layer and the CLI show the same
message. The analysis and siting modules call these on entry, and nothing
downstream re-checks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from locator.categories import CATEGORY_CODES
from locator.districts import District
from locator.errors import InvalidParameter

__all__ = [
    "DEFAULT_CELL_M",
    "DEFAULT_RADIUS_M",
    "MAX_N",
    "MAX_RADIUS_M",
    "MIN_CELL_M",
    "MIN_RADIUS_M",
    "Region",
    "validate_categories",
    "validate_cell",
    "validate_n",
    "validate_radius",
    "validate_region",
    "validate_target",
]

MIN_RADIUS_M = 50.0
MAX_RADIUS_M = 20_000.0
DEFAULT_RADIUS_M = 1000.0
DEFAULT_CELL_M = 500.0
MIN_CELL_M = 10.0
MAX_N = 200

#: None (the province), a district adcode, or a lon/lat bbox (west, south, east, north).
Region = str | tuple[float, float, float, float] | None


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidParameter(name, f"must be a number, got {value!r}")
    f = float(value)
    if not math.isfinite(f):
        raise InvalidParameter(name, f"must be finite, got {value!r}")
    return f


def validate_radius(radius: object) -> float:
    """The service radius in metres, 50–20,000, or InvalidParameter('radius')."""
    r = _number("radius", radius)
    if not MIN_RADIUS_M <= r <= MAX_RADIUS_M:
        raise InvalidParameter("radius", f"must be from {MIN_RADIUS_M:g} to {MAX_RADIUS_M:g} metres, got {radius!r}")
    return r


def validate_cell(cell_m: object) -> float:
    """Grid cell side in metres, 10–500, or InvalidParameter('cell')."""
    c = _number("cell", cell_m)
    if not MIN_CELL_M <= c <= DEFAULT_CELL_M:
        raise InvalidParameter("cell", f"must be from {MIN_CELL_M:g} to {DEFAULT_CELL_M:g} metres, got {cell_m!r}")
    return c


def validate_target(target: object) -> float | None:
    """Venues per 10,000 residents below which a district is flagged; None: no target."""
    if target is None:
        return None
    t = _number("target", target)
    if t < 0:
        raise InvalidParameter(
            "target", f"must be a non-negative number of venues per 10,000 residents, got {target!r}"
        )
    return t


def validate_categories(categories: object) -> tuple[str, ...]:
    """Canonical category tuple (in ``CATEGORY_CODES`` order); None or empty means all."""
    if categories is None:
        return CATEGORY_CODES
    if isinstance(categories, str):
        categories = [c for c in categories.split(",") if c.strip()]
    if not isinstance(categories, Iterable):
        raise InvalidParameter("category", f"must be a category code or a list of them, got {categories!r}")
    cats = list(categories)
    for c in cats:
        if not isinstance(c, str) or c.strip() not in CATEGORY_CODES:
            raise InvalidParameter("category", f"unknown category {c!r}; expected one of {', '.join(CATEGORY_CODES)}")
    chosen = {c.strip() for c in cats}
    return tuple(c for c in CATEGORY_CODES if c in chosen) if chosen else CATEGORY_CODES


def validate_n(n: object) -> int:
    """The number of new sites, an integer 1–200, or InvalidParameter('n')."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InvalidParameter("n", f"must be an integer from 1 to {MAX_N}, got {n!r}")
    if not 1 <= int(n) <= MAX_N:
        raise InvalidParameter("n", f"must be an integer from 1 to {MAX_N}, got {n!r}")
    return int(n)


def validate_region(region: object, districts: Sequence[District]) -> Region:
    """None/'' /'province' (everything), a district adcode, or a lon/lat bbox (w, s, e, n).

    A bbox may be given as a 4-sequence or a ``"w,s,e,n"`` string.
    """
    if region is None or (isinstance(region, str) and region.strip().lower() in ("", "province", "all")):
        return None
    if isinstance(region, str) and "," not in region:
        code = region.strip()
        if code not in {d.adcode for d in districts}:
            raise InvalidParameter("region", f"unknown district adcode {region!r}")
        return code
    parts: Any = region.split(",") if isinstance(region, str) else region
    try:
        box = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        raise InvalidParameter(
            "region", f"must be an adcode or a bbox 'west,south,east,north', got {region!r}"
        ) from None
    if len(box) != 4 or not all(math.isfinite(b) for b in box):
        raise InvalidParameter("region", f"must be an adcode or a bbox 'west,south,east,north', got {region!r}")
    w, s, e, n = box
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InvalidParameter("region", f"bbox must have west < east and south < north in degrees, got {region!r}")
    return (w, s, e, n)
