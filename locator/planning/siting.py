"""Siting suggestions: where N new stations add the most coverage. Pure.

The problem is maximal covering on a grid, with the existing venues fixed:

- demand cells: square cells of side ``min(500 m, radius / 2)`` on each
  district's equal-area (LAEA) grid, cell centre inside the district, each
  weighing its area in km²; or, with a population grid, the people whose
  pixel centre falls in the cell. Demand already within ``radius`` of an
  existing venue is covered before any new site and adds nothing;
- candidate sites: centres of a coarser grid (spacing ``radius / 2``, widened
  so that there are at most ``max_candidates``) inside the districts, i.e. on
  land as the district polygons draw it (the Amap polygons are generous, and
  Sansha's include reef flats);
- a candidate covers a demand cell when the straight-line distance between
  their Earth-centred (ECEF) points is at most ``radius``. The chord is never
  longer than the geodesic and shorter by ``d³/24R²`` only (under 1 cm at
  20 km), so this is the geodesic test to within a centimetre.

``greedy`` picks, N times, the candidate with the largest marginal gain (a
sparse matrix–vector product over the candidates' coverage lists). Greedy
maximal covering is guaranteed at least 1 − 1/e ≈ 63 % of the optimum and is
usually within a few per cent. ``solve_exact`` solves the same sparse MILP with
PuLP's bundled CBC (each demand cell's constraint lists only the candidates
within the radius), warm-started from the greedy answer, under a time limit,
and reports CBC's bound and gap, so the greedy answer's distance from the
optimum is known even when the solver stops early.

Coverage is always weighted — km² or people — never a count of points.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from locator.districts import District
from locator.errors import InvalidParameter
from locator.geo import ecef
from locator.planning.coverage import (
    DEFAULT_CELL_M,
    HAINAN_ISLAND_CRS,
    QUAD_SEGS,
    DistrictFrame,
    NearestVenue,
    build_frame,
    grid_centres,
    on_hainan_island,
    validate_categories,
    validate_radius,
)
from locator.planning.population import PopGrid, aggregate_to_cells
from locator.venues import Venue

__all__ = [
    "MAX_N",
    "ExactResult",
    "SitingProblem",
    "SitingResult",
    "build_problem",
    "greedy",
    "solve_exact",
    "suggest",
    "validate_n",
    "validate_region",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Region = str | tuple[float, float, float, float] | None

MAX_N = 200
MAX_CANDIDATES = 40_000
MAX_DEMAND = 1_000_000


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


@dataclass(eq=False)
class SitingProblem:
    """Demand cells, candidate sites and the sparse candidate × demand cover matrix.

    ``cover`` has a row per candidate and a column per *uncovered* demand cell
    (``weight[col]``); ``covered_before`` is the weight already within reach.
    """

    unit: str
    radius_m: float
    cell_m: float
    spacing_m: float
    total: float
    covered_before: float
    weight: FloatArray
    cand_lon: FloatArray
    cand_lat: FloatArray
    cand_district: list[str]
    cover: sparse.csr_matrix
    district_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    seconds: float = 0.0


def _in_bbox(d: District, box: tuple[float, float, float, float]) -> bool:
    w, s, e, n = d.geometry.bounds
    return not (e < box[0] or w > box[2] or n < box[1] or s > box[3])


def _region_frames(
    districts: Sequence[District], region: Region, cell_m: float
) -> tuple[list[DistrictFrame], tuple[float, float, float, float] | None]:
    box = region if isinstance(region, tuple) else None
    if isinstance(region, str):
        chosen = [d for d in districts if d.adcode == region]
    elif box is not None:
        chosen = [d for d in districts if _in_bbox(d, box)]
    else:
        chosen = list(districts)
    if not chosen:
        raise InvalidParameter("region", f"holds no district, got {region!r}")
    return [build_frame(d, cell_m, HAINAN_ISLAND_CRS if on_hainan_island(d) else None) for d in chosen], box


def _box_mask(lon: FloatArray, lat: FloatArray, box: tuple[float, float, float, float] | None) -> npt.NDArray[np.bool_]:
    if box is None:
        return np.ones(len(lon), dtype=bool)
    return (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])


def build_problem(
    districts: Sequence[District],
    venues: Sequence[Venue],
    categories: object,
    radius_m: object,
    *,
    region: Region = None,
    popgrid: PopGrid | None = None,
    max_candidates: int = MAX_CANDIDATES,
    max_demand: int = MAX_DEMAND,
) -> SitingProblem:
    """Build demand cells, candidates and coverage lists for ``region``."""
    t0 = time.perf_counter()
    cats = validate_categories(categories)
    r = validate_radius(radius_m)
    cell = min(DEFAULT_CELL_M, r / 2.5)
    # bound the problem before gridding
    probe = [d for d in districts] if region is None else None
    if probe is not None:
        area_m2 = sum(build_frame_area(d) for d in probe)
        if area_m2 / cell**2 > max_demand:
            raise InvalidParameter(
                "region",
                f"the whole province at radius {radius_m!r} needs {area_m2 / cell**2:,.0f} demand cells "
                f"(limit {max_demand:,}); choose one district or a bbox",
            )
    frames, box = _region_frames(districts, region, cell)
    if popgrid is None and sum(len(f.cell_x) for f in frames) > max_demand:
        raise InvalidParameter(
            "region", f"{region!r} at radius {radius_m!r} needs more than {max_demand:,} demand cells"
        )
    area_total = sum(f.area_km2 for f in frames)
    # candidates sit on demand-cell centres (spacing a whole number of cells), so
    # every interior candidate covers the same lattice pattern: no candidate can
    # win by its alignment with the demand grid
    spacing = cell * max(1, math.ceil(max(r / 2, math.sqrt(area_total * 1e6 / max_candidates)) / cell - 1e-9))

    chosen = [v for v in venues if v.category in cats and v.status == "active"]
    nearest = NearestVenue(np.array([v.lon for v in chosen]), np.array([v.lat for v in chosen]))

    keys: list[IntArray] = []
    d_lon: list[FloatArray] = []
    d_lat: list[FloatArray] = []
    d_w: list[FloatArray] = []
    c_keys: list[IntArray] = []
    c_lon: list[FloatArray] = []
    c_lat: list[FloatArray] = []
    c_dist: list[str] = []
    taken = None if popgrid is None else np.zeros(len(popgrid), dtype=bool)
    for f in frames:
        geom = f.district.geometry
        group = 0 if on_hainan_island(f.district) else 1 + frames.index(f)
        if popgrid is None:
            ii = np.floor(f.cell_x / cell).astype(np.int64)
            jj = np.floor(f.cell_y / cell).astype(np.int64)
            lon, lat = f.cell_lon, f.cell_lat
            w = np.full(len(lon), cell * cell / 1e6)
        else:
            assert taken is not None
            wb, sb, eb, nb = geom.bounds
            sel = np.flatnonzero(
                ~taken & (popgrid.lon >= wb) & (popgrid.lon <= eb) & (popgrid.lat >= sb) & (popgrid.lat <= nb)
            )
            if len(sel):
                sel = sel[shapely.contains_xy(geom, popgrid.lon[sel], popgrid.lat[sel])]
                sel = sel[_box_mask(popgrid.lon[sel], popgrid.lat[sel], box)]
            taken[sel] = True
            px, py = f.project(popgrid.lon[sel], popgrid.lat[sel])
            ii, jj, w = aggregate_to_cells(px, py, popgrid.population[sel], cell)
            lon, lat = f.unproject(
                np.asarray((ii + 0.5) * cell, dtype=np.float64), np.asarray((jj + 0.5) * cell, dtype=np.float64)
            )
        keep = _box_mask(lon, lat, box) if popgrid is None else np.ones(len(lon), dtype=bool)
        keys.append(np.column_stack((np.full(int(keep.sum()), group), ii[keep], jj[keep])))
        d_lon.append(np.asarray(lon)[keep])
        d_lat.append(np.asarray(lat)[keep])
        d_w.append(np.asarray(w)[keep])
        cx, cy = _lattice(f.geom_m, cell, spacing)
        clon, clat = f.unproject(cx, cy)
        ok = _box_mask(clon, clat, box)
        if ok.any():
            ok[ok] = shapely.contains_xy(geom, clon[ok], clat[ok])  # on land in lon/lat too
        c_keys.append(
            np.column_stack((np.full(int(ok.sum()), group), np.floor(cx[ok] / cell), np.floor(cy[ok] / cell))).astype(
                np.int64
            )
        )
        c_lon.append(clon[ok])
        c_lat.append(clat[ok])
        c_dist.extend([f.district.adcode] * int(ok.sum()))
    # a cell drawn by two overlapping district polygons counts once (area: first
    # district's; population: pixels were already taken once, so sum)
    d_lon, d_lat, d_w = _dedupe(keys, d_lon, d_lat, d_w, sum_weights=popgrid is not None)
    first = _first_of(c_keys)
    c_lon = [np.concatenate(c_lon)[first]] if c_lon else []
    c_lat = [np.concatenate(c_lat)[first]] if c_lat else []
    c_dist = [c_dist[k] for k in first]
    lon_all = np.concatenate(d_lon) if d_lon else np.zeros(0)
    lat_all = np.concatenate(d_lat) if d_lat else np.zeros(0)
    w_all = np.concatenate(d_w) if d_w else np.zeros(0)
    total = float(w_all.sum())
    covered = nearest.distance(lon_all, lat_all, upper=r) <= r
    before = float(w_all[covered].sum())
    open_ = ~covered & (w_all > 0)
    lon_o, lat_o, w_o = lon_all[open_], lat_all[open_], w_all[open_]
    cand_lon = np.concatenate(c_lon) if c_lon else np.zeros(0)
    cand_lat = np.concatenate(c_lat) if c_lat else np.zeros(0)
    if len(lon_o) and len(cand_lon):
        tree = cKDTree(ecef(lon_o, lat_o))
        lists = tree.query_ball_point(ecef(cand_lon, cand_lat), r)
        lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
        indices = np.fromiter((i for x in lists for i in x), dtype=np.int64, count=int(lengths.sum()))
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        cover = sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(cand_lon), len(lon_o)))
    else:
        cover = sparse.csr_matrix((len(cand_lon), len(lon_o)))
    names = {f.district.adcode: (f.district.name_zh, f.district.name_en) for f in frames}
    return SitingProblem(
        unit="km2" if popgrid is None else "people",
        radius_m=r,
        cell_m=cell,
        spacing_m=spacing,
        total=total,
        covered_before=before,
        weight=w_o,
        cand_lon=cand_lon,
        cand_lat=cand_lat,
        cand_district=c_dist,
        cover=cover,
        district_names=names,
        seconds=time.perf_counter() - t0,
    )


def _first_of(keys: list[IntArray]) -> IntArray:
    if not keys:
        return np.zeros(0, dtype=np.int64)
    allk = np.concatenate(keys)
    if len(allk) == 0:
        return np.zeros(0, dtype=np.int64)
    _, first = np.unique(allk, axis=0, return_index=True)
    return np.sort(first)


def _dedupe(
    keys: list[IntArray], lon: list[FloatArray], lat: list[FloatArray], w: list[FloatArray], sum_weights: bool
) -> tuple[list[FloatArray], list[FloatArray], list[FloatArray]]:
    if not keys:
        return lon, lat, w
    allk = np.concatenate(keys)
    if len(allk) == 0:
        return lon, lat, w
    lo, la, ww = np.concatenate(lon), np.concatenate(lat), np.concatenate(w)
    _, first, inverse = np.unique(allk, axis=0, return_index=True, return_inverse=True)
    if sum_weights:
        summed = np.bincount(inverse.ravel(), weights=ww, minlength=len(first)).astype(np.float64)
        order = np.argsort(first)
        return [lo[first[order]]], [la[first[order]]], [summed[order]]
    first = np.sort(first)
    return [lo[first]], [la[first]], [ww[first]]


def _lattice(geom_m: Any, cell: float, spacing: float) -> tuple[FloatArray, FloatArray]:
    """Demand-cell centres ``(i + .5) * cell`` with ``i`` a multiple of ``spacing / cell``, inside ``geom_m``."""
    k = int(round(spacing / cell))
    x, y = grid_centres(geom_m, cell)
    i = np.floor(x / cell).astype(np.int64)
    j = np.floor(y / cell).astype(np.int64)
    keep = (i % k == 0) & (j % k == 0)
    return x[keep], y[keep]


def build_frame_area(d: District) -> float:
    """A district's area in m² (equal-area projection), without gridding it."""
    from pyproj import Transformer

    from locator.planning.coverage import _transform, district_crs

    tr = Transformer.from_crs("EPSG:4326", district_crs(d.geometry), always_xy=True)
    return float(_transform(tr, d.geometry).area)


