"""The spatial index: exact geodesic nearest, radius, bbox, polygon, edits."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

from locator.errors import InvalidParameter
from locator.index import VenueIndex
from locator.venues import Venue, load_venues

from .conftest import GEODATA


@pytest.fixture(scope="module")
def shipped():
    venues = load_venues(GEODATA / "venues.geojson")
    return venues, VenueIndex(venues)


def _query_points(n: int, seed: int = 20):
    """Points over Hainan, at sea nearby, in the Sansha islands and far away."""
    rng = np.random.default_rng(seed)
    q = n // 4
    land = np.column_stack((rng.uniform(108.6, 111.1, q), rng.uniform(18.1, 20.2, q)))
    sea = np.column_stack((rng.uniform(105.0, 114.0, q), rng.uniform(15.0, 22.5, q)))
    sansha = np.column_stack((rng.uniform(109.5, 117.8, q), rng.uniform(3.5, 17.2, q)))
    far = np.column_stack((rng.uniform(-180, 180, n - 3 * q), rng.uniform(-89.9, 89.9, n - 3 * q)))
    return np.vstack((land, sea, sansha, far))


def test_nearest_equals_brute_force_on_10000_points(shipped):
    _venues, index = shipped
    points = _query_points(10_000)
    cat_sets = [None, ["outdoor_station"], ["service_center", "other"], ["innovation_studio"]]
    mismatches = []
    for i, (lon, lat) in enumerate(points):
        cats = cat_sets[i % len(cat_sets)]
        got = index.nearest(lon, lat, 5, cats)
        want = index.brute_force_nearest(lon, lat, 5, cats)
        if [h.venue.id for h in got] != [h.venue.id for h in want] or not np.allclose(
            [h.distance_m for h in got], [h.distance_m for h in want], rtol=0, atol=1e-6
        ):
            mismatches.append((lon, lat, cats))
    assert mismatches == []


def test_degree_ranking_would_have_failed_here(shipped):
    """The exactness test above has teeth: ranking by planar degrees differs often."""
    venues, index = shipped
    lon = np.array([v.lon for v in venues])
    lat = np.array([v.lat for v in venues])
    differ = 0
    for qlon, qlat in _query_points(400, seed=5)[:100]:  # over Hainan
        planar = np.argsort((lon - qlon) ** 2 + (lat - qlat) ** 2)[:5]
        true = [h.venue.id for h in index.nearest(qlon, qlat, 5)]
        differ += [venues[i].id for i in planar] != true
    assert differ > 0


def test_nearest_with_max_distance_and_order(shipped):
    _venues, index = shipped
    hits = index.nearest(110.33, 20.03, 20, max_distance=3000)
    assert hits and all(h.distance_m <= 3000 for h in hits)
    assert [h.distance_m for h in hits] == sorted(h.distance_m for h in hits)
    assert index.nearest(0.0, 0.0, 5, max_distance=1000) == []
    assert 0 <= hits[0].bearing_deg < 360


def test_within_radius_equals_brute_force(shipped):
    venues, index = shipped
    from locator.geo import distance_m

    lon = np.array([v.lon for v in venues])
    lat = np.array([v.lat for v in venues])
    for qlon, qlat, r in [(110.33, 20.03, 2000), (109.5, 18.25, 5000), (112.34, 16.83, 10000), (0, 0, 1000)]:
        d = distance_m(qlon, qlat, lon, lat)
        want = sorted(venues[i].id for i in np.flatnonzero(d <= r))
        assert sorted(h.venue.id for h in index.within_radius(qlon, qlat, r)) == want


def test_within_bbox_and_polygon(shipped):
    venues, index = shipped
    w, s, e, n = 110.2, 19.9, 110.4, 20.1
    want = sorted(v.id for v in venues if w <= v.lon <= e and s <= v.lat <= n)
    assert [v.id for v in index.within_bbox(w, s, e, n)] == want
    assert [v.id for v in index.within_polygon(box(w, s, e, n))] == want
    only = index.within_bbox(w, s, e, n, ["reading_room"])
    assert only and all(v.category == "reading_room" for v in only)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"lon": 200.0, "lat": 20.0}, "lon"),
        ({"lon": 110.0, "lat": -91.0}, "lat"),
        ({"lon": float("nan"), "lat": 20.0}, "lon"),
        ({"lon": 110.0, "lat": float("inf")}, "lat"),
        ({"lon": "110", "lat": 20.0}, "lon"),
        ({"lon": 110.0, "lat": 20.0, "k": 0}, "k"),
        ({"lon": 110.0, "lat": 20.0, "k": 2.5}, "k"),
        ({"lon": 110.0, "lat": 20.0, "categories": ["spa"]}, "category"),
        ({"lon": 110.0, "lat": 20.0, "max_distance": -1.0}, "max_distance"),
    ],
)
def test_bad_queries_name_the_parameter(shipped, kwargs, name):
    _venues, index = shipped
    with pytest.raises(InvalidParameter) as err:
        index.nearest(**kwargs)
    assert err.value.name == name


def test_inserts_and_deletes_without_rebuild():
    a = Venue(id="a", name="甲", category="outdoor_station", district_code="460106", lon=110.30, lat=20.00)
    b = Venue(id="b", name="乙", category="outdoor_station", district_code="460106", lon=110.40, lat=20.00)
    index = VenueIndex([a, b])
    assert [h.venue.id for h in index.nearest(110.31, 20.0, 1)] == ["a"]
    index.remove("a")
    assert [h.venue.id for h in index.nearest(110.31, 20.0, 1)] == ["b"]
    moved = Venue(id="b", name="乙", category="outdoor_station", district_code="460106", lon=110.311, lat=20.0)
    index.upsert(moved)
    assert len(index) == 1 and index.nearest(110.31, 20.0, 1)[0].distance_m < 200
    closed = Venue(**{**moved.as_dict(), "amenities": (), "status": "closed"})
    index.upsert(closed)
    assert len(index) == 0 and index.nearest(110.31, 20.0, 1) == []
    for i in range(3000):  # grow past the initial capacity
        index.upsert(
            Venue(id=f"n{i}", name="丙", category="other", district_code="460106", lon=110 + i * 1e-4, lat=20.0)
        )
    assert index.nearest(110.15, 20.0, 1)[0].venue.id == "n1500"
    assert index.nearest(110.15, 20.0, 1, ["outdoor_station"]) == []


def test_venues_by_id_are_kept_until_an_edit():
    """``venues()`` is one id-ordered tuple per state of the index: built once, replaced on each edit."""
    a = Venue(id="b", name="乙", category="outdoor_station", district_code="460106", lon=110.40, lat=20.00)
    b = Venue(id="a", name="甲", category="other", district_code="460106", lon=110.30, lat=20.00)
    index = VenueIndex([a, b])
    first = index.venues()
    assert [v.id for v in first] == ["a", "b"] and index.venues() is first
    c = Venue(id="aa", name="丙", category="other", district_code="460106", lon=110.35, lat=20.00)
    index.upsert(c)
    assert [v.id for v in index.venues()] == ["a", "aa", "b"] and [v.id for v in first] == ["a", "b"]
    index.remove("a")
    assert [v.id for v in index.venues()] == ["aa", "b"]
    index.upsert(Venue(**{**c.as_dict(), "amenities": (), "status": "closed"}))
    assert [v.id for v in index.venues()] == ["b"]


def test_ties_are_broken_by_id():
    vs = [Venue(id=i, name=i, category="other", district_code="460106", lon=110.3, lat=20.0) for i in ("c", "a", "b")]
    assert [h.venue.id for h in VenueIndex(vs).nearest(110.31, 20.0, 3)] == ["a", "b", "c"]


def test_fast_nearest_call_matches_rtrees_own(shipped):
    from locator.index import _ecef, _nearest_ids

    _venues, index = shipped
    rng = np.random.default_rng(9)
    for lon, lat in zip(rng.uniform(108, 118, 200), rng.uniform(3, 21, 200), strict=False):
        x, y, z = _ecef(lon, lat)
        for n in (1, 8, 40):
            assert _nearest_ids(index._all, (x, y, z), n) == list(index._all.nearest((x, y, z, x, y, z), n))


def test_venues_in_a_child_forked_while_another_thread_holds_the_lock():
    """The snapshot writer reads ``venues()`` in a forked child: a lock held at the fork must not hang it."""
    import os
    import threading
    import time

    index = VenueIndex([Venue(id="a", name="甲", category="other", district_code="460106", lon=110.3, lat=20.0)])
    index.upsert(Venue(id="b", name="乙", category="other", district_code="460106", lon=110.4, lat=20.0))
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with index._lock:
            held.set()
            release.wait(30)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(30)
    try:
        pid = os.fork()
        if pid == 0:  # the child: the lock's owner does not exist here
            ok = [v.id for v in index.venues()] == ["a", "b"]
            os._exit(0 if ok else 1)
        deadline = time.monotonic() + 30  # a hang guard, not a speed assertion
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        if done[0] == 0:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        assert done[0] == pid and os.waitstatus_to_exitcode(done[1]) == 0, "the child hung or read the wrong venues"
    finally:
        release.set()
        t.join(30)


def _agrees_with_brute_force(index: VenueIndex, points, ks=(1, 5, 12)) -> list:
    cat_sets = [None, ["outdoor_station"], ["service_center", "other"]]
    wrong = []
    for i, (lon, lat) in enumerate(points):
        cats, k = cat_sets[i % len(cat_sets)], ks[i % len(ks)]
        got = index.nearest(lon, lat, k, cats)
        want = index.brute_force_nearest(lon, lat, k, cats)
        if [h.venue.id for h in got] != [h.venue.id for h in want]:
            wrong.append((lon, lat, cats, k))
    return wrong


def test_nearest_stays_exact_through_edits_on_both_paths(monkeypatch):
    """The kd-trees with their delta (drops, moves, adds), the rtree fallback past KD_DELTA_MAX, and after compact()."""
    import locator.index as index_module

    venues = load_venues(GEODATA / "venues.geojson")
    index = VenueIndex(venues)
    rng = np.random.default_rng(31)
    points = _query_points(400, seed=31)
    calls = {"rtree": 0}
    real = index_module._nearest_ids

    def counting(*a):
        calls["rtree"] += 1
        return real(*a)

    monkeypatch.setattr(index_module, "_nearest_ids", counting)
    for v in rng.choice(len(venues), 300, replace=False).tolist():  # drop 300: stale slots in the kd-trees
        index.remove(venues[v].id)
    for v in rng.choice(len(venues), 20, replace=False).tolist():  # move 20 (some dropped above: re-added)
        old = venues[v]
        index.upsert(Venue(**{**old.as_dict(), "lon": old.lon + 0.05, "lat": old.lat - 0.03}))
    assert 0 < len(index._kd_added) <= index_module.KD_DELTA_MAX
    assert _agrees_with_brute_force(index, points) == [] and calls["rtree"] == 0  # the kd-trees answered

    for i in range(index_module.KD_DELTA_MAX + 10):  # past the delta: the rtrees answer
        lon, lat = rng.uniform(108.7, 110.9), rng.uniform(18.3, 20.0)
        index.upsert(Venue(id=f"new{i}", name="新", category="other", district_code="460106", lon=lon, lat=lat))
    assert _agrees_with_brute_force(index, points) == [] and calls["rtree"] > 0

    assert index.compact() and index._kd_added == {} and index._kd_stale == set()
    calls["rtree"] = 0
    assert _agrees_with_brute_force(index, points) == [] and calls["rtree"] == 0
    assert not index.compact()  # nothing added since

    # Drops alone count too: many skipped slots near one place make queries widen.
    for v in [v for v in venues if v.id in index][:20]:
        index.remove(v.id)
    assert index._kd_added == {} and index.compact() and index._kd_stale == set()
    assert _agrees_with_brute_force(index, points[:100]) == [] and calls["rtree"] == 0


def test_many_venues_at_the_query_point_tie_by_id_on_the_kd_path():
    """Twenty venues at one point, asked for 3 from that very point: a kd-tree may stop among the ties."""
    same = [
        Venue(id=f"v{i:02d}", name="同", category="other", district_code="460106", lon=110.3, lat=20.0)
        for i in reversed(range(20))
    ]
    near = Venue(id="a", name="近", category="other", district_code="460106", lon=110.3001, lat=20.0)
    index = VenueIndex([*same, near])
    assert [h.venue.id for h in index.nearest(110.3, 20.0, 3)] == ["v00", "v01", "v02"]
    assert [h.venue.id for h in index.nearest(110.3, 20.0, 21)][-1] == "a"


@pytest.mark.parametrize("extra", [0, 1, 3])
def test_the_spare_candidate_is_ranked_when_chord_and_geodesic_orders_differ(extra):
    """Chord order is not geodesic order: 950 km away, a venue due north 5 m farther by geodesic is
    6 m nearer by chord than one due east. The kd path takes k+1 by chord and skips the spare's
    geodesic only when the k found are below the spare's chord; with no spare (every venue taken) it
    must rank them all. Fails if the shortcut is taken without a bound or trusts chord order."""
    from locator.geo import GEOD
    from locator.index import _ecef

    lon, lat = 109.0, 4.0  # south of the register's box, which holds both venues
    (nlon, nlat, _), (elon, elat, _) = GEOD.fwd(lon, lat, 0, 950_005), GEOD.fwd(lon, lat, 90, 950_000)
    here = _ecef(lon, lat)
    assert np.linalg.norm(np.subtract(_ecef(nlon, nlat), here)) < np.linalg.norm(np.subtract(_ecef(elon, elat), here))
    far = [
        Venue(id=f"far{i}", name="远", category="other", district_code="460106", lon=117.5 - i / 10, lat=20.0)
        for i in range(extra)
    ]
    north = Venue(id="north", name="北", category="other", district_code="460106", lon=nlon, lat=nlat)
    east = Venue(id="east", name="东", category="other", district_code="460106", lon=elon, lat=elat)
    index = VenueIndex([north, east, *far])
    assert [h.venue.id for h in index.nearest(lon, lat, 1)] == ["east"]
    assert [h.venue.id for h in index.nearest(lon, lat, 2)] == ["east", "north"]
    assert index.nearest(lon, lat, 1)[0].distance_m == pytest.approx(950_000, abs=1e-3)
