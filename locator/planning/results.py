"""Typed planning results: frozen rows whose ``to_dict()`` is the API's JSON. Pure.

The coverage table, its summary, suggested sites, the coverage curve and the
exact-MILP check used to travel as many-keyed dicts that the CLI, the web
module, the template and ``static/js/coverage.js`` read by string key. They are
dataclasses now, so a misspelt field fails in mypy rather than in a browser;
``to_dict()`` gives exactly the keys (in the same order) that
``/api/v1/coverage`` and ``/api/v1/coverage/suggestions`` have always returned,
which keeps the JSON contract and the page's script unchanged.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from locator.planning.grid import DistrictFrame, ccw, snap

__all__ = [
    "ROW_KEYS",
    "CoverageResult",
    "CurvePoint",
    "DistrictRef",
    "DistrictRow",
    "ExactCheck",
    "ExactSite",
    "SitingResult",
    "SuggestedSite",
    "Summary",
]


def _flat(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


@dataclass(frozen=True)
class DistrictRow:
    """One district's coverage. Areas km², distances metres, percentages 0–100."""

    adcode: str
    name_zh: str
    name_en: str
    population_2020: int
    population_estimated: bool
    venues: int
    venues_per_10k: float | None
    area_km2: float
    covered_km2: float
    covered_pct: float
    dist_median_m: float | None
    dist_p90_m: float | None
    dist_max_m: float | None
    population_covered: float | None
    population_grid: float | None
    no_venues: bool
    below_target: bool
    #: Residents (2020 census; the same figure as ``population_2020``, named as the issue's API asks).
    population: int = 0
    #: Share of the grid's people within the radius, 0–100 (None without a grid, or offshore).
    population_covered_pct: float | None = None
    #: Half (and 90 %) of the grid's people live within this distance of a venue (None without a grid).
    people_dist_median_m: float | None = None
    people_dist_p90_m: float | None = None
    #: An offshore district (三沙's 西沙, 南沙): reefs and islets, no walking-radius statistics.
    offshore: bool = False

    def to_dict(self) -> dict[str, Any]:
        return _flat(self)


#: The district row's keys, in the order of the API and the downloads.
ROW_KEYS: tuple[str, ...] = tuple(f.name for f in fields(DistrictRow))


@dataclass(frozen=True)
class DistrictRef:
    """A district named in the summary; ``venues_per_10k`` only for those below the target."""

    adcode: str
    name_zh: str
    name_en: str
    venues_per_10k: float | None = None

    def to_dict(self, with_rate: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"adcode": self.adcode, "name_zh": self.name_zh, "name_en": self.name_en}
        if with_rate:
            out["venues_per_10k"] = self.venues_per_10k
        return out


@dataclass(frozen=True)
class Summary:
    """The province (or the analysed districts) as a whole."""

    districts: int
    venues: int
    venues_outside_districts: int
    population_2020: int
    venues_per_10k: float | None
    area_km2: float
    covered_km2: float
    covered_pct: float
    districts_without_venues: tuple[DistrictRef, ...]
    districts_below_target: tuple[DistrictRef, ...]
    population_covered: float | None = None
    population_grid: float | None = None
    population_covered_pct: float | None = None
    #: ``"population"`` when a population grid weights the figures, else ``"area"``.
    weighting: str = "area"
    #: What the people figures come from; says ``modelled`` for the shipped surface.
    population_source: str | None = None
    #: Residents of the analysed districts (census), the denominator planners quote.
    population: int = 0
    #: Residents of the offshore districts, reported apart (no walking radius applies there).
    population_offshore: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = _flat(self)
        out["districts_without_venues"] = [d.to_dict() for d in self.districts_without_venues]
        out["districts_below_target"] = [d.to_dict(with_rate=True) for d in self.districts_below_target]
        return out


