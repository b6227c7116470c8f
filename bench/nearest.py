"""Benchmark: k=5 nearest-venue queries, this index vs numpy brute force vs cKDTree.

Run: .venv/bin/python bench/nearest.py [--rounds 5] [--skip-national]

Prints, for the shipped 2,621 venues and for a synthetic national-scale set
of 1,000,000 venues:
- the median latency of a single k=5 query from Python (median over rounds of
  the per-round median), for each method, the index both on its kd-tree path
  and on the rtree path it takes after many edits;
- the wall time of a batch of 100,000 queries.
All methods run on the same data in the same process, interleaved by round,
so the ratios hold on a noisy machine. The index's answers are exact geodesic
k-nearest; cKDTree and brute force here rank by chord on 3-D unit vectors
(what the index would be without the geodesic re-ranking).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import locator.index  # noqa: E402
from locator.categories import CATEGORY_CODES  # noqa: E402
from locator.index import VenueIndex  # noqa: E402
from locator.venues import Venue, load_venues  # noqa: E402

K = 5


def unit(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack((np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


def brute_one(xyz: np.ndarray, q: np.ndarray) -> np.ndarray:
    d = ((xyz - q) ** 2).sum(axis=1)
    part = np.argpartition(d, K)[:K]
    return part[np.argsort(d[part])]


def brute_batch(xyz: np.ndarray, qs: np.ndarray, chunk: int) -> None:
    sq = (xyz**2).sum(axis=1)
    for i in range(0, len(qs), chunk):
        block = qs[i : i + chunk]
        d = sq[None, :] - 2.0 * block @ xyz.T
        part = np.argpartition(d, K, axis=1)[:, :K]
        np.take_along_axis(d, part, axis=1).argsort(axis=1)


def median_us(fn, queries) -> float:
    ts = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e6


def run(label: str, venues: list[Venue], qlon: np.ndarray, qlat: np.ndarray, rounds: int, brute_batch_n: int) -> None:
    print(f"\n== {label}: {len(venues):,} venues ==")
    t0 = time.perf_counter()
    index = VenueIndex(venues)
    build = time.perf_counter() - t0
    lon = np.array([v.lon for v in venues])
    lat = np.array([v.lat for v in venues])
    xyz = unit(lon, lat)
    t0 = time.perf_counter()
    kd = cKDTree(xyz)
    kd_build = time.perf_counter() - t0
    print(f"build: index {build:.2f} s, cKDTree {kd_build:.3f} s")

    qxyz = unit(qlon, qlat)
    kd_delta_max = locator.index.KD_DELTA_MAX
    single: dict[str, list[float]] = {"index": [], "index (rtree)": [], "cKDTree": [], "numpy brute": []}
    n_single = 2000
    brute_single = 2000 if len(venues) < 100_000 else 30
    for r in range(rounds):
        sl = slice(r * n_single, (r + 1) * n_single)
        pts = list(zip(qlon[sl].tolist(), qlat[sl].tolist(), strict=False))
        single["index"].append(median_us(lambda p: index.nearest(p[0], p[1], K), pts))
        # The same index on its rtree path (what it falls back to after many edits, until compact()).
        locator.index.KD_DELTA_MAX = -1
        single["index (rtree)"].append(median_us(lambda p: index.nearest(p[0], p[1], K), pts))
        locator.index.KD_DELTA_MAX = kd_delta_max
        single["cKDTree"].append(median_us(lambda q: kd.query(q, K), qxyz[sl]))
        single["numpy brute"].append(median_us(lambda q: brute_one(xyz, q), qxyz[sl][:brute_single]))
    ref = statistics.median(single["cKDTree"])
    print(f"single k={K} query, median of {rounds} round medians (µs), and ratio to cKDTree:")
    for name, vals in single.items():
        m = statistics.median(vals)
        print(f"  {name:14s} {m:10.1f} µs   {m / ref:6.2f}×   rounds: {', '.join(f'{v:.1f}' for v in vals)}")

    n_batch = 100_000
    bl, bt = qlon[:n_batch], qlat[:n_batch]
    t0 = time.perf_counter()
    for a, b in zip(bl.tolist(), bt.tolist(), strict=False):
        index.nearest(a, b, K)
    t_index = time.perf_counter() - t0
    t0 = time.perf_counter()
    kd.query(qxyz[:n_batch], K)
    t_kd = time.perf_counter() - t0
    chunk = max(1, 20_000_000 // len(venues))
    t0 = time.perf_counter()
    brute_batch(xyz, qxyz[:brute_batch_n], chunk)
    t_brute = (time.perf_counter() - t0) * (n_batch / brute_batch_n)
    note = "" if brute_batch_n == n_batch else f" (extrapolated from {brute_batch_n:,} queries)"
    print(f"batch of {n_batch:,} queries (s):")
    print(f"  index        {t_index:10.2f} s   (a Python loop: one exact geodesic query each)")
    print(f"  cKDTree      {t_kd:10.2f} s   (one vectorised call)")
    print(f"  numpy brute  {t_brute:10.2f} s{note}")
    if len(venues) < 100_000:
        print(
            f"index single-query median: {statistics.median(single['index']):.1f} µs (target ≤ 50), "
            f"{statistics.median(single['index']) / ref:.2f}× cKDTree (target ≤ 5)"
        )
    else:
        print(f"index single-query median: {statistics.median(single['index']):.1f} µs (target ≤ 100)")


def synthetic(n: int, seed: int) -> list[Venue]:
    """Venues scattered over mainland China, denser in the east (deterministic)."""
    rng = np.random.default_rng(seed)
    centres = np.column_stack((rng.uniform(98, 122, 400), rng.uniform(21, 45, 400)))
    weights = np.exp(-(((centres[:, 0] - 116) / 12) ** 2))
    pick = rng.choice(len(centres), n, p=weights / weights.sum())
    lon = np.clip(centres[pick, 0] + rng.normal(0, 0.4, n), 74, 134)
    lat = np.clip(centres[pick, 1] + rng.normal(0, 0.3, n), 18, 53)
    cats = rng.choice(len(CATEGORY_CODES), n, p=[0.25, 0.48, 0.04, 0.1, 0.06, 0.07])
    # Venue validation keeps to Hainan's box; national data is built unvalidated.
    out = []
    for i in range(n):
        v = object.__new__(Venue)
        for name, value in (
            ("id", f"n{i:07d}"),
            ("name", "x"),
            ("category", CATEGORY_CODES[cats[i]]),
            ("district_code", "000000"),
            ("lon", float(lon[i])),
            ("lat", float(lat[i])),
            ("address", ""),
            ("operator", ""),
            ("phone", ""),
            ("opening_hours", None),
            ("amenities", ()),
            ("description", ""),
            ("source", "synthetic"),
            ("status", "active"),
        ):
            object.__setattr__(v, name, value)
        out.append(v)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--skip-national", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    n = max(100_000, args.rounds * 2000)
    venues = load_venues(ROOT / "geodata" / "venues.geojson")
    run(
        "Hainan (shipped demonstration data)",
        venues,
        rng.uniform(108.6, 111.1, n),
        rng.uniform(18.1, 20.2, n),
        args.rounds,
        100_000,
    )
    if not args.skip_national:
        national = synthetic(1_000_000, seed=11)
        run("national (synthetic)", national, rng.uniform(100, 122, n), rng.uniform(22, 42, n), args.rounds, 300)


if __name__ == "__main__":
    main()
