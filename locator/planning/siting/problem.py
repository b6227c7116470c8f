"""The siting problem: demand cells, candidate sites and who covers whom. Pure.

Maximal covering on a grid, with the existing venues fixed:

- demand cells: square cells of side ``min(500 m, radius / 2.5)`` on each
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

Coverage is always weighted — km² or people — never a count of points.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.spatial import cKDTree

from locator.districts import District
from locator.errors import InvalidParameter
from locator.geo import ecef
from locator.planning.grid import (
    HAINAN_ISLAND_CRS,
    FloatArray,
    NearestVenue,
    box_mask,
    build_frame,
    district_area_m2,
    on_hainan_island,
    region_districts,
    split_pixels,
)
from locator.planning.population import PopGrid, aggregate_to_cells, lex_key
from locator.planning.validation import DEFAULT_CELL_M, Region, validate_categories, validate_radius
from locator.venues import Venue

__all__ = [
    "MAX_CANDIDATES",
    "MAX_DEMAND",
    "SitingProblem",
    "build_problem",
    "cover_matrix",
    "distance_to_any_venue",
    "estimate_size",
]

IntArray = npt.NDArray[np.int64]

MAX_CANDIDATES = 40_000
MAX_DEMAND = 1_000_000


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


def estimate_size(
    districts: Sequence[District], radius_m: float, region: Region = None, max_candidates: int = MAX_CANDIDATES
) -> int:
    """Candidates × demand cells that :func:`build_problem` would make for ``region``, from areas alone.

    Cheap (no gridding), so a caller can refuse a problem before building it; it counts every
    cell and candidate of the region, so it is at or a little above the built problem's size
    (the built one drops covered and empty cells): 1.24e8 against 1.15e8 for 儋州市 at 1 km.
    """
    r = validate_radius(radius_m)
    cell = min(DEFAULT_CELL_M, r / 2.5)
    chosen, _box = region_districts(districts, region)
    area = sum(district_area_m2(d) for d in chosen)
    spacing = cell * max(1, math.ceil(max(r / 2, math.sqrt(area / max_candidates)) / cell - 1e-9))
    return int((area / cell**2) * (area / spacing**2))


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
        area_m2 = sum(district_area_m2(d) for d in probe)
        if area_m2 / cell**2 > max_demand:
            raise InvalidParameter(
                "region",
                f"the whole province at radius {radius_m!r} needs {area_m2 / cell**2:,.0f} demand cells "
                f"(limit {max_demand:,}); choose one district or a bbox",
            )
    chosen_d, box = region_districts(districts, region)
    if not chosen_d:
        raise InvalidParameter("region", f"holds no district, got {region!r}")
    frames = [build_frame(d, cell, HAINAN_ISLAND_CRS if on_hainan_island(d) else None) for d in chosen_d]
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
    # each district's pixels (a pixel in two polygons goes to the first), memoised on the grid
    members = None if popgrid is None else split_pixels([f.district for f in frames], popgrid)
    k_lattice = int(round(spacing / cell))

    keys: list[IntArray] = []
    d_lon: list[FloatArray] = []
    d_lat: list[FloatArray] = []
    d_w: list[FloatArray] = []
    c_keys: list[IntArray] = []
    c_lon: list[FloatArray] = []
    c_lat: list[FloatArray] = []
    c_dist: list[str] = []
    for k, f in enumerate(frames):
        group = 0 if on_hainan_island(f.district) else 1 + k
        if members is None:
            ii = np.floor(f.cell_x / cell).astype(np.int64)
            jj = np.floor(f.cell_y / cell).astype(np.int64)
            lon, lat = f.cell_lon, f.cell_lat
            w = np.full(len(lon), cell * cell / 1e6)
            keep = box_mask(lon, lat, box)
        else:
            assert popgrid is not None
            sel = members[k]
            sel = sel[box_mask(popgrid.lon[sel], popgrid.lat[sel], box)]
            px, py = f.project(popgrid.lon[sel], popgrid.lat[sel])
            ii, jj, w = aggregate_to_cells(px, py, popgrid.population[sel], cell)
            lon, lat = f.unproject(
                np.asarray((ii + 0.5) * cell, dtype=np.float64), np.asarray((jj + 0.5) * cell, dtype=np.float64)
            )
            keep = np.ones(len(lon), dtype=bool)
        keys.append(np.column_stack((np.full(int(keep.sum()), group), ii[keep], jj[keep])))
        d_lon.append(np.asarray(lon)[keep])
        d_lat.append(np.asarray(lat)[keep])
        d_w.append(np.asarray(w)[keep])
        # candidates: the frame's own cell centres (inside the district in LAEA and in lon/lat,
        # i.e. on land as the polygon draws it) on every k-th row and column
        ci = np.floor(f.cell_x / cell).astype(np.int64)
        cj = np.floor(f.cell_y / cell).astype(np.int64)
        on = np.flatnonzero((ci % k_lattice == 0) & (cj % k_lattice == 0))
        on = on[box_mask(f.cell_lon[on], f.cell_lat[on], box)]
        c_keys.append(np.column_stack((np.full(len(on), group), ci[on], cj[on])))
        c_lon.append(f.cell_lon[on])
        c_lat.append(f.cell_lat[on])
        c_dist.extend([f.district.adcode] * len(on))
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
    cover = cover_matrix(cand_lon, cand_lat, lon_o, lat_o, r)
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


def cover_matrix(
    cand_lon: FloatArray, cand_lat: FloatArray, lon: FloatArray, lat: FloatArray, r: float
) -> sparse.csr_matrix:
    """Candidates × demand points, 1 where their chord (ECEF) is at most ``r``; column indices sorted.

    Both sides go into k-d trees and :meth:`cKDTree.sparse_distance_matrix`
    pairs them in C; a ball query per candidate made a Python list each (half a
    second for the province's 30,000 candidates).
    """
    if not (len(lon) and len(cand_lon)):
        return sparse.csr_matrix((len(cand_lon), len(lon)))
    pairs = cKDTree(ecef(cand_lon, cand_lat)).sparse_distance_matrix(cKDTree(ecef(lon, lat)), r, output_type="ndarray")
    cover = sparse.csr_matrix(
        (np.ones(len(pairs)), (pairs["i"], pairs["j"])), shape=(len(cand_lon), len(lon)), dtype=np.float64
    )
    cover.sort_indices()
    return cover


def _stacked_key(keys: list[IntArray]) -> IntArray:
    allk = np.concatenate(keys)
    return lex_key(allk[:, 0], allk[:, 1], allk[:, 2])


def _first_of(keys: list[IntArray]) -> IntArray:
    if not keys or sum(len(k) for k in keys) == 0:
        return np.zeros(0, dtype=np.int64)
    _, first = np.unique(_stacked_key(keys), return_index=True)
    return np.sort(first)


def _dedupe(
    keys: list[IntArray], lon: list[FloatArray], lat: list[FloatArray], w: list[FloatArray], sum_weights: bool
) -> tuple[list[FloatArray], list[FloatArray], list[FloatArray]]:
    if not keys or sum(len(k) for k in keys) == 0:
        return lon, lat, w
    lo, la, ww = np.concatenate(lon), np.concatenate(lat), np.concatenate(w)
    _, first, inverse = np.unique(_stacked_key(keys), return_index=True, return_inverse=True)
    if sum_weights:
        summed = np.bincount(inverse.ravel(), weights=ww, minlength=len(first)).astype(np.float64)
        order = np.argsort(first)
        return [lo[first[order]]], [la[first[order]]], [summed[order]]
    first = np.sort(first)
    return [lo[first]], [la[first]], [ww[first]]


def distance_to_any_venue(lon: FloatArray, lat: FloatArray, venues: Sequence[Venue]) -> FloatArray:
    """Chord distance (m, a lower bound of the geodesic, equal to it within 1e-6 here) to the nearest active venue."""
    active = [v for v in venues if v.status == "active"]
    if not active or len(lon) == 0:
        return np.zeros(len(lon))
    tree = cKDTree(ecef(np.array([v.lon for v in active]), np.array([v.lat for v in active])))
    d, _ = tree.query(ecef(np.asarray(lon), np.asarray(lat)), k=1)
    return np.asarray(d, dtype=np.float64)
