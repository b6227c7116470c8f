"""The coverage API's part of the OpenAPI document, from ``locator.web.coverage``'s own limits. Pure.

It sits beside ``locator.web.coverage`` rather than in it while that module's
API and download parts are being reworked; it reads the same constants the
handlers validate with, so the two cannot drift.
"""

from __future__ import annotations

from locator.categories import CATEGORY_CODES
from locator.planning import MAX_RADIUS_M, MIN_RADIUS_M
from locator.planning.budget import MAX_COVER_ENTRIES, MAX_SITING_CELLS, RADIUS_STEP_M
from locator.web import oas
from locator.web.coverage import (
    DEFAULT_CATEGORY,
    DEFAULT_RADIUS,
    EXACT_MAX_SIZE,
    EXACT_TIME_LIMIT_S,
    GEOJSON,
    MAX_API_N,
    MEASURES,
)

__all__ = ["DEFAULT_API_N", "get_oas"]

DEFAULT_API_N = 10
"""``n`` of the coverage API when not given (the handlers' ``default_n``)."""


_LON = r"-?(180(\.0+)?|(1[0-7][0-9]|[0-9]{1,2})(\.[0-9]+)?)"
"""A longitude from -180 to 180 in decimal notation (a regular expression)."""
_LAT = r"-?(90(\.0+)?|[0-8]?[0-9](\.[0-9]+)?)"
"""A latitude from -90 to 90."""


def _number(x: float) -> float | int:
    """``x`` as JSON writes it best: ``1000``, not ``1000.0``."""
    return int(x) if float(x).is_integer() else x


def get_oas() -> oas.Fragment:
    """The coverage endpoints (``/api/v1/coverage…``) and their parameters."""
    api = f"{oas.API}/coverage"
    paths = {
        api: oas.operation(
            "Coverage table",
            "Per district: venues, venues per 10,000 residents (2020 census), area and the area within `radius` "
            "(equal-area projections), nearest-venue distance (median, p90, max on a ≤500 m grid), and a summary "
            "naming the districts without any venue.",
            "coverage",
            ["coverageCategory", "radius", "measure"],
            oas.ok("The table.", "application/json"),
            op_id="coverage",
        ),
        f"{api}/gaps": oas.operation(
            "Coverage gaps",
            "The part of each district beyond `radius` of every venue, as GeoJSON (WGS-84).",
            "coverage",
            ["coverageCategory", "radius", "measure"],
            oas.ok("The gaps.", GEOJSON),
            op_id="coverageGaps",
        ),
        f"{api}/suggestions": oas.operation(
            "Siting suggestions",
            "`n` new sites chosen greedily to add the most covered area (or population, with a population grid), "
            "existing venues kept; each with its marginal gain and coverage before and after, and the curve. "
            f"Bounded before any work: the region's districts are gridded in cells of min(500 m, radius / 2.5), "
            f"and a request estimated at more than {MAX_SITING_CELLS:,} demand cells or {MAX_COVER_ENTRIES:,} "
            "cover entries is refused with 422 naming the parameter and the limit. "
            f"With `exact=true` the same problem is also solved exactly (HiGHS, at most {EXACT_TIME_LIMIT_S:g} s) "
            "and `exact` compares the two in people: `greedy_gain_measured`, `exact_gain_measured`, "
            "`greedy_over_exact_measured`. A problem over the size budget is refused with 422 naming `exact`.",
            "coverage",
            ["coverageCategory", "radius", "n", "region", "measure", "exact"],
            oas.ok("The suggested sites.", GEOJSON),
            ("400", "422", "429"),
            op_id="coverageSuggestions",
        ),
    }
    parameters = {
        "radius": oas.param(
            "radius",
            f"Service radius in metres (a 15-minute walk is about 1000), rounded to {RADIUS_STEP_M:g} m.",
            {
                "type": "number",
                "minimum": _number(MIN_RADIUS_M),
                "maximum": _number(MAX_RADIUS_M),
                "default": _number(DEFAULT_RADIUS),
            },
        ),
        "n": oas.param(
            "n",
            "How many new sites to suggest.",
            {"type": "integer", "minimum": 1, "maximum": MAX_API_N, "default": DEFAULT_API_N},
        ),
        "region": oas.param(
            "region",
            "Limit siting to one district (adcode) or a box `west,south,east,north` in WGS-84 degrees with "
            "west < east and south < north; `province`, `all` or blank (the default) for the whole province.",
            {
                "anyOf": [
                    {"type": "string", "enum": ["", "province", "all"]},  # the register's adcodes join at start-up
                    {"type": "string", "pattern": f"^{_LON},{_LAT},{_LON},{_LAT}$"},
                ],
                "example": "460106",
            },
        ),
        "exact": oas.param(
            "exact",
            "Also solve the siting exactly (MILP, HiGHS) and report greedy/exact in people. Bounded: HiGHS's "
            f"time limit of {EXACT_TIME_LIMIT_S:g} s, and at most {EXACT_MAX_SIZE:,} candidates × demand cells "
            "(checked before solving; over it the answer is 422 naming `exact`: choose one district as `region`).",
            {"type": "boolean", "default": False},
        ),
        "measure": oas.param(
            "measure",
            "The measure a map would colour districts by (echoed in the answer).",
            {"type": "string", "enum": list(MEASURES), "default": MEASURES[0]},
        ),
        "coverageCategory": oas.list_param(
            "category",
            f"{oas.CSV} of venue categories to count (default {DEFAULT_CATEGORY}): {', '.join(CATEGORY_CODES)}.",
            {"type": "string", "enum": list(CATEGORY_CODES)},
            len(CATEGORY_CODES),
            DEFAULT_CATEGORY,
        ),
    }
    return oas.fragment(paths, parameters)
