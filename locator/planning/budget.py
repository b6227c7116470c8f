"""What a siting request will cost, estimated from its parameters before any gridding. Pure.

The siting problem (``locator.planning.siting.problem``) grids every district
a region touches with cells of side ``min(500 m, radius / 2.5)``: its cost
grows with the area over the square of the cell, so a 50 m radius over the
province is some 10⁸ cells, half a minute of CPU and gigabytes before the
old check (which counted the cells after gridding them) could refuse it.
:func:`siting_cost` estimates the demand cells, the candidate sites and the
cover-matrix entries from the districts' areas alone (microseconds: the
planar area of the lon/lat polygon scaled by the cosine of its latitude,
within about 1 % at Hainan's latitudes); :func:`check_siting_budget` refuses
over :data:`MAX_SITING_CELLS` or :data:`MAX_COVER_ENTRIES` with
:class:`OverBudget`, which names the parameter to change and the limit.

:func:`round_radius` rounds a radius to :data:`RADIUS_STEP_M`, so requests
that differ only in the noise of ``radius`` share one cached result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from locator.districts import District
from locator.errors import InvalidParameter
from locator.planning.grid import region_districts
from locator.planning.siting.problem import MAX_CANDIDATES
from locator.planning.validation import DEFAULT_CELL_M, MAX_RADIUS_M, MIN_RADIUS_M, Region

__all__ = [
    "MAX_COVER_ENTRIES",
    "MAX_SITING_CELLS",
    "RADIUS_STEP_M",
    "OverBudget",
    "SitingCost",
    "check_siting_budget",
    "round_radius",
    "siting_cost",
]

MAX_SITING_CELLS = 400_000
"""Most demand cells one siting request may grid (the province at the default 1,000 m radius is about 272,000)."""

MAX_COVER_ENTRIES = 5_000_000
"""Most candidate × demand-cell cover entries one siting request may build."""

RADIUS_STEP_M = 10.0
"""Coverage radii are rounded to this step (metres) before computing or caching."""

_M_PER_DEG = 111_320.0  # metres per degree of latitude (and of longitude at the equator)


class OverBudget(InvalidParameter):
    """A request whose estimated cost exceeds a documented limit; ``limit`` is the limit it broke (the API: 422)."""

    def __init__(self, name: str, reason: str, limit: int) -> None:
        super().__init__(name, reason)
        self.limit = limit


@dataclass(frozen=True)
class SitingCost:
    """The estimated size of a siting problem: demand cells, candidate sites, cover entries, and the cell side."""

    cells: int
    candidates: int
    cover_entries: int
    cell_m: float
    area_km2: float


def round_radius(radius_m: float) -> float:
    """``radius_m`` to the nearest :data:`RADIUS_STEP_M`, kept within 50–20,000 m."""
    stepped = round(radius_m / RADIUS_STEP_M) * RADIUS_STEP_M
    return float(min(MAX_RADIUS_M, max(MIN_RADIUS_M, stepped)))


def approx_area_m2(d: District) -> float:
    """A district's area in m² from its lon/lat polygon scaled at its mean latitude (no projection)."""
    geom = d.geometry
    _, south, _, north = geom.bounds
    return float(geom.area) * _M_PER_DEG**2 * math.cos(math.radians((south + north) / 2))


def siting_cost(districts: Sequence[District], region: Region, radius_m: float) -> SitingCost:
    """Estimate the siting problem for a validated ``region`` and radius, without gridding.

    Every district the region touches is gridded whole (a bbox clips only
    afterwards), so their whole areas count.
    """
    chosen, _ = region_districts(districts, region)
    area = sum(approx_area_m2(d) for d in chosen)
    cell = min(DEFAULT_CELL_M, radius_m / 2.5)
    cells = area / cell**2
    spacing = max(radius_m / 2, math.sqrt(area / MAX_CANDIDATES)) if area else radius_m / 2
    candidates = min(MAX_CANDIDATES, area / spacing**2)
    per_candidate = min(cells, math.pi * radius_m**2 / cell**2)
    return SitingCost(
        cells=math.ceil(cells),
        candidates=math.ceil(candidates),
        cover_entries=math.ceil(candidates * per_candidate),
        cell_m=cell,
        area_km2=round(area / 1e6, 1),
    )


def check_siting_budget(districts: Sequence[District], region: Region, radius_m: float) -> SitingCost:
    """The estimate, or :class:`OverBudget` naming ``radius`` (or ``region``) and the limit broken."""
    cost = siting_cost(districts, region, radius_m)
    where = "the province" if region is None else f"region {region!r}"
    if cost.cells > MAX_SITING_CELLS:
        name = "radius" if radius_m < 2.5 * DEFAULT_CELL_M else "region"
        raise OverBudget(
            name,
            f"{where} ({cost.area_km2:,.0f} km²) at radius {radius_m:g} m needs about {cost.cells:,} demand cells "
            f"of {cost.cell_m:g} m; the limit is {MAX_SITING_CELLS:,}: use a larger radius or a smaller region",
            MAX_SITING_CELLS,
        )
    if cost.cover_entries > MAX_COVER_ENTRIES:
        raise OverBudget(
            "radius",
            f"{where} at radius {radius_m:g} m needs about {cost.cover_entries:,} cover entries; "
            f"the limit is {MAX_COVER_ENTRIES:,}: use a smaller radius or region",
            MAX_COVER_ENTRIES,
        )
    return cost
