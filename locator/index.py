"""The spatial index of venues: exact geodesic k-nearest, radius, bbox, polygon.

How exactness is kept without ranking by degrees: every venue is indexed in an
rtree as its Earth-centred (ECEF) point on the WGS-84 ellipsoid, in metres.
The straight chord between two such points is never longer than the geodesic
on the surface, so chord distance is a lower bound. A query takes candidates
in chord order from the rtree, ranks them by true geodesic distance
(``pyproj.Geod``), and stops only when the k-th best geodesic distance is no
larger than the chord distance of the first candidate not yet taken; nothing
unseen can then beat it. Candidate sets are widened (×4) until that holds.

The rtree takes inserts and deletes, so edits to the register update the index
without a rebuild. One rtree per category makes category filters cheap.

Speed (issue 17): the k-nearest query, the API's hot path, takes its chord-order
candidates from SciPy ``cKDTree``s over the same ECEF points (one over all venues,
one per category), built with the index: a query costs about a third of
libspatialindex's. A kd-tree takes no edits, so the index keeps the delta: slots
dropped or moved since the trees were built are skipped in their answers, and
venues added since (at most :data:`KD_DELTA_MAX`) are ranked beside them; past
that the query goes back to the rtrees, which every edit keeps current, until
:meth:`VenueIndex.compact` (the register's poller thread, never a request)
rebuilds the trees. Both ways give the same answers: ``test_index`` compares
each with a brute-force ranking.
"""

from __future__ import annotations

import ctypes
import math
import threading
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import shapely
from rtree import core as rtree_core
from rtree import index as rtree_index
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from locator.categories import CATEGORY_CODES
from locator.errors import InvalidParameter
from locator.geo import GEOD
from locator.venues import Venue

__all__ = ["Hit", "VenueIndex", "validate_point"]

_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
_DEG = math.pi / 180.0
MAX_K = 1000
KD_DELTA_MAX = 64
"""Venues added since the kd-trees were built, past which nearest queries use the rtrees until :meth:`compact`."""


class Hit(NamedTuple):
    venue: Venue
    distance_m: float
    bearing_deg: float


def _ecef(lon: float, lat: float) -> tuple[float, float, float]:
    la, lo = lat * _DEG, lon * _DEG
    s = math.sin(la)
    n = _A / math.sqrt(1 - _E2 * s * s)
    c = math.cos(la)
    return (n * c * math.cos(lo), n * c * math.sin(lo), n * (1 - _E2) * s)


def validate_point(lon: object, lat: object) -> tuple[float, float]:
    """Return (lon, lat) as floats, or raise InvalidParameter quoting the value."""
    out = []
    for name, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise InvalidParameter(name, f"must be a number, got {value!r}")
        f = float(value)
        if not math.isfinite(f):
            raise InvalidParameter(name, f"must be finite, got {value!r}")
        if not -limit <= f <= limit:
            raise InvalidParameter(name, f"must be between -{limit:g} and {limit:g}, got {value!r}")
        out.append(f)
    return out[0], out[1]


def _validate_categories(categories: Iterable[str] | None) -> tuple[str, ...] | None:
    if categories is None:
        return None
    cats = tuple(dict.fromkeys(categories))
    for c in cats:
        if c not in CATEGORY_CODES:
            raise InvalidParameter("category", f"unknown category {c!r}; expected one of {', '.join(CATEGORY_CODES)}")
    if not cats or set(cats) == set(CATEGORY_CODES):
        return None
    return cats


_C_POINT = ctypes.c_double * 3


def _nearest_ids(tree: rtree_index.Index, point: tuple[float, float, float], n: int) -> list[int]:
    """The ids of the ``n`` entries nearest to a 3-D point (more on ties), nearest first.

    The same libspatialindex call as ``Index.nearest(..., objects=False)``,
    minus that wrapper's per-call overhead (a property read through ctypes, a
    generator): about 8 µs of a ~30 µs query. ``test_index`` checks it against
    ``Index.nearest``.
    """
    coords = _C_POINT(*point)
    num = ctypes.c_uint64(n)
    it = ctypes.pointer(ctypes.c_int64())
    rtree_core.rt.Index_NearestNeighbors_id(tree.handle, coords, coords, 3, ctypes.byref(it), ctypes.byref(num))
    count = num.value
    items = ctypes.cast(it, ctypes.POINTER(ctypes.c_int64 * count))
    try:
        return list(items.contents)
    finally:
        rtree_core.rt.Index_Free(ctypes.cast(items, ctypes.POINTER(ctypes.c_void_p)))