class _ExactMeasure:
    """Re-measures coverage of chosen sites exactly, as the coverage table does.

    Area: per-district LAEA polygons, 128-gon buffers, unions (the district
    clipped to the bbox region if one is given). Population: pixel centres
    within the radius (geodesic) of a venue or a new site.
    """

    def __init__(
        self,
        districts: Sequence[District],
        venues: Sequence[Venue],
        r: float,
        region: Region,
        popgrid: PopGrid | None,
    ) -> None:
        from locator.planning.coverage import _transform

        box = region if isinstance(region, tuple) else None
        if isinstance(region, str):
            chosen = [d for d in districts if d.adcode == region]
        elif box is not None:
            chosen = [d for d in districts if _in_bbox(d, box)]
        else:
            chosen = list(districts)
        self.r = r
        self.popgrid = popgrid
        vlon = np.array([v.lon for v in venues], dtype=float)
        vlat = np.array([v.lat for v in venues], dtype=float)
        if popgrid is None:
            self.frames = []
            self.covered = []
            for d in chosen:
                f = build_frame(d, DEFAULT_CELL_M)
                geom = f.geom_m
                if box is not None:
                    geom = shapely.intersection(geom, _transform(f.to_m, shapely.box(*box).segmentize(0.01)))
                cov = shapely.Polygon()
                if len(vlon):
                    pts = shapely.points(*f.project(vlon, vlat))
                    near = shapely.dwithin(geom, pts, r)
                    if near.any():
                        cov = shapely.intersection(
                            shapely.union_all(shapely.buffer(pts[near], r, quad_segs=QUAD_SEGS)), geom
                        )
                self.frames.append((f, geom))
                self.covered.append(cov)
            self.total = sum(g.area for _, g in self.frames) / 1e6
            self.before = sum(c.area for c in self.covered) / 1e6
        else:
            taken = np.zeros(len(popgrid), dtype=bool)
            for d in chosen:
                wb, sb, eb, nb = d.geometry.bounds
                sel = np.flatnonzero(
                    ~taken & (popgrid.lon >= wb) & (popgrid.lon <= eb) & (popgrid.lat >= sb) & (popgrid.lat <= nb)
                )
                if len(sel):
                    sel = sel[shapely.contains_xy(d.geometry, popgrid.lon[sel], popgrid.lat[sel])]
                    sel = sel[_box_mask(popgrid.lon[sel], popgrid.lat[sel], box)]
                taken[sel] = True
            self.plon, self.plat, self.ppop = popgrid.lon[taken], popgrid.lat[taken], popgrid.population[taken]
            self.pcov = NearestVenue(vlon, vlat).distance(self.plon, self.plat, upper=r) <= r
            self.ptree = cKDTree(ecef(self.plon, self.plat)) if len(self.plon) else None
            self.total = float(self.ppop.sum())
            self.before = float(self.ppop[self.pcov].sum())

    def add(self, lon: float, lat: float) -> float:
        """Add a site; returns its marginal gain (km² or people)."""
        from locator.geo import GEOD

        if self.popgrid is None:
            gain = 0.0
            for k, (f, geom) in enumerate(self.frames):
                x, y = f.project(np.array([lon]), np.array([lat]))
                pt = shapely.Point(float(x[0]), float(y[0]))
                if geom.is_empty or not shapely.dwithin(geom, pt, self.r):
                    continue
                disc = shapely.intersection(shapely.buffer(pt, self.r, quad_segs=QUAD_SEGS), geom)
                new = shapely.union(self.covered[k], disc)
                gain += (new.area - self.covered[k].area) / 1e6
                self.covered[k] = new
            return gain
        if self.ptree is None:
            return 0.0
        idx = np.asarray(self.ptree.query_ball_point(ecef(lon, lat)[0], self.r * (1 + 1e-9)), dtype=np.int64)
        idx = idx[~self.pcov[idx]]
        if len(idx) == 0:
            return 0.0
        _, _, dist = GEOD.inv(np.full(len(idx), lon), np.full(len(idx), lat), self.plon[idx], self.plat[idx])
        idx = idx[dist <= self.r]
        self.pcov[idx] = True
        return float(self.ppop[idx].sum())


