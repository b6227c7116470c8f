"""Coverage analysis for planners: the per-district table and the analyzer that caches it. Pure.

What is measured, per district, for a set of categories and a service radius:

- venues (by the register's ``district_code``) and venues per 10,000 residents
  (2020 census; some districts carry estimates, flagged in the row);
- the district's area, and the area within ``radius`` of a venue, in km²,
  in an equal-area projection centred on the district (see
  :mod:`locator.planning.grid`). Venues of any district cover across the border: each district
  is intersected with the buffers of every venue within ``radius`` of it;
- the nearest-venue distance over the district: the median, 90th percentile
  and maximum over the centres of a regular grid of square cells
  (``cell_m``, at most 500 m) that lie inside the district. The nearest
  venue of each centre is chosen by straight-line (chord) distance between
  Earth-centred (ECEF) points with a k-d tree; its distance is then the exact
  WGS-84 geodesic (``pyproj.Geod``). Chord order equals geodesic order except
  for near-ties (relative differences of order 1e-6 over tens of km), which
  cannot move these statistics measurably;
- with a population grid (``locator.planning.population``), the people whose pixel centre
  lies in the district and within ``radius`` (geodesic) of a venue.

Nothing here holds module-level state. :class:`CoverageAnalyzer` is an object
the caller owns (the web app keeps one in ``app.extensions``); it caches
results by (data version, categories, radius, target, population grid, cell).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from locator.districts import District
from locator.gazetteer import Gazetteer
from locator.planning.grid import (
    QUAD_SEGS,
    DistrictFrame,
    DistrictPixels,
    NearestVenue,
    build_frames,
    district_pixels,
)
from locator.planning.population import PopGrid
from locator.planning.results import CoverageResult, DistrictRef, DistrictRow, SitingResult, Summary
from locator.planning.siting import suggest
from locator.planning.targets import CategoryTarget, effective_target
from locator.planning.validation import (
    DEFAULT_CELL_M,
    DEFAULT_RADIUS_M,
    validate_categories,
    validate_cell,
    validate_n,
    validate_radius,
    validate_region,
    validate_target,
)
from locator.venues import Venue

__all__ = ["CoverageAnalyzer", "analyse"]


def _round(x: float | None, nd: int) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


#: The offshore districts (三沙市's 西沙区 and 南沙区): shown as their own case, without walking-radius figures.
OFFSHORE = frozenset({"460301", "460302"})


def population_source(popgrid: PopGrid | None) -> str | None:
    """What the people figures come from, saying ``modelled`` when the grid says so."""
    if popgrid is None:
        return None
    name = popgrid.source.rsplit("/", 1)[-1] if popgrid.source else popgrid.id
    if popgrid.modelled:
        return f"modelled: {name} ({popgrid.description or 'a modelled population surface'})"
    return name


def analyse(
    districts: Sequence[District],
    venues: Sequence[Venue],
    categories: object = None,
    radius_m: object = DEFAULT_RADIUS_M,
    *,
    target_per_10k: object = None,
    target_covered_pct: float | None = None,
    popgrid: PopGrid | None = None,
    cell_m: object = DEFAULT_CELL_M,
    frames: Sequence[DistrictFrame] | None = None,
    pixels: Sequence[DistrictPixels] | None = None,
    data_version: int | None = None,
) -> CoverageResult:
    """Coverage of ``districts`` by the active ``venues`` of ``categories`` within ``radius_m``.

    Parameters
    ----------
    districts, venues
        The districts (WGS-84 polygons) and the venues; closed venues are ignored.
    categories
        Category codes (iterable or comma-separated string); None means all.
    radius_m
        Service radius in metres, 50–20,000 (default 1,000, about a 15-minute walk).
    target_per_10k
        Flag districts with fewer venues per 10,000 residents than this; None: no flag.
    target_covered_pct
        Flag districts (not offshore) where fewer than this share (0–100) of the grid's
        people live within ``radius_m`` of a venue; None: no flag. See
        :mod:`locator.planning.targets` for which radius and categories it belongs to.
    popgrid
        Optional population grid; fills ``population_covered``.
    cell_m
        Grid cell side for the distance statistics, at most 500 m.
    frames, pixels
        Precomputed :func:`build_frames` / :func:`district_pixels` (for caching).

    Raises
    ------
    InvalidParameter
        naming 'category', 'radius', 'target' or 'cell', quoting the value.
    """
    t0 = time.perf_counter()
    cats = validate_categories(categories)
    r = validate_radius(radius_m)
    target = validate_target(target_per_10k)
    cell = validate_cell(cell_m)
    if frames is None:
        frames = build_frames(districts, cell)
    if popgrid is not None and pixels is None:
        pixels = district_pixels(frames, popgrid)
    chosen = [v for v in venues if v.category in cats and v.status == "active"]
    vlon = np.array([v.lon for v in chosen], dtype=float)
    vlat = np.array([v.lat for v in chosen], dtype=float)
    counts: dict[str, int] = {}
    for v in chosen:
        counts[v.district_code] = counts.get(v.district_code, 0) + 1
    nearest = NearestVenue(vlon, vlat)

    rows: list[DistrictRow] = []
    covered_m: dict[str, BaseGeometry] = {}
    for k, f in enumerate(frames):
        d = f.district
        n = counts.get(d.adcode, 0)
        covered = shapely.Polygon()
        if len(chosen):
            vx, vy = f.project(vlon, vlat)
            pts = shapely.points(vx, vy)
            near = shapely.dwithin(f.geom_m, pts, r)
            if near.any():
                discs = shapely.buffer(pts[near], r, quad_segs=QUAD_SEGS)
                covered = shapely.intersection(shapely.union_all(discs), f.geom_m)
        covered_m[d.adcode] = covered
        cov_km2 = covered.area / 1e6
        dist = nearest.distance(f.cell_lon, f.cell_lat) if len(f.cell_lon) else np.zeros(0)
        finite = dist[np.isfinite(dist)]
        pop_cov: float | None = None
        pop_grid: float | None = None
        people_median = people_p90 = None
        offshore = d.adcode in OFFSHORE
        if pixels is not None and not offshore:
            px = pixels[k]
            pop_grid = float(px.population.sum())
            pop_cov, (people_median, people_p90) = nearest.people(px.lon, px.lat, px.population, r, (50, 90))
        if offshore:
            finite = np.zeros(0)  # no walking-radius statistics on reefs 300 km out
        per10k = n / d.population_2020 * 10_000 if d.population_2020 > 0 else None
        people_pct = 100 * pop_cov / pop_grid if pop_cov is not None and pop_grid else None
        below = bool(target is not None and per10k is not None and per10k < target) or bool(
            target_covered_pct is not None and people_pct is not None and people_pct < target_covered_pct
        )
        rows.append(
            DistrictRow(
                adcode=d.adcode,
                name_zh=d.name_zh,
                name_en=d.name_en,
                population_2020=d.population_2020,
                population_estimated=d.population_estimated,
                venues=n,
                venues_per_10k=_round(per10k, 3),
                area_km2=round(f.area_km2, 3),
                covered_km2=round(cov_km2, 3),
                covered_pct=round(100 * cov_km2 / f.area_km2, 3) if f.area_km2 else 0.0,
                dist_median_m=_round(float(np.median(finite)), 1) if len(finite) else None,
                dist_p90_m=_round(float(np.percentile(finite, 90)), 1) if len(finite) else None,
                dist_max_m=_round(float(finite.max()), 1) if len(finite) else None,
                population_covered=None if pop_cov is None else round(pop_cov, 1),
                population_grid=None if pop_grid is None else round(pop_grid, 1),
                no_venues=n == 0,
                below_target=below,
                population=d.population_2020,
                population_covered_pct=_round(people_pct, 2),
                people_dist_median_m=_round(people_median, 1),
                people_dist_p90_m=_round(people_p90, 1),
                offshore=offshore,
            )
        )
    rows.sort(key=lambda row: (not row.no_venues, not row.below_target, row.adcode))

    area = sum(f.area_km2 for f in frames)
    cov = sum(g.area for g in covered_m.values()) / 1e6
    pop = sum(f.district.population_2020 for f in frames)
    inside = sum(counts.get(f.district.adcode, 0) for f in frames)
    pop_covered = pop_grid_total = pop_pct = None
    if pixels is not None:
        pc = sum(row.population_covered or 0.0 for row in rows)
        pg = sum(float(p.population.sum()) for p in pixels)
        pop_covered, pop_grid_total = round(pc, 1), round(pg, 1)
        pop_pct = round(100 * pc / pg, 2) if pg else None
    summary = Summary(
        districts=len(frames),
        venues=inside,
        venues_outside_districts=len(chosen) - inside,
        population_2020=pop,
        venues_per_10k=_round(inside / pop * 10_000, 3) if pop else None,
        area_km2=round(area, 3),
        covered_km2=round(cov, 3),
        covered_pct=round(100 * cov / area, 3) if area else 0.0,
        districts_without_venues=tuple(DistrictRef(r.adcode, r.name_zh, r.name_en) for r in rows if r.no_venues),
        districts_below_target=tuple(
            DistrictRef(r.adcode, r.name_zh, r.name_en, r.venues_per_10k) for r in rows if r.below_target
        ),
        population_covered=pop_covered,
        population_grid=pop_grid_total,
        population_covered_pct=pop_pct,
        weighting="area" if popgrid is None else "population",
        population_source=population_source(popgrid),
        population=pop,
        population_offshore=sum(f.district.population_2020 for f in frames if f.district.adcode in OFFSHORE),
    )
    return CoverageResult(
        categories=cats,
        radius_m=r,
        target_per_10k=target,
        target_covered_pct=target_covered_pct,
        cell_m=cell,
        data_version=data_version,
        population_grid=None if popgrid is None else popgrid.source or popgrid.id,
        rows=tuple(rows),
        summary=summary,
        frames=list(frames),
        covered_m=covered_m,
        seconds=time.perf_counter() - t0,
    )


# -- the cache the caller owns ----------------------------------------------
class CoverageAnalyzer:
    """Coverage and siting over a register, cached by data version.

    ``districts`` are fixed for the analyzer's life; ``index`` is a callable
    returning the current :class:`~locator.index.VenueIndex` (whose
    ``version`` is the data version) — e.g. ``lambda: register.index``.
    Thread-safe; keeps the ``maxsize`` most recent results.
    """

    def __init__(
        self,
        districts: Sequence[District],
        index: Callable[[], Any],
        *,
        popgrid: PopGrid | None = None,
        target_per_10k: float | None = None,
        targets: Mapping[str, CategoryTarget] | None = None,
        maxsize: int = 32,
        gazetteer: Gazetteer | None = None,
    ) -> None:
        self.districts = list(districts)
        self._index = index
        self.popgrid = popgrid
        self.gazetteer = gazetteer
        self.target_per_10k = validate_target(target_per_10k)
        self.targets = dict(targets or {})
        self.maxsize = maxsize
        self._lock = threading.RLock()
        self._results: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._frames: dict[float, list[DistrictFrame]] = {}
        self._pixels: dict[tuple[float, str], list[DistrictPixels]] = {}

    @classmethod
    def from_register(cls, register: Any, **kwargs: Any) -> CoverageAnalyzer:
        """An analyzer over a :class:`~locator.storage.register.Register`."""
        return cls(register.districts, lambda: register.index, **kwargs)

    # cached building blocks (independent of the venues)
    def frames(self, cell_m: float = DEFAULT_CELL_M) -> list[DistrictFrame]:
        cell = validate_cell(cell_m)
        with self._lock:
            if cell not in self._frames:
                self._frames[cell] = build_frames(self.districts, cell)
            return self._frames[cell]

    def pixels(self, cell_m: float = DEFAULT_CELL_M) -> list[DistrictPixels] | None:
        if self.popgrid is None:
            return None
        key = (validate_cell(cell_m), self.popgrid.id)
        with self._lock:
            if key not in self._pixels:
                self._pixels[key] = district_pixels(self.frames(cell_m), self.popgrid)
            return self._pixels[key]

    def _cached(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        value = build()
        with self._lock:
            self._results[key] = value
            self._results.move_to_end(key)
            while len(self._results) > self.maxsize:
                self._results.popitem(last=False)
        return value

    def current(self) -> tuple[int, list[Venue]]:
        idx = self._index()
        return int(getattr(idx, "version", 0)), idx.venues()

    def table(
        self,
        categories: object = None,
        radius_m: object = DEFAULT_RADIUS_M,
        *,
        target_per_10k: object = "default",
        cell_m: object = DEFAULT_CELL_M,
    ) -> CoverageResult:
        """The :func:`analyse` result for the current data, cached."""
        cats = validate_categories(categories)
        r = validate_radius(radius_m)
        share: float | None = None
        if target_per_10k == "default":
            eff = effective_target(self.targets, cats, r, per_10k_override=self.target_per_10k)
            target, share = eff.per_10k, eff.covered_pct
        else:
            target = validate_target(target_per_10k)
        cell = validate_cell(cell_m)
        idx = self._index()
        version = int(getattr(idx, "version", 0))
        grid_id = None if self.popgrid is None else self.popgrid.id
        key = ("table", version, cats, r, target, share, grid_id, cell)

        def build() -> CoverageResult:
            return analyse(
                self.districts,
                idx.venues(),
                cats,
                r,
                target_per_10k=target,
                target_covered_pct=share,
                popgrid=self.popgrid,
                cell_m=cell,
                frames=self.frames(cell),
                pixels=self.pixels(cell),
                data_version=version,
            )

        result: CoverageResult = self._cached(key, build)
        return result

    def gaps(self, categories: object = None, radius_m: object = DEFAULT_RADIUS_M) -> dict[str, Any]:
        """Gap areas as a WGS-84 GeoJSON FeatureCollection (cached with the table)."""
        return self.table(categories, radius_m).gaps_geojson()

    def suggest(
        self,
        categories: object = None,
        radius_m: object = DEFAULT_RADIUS_M,
        n: object = 10,
        *,
        region: object = None,
        exact: bool = False,
        time_limit: float = 30.0,
        exact_budget: int | None = None,
    ) -> SitingResult:
        """Greedy siting (and optionally the exact MILP check); see :func:`locator.planning.siting.suggest`."""
        cats = validate_categories(categories)
        r = validate_radius(radius_m)
        nn = validate_n(n)
        reg = validate_region(region, self.districts)
        idx = self._index()
        version = int(getattr(idx, "version", 0))
        grid_id = None if self.popgrid is None else self.popgrid.id
        key = ("suggest", version, cats, r, nn, reg, bool(exact), float(time_limit), exact_budget, grid_id)
        result: SitingResult = self._cached(
            key,
            lambda: suggest(
                self.districts,
                idx.venues(),
                cats,
                r,
                nn,
                region=reg,
                popgrid=self.popgrid,
                exact=exact,
                time_limit=time_limit,
                exact_budget=exact_budget,
                data_version=version,
                gazetteer=self.gazetteer,
            ),
        )
        return result
