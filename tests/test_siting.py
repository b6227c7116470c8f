"""Siting: greedy and exact maximal covering, on toys and on the shipped data."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from scipy import sparse

from locator.districts import load_districts
from locator.errors import InvalidParameter
from locator.planning import analyse, solve_exact, suggest, validate_n, validate_region
from locator.planning.population import PopGrid
from locator.planning.siting import greedy
from locator.venues import Venue, load_venues
from tests.test_coverage import square_district, to_lonlat, venue_at

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped():
    return load_districts(ROOT / "geodata/districts.geojson"), load_venues(ROOT / "geodata/venues.geojson")


def brute_best(cover, w, n):
    dense = cover.toarray() > 0
    best = 0.0
    for combo in itertools.combinations(range(dense.shape[0]), n):
        best = max(best, float(w[dense[list(combo)].any(axis=0)].sum()))
    return best


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_greedy_gains_are_true_marginal_gains_and_exact_is_optimal(seed):
    rng = np.random.default_rng(seed)
    cover = sparse.csr_matrix((rng.random((9, 30)) < 0.2).astype(float))
    w = rng.random(30)
    picks, gains = greedy(cover, w, 3)
    dense = cover.toarray() > 0
    covered = np.zeros(30, dtype=bool)
    for j, g in zip(picks, gains, strict=False):
        new = dense[j] & ~covered
        assert g == pytest.approx(w[new].sum())
        # greedy: no other candidate would have added more at this step
        assert all(w[dense[k] & ~covered].sum() <= g + 1e-12 for k in range(9))
        covered |= dense[j]
    assert gains == sorted(gains, reverse=True)
    ex = solve_exact(cover, w, 3, time_limit=10, warm_start=picks)
    best = brute_best(cover, w, 3)
    assert ex.status == "optimal" and ex.objective == pytest.approx(best)
    assert sum(gains) <= best + 1e-9 and sum(gains) >= (1 - 1 / math.e) * best


def test_greedy_stops_when_nothing_is_left():
    cover = sparse.csr_matrix(np.array([[1, 1, 0], [0, 1, 0], [1, 1, 0]], dtype=float))
    picks, gains = greedy(cover, np.array([1.0, 2.0, 5.0]), 3)
    assert picks == [0] and gains == [3.0]


@pytest.mark.parametrize("value", [1, 10, 200, np.int64(5)])
def test_good_n(value):
    assert validate_n(value) == int(value)


@pytest.mark.parametrize("value", [0, -1, 201, 1.5, 2.0, True, "3", None])
def test_bad_n(value):
    with pytest.raises(InvalidParameter) as ei:
        validate_n(value)
    assert ei.value.name == "n" and repr(value) in str(ei.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("province", None),
        ("900001", "900001"),
        ("109.9,19.9,110.1,20.1", (109.9, 19.9, 110.1, 20.1)),
        ([109.9, 19.9, 110.1, 20.1], (109.9, 19.9, 110.1, 20.1)),
    ],
)
def test_good_region(value, expected):
    assert validate_region(value, [square_district()]) == expected


@pytest.mark.parametrize("value", ["999999", "1,2,3", "110.1,19.9,109.9,20.1", "a,b,c,d", [1, 2, 3, float("nan")], 42])
def test_bad_region(value):
    with pytest.raises(InvalidParameter) as ei:
        validate_region(value, [square_district()])
    assert ei.value.name == "region"


def test_toy_suggestions_add_true_discs_inside_the_land():
    d = square_district(half=5000)
    existing = [venue_at(0, 0, "e1")]
    res = suggest([d], existing, ["outdoor_station"], 1000, 4)
    assert res.unit == "km2" and len(res.sites) == 4
    assert res.covered_before == pytest.approx(math.pi, rel=0.005)
    assert res.total == pytest.approx(100, rel=0.005)
    for s in res.sites:
        assert shapely.intersects_xy(d.geometry, s.lon, s.lat)
        assert s.covered_after >= s.covered_before and s.marginal_gain >= 0
    curve = [c.covered for c in res.curve]
    assert curve == sorted(curve) and len(curve) == 5
    # the reported coverage after equals the analysis rerun with the new sites as venues
    added = [Venue(f"s{s.rank}", "新", "outdoor_station", d.adcode, s.lon, s.lat) for s in res.sites]
    after = analyse([d], existing + added, ["outdoor_station"], 1000)
    assert res.sites[-1].covered_after == pytest.approx(after.rows[0].covered_km2, rel=0.005)
    # on an empty 10x10 km square, four new 1 km discs that do not overlap add 4*pi
    assert res.sites[-1].covered_after - res.covered_before == pytest.approx(4 * math.pi, rel=0.01)


def test_population_weighted_siting_goes_to_the_people():
    d = square_district(half=5000)
    lon, lat = to_lonlat([3000, 3050, 2950, -4000], [3000, 2950, 3050, -4000])
    grid = PopGrid.from_arrays(lon, lat, [500, 400, 300, 100])
    res = suggest([d], [], ["outdoor_station"], 1000, 2, popgrid=grid)
    assert res.unit == "people" and res.total == pytest.approx(1300)
    assert [s.marginal_gain for s in res.sites] == [1200, 100]
    assert res.sites[-1].covered_after == pytest.approx(1300)


def test_shipped_suggestions_and_exact_check(shipped):
    districts, venues = shipped
    res = suggest(districts, venues, ["outdoor_station"], 1000, 5, region="469025", exact=True, time_limit=20)
    baisha = next(d for d in districts if d.adcode == "469025")
    assert len(res.sites) == 5
    assert all(shapely.intersects_xy(baisha.geometry, s.lon, s.lat) for s in res.sites)
    assert all(s.adcode == "469025" for s in res.sites)
    ex = res.exact
    assert ex is not None and ex.status in ("optimal", "time limit")
    assert 1 - 1 / math.e <= ex.greedy_over_exact <= 1 + 1e-9
    before = res.covered_before
    assert before == pytest.approx(
        next(r for r in analyse(districts, venues, ["outdoor_station"], 1000).rows if r.adcode == "469025").covered_km2,
        rel=0.001,
    )


def test_province_too_fine_for_the_grid_is_refused(shipped):
    districts, venues = shipped
    with pytest.raises(InvalidParameter, match="region"):
        suggest(districts, venues, ["outdoor_station"], 100, 3)


def test_ties_go_to_the_higher_priority_then_the_lower_index():
    cover = sparse.csr_matrix(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float))
    weight = np.array([1.0, 1.0, 0.5])
    assert greedy(cover, weight, 2) == ([0, 1], [1.0, 1.0])
    assert greedy(cover, weight, 2, priority=np.array([0.0, 5.0, 9.0])) == ([1, 0], [1.0, 1.0])  # 2 gains less


def test_area_weighted_sites_go_near_existing_activity():
    districts = load_districts(Path(__file__).resolve().parents[1] / "geodata" / "districts.geojson")
    venues = load_venues(Path(__file__).resolve().parents[1] / "geodata" / "venues.geojson")
    res = suggest(districts, venues, ["outdoor_station"], 1000, 5, region="469025")  # 白沙: one station, many villages
    from locator.geo import distance_m

    others = [v for v in venues if v.district_code == "469025"]
    for site in res.sites:
        nearest_any = min(distance_m(site.lon, site.lat, v.lon, v.lat) for v in others)
        assert nearest_any < 3000  # by a town or workplace, not in the empty hills


def test_a_tiny_time_limit_is_honoured_and_reported_with_a_bound():
    # big enough that HiGHS cannot prove optimality within a millisecond
    rng = np.random.default_rng(11)
    cover = sparse.random(400, 6000, density=0.02, random_state=rng, format="csr")
    cover.data[:] = 1.0
    w = rng.random(6000)
    picks, gains = greedy(cover, w, 25)
    ex = solve_exact(cover, w, 25, time_limit=0.001, warm_start=picks)
    assert ex.status == "time limit"
    assert ex.bound is not None and ex.bound >= ex.objective - 1e-9
    assert ex.objective >= sum(gains) - 1e-9  # never worse than the warm start it was given
    assert 0.0 <= ex.gap <= 1.0 and ex.gap == pytest.approx((ex.bound - ex.objective) / ex.bound)
    # the reported objective is what the reported picks cover
    assert ex.objective == pytest.approx(float(w[np.unique(cover[ex.picks].indices)].sum()))


@pytest.mark.parametrize("time_limit", [0.001, 10.0])
def test_the_bound_is_a_true_upper_bound_however_the_solver_stops(time_limit):
    rng = np.random.default_rng(3)
    cover = sparse.csr_matrix((rng.random((24, 200)) < 0.08).astype(float))
    w = rng.random(200)
    best = brute_best(cover, w, 4)
    ex = solve_exact(cover, w, 4, time_limit=time_limit, warm_start=greedy(cover, w, 4)[0])
    assert ex.status in ("optimal", "time limit")
    assert ex.objective <= best + 1e-9 and ex.bound >= best - 1e-6 * best
    if ex.status == "optimal":
        assert ex.objective == pytest.approx(best)


def test_exact_bound_equals_the_optimum_when_solved():
    cover = sparse.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], dtype=float))
    w = np.array([1.0, 2.0, 3.0, 4.0])
    ex = solve_exact(cover, w, 1, time_limit=10)
    assert ex.status == "optimal" and ex.picks == [2] and ex.objective == 7.0
    assert ex.bound == pytest.approx(7.0, rel=1e-4) and ex.gap == pytest.approx(0.0, abs=1e-4)


def test_suggestions_json_keeps_its_keys():
    d = square_district(half=5000)
    doc = suggest([d], [venue_at(0, 0, "e1")], ["outdoor_station"], 1000, 2, exact=True, time_limit=5).to_dict()
    assert list(doc) == [
        "params", "unit", "total", "covered_before", "covered_after", "sites", "curve", "exact", "seconds"
    ]  # fmt: skip
    assert list(doc["sites"][0]) == [
        "rank", "lon", "lat", "adcode", "name_zh", "name_en", "marginal_gain", "marginal_gain_grid",
        "covered_before", "covered_after", "covered_after_pct", "unit",
        "district_code", "population_gain", "place_name", "place_distance_m",
    ]  # fmt: skip
    assert list(doc["curve"][0]) == ["sites", "covered", "covered_pct"]
    assert list(doc["exact"]) == [
        "status", "gain", "bound", "mip_gap", "unit_note", "greedy_gain", "greedy_over_exact", "greedy_over_bound",
        "covered_after", "greedy_covered_after", "sites", "candidates", "demand_cells", "build_seconds",
        "solve_seconds", "unit", "greedy_gain_measured", "exact_gain_measured", "greedy_over_exact_measured",
    ]  # fmt: skip
    assert list(doc["exact"]["sites"][0]) == ["lon", "lat", "adcode"]
    json.dumps(doc, allow_nan=False)


def test_a_warm_start_that_reaches_the_subadditive_bound_is_optimal_without_the_solver():
    cover = sparse.csr_matrix(np.kron(np.eye(5), np.ones((1, 3))))  # five disjoint candidates
    w = np.arange(15, dtype=float)
    picks, gains = greedy(cover, w, 2)
    ex = solve_exact(cover, w, 2, time_limit=10, warm_start=picks)
    assert ex.status == "optimal" and ex.picks == sorted(picks) and ex.seconds == 0.0
    assert ex.objective == ex.bound == pytest.approx(sum(gains)) == pytest.approx(w[9:].sum())


def test_sites_are_named_after_their_nearest_town_and_counted_in_people():
    from locator.gazetteer import load_gazetteer
    from tests.conftest import GEODATA

    gaz = load_gazetteer(GEODATA / "places.json")
    d = square_district(half=5000)
    grid = PopGrid.from_arrays([110.0, 110.01], [20.0, 20.01], [500.0, 700.0])
    res = suggest([d], [venue_at(0, 0, "e1")], ["outdoor_station"], 1000, 1, popgrid=grid, gazetteer=gaz)
    site = res.sites[0]
    place, metres = gaz.nearest(site.lon, site.lat)
    assert site.place_name == f"{place.label}附近（{site.name_zh}）" and site.place_distance_m == round(metres, 1)
    assert site.unit == "people" and site.population_gain == round(site.marginal_gain, 1)
    assert site.district_code == site.adcode
    bare = suggest([d], [venue_at(0, 0, "e1")], ["outdoor_station"], 1000, 1).sites[0]
    assert bare.place_name == "" and bare.population_gain is None  # km² demand: no people to count