def _measure_picks(
    districts: Sequence[District],
    venues: Sequence[Venue],
    r: float,
    region: Region,
    popgrid: PopGrid | None,
    prob: SitingProblem,
    picks: Sequence[int],
) -> float:
    m = _ExactMeasure(districts, venues, r, region, popgrid)
    return m.before + sum(m.add(float(prob.cand_lon[j]), float(prob.cand_lat[j])) for j in picks)


def greedy(
    cover: sparse.csr_matrix, weight: FloatArray, n: int, priority: FloatArray | None = None
) -> tuple[list[int], list[float]]:
    """Greedy maximal covering: ``n`` rows of ``cover`` adding the most weight, in order.

    Returns the picked row indices and each pick's marginal gain. Stops early
    when no candidate adds anything (so fewer than ``n`` may come back).
    Ties (gains within 1e-9 of the best) go to the highest ``priority``, then
    to the lowest index.
    """
    w = np.asarray(weight, dtype=np.float64).copy()
    csc = cover.tocsc()
    gains = np.asarray(cover @ w).ravel()
    picks: list[int] = []
    out: list[float] = []
    for _ in range(n):
        if len(gains) == 0:
            break
        j = int(np.argmax(gains))
        g = float(gains[j])
        if not g > 0:
            break
        if priority is not None:
            tied = np.flatnonzero(gains >= g * (1 - 1e-9))
            if len(tied) > 1:
                j = int(tied[np.argmax(priority[tied])])
                g = float(gains[j])
        cols = cover.indices[cover.indptr[j] : cover.indptr[j + 1]]
        cols = cols[w[cols] > 0]
        lost = np.zeros_like(w)
        lost[cols] = w[cols]
        gains -= np.asarray(csc[:, cols] @ lost[cols]).ravel()
        w[cols] = 0.0
        gains[j] = 0.0
        picks.append(j)
        out.append(g)
    return picks, out