def _kd_trees(slots: list[int], xyz: np.ndarray, cats: np.ndarray) -> dict[str | None, tuple[cKDTree, np.ndarray]]:
    """A kd-tree over all of ``slots`` (key None) and one per category, each with its tree index -> slot array.

    Slot numbers in arrays, not lists of ints: reading one would write its
    refcount, copying the page of shared memory (a pre-forking master built
    them) into the worker.
    """
    kd: dict[str | None, tuple[cKDTree, np.ndarray]] = {}
    if slots:
        all_slots = np.asarray(slots, dtype=np.int64)
        kd[None] = (cKDTree(xyz), all_slots)
        for c in CATEGORY_CODES:
            at = np.flatnonzero(cats == c)
            if len(at):
                kd[c] = (cKDTree(xyz[at]), all_slots[at])
    return kd


def _new_tree(dimension: int) -> rtree_index.Index:
    prop = rtree_index.Property()
    prop.dimension = dimension
    return rtree_index.Index(properties=prop)


class VenueIndex:
    """An in-memory spatial index over active venues.

    Thread-safe: queries and edits take one lock (they are microseconds).
    """

    def __init__(self, venues: Iterable[Venue] = (), version: int = 0) -> None:
        self.version = version
        self._lock = threading.RLock()
        self._slot_of: dict[str, int] = {}
        self._venues: list[Venue | None] = []
        # Plain-Python copies of each slot's lon, lat and id: scalar reads on the query path.
        self._lon_list: list[float] = []
        self._lat_list: list[float] = []
        self._ids: list[str] = []
        self._free: list[int] = []
        cap = 1024
        self._lon = np.zeros(cap)
        self._lat = np.zeros(cap)
        self._xyz = np.zeros((cap, 3))
        self._all = _new_tree(3)
        self._by_cat = {c: _new_tree(3) for c in CATEGORY_CODES}
        self._flat = _new_tree(2)
        self._by_id: tuple[Venue, ...] | None = ()
        self._edits = 0  # bumped by every edit: a tuple sorted meanwhile is not kept
        # The kd-trees, by category (None: all), each with its tree index -> slot list; and the delta since.
        self._kd: dict[str | None, tuple[cKDTree, np.ndarray]] = {}
        self._kd_stale: set[int] = set()  # slots whose kd-tree entry is out of date (removed or reused)
        self._kd_added: dict[int, str] = {}  # slot -> category of venues added since the trees were built
        self._bulk_load([v for v in venues if v.status == "active"])

    # -- building and editing ---------------------------------------------
    def _bulk_load(self, venues: list[Venue]) -> None:
        if not venues:
            return
        n = len(venues)
        self._grow(n)
        lon = np.array([v.lon for v in venues])
        lat = np.array([v.lat for v in venues])
        la, lo = np.radians(lat), np.radians(lon)
        nn = _A / np.sqrt(1 - _E2 * np.sin(la) ** 2)
        xyz = np.column_stack((nn * np.cos(la) * np.cos(lo), nn * np.cos(la) * np.sin(lo), nn * (1 - _E2) * np.sin(la)))
        self._lon[:n], self._lat[:n], self._xyz[:n] = lon, lat, xyz
        self._venues = list(venues)
        self._lon_list, self._lat_list = lon.tolist(), lat.tolist()
        self._ids = [v.id for v in venues]
        self._slot_of = {v.id: i for i, v in enumerate(venues)}
        if len(self._slot_of) != n:
            raise ValueError("duplicate venue ids given to the index")

        def stream(slots: Iterable[int]):  # type: ignore[no-untyped-def]
            for i in slots:
                x, y, z = xyz[i]
                yield (i, (x, y, z, x, y, z), None)

        self._all = rtree_index.Index(stream(range(n)), properties=self._all.properties)
        cats = np.array([v.category for v in venues])
        for c in CATEGORY_CODES:
            slots = np.flatnonzero(cats == c)
            if len(slots):
                self._by_cat[c] = rtree_index.Index(stream(slots.tolist()), properties=self._by_cat[c].properties)
        self._flat = rtree_index.Index(
            ((i, (lon[i], lat[i], lon[i], lat[i]), None) for i in range(n)), properties=self._flat.properties
        )
        self._build_kd(list(range(n)), xyz, cats)
        # Sorted here, where the index is built (in a pre-forking server's master): a page of items slices it
        # without touching, and so without copying into the worker, the other venues' shared memory.
        self._by_id = tuple(sorted(venues, key=lambda v: v.id))

    def _build_kd(self, slots: list[int], xyz: np.ndarray, cats: np.ndarray) -> None:
        """The kd-trees over ``slots`` (their points ``xyz``, categories ``cats``); the delta starts empty."""
        self._kd, self._kd_stale, self._kd_added = _kd_trees(slots, xyz, cats), set(), {}

    def compact(self, threshold: int = KD_DELTA_MAX // 4) -> bool:
        """Rebuild the kd-trees after more than ``threshold`` venues were added or dropped; returns whether it did.

        Dropped venues count too: each is skipped in the trees' answers, and
        many near one place make a query there widen. Proportional to the data
        (a few ms at the shipped 2,621 venues): the register's poller thread
        calls it, never a request. Read and built without holding the lock (a
        query never waits on it), and swapped in only if no edit came since.
        """
        if len(self._kd_added) + len(self._kd_stale) <= threshold:
            return False
        with self._lock:  # taken only once no edit is under way
            edits = self._edits
        venues = list(self._venues)
        slots = [s for s, v in enumerate(venues) if v is not None]
        xyz = self._xyz[slots]  # fancy indexing: a copy
        cats = np.array([venues[s].category for s in slots])  # type: ignore[union-attr]
        trees = _kd_trees(slots, xyz, cats)
        with self._lock:
            if self._edits != edits:
                return False
            self._kd, self._kd_stale, self._kd_added = trees, set(), {}
        return True

    def _grow(self, need: int) -> None:
        cap = len(self._lon)
        if need <= cap:
            return
        new = max(need, cap * 2)
        for name in ("_lon", "_lat"):
            arr = np.zeros(new)
            arr[:cap] = getattr(self, name)
            setattr(self, name, arr)
        xyz = np.zeros((new, 3))
        xyz[:cap] = self._xyz
        self._xyz = xyz

    def upsert(self, venue: Venue) -> None:
        """Add or replace one venue; a closed venue is removed."""
        with self._lock:
            self.remove(venue.id)
            self._by_id, self._edits = None, self._edits + 1
            if venue.status != "active":
                return
            if self._free:
                slot = self._free.pop()
            else:
                slot = len(self._venues)
                self._grow(slot + 1)
                self._venues.append(None)
                self._lon_list.append(0.0)
                self._lat_list.append(0.0)
                self._ids.append("")
            x, y, z = _ecef(venue.lon, venue.lat)
            self._lon[slot], self._lat[slot] = venue.lon, venue.lat
            self._xyz[slot] = (x, y, z)
            self._venues[slot] = venue
            self._lon_list[slot], self._lat_list[slot], self._ids[slot] = venue.lon, venue.lat, venue.id
            self._slot_of[venue.id] = slot
            self._kd_added[slot] = venue.category
            box = (x, y, z, x, y, z)
            self._all.insert(slot, box)
            self._by_cat[venue.category].insert(slot, box)
            self._flat.insert(slot, (venue.lon, venue.lat, venue.lon, venue.lat))

    def remove(self, venue_id: str) -> bool:
        """Drop one venue; returns whether it was there."""
        with self._lock:
            slot = self._slot_of.pop(venue_id, None)
            if slot is None:
                return False
            self._by_id, self._edits = None, self._edits + 1
            venue = self._venues[slot]
            assert venue is not None
            x, y, z = self._xyz[slot]
            box = (x, y, z, x, y, z)
            self._all.delete(slot, box)
            self._by_cat[venue.category].delete(slot, box)
            self._flat.delete(slot, (venue.lon, venue.lat, venue.lon, venue.lat))
            self._venues[slot] = None
            self._free.append(slot)
            self._kd_stale.add(slot)
            self._kd_added.pop(slot, None)
            return True

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, venue_id: object) -> bool:
        return venue_id in self._slot_of

    def get(self, venue_id: str) -> Venue | None:
        slot = self._slot_of.get(venue_id)
        return None if slot is None else self._venues[slot]

    def venues(self) -> tuple[Venue, ...]:
        """Every venue, by id; one tuple kept until the next edit (callers only read it).

        Sorted without the lock: the local snapshot's writer calls this in a
        forked child, where a lock some other thread held at the fork is held
        for ever. The tuple is kept only if no edit came meanwhile, checked
        under the lock when it is free.
        """
        by_id = self._by_id
        if by_id is None:
            edits = self._edits
            by_id = tuple(sorted((v for v in self._venues if v is not None), key=lambda v: v.id))
            if self._lock.acquire(blocking=False):
                try:
                    if self._edits == edits:
                        self._by_id = by_id
                finally:
                    self._lock.release()
        return by_id

    # -- queries ------------------------------------------------------------
    def nearest(
        self,
        lon: float,
        lat: float,
        k: int = 5,
        categories: Iterable[str] | None = None,
        max_distance: float | None = None,
    ) -> list[Hit]:
        """The k venues nearest to (lon, lat) by geodesic distance, nearest first.

        Ties are broken by venue id. ``max_distance`` (metres) drops venues
        farther than that, so fewer than k may come back.
        """
        lon, lat = validate_point(lon, lat)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_K:
            raise InvalidParameter("k", f"must be an integer from 1 to {MAX_K}, got {k!r}")
        if max_distance is not None and not (
            isinstance(max_distance, (int, float)) and math.isfinite(max_distance) and max_distance >= 0
        ):
            raise InvalidParameter("max_distance", f"must be a non-negative number of metres, got {max_distance!r}")
        cats = _validate_categories(categories)
        limit = math.inf if max_distance is None else float(max_distance)
        x, y, z = _ecef(lon, lat)
        point = (x, y, z)
        inv = GEOD.inv
        with self._lock:
            keys: tuple[str | None, ...] = (None,) if cats is None else cats
            use_kd = len(self._kd_added) <= KD_DELTA_MAX
            n = k + 1  # chord and geodesic order almost always agree: one spare usually settles it
            while True:
                if use_kd:
                    slots, bound = self._kd_candidates(keys, point, n)
                else:
                    slots, bound = self._rtree_candidates(keys, point, n)
                if not slots and bound == math.inf:
                    return []
                lons, lats = self._lon_list, self._lat_list
                spare: list[int] = []
                if n == k + 1 == len(slots) and use_kd and bound < math.inf and len(keys) == 1 and not self._kd_added:
                    # One tree, nothing added or dropped: the slots are in chord order and the spare's chord
                    # is the bound. When the first k's geodesics are all below it, every other venue (chord
                    # >= bound, and geodesic >= chord) is farther, and the spare's geodesic is not needed.
                    slots, spare = slots[:k], slots[k:]
                # pyproj's scalar call is cheaper than its array call for a handful of points.
                ranked = [(r[2], self._ids[s], s, r[0]) for s in slots if (r := inv(lon, lat, lons[s], lats[s]))]
                ranked.sort()
                if spare and not ranked[-1][0] < bound:
                    ranked += [(r[2], self._ids[s], s, r[0]) for s in spare if (r := inv(lon, lat, lons[s], lats[s]))]
                    ranked.sort()
                kth = min(ranked[k - 1][0] if len(ranked) >= k else math.inf, limit)
                # Strictly below for the kd-trees, which may leave out ties at the bound (venues at
                # one point with the query); the rtree returns every tie, so equal settles it there.
                if bound == math.inf or kth < bound or (kth == bound and not use_kd):
                    break
                n *= 4
            out = []
            for d, _vid, s, az in ranked[:k]:
                if d > limit:
                    break
                out.append(Hit(self._venues[s], float(d), float(az) % 360.0))  # type: ignore[arg-type]
            return out

    def _rtree_candidates(
        self, keys: tuple[str | None, ...], point: tuple[float, float, float], n: int
    ) -> tuple[list[int], float]:
        """The ``n`` nearest slots of each tree by chord, and the chord below which every slot was taken."""
        x, y, z = point
        slots: list[int] = []
        bound = math.inf
        for key in keys:
            got = _nearest_ids(self._all if key is None else self._by_cat[key], point, n)
            if len(got) >= n:
                px, py, pz = self._xyz[got[-1]].tolist()
                bound = min(bound, math.sqrt((px - x) ** 2 + (py - y) ** 2 + (pz - z) ** 2))
            slots.extend(got)
        return slots, bound

    def _kd_candidates(
        self, keys: tuple[str | None, ...], point: tuple[float, float, float], n: int
    ) -> tuple[list[int], float]:
        """As :meth:`_rtree_candidates`, from the kd-trees: their stale slots dropped, the added ones all taken."""
        slots: list[int] = []
        bound = math.inf
        stale = self._kd_stale
        for key in keys:
            entry = self._kd.get(key)
            if entry is None:
                continue
            tree, slot_of = entry
            m = min(n, tree.n)
            dist, at = tree.query(point, m)
            if m == 1:
                got = [int(slot_of[at])]
                last = float(dist)
            else:
                got = slot_of[at].tolist()
                last = float(dist[-1])
            if m < tree.n:
                bound = min(bound, last)
            slots.extend([s for s in got if s not in stale] if stale else got)
        added = self._kd_added
        if added:
            slots.extend(s for s, c in added.items() if keys[0] is None or c in keys)
        return slots, bound

    def within_radius(
        self, lon: float, lat: float, radius_m: float, categories: Iterable[str] | None = None
    ) -> list[Hit]:
        """Every venue within ``radius_m`` geodesic metres, nearest first."""
        lon, lat = validate_point(lon, lat)
        if not (isinstance(radius_m, (int, float)) and math.isfinite(radius_m) and radius_m >= 0):
            raise InvalidParameter("radius", f"must be a non-negative number of metres, got {radius_m!r}")
        cats = _validate_categories(categories)
        x, y, z = _ecef(lon, lat)
        r = float(radius_m)  # chord <= geodesic, so the cube of half-side r holds them all
        with self._lock:
            trees = [self._all] if cats is None else [self._by_cat[c] for c in cats]
            slots = [s for t in trees for s in t.intersection((x - r, y - r, z - r, x + r, y + r, z + r))]
            if not slots:
                return []
            idx = np.array(slots)
            az, _, dist = GEOD.inv(np.full(len(idx), lon), np.full(len(idx), lat), self._lon[idx], self._lat[idx])
            hits = [
                Hit(self._venues[s], float(d), float(a) % 360.0)  # type: ignore[arg-type]
                for s, d, a in zip(slots, dist, az, strict=False)
                if d <= r
            ]
        hits.sort(key=lambda h: (h.distance_m, h.venue.id))
        return hits

    def within_bbox(
        self,
        west: float,
        south: float,
        east: float,
        north: float,
        categories: Iterable[str] | None = None,
    ) -> list[Venue]:
        """Venues inside a lon/lat box (edges included), sorted by id."""
        validate_point(west, south)
        validate_point(east, north)
        if west > east or south > north:
            raise InvalidParameter(
                "bbox",
                f"must be west,south,east,north with west<=east and south<=north, got {(west, south, east, north)!r}",
            )
        cats = _validate_categories(categories)
        with self._lock:
            found = [self._venues[s] for s in self._flat.intersection((west, south, east, north))]
        out = [v for v in found if v is not None and (cats is None or v.category in cats)]
        out.sort(key=lambda v: v.id)
        return out

    def within_polygon(self, geometry: BaseGeometry, categories: Iterable[str] | None = None) -> list[Venue]:
        """Venues inside (or on the edge of) a lon/lat polygon, sorted by id."""
        west, south, east, north = geometry.bounds
        candidates = self.within_bbox(west, south, east, north, categories)
        if not candidates:
            return []
        inside = shapely.intersects_xy(
            geometry, np.array([v.lon for v in candidates]), np.array([v.lat for v in candidates])
        )
        return [v for v, ok in zip(candidates, inside, strict=False) if ok]

    def brute_force_nearest(self, lon: float, lat: float, k: int, categories: Sequence[str] | None = None) -> list[Hit]:
        """Reference answer by geodesic distance to every venue (for tests)."""
        live = [v for v in self._venues if v is not None and (categories is None or v.category in categories)]
        if not live:
            return []
        az, _, dist = GEOD.inv(
            np.full(len(live), lon), np.full(len(live), lat), [v.lon for v in live], [v.lat for v in live]
        )
        order = sorted(range(len(live)), key=lambda i: (dist[i], live[i].id))[:k]
        return [Hit(live[i], float(dist[i]), float(az[i]) % 360.0) for i in order]