@dataclass(eq=False)
class CoverageResult:
    """Per-district coverage rows, a summary, and (computed on first use) gap geometries.

    ``rows``: districts without a venue of the chosen categories come first,
    then those below the target, each group by adcode.
    """

    categories: tuple[str, ...]
    radius_m: float
    target_per_10k: float | None
    cell_m: float
    data_version: int | None
    population_grid: str | None
    rows: tuple[DistrictRow, ...]
    summary: Summary
    frames: list[DistrictFrame] = field(repr=False)
    covered_m: dict[str, BaseGeometry] = field(repr=False)
    seconds: float = 0.0
    #: The share-of-residents target (0–100) the rows were flagged on, at ``radius_m``; None: none applied.
    target_covered_pct: float | None = None
    gaps_cache: dict[str, Any] | None = field(default=None, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def params(self) -> dict[str, Any]:
        return {
            "categories": list(self.categories),
            "radius_m": self.radius_m,
            "target_per_10k": self.target_per_10k,
            "target_covered_pct": self.target_covered_pct,
            "cell_m": self.cell_m,
            "data_version": self.data_version,
            "population_grid": self.population_grid,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: parameters, summary and district rows."""
        return {
            "params": self.params(),
            "summary": self.summary.to_dict(),
            "districts": [r.to_dict() for r in self.rows],
        }

    def gaps_geojson(self, precision: float = 1e-6) -> dict[str, Any]:
        """Parts of each district out of reach, as a WGS-84 GeoJSON FeatureCollection.

        One feature per district (sorted by adcode); ``geometry`` is null where
        everything is covered. Coordinates are snapped to ``precision`` degrees
        (1e-6° ≈ 0.1 m) with a validity-preserving snap, and rings run
        counter-clockwise as RFC 7946 asks. Computed once per result.
        """
        with self.lock:
            if self.gaps_cache is None:
                feats = []
                for f in sorted(self.frames, key=lambda f: f.district.adcode):
                    d = f.district
                    cov = self.covered_m.get(d.adcode)
                    gap_m = f.geom_m if cov is None or cov.is_empty else shapely.difference(f.geom_m, cov)
                    gap_km2 = gap_m.area / 1e6
                    geom = None
                    if not gap_m.is_empty and gap_km2 > 0:
                        g = snap(f.to_wgs84(gap_m), precision)
                        geom = None if g.is_empty else mapping(ccw(g))
                    feats.append(
                        {
                            "type": "Feature",
                            "id": d.adcode,
                            "geometry": geom,
                            "properties": {
                                "adcode": d.adcode,
                                "name_zh": d.name_zh,
                                "name_en": d.name_en,
                                "gap_km2": round(gap_km2, 3),
                                "gap_pct": round(100 * gap_km2 / f.area_km2, 2) if f.area_km2 else 0.0,
                            },
                        }
                    )
                self.gaps_cache = {"type": "FeatureCollection", "params": self.params(), "features": feats}
            return self.gaps_cache


@dataclass(frozen=True)
class SuggestedSite:
    """A new site, in the order greedy chose it; gains re-measured exactly (km² or people)."""

    rank: int
    lon: float
    lat: float
    adcode: str
    name_zh: str
    name_en: str
    marginal_gain: float
    marginal_gain_grid: float
    covered_before: float
    covered_after: float
    covered_after_pct: float
    unit: str
    #: The site's district (the same as ``adcode``, named as the API asks).
    district_code: str = ""
    #: People newly within reach (the marginal gain when demand is people; None when it is km²).
    population_gain: float | None = None
    #: The nearest town or place (GeoNames), and the site's district: ``新坡镇附近（龙华区）``; "" without a gazetteer.
    place_name: str = ""
    #: How far that place is, metres (geodesic).
    place_distance_m: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return _flat(self)


@dataclass(frozen=True)
class CurvePoint:
    """Coverage with the first ``sites`` suggested sites added."""

    sites: int
    covered: float
    covered_pct: float

    def to_dict(self) -> dict[str, Any]:
        return _flat(self)


@dataclass(frozen=True)
class ExactSite:
    lon: float
    lat: float
    adcode: str

    def to_dict(self) -> dict[str, Any]:
        return _flat(self)


@dataclass(frozen=True)
class ExactCheck:
    """The exact MILP's answer next to greedy's.

    ``status`` is ``optimal`` or ``time limit`` (then ``gain`` is the best
    solution found and ``bound`` the solver's best bound on the optimum);
    ``gain``, ``bound`` and ``greedy_gain`` are on the demand grid, the model
    both solve; ``covered_after`` re-measures the MILP's sites exactly, and
    ``greedy_over_exact_measured`` is the ratio of the two measured gains (in people).
    """

    status: str
    gain: float
    bound: float | None
    mip_gap: float | None
    unit_note: str
    greedy_gain: float
    greedy_over_exact: float | None
    greedy_over_bound: float | None
    covered_after: float
    greedy_covered_after: float
    sites: tuple[ExactSite, ...]
    candidates: int
    demand_cells: int
    build_seconds: float
    solve_seconds: float
    #: ``people`` or ``km²``: the unit of the measured gains below.
    unit: str = ""
    #: What greedy's and the MILP's sites add, re-measured exactly (people with a population grid).
    greedy_gain_measured: float | None = None
    exact_gain_measured: float | None = None
    #: The real ratio: greedy's measured gain over the MILP's (can exceed 1 when the grid model errs).
    greedy_over_exact_measured: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = _flat(self)
        out["sites"] = [s.to_dict() for s in self.sites]
        return out


@dataclass(eq=False)
class SitingResult:
    """Suggested sites, the coverage curve and (optionally) the exact check."""

    params: dict[str, Any]
    unit: str
    total: float
    covered_before: float
    sites: tuple[SuggestedSite, ...]
    curve: tuple[CurvePoint, ...]
    exact: ExactCheck | None
    seconds: dict[str, float]

    @property
    def covered_after(self) -> float:
        return self.sites[-1].covered_after if self.sites else self.covered_before

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "unit": self.unit,
            "total": round(self.total, 3),
            "covered_before": round(self.covered_before, 3),
            "covered_after": round(self.covered_after, 3),
            "sites": [s.to_dict() for s in self.sites],
            "curve": [c.to_dict() for c in self.curve],
            "exact": None if self.exact is None else self.exact.to_dict(),
            "seconds": self.seconds,
        }

    def to_geojson(self) -> dict[str, Any]:
        """The sites as a WGS-84 GeoJSON FeatureCollection of points."""
        feats = [
            {
                "type": "Feature",
                "id": s.rank,
                "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                "properties": {k: v for k, v in s.to_dict().items() if k not in ("lon", "lat")},
            }
            for s in self.sites
        ]
        return {"type": "FeatureCollection", "params": self.params, "features": feats}
