"""Benchmark: coverage analysis and siting on the shipped data.

Run: .venv/bin/python bench/coverage.py [--rounds 5] [--category outdoor_station] [--radius 1000]

Prints medians over rounds of:
- cold: a fresh CoverageAnalyzer's first table (projection and gridding of the
  26 districts included) for one category over all 26 districts;
- warm: the same call repeated (served from the cache keyed by data version);
- the same two through the app: ``GET /api/v1/coverage`` on a fresh app (cold),
  then repeated (warm), each with its budget as a ratio (these budgets were
  once asserted in tests/test_coverage_web.py; a test cannot time honestly on
  a shared machine, so they live here);
- gaps: building the gap GeoJSON from a cold result;
- greedy siting of 10 sites over the province (problem build + greedy + exact re-measure);
- exact MILP (HiGHS via scipy.optimize.milp) for 10 sites in one district, and over the
  province with a time limit (the solver's own; the total includes building and re-measuring).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from locator import create_app  # noqa: E402
from locator.districts import load_districts  # noqa: E402
from locator.index import VenueIndex  # noqa: E402
from locator.planning import CoverageAnalyzer, suggest  # noqa: E402
from locator.venues import load_venues  # noqa: E402


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def over_http(rounds: int, category: str, radius: float) -> tuple[list[float], list[float]]:
    """Cold and warm ``GET /api/v1/coverage`` through a fresh app per round (seeded once, then copied)."""
    import shutil
    import tempfile

    url = f"/api/v1/coverage?category={category}&radius={radius:g}"
    cold, warm = [], []
    with tempfile.TemporaryDirectory(prefix="locator-bench-") as d:
        template = Path(d) / "template.sqlite3"
        create_app({"DATABASE": str(template), "ACCESS_LOG": False})  # seeds the register once
        for i in range(rounds):
            db = Path(d) / f"r{i}.sqlite3"
            shutil.copyfile(template, db)
            client = create_app({"DATABASE": str(db), "ACCESS_LOG": False, "RATELIMIT_ENABLED": False}).test_client()
            t, r = timed(lambda: client.get(url))  # noqa: B023
            assert r.status_code == 200, r.data[:300]
            cold.append(t)
            warm.append(min(timed(lambda: client.get(url))[0] for _ in range(20)))  # noqa: B023
    return cold, warm


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--category", default="outdoor_station")
    ap.add_argument("--radius", type=float, default=1000.0)
    ap.add_argument("--district", default="469025", help="district for the exact MILP")
    ap.add_argument("--province-time-limit", type=float, default=60.0)
    args = ap.parse_args()
    districts = load_districts(ROOT / "geodata/districts.geojson")
    venues = load_venues(ROOT / "geodata/venues.geojson")
    index = VenueIndex(venues, version=1)
    cold, warm, gaps, greedy_t = [], [], [], []
    for _ in range(args.rounds):
        an = CoverageAnalyzer(districts, lambda: index, target_per_10k=1.0)
        t, res = timed(lambda: an.table(args.category, args.radius))  # noqa: B023
        cold.append(t)
        warm.append(min(timed(lambda: an.table(args.category, args.radius))[0] for _ in range(20)))  # noqa: B023
        gaps.append(timed(res.gaps_geojson)[0])
        t, sres = timed(lambda: suggest(districts, venues, args.category, args.radius, 10))
        greedy_t.append(t)
    ms = lambda xs: f"{1000 * statistics.median(xs):8.1f} ms"  # noqa: E731
    print(f"coverage table, {args.category}, radius {args.radius:g} m, 26 districts, {args.rounds} rounds (median)")
    print(f"  cold (fresh analyzer)        {ms(cold)}   [budget 2000 ms]")
    print(f"  warm (cached, data version)  {ms(warm)}   [budget 100 ms]")
    print(f"  gaps GeoJSON                 {ms(gaps)}")
    http_cold, http_warm = over_http(args.rounds, args.category, args.radius)
    ratio = lambda xs, budget: f"{statistics.median(xs) / budget:5.2f} of budget"  # noqa: E731
    print(f"  GET /api/v1/coverage, cold   {ms(http_cold)}   [budget 2000 ms: {ratio(http_cold, 2.0)}]")
    print(f"  GET /api/v1/coverage, warm   {ms(http_warm)}   [budget 100 ms: {ratio(http_warm, 0.1)}]")
    print(
        f"  covered: {res.summary.covered_km2:,.1f} of {res.summary.area_km2:,.1f} km² "
        f"({res.summary.covered_pct:.3f} %); without venues: "
        + ", ".join(d.name_zh for d in res.summary.districts_without_venues)
    )
    print(
        f"greedy siting, 10 sites, province   {ms(greedy_t)}  {sres.seconds} "
        f"({sres.params['candidates']:,} candidates, {sres.params['demand_cells_open']:,} open demand cells)"
    )
    t, ex = timed(lambda: suggest(districts, venues, args.category, args.radius, 10, region=args.district, exact=True))
    e = ex.exact
    assert e is not None
    print(
        f"exact MILP, 10 sites, district {args.district}: {1000 * t:8.1f} ms total; "
        f"build {e.build_seconds} s, solve {e.solve_seconds} s, {e.status}, "
        f"greedy/exact {e.greedy_over_exact}, gap {e.mip_gap}"
    )
    t, ex = timed(
        lambda: suggest(
            districts, venues, args.category, args.radius, 10, exact=True, time_limit=args.province_time_limit
        )
    )
    e = ex.exact
    assert e is not None
    print(
        f"exact MILP, 10 sites, province (limit {args.province_time_limit:g} s): {t:6.1f} s total; "
        f"{e.candidates:,} candidates x {e.demand_cells:,} cells; build {e.build_seconds} s, "
        f"solve {e.solve_seconds} s, {e.status}, greedy/exact {e.greedy_over_exact}, "
        f"greedy/bound {e.greedy_over_bound}, bound {e.bound}, gap {e.mip_gap}"
    )


if __name__ == "__main__":
    main()
