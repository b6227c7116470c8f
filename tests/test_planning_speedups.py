"""The faster planning code gives the figures the slower code gave.

Each quicker piece of :mod:`locator.planning` (issue 15's speed targets) is
checked here against a plain reference: the code it replaced, kept in this file,
run on 龙华区 (the district the exact siting is benchmarked on) and the shipped
population surface. The references read the polygons as they are, so these tests
hold when the district polygons change. How fast each is lives in bench/coverage.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer
from scipy import sparse
from scipy.spatial import cKDTree

from locator.districts import load_districts
from locator.geo import GEOD, ecef
from locator.planning import suggest
from locator.planning.grid import (
    HAINAN_ISLAND_CRS,
    NearestVenue,
    build_frame,
    district_crs,
    split_pixels,
    transformers,
)
from locator.planning.population import PopGrid, aggregate_to_cells, lex_key, load_geotiff
from locator.planning.siting import build_problem, exact
from locator.planning.siting.measure import ExactMeasure
from locator.planning.siting.problem import cover_matrix
from locator.venues import load_venues

ROOT = Path(__file__).resolve().parents[1]
LONGHUA = "460106"


@pytest.fixture(scope="module")
def shipped():
    return load_districts(ROOT / "geodata/districts_land.geojson"), load_venues(ROOT / "geodata/venues.geojson")


@pytest.fixture(scope="module")
def grid():
    return load_geotiff(ROOT / "geodata/population_250m.tif")


def stations(venues):
    return [v for v in venues if v.category == "outdoor_station" and v.status == "active"]


# -- projections ---------------------------------------------------------------
@pytest.mark.parametrize(
    "crs",
    [HAINAN_ISLAND_CRS, district_crs(shapely.box(111.1, 15.7, 112.9, 17.2)), CRS.from_epsg(32649)],
    ids=["island", "district", "utm"],
)
def test_transformers_agree_with_from_crs_to_the_bit(crs):
    rng = np.random.default_rng(5)
    lon, lat = 108 + 5 * rng.random(20_000), 15 + 6 * rng.random(20_000)
    fwd, inv = transformers(crs)
    ref_fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    ref_inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    x, y = fwd.transform(lon, lat)
    rx, ry = ref_fwd.transform(lon, lat)
    assert np.array_equal(x, rx) and np.array_equal(y, ry)
    assert all(np.array_equal(a, b) for a, b in zip(inv.transform(x, y), ref_inv.transform(x, y), strict=True))


# -- keys and cells ----------------------------------------------------------------
def test_lex_key_orders_and_groups_as_unique_rows_does():
    rng = np.random.default_rng(2)
    rows = np.column_stack((rng.integers(0, 3, 5000), rng.integers(-40, 40, 5000), rng.integers(-900, 50, 5000)))
    ref, ref_first, ref_inv = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    _, first, inv = np.unique(lex_key(rows[:, 0], rows[:, 1], rows[:, 2]), return_index=True, return_inverse=True)
    assert np.array_equal(rows[first], ref) and np.array_equal(first, ref_first)
    assert np.array_equal(inv.ravel(), ref_inv.ravel())


def test_lex_key_refuses_what_int64_cannot_hold():
    big = np.array([0, 2**40], dtype=np.int64)
    with pytest.raises(OverflowError):
        lex_key(big, big)


def test_aggregate_to_cells_matches_the_row_unique_it_replaced():
    rng = np.random.default_rng(8)
    x, y, w = rng.normal(0, 30_000, 20_000), rng.normal(-5_000, 8_000, 20_000), rng.random(20_000)
    i, j, s = aggregate_to_cells(x, y, w, 400.0)
    keys = np.stack((np.floor(x / 400).astype(np.int64), np.floor(y / 400).astype(np.int64)), axis=1)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=w, minlength=len(uniq))
    assert np.array_equal(i, uniq[:, 0]) and np.array_equal(j, uniq[:, 1]) and np.array_equal(s, sums)


# -- pixels by district ------------------------------------------------------------
def reference_split(districts, grid):
    """The loop the memoised split replaced: bounding box, then point in polygon, first district wins."""
    taken = np.zeros(len(grid), dtype=bool)
    out = []
    for d in districts:
        w, s, e, n = d.geometry.bounds
        box = np.flatnonzero(~taken & (grid.lon >= w) & (grid.lon <= e) & (grid.lat >= s) & (grid.lat <= n))
        inside = box[shapely.contains_xy(d.geometry, grid.lon[box], grid.lat[box])] if len(box) else box
        taken[inside] = True
        out.append(inside)
    return out


def test_split_pixels_is_the_old_split_and_is_memoised_per_polygon(shipped, grid):
    districts, _ = shipped
    fresh = PopGrid(grid.lon, grid.lat, grid.population, "copy")  # nothing memoised yet
    ref = reference_split(districts, fresh)
    got = split_pixels(districts, fresh)
    assert all(np.array_equal(a, b) for a, b in zip(got, ref, strict=True))
    assert sum(len(a) for a in got) > 100_000  # the whole surface, not a toy
    assert len(fresh.memo) == len({d.geometry.wkb for d in districts})
    # a second split reads the memo, and gives the same
    again = split_pixels(districts[::-1], fresh)
    assert all(np.array_equal(a, b) for a, b in zip(again, reference_split(districts[::-1], fresh), strict=True))
    # an edited polygon is another key, not a stale answer
    longhua = next(d for d in districts if d.adcode == LONGHUA)
    half = shapely.intersection(longhua.geometry, shapely.box(*longhua.geometry.centroid.buffer(0.05).bounds))
    assert 0 < len(fresh.inside(half)) < len(fresh.inside(longhua.geometry))


# -- people figures -----------------------------------------------------------------
def test_people_from_one_query_equals_the_two_queries(shipped, grid):
    districts, venues = shipped
    longhua = next(d for d in districts if d.adcode == LONGHUA)
    idx = grid.inside(longhua.geometry)
    lon, lat, pop = grid.lon[idx], grid.lat[idx], grid.population[idx]
    chosen = stations(venues)
    nearest = NearestVenue(np.array([v.lon for v in chosen]), np.array([v.lat for v in chosen]))
    for r in (300.0, 1000.0, 5000.0):
        covered, pct = nearest.people(lon, lat, pop, r, (50, 90))
        ref_covered = float(pop[nearest.distance(lon, lat, upper=r) <= r].sum())
        assert covered == pytest.approx(ref_covered, rel=1e-12) and 0 < covered < pop.sum()
        assert pct == nearest.weighted_percentiles(lon, lat, pop, (50, 90))
    empty = NearestVenue(np.zeros(0), np.zeros(0))
    assert empty.people(lon, lat, pop, 1000.0, (50,)) == (0.0, (None,))


# -- the siting problem -----------------------------------------------------------------
def test_cover_matrix_is_the_ball_query_it_replaced(shipped, grid):
    districts, venues = shipped
    prob = build_problem(districts, venues, "outdoor_station", 1000, region=LONGHUA, popgrid=grid)
    frame = build_frame(next(d for d in districts if d.adcode == LONGHUA), prob.cell_m, HAINAN_ISLAND_CRS)
    lon, lat = frame.cell_lon, frame.cell_lat  # any demand points: the district's cell centres
    got = cover_matrix(prob.cand_lon, prob.cand_lat, lon, lat, 1000.0)
    lists = cKDTree(ecef(lon, lat)).query_ball_point(ecef(prob.cand_lon, prob.cand_lat), 1000.0)
    indptr = np.concatenate(([0], np.cumsum([len(x) for x in lists])))
    ref = sparse.csr_matrix(
        (np.ones(indptr[-1]), np.concatenate([np.sort(x) for x in lists]).astype(np.int64), indptr),
        shape=(len(prob.cand_lon), len(lon)),
    )
    assert got.nnz == ref.nnz > 10 * len(prob.cand_lon)
    assert np.array_equal(got.indptr, ref.indptr) and np.array_equal(got.indices, ref.indices)
    assert np.array_equal(got.data, ref.data)


def test_candidates_are_the_lattice_of_the_district_grid(shipped, grid):
    districts, venues = shipped
    prob = build_problem(districts, venues, "outdoor_station", 1000, region=LONGHUA, popgrid=grid)
    longhua = next(d for d in districts if d.adcode == LONGHUA)
    frame = build_frame(longhua, prob.cell_m, HAINAN_ISLAND_CRS)
    k = int(round(prob.spacing_m / prob.cell_m))
    i, j = np.floor(frame.cell_x / prob.cell_m).astype(int), np.floor(frame.cell_y / prob.cell_m).astype(int)
    on = (i % k == 0) & (j % k == 0)
    assert np.array_equal(prob.cand_lon, frame.cell_lon[on]) and np.array_equal(prob.cand_lat, frame.cell_lat[on])
    assert shapely.contains_xy(longhua.geometry, prob.cand_lon, prob.cand_lat).all()


def test_the_measure_by_longitude_strip_equals_the_ball_query(shipped, grid):
    districts, venues = shipped
    chosen = stations(venues)
    for r in (1000.0, 8000.0):
        m = ExactMeasure(districts, chosen, r, LONGHUA, grid)
        tree = cKDTree(ecef(m.plon, m.plat))
        covered = m.pcov.copy()
        for lon, lat in ((110.30, 19.99), (110.35, 19.92), (110.31, 19.985), (110.20, 19.80)):
            idx = np.asarray(tree.query_ball_point(ecef(lon, lat)[0], r * (1 + 1e-9)), dtype=np.int64)
            idx = idx[~covered[idx]]
            _, _, dist = GEOD.inv(np.full(len(idx), lon), np.full(len(idx), lat), m.plon[idx], m.plat[idx])
            idx = idx[dist <= r]
            covered[idx] = True
            assert m.add(lon, lat) == pytest.approx(float(m.ppop[idx].sum()), rel=1e-12)
        assert np.array_equal(m.pcov, covered) and covered.sum() > 0


def test_a_copy_of_a_measure_starts_where_the_original_was(shipped, grid):
    districts, venues = shipped
    m = ExactMeasure(districts, stations(venues), 1000.0, LONGHUA, grid)
    twin = m.copy()
    first = m.add(110.30, 19.99)
    assert first > 0 and twin.add(110.30, 19.99) == first and m.add(110.30, 19.99) == 0.0


# -- the exact solve keeps the request's time limit -------------------------------------------
def small_problem():
    rng = np.random.default_rng(11)
    cover = sparse.random(300, 4000, density=0.02, random_state=rng, format="csr")
    cover.data[:] = 1.0
    return cover, rng.random(4000)


def test_highs_gets_what_the_deadline_leaves_not_the_whole_limit(monkeypatch):
    cover, w = small_problem()
    seen = []
    real = exact.milp

    def spy(*args, **kwargs):
        seen.append(kwargs["options"]["time_limit"])
        return real(*args, **kwargs)

    monkeypatch.setattr(exact, "milp", spy)
    before = time.perf_counter()
    exact.solve_exact(cover, w, 5, time_limit=30.0, deadline=before + 3.0)
    assert len(seen) == 1 and 0 < seen[0] <= 3.0 - exact.overhead_s(0, 0)
    exact.solve_exact(cover, w, 5, time_limit=2.0)  # no deadline: the solver's own limit, as before
    assert seen[1] == 2.0


def test_with_no_time_left_highs_is_not_started_and_greedy_stands(monkeypatch):
    cover, w = small_problem()

    def refuse(*args, **kwargs):
        raise AssertionError("HiGHS must not be started after the deadline")

    monkeypatch.setattr(exact, "milp", refuse)
    from locator.planning.siting import greedy

    picks, gains = greedy(cover, w, 5)
    res = exact.solve_exact(cover, w, 5, time_limit=30.0, warm_start=picks, deadline=time.perf_counter())
    assert res.status == "time limit" and res.picks == sorted(picks) and res.seconds == 0.0
    assert res.objective == pytest.approx(sum(gains)) and res.bound >= res.objective and 0 <= res.gap < 1


def test_the_overhead_allowance_grows_with_the_model_and_the_slowdown():
    assert exact.overhead_s(1000, 1000) < exact.overhead_s(240_000, 730_000) < exact.overhead_s(240_000, 730_000, 3)
    assert exact.overhead_s(10, 10, slowdown=0.5) == exact.overhead_s(10, 10)


def test_suggest_gives_the_solver_a_deadline_counted_from_the_request(shipped, grid, monkeypatch):
    districts, venues = shipped
    import locator.planning.siting as siting

    seen = {}
    real = siting.solve_exact

    def spy(*args, **kwargs):
        seen.update(kwargs, called=time.perf_counter())
        return real(*args, **kwargs)

    monkeypatch.setattr(siting, "solve_exact", spy)
    before = time.perf_counter()
    res = suggest(
        districts, venues, "outdoor_station", 1000, 3, region=LONGHUA, exact=True, time_limit=20.0, popgrid=grid
    )
    assert res.exact is not None
    assert before + 20.0 <= seen["deadline"] <= seen["called"] + 20.0  # started with the request, not the solver
    assert seen["time_limit"] == 20.0 and seen["slowdown"] > 0