def _distance_to_any_venue(lon: FloatArray, lat: FloatArray, venues: Sequence[Venue]) -> FloatArray:
    """Chord distance (m, a lower bound of the geodesic, equal to it within 1e-6 here) to the nearest active venue."""
    active = [v for v in venues if v.status == "active"]
    if not active or len(lon) == 0:
        return np.zeros(len(lon))
    tree = cKDTree(ecef(np.array([v.lon for v in active]), np.array([v.lat for v in active])))
    d, _ = tree.query(ecef(np.asarray(lon), np.asarray(lat)), k=1)
    return np.asarray(d, dtype=np.float64)


@dataclass
class ExactResult:
    status: str
    picks: list[int]
    objective: float
    bound: float | None
    gap: float | None
    seconds: float
    build_seconds: float
    candidates: int
    demand_cells: int


def solve_exact(
    cover: sparse.csr_matrix,
    weight: FloatArray,
    n: int,
    *,
    time_limit: float = 30.0,
    warm_start: Sequence[int] | None = None,
    threads: int | None = None,
) -> ExactResult:
    """The maximal-covering MILP, built sparsely, solved by PuLP's bundled CBC.

    max Σ wᵢ yᵢ  s.t.  yᵢ ≤ Σ_{j covers i} xⱼ,  Σ xⱼ ≤ n,  x binary, 0 ≤ y ≤ 1.
    Only candidates that cover something, and demand that some candidate can
    cover, enter the model. ``bound`` is CBC's best bound on the optimum
    (equal to ``objective`` when solved to optimality); ``gap`` is
    ``(bound - objective) / bound``.
    """
    import pulp

    t0 = time.perf_counter()
    cover = cover.tocsr()
    w = np.asarray(weight, dtype=np.float64)
    useful_c = np.flatnonzero(np.asarray(cover @ (w > 0).astype(float)).ravel() > 0)
    sub = cover[useful_c]
    useful_d = np.flatnonzero((np.asarray(sub.sum(axis=0)).ravel() > 0) & (w > 0))
    sub = sub[:, useful_d].tocsc()
    wd = w[useful_d]
    with warnings.catch_warnings():  # PuLP's own deprecation notices, not the caller's business
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        prob = pulp.LpProblem("maximal_covering", pulp.LpMaximize)
        x = [pulp.LpVariable(f"x{j}", cat=pulp.LpBinary) for j in range(len(useful_c))]
        y = [pulp.LpVariable(f"y{i}", lowBound=0, upBound=1) for i in range(len(useful_d))]
        prob += pulp.LpAffineExpression(zip(y, wd.tolist(), strict=False))
        prob += pulp.LpAffineExpression((xj, 1.0) for xj in x) <= n, "budget"
        for i in range(len(useful_d)):
            rows = sub.indices[sub.indptr[i] : sub.indptr[i + 1]]
            expr = pulp.LpAffineExpression([(x[j], 1.0) for j in rows])
            expr.addterm(y[i], -1.0)
            prob.addConstraint(expr >= 0, f"c{i}")
    if warm_start:
        pos = {int(c): k for k, c in enumerate(useful_c)}
        chosen = {pos[j] for j in warm_start if j in pos}
        for k, xj in enumerate(x):
            xj.setInitialValue(1 if k in chosen else 0)
    build = time.perf_counter() - t0
    fd, log_path = tempfile.mkstemp(suffix=".log", prefix="cbc-")
    os.close(fd)
    try:
        solver = pulp.PULP_CBC_CMD(
            msg=False,
            timeLimit=max(1, int(math.ceil(time_limit))),
            warmStart=bool(warm_start),
            logPath=log_path,
            threads=threads,
        )
        t1 = time.perf_counter()
        prob.solve(solver)
        secs = time.perf_counter() - t1
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            log = fh.read()
    finally:
        os.unlink(log_path)
    picks = [int(useful_c[k]) for k, xj in enumerate(x) if (xj.value() or 0) > 0.5]
    objective = float(sum(wd[i] for i, yi in enumerate(y) if (yi.value() or 0) > 0.5))
    # recompute the objective from the picks (y may be fractional-looking at 1-eps)
    if picks:
        objective = float(w[np.unique(cover[picks].indices)].sum())
    optimal = "Optimal solution found" in log
    bound = objective if optimal else _parse_bound(log)
    gap = None if bound is None else (0.0 if bound <= 0 else max(0.0, (bound - objective) / bound))
    return ExactResult(
        status="optimal" if optimal else ("time limit" if "time limit" in log.lower() else pulp.LpStatus[prob.status]),
        picks=picks,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=secs,
        build_seconds=build,
        candidates=len(useful_c),
        demand_cells=len(useful_d),
    )


