"""Coverage planning: the per-district coverage table and siting of new venues. Pure.

Modules, one concern each: :mod:`.validation` (parameters, checked at the
boundary), :mod:`.grid` (equal-area projections, grids, nearest venue),
:mod:`.results` (typed result rows), :mod:`.analysis` (the table and the
caching analyzer), :mod:`.siting` (problem, greedy, exact, suggest) and
:mod:`.population` (population grids). The web app and the CLI import the
public names from here.
"""

from locator.planning.analysis import CoverageAnalyzer, analyse
from locator.planning.grid import ccw
from locator.planning.population import PopGrid, load_popgrid
from locator.planning.results import (
    ROW_KEYS,
    CoverageResult,
    CurvePoint,
    DistrictRef,
    DistrictRow,
    ExactCheck,
    ExactSite,
    SitingResult,
    SuggestedSite,
    Summary,
)
from locator.planning.siting import solve_exact, suggest
from locator.planning.validation import (
    DEFAULT_CELL_M,
    DEFAULT_RADIUS_M,
    MAX_N,
    MAX_RADIUS_M,
    MIN_RADIUS_M,
    validate_categories,
    validate_cell,
    validate_n,
    validate_radius,
    validate_region,
    validate_target,
)

__all__ = [
    "DEFAULT_CELL_M",
    "DEFAULT_RADIUS_M",
    "MAX_N",
    "MAX_RADIUS_M",
    "MIN_RADIUS_M",
    "ROW_KEYS",
    "CoverageAnalyzer",
    "CoverageResult",
    "CurvePoint",
    "DistrictRef",
    "DistrictRow",
    "ExactCheck",
    "ExactSite",
    "PopGrid",
    "SitingResult",
    "SuggestedSite",
    "Summary",
    "analyse",
    "ccw",
    "load_popgrid",
    "solve_exact",
    "suggest",
    "validate_categories",
    "validate_cell",
    "validate_n",
    "validate_radius",
    "validate_region",
    "validate_target",
]