def _parse_bound(log: str) -> float | None:
    """CBC's final best bound (it minimises the negated objective)."""
    m = re.findall(r"Lower bound:\s+(-?[0-9.eE+]+)", log)
    if m:
        return abs(float(m[-1]))
    m = re.findall(r"best possible (-?[0-9.eE+]+)", log)
    return abs(float(m[-1])) if m else None


@dataclass(eq=False)
class SitingResult:
    """Suggested sites, the coverage curve and (optionally) the exact check."""

    params: dict[str, Any]
    unit: str
    total: float
    covered_before: float
    sites: list[dict[str, Any]]
    curve: list[dict[str, Any]]
    exact: dict[str, Any] | None
    seconds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "unit": self.unit,
            "total": round(self.total, 3),
            "covered_before": round(self.covered_before, 3),
            "covered_after": round(self.sites[-1]["covered_after"], 3) if self.sites else round(self.covered_before, 3),
            "sites": self.sites,
            "curve": self.curve,
            "exact": self.exact,
            "seconds": self.seconds,
        }

    def to_geojson(self) -> dict[str, Any]:
        """The sites as a WGS-84 GeoJSON FeatureCollection of points."""
        feats = [
            {
                "type": "Feature",
                "id": s["rank"],
                "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
                "properties": {k: v for k, v in s.items() if k not in ("lon", "lat")},
            }
            for s in self.sites
        ]
        return {"type": "FeatureCollection", "params": self.params, "features": feats}


def suggest(
    districts: Sequence[District],
    venues: Sequence[Venue],
    categories: object = None,
    radius_m: object = 1000.0,
    n: object = 10,
    *,
    region: object = None,
    popgrid: PopGrid | None = None,
    exact: bool = False,
    time_limit: float = 30.0,
    data_version: int | None = None,
) -> SitingResult:
    """Greedy siting of ``n`` new stations, and optionally the exact MILP check.

    Parameters
    ----------
    districts, venues
        Districts (WGS-84) and venues; the active venues of ``categories`` stay fixed.
    categories, radius_m, n
        Category codes (None: all), service radius 50–20,000 m, new sites 1–200.
    region
        None for the province, a district adcode, or a bbox ``(w, s, e, n)``.
    popgrid
        Weight demand by people instead of km².
    exact
        Also solve the MILP (``time_limit`` seconds) and compare with greedy.

    Returns
    -------
    SitingResult
        ``sites``: rank, lon, lat, district adcode/names, marginal_gain,
        covered_before, covered_after, covered_after_pct, unit. ``curve``: the
        coverage for 0..k new sites.
    """
    cats = validate_categories(categories)
    r = validate_radius(radius_m)
    nn = validate_n(n)
    reg = validate_region(region, districts)
    prob = build_problem(districts, venues, cats, r, region=reg, popgrid=popgrid)
    t0 = time.perf_counter()
    # By area, every open inland site adds the same disc, so ties are the rule: break
    # them toward where people already gather, i.e. nearest any existing venue.
    priority = None if popgrid is not None else -_distance_to_any_venue(prob.cand_lon, prob.cand_lat, venues)
    picks, gains = greedy(prob.cover, prob.weight, nn, priority)
    t_greedy = time.perf_counter() - t0
    chosen = [v for v in venues if v.category in cats and v.status == "active"]
    t1 = time.perf_counter()
    measure = _ExactMeasure(districts, chosen, r, reg, popgrid)
    total = measure.total

    def pct(v: float) -> float:
        return round(100 * v / total, 3) if total else 0.0

    sites = []
    cum = measure.before
    curve = [{"sites": 0, "covered": round(cum, 3), "covered_pct": pct(cum)}]
    for rank, (j, g_grid) in enumerate(zip(picks, gains, strict=False), start=1):
        code = prob.cand_district[j]
        name_zh, name_en = prob.district_names.get(code, ("", ""))
        g = measure.add(float(prob.cand_lon[j]), float(prob.cand_lat[j]))
        sites.append(
            {
                "rank": rank,
                "lon": round(float(prob.cand_lon[j]), 6),
                "lat": round(float(prob.cand_lat[j]), 6),
                "adcode": code,
                "name_zh": name_zh,
                "name_en": name_en,
                "marginal_gain": round(g, 3),
                "marginal_gain_grid": round(g_grid, 3),
                "covered_before": round(cum, 3),
                "covered_after": round(cum + g, 3),
                "covered_after_pct": pct(cum + g),
                "unit": prob.unit,
            }
        )
        cum += g
        curve.append({"sites": rank, "covered": round(cum, 3), "covered_pct": pct(cum)})
    t_measure = time.perf_counter() - t1
    ex: dict[str, Any] | None = None
    if exact:
        res = solve_exact(prob.cover, prob.weight, nn, time_limit=time_limit, warm_start=picks)
        greedy_gain = float(sum(gains))
        ex = {
            "status": res.status,
            "gain": round(res.objective, 3),
            "bound": None if res.bound is None else round(res.bound, 3),
            "mip_gap": None if res.gap is None else round(res.gap, 6),
            "unit_note": "gains on the demand grid (the model both solve)",
            "greedy_gain": round(greedy_gain, 3),
            "greedy_over_exact": round(greedy_gain / res.objective, 6) if res.objective > 0 else None,
            "greedy_over_bound": round(greedy_gain / res.bound, 6) if res.bound else None,
            "covered_after": round(_measure_picks(districts, chosen, r, reg, popgrid, prob, res.picks), 3),
            "greedy_covered_after": round(cum, 3),
            "sites": [
                {
                    "lon": round(float(prob.cand_lon[j]), 6),
                    "lat": round(float(prob.cand_lat[j]), 6),
                    "adcode": prob.cand_district[j],
                }
                for j in res.picks
            ],
            "candidates": res.candidates,
            "demand_cells": res.demand_cells,
            "build_seconds": round(res.build_seconds, 3),
            "solve_seconds": round(res.seconds, 3),
        }
    params = {
        "categories": list(cats),
        "radius_m": r,
        "n": nn,
        "region": list(reg) if isinstance(reg, tuple) else reg,
        "population_grid": None if popgrid is None else popgrid.source or popgrid.id,
        "data_version": data_version,
        "demand_cell_m": prob.cell_m,
        "candidate_spacing_m": round(prob.spacing_m, 1),
        "candidates": len(prob.cand_lon),
        "demand_cells_open": len(prob.weight),
    }
    return SitingResult(
        params=params,
        unit=prob.unit,
        total=total,
        covered_before=measure.before,
        sites=sites,
        curve=curve,
        exact=ex,
        seconds={"build": round(prob.seconds, 3), "greedy": round(t_greedy, 3), "measure": round(t_measure, 3)},
    )
