"""Benchmark: coverage analysis and siting on the shipped data, in people.

Every figure is weighted by the shipped MODELLED population surface
(``POPULATION_GRID``, default ``geodata/population_250m.tif``), as the app is
by default, and the flags use the default ``COVERAGE_TARGETS``. Prints only;
it asserts nothing (a timing is a fact about this machine, not a test).


Run: .venv/bin/python bench/coverage.py [--rounds 5] [--category outdoor_station] [--radius 1000]

Prints medians over rounds of:
- cold: a fresh CoverageAnalyzer's first table (projection and gridding of the
  26 districts, and splitting the population grid by district, included: each
  round gets a fresh copy of the grid, so nothing memoised carries over) for one
  category over all 26 districts;
- warm: the same call repeated (served from the cache keyed by data version);
- the same two through the app: ``GET /api/v1/coverage`` on a fresh app (cold),
  then repeated (warm), each with its budget as a ratio (these budgets were
  once asserted in tests/test_coverage_web.py; a test cannot time honestly on
  a shared machine, so they live here);
- gaps: building the gap GeoJSON from a cold result;
- greedy siting of 10 sites over the province (problem build + greedy + exact re-measure),
  on another fresh copy of the grid (cold), and again on the same copy (the grid's split
  by district memoised, as in a running app after its first coverage request);
- exact MILP (HiGHS via scipy.optimize.milp) for 10 sites in one district, greedy/exact in
  people (grid model and re-measured); ``--province-exact`` adds the province with a time limit;
- the API's ``exact=true`` for that district, and its 422 for the province (the size budget).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from locator import create_app  # noqa: E402
from locator.config import COVERAGE_TARGETS, POPULATION_GRID  # noqa: E402
from locator.districts import load_districts  # noqa: E402
from locator.gazetteer import load_gazetteer  # noqa: E402
from locator.index import VenueIndex  # noqa: E402
from locator.planning import CoverageAnalyzer, PopGrid, load_popgrid, suggest  # noqa: E402
from locator.planning.targets import parse_targets  # noqa: E402
from locator.venues import load_venues  # noqa: E402


def fresh(grid: PopGrid | None) -> PopGrid | None:
    """The same grid with nothing memoised (its split by district is redone)."""
    if grid is None:
        return None
    return PopGrid(grid.lon, grid.lat, grid.population, grid.source, grid.id, grid.modelled, grid.description)


CPU: list[float] = []  # process CPU seconds of the last timed() call, for the lines that show it


def timed(fn):  # type: ignore[no-untyped-def]
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    CPU[:] = [time.process_time() - c0]
    return time.perf_counter() - t0, out


def over_http(rounds: int, category: str, radius: float) -> tuple[list[float], list[float]]:
    """Cold and warm ``GET /api/v1/coverage`` through a fresh app per round (seeded once, then copied)."""
    import shutil

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
            if r.status_code != 200:
                print(f"  (GET {url}: {r.status_code} {r.data[:200]!r})")
            cold.append(t)
            warm.append(min(timed(lambda: client.get(url))[0] for _ in range(20)))  # noqa: B023
    return cold, warm


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--category", default="outdoor_station")
    ap.add_argument("--radius", type=float, default=1000.0)
    ap.add_argument("--district", default="460106", help="district for the exact MILP")
    ap.add_argument("--province-exact", action="store_true", help="also the province's MILP (slow)")
    ap.add_argument("--province-time-limit", type=float, default=30.0, help="seconds for the whole request")
    args = ap.parse_args()
    districts = load_districts(ROOT / "geodata/districts_land.geojson")
    venues = load_venues(ROOT / "geodata/venues.geojson")
    index = VenueIndex(venues, version=1)
    popgrid = load_popgrid(POPULATION_GRID) if POPULATION_GRID else None
    gaz = load_gazetteer(ROOT / "geodata/places.json")
    targets = parse_targets(COVERAGE_TARGETS)
    cold, warm, gaps, greedy_t, greedy_memo = [], [], [], [], []
    cold_cpu, greedy_cpu = [], []
    for _ in range(args.rounds):
        an = CoverageAnalyzer(districts, lambda: index, popgrid=fresh(popgrid), targets=targets)
        t, res = timed(lambda: an.table(args.category, args.radius))  # noqa: B023
        cold.append(t)
        cold_cpu += CPU
        warm.append(min(timed(lambda: an.table(args.category, args.radius))[0] for _ in range(20)))  # noqa: B023
        gaps.append(timed(res.gaps_geojson)[0])
        grid = fresh(popgrid)
        for times in (greedy_t, greedy_memo):
            t, sres = timed(
                lambda: suggest(districts, venues, args.category, args.radius, 10, popgrid=grid, gazetteer=gaz)  # noqa: B023
            )
            times.append(t)
            greedy_cpu += CPU if times is greedy_t else []
    ms = lambda xs: f"{1000 * statistics.median(xs):8.1f} ms"  # noqa: E731
    print(f"(load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])} on {os.cpu_count()} CPUs)")
    s = res.summary
    print(f"coverage table in people ({s.population_source})")
    print(f"  {args.category}, radius {args.radius:g} m, 26 districts, {args.rounds} rounds (median)")
    print(f"  cold (fresh analyzer)        {ms(cold)}   [budget 2000 ms]  (CPU {ms(cold_cpu).strip()})")
    print(f"  warm (cached, data version)  {ms(warm)}   [budget 100 ms]")
    print(f"  gaps GeoJSON                 {ms(gaps)}")
    http_cold, http_warm = over_http(args.rounds, args.category, args.radius)
    ratio = lambda xs, budget: f"{statistics.median(xs) / budget:5.2f} of budget"  # noqa: E731
    print(f"  GET /api/v1/coverage, cold   {ms(http_cold)}   [budget 2000 ms: {ratio(http_cold, 2.0)}]")
    print(f"  GET /api/v1/coverage, warm   {ms(http_warm)}   [budget 100 ms: {ratio(http_warm, 0.1)}]")
    print(
        f"  residents within {args.radius:g} m: {s.population_covered or 0:,.0f} of {s.population_grid or 0:,.0f} "
        f"({s.population_covered_pct} %; census total {s.population:,}, offshore {s.population_offshore:,}); "
        f"land {s.covered_km2:,.1f} of {s.area_km2:,.1f} km² ({s.covered_pct:.3f} %)"
    )
    out = sorted(
        (r for r in res.rows if r.population_grid is not None),
        key=lambda r: -((r.population_grid or 0) - (r.population_covered or 0)),
    )
    print(
        "  most people out of reach: "
        + "; ".join(f"{r.name_zh} {(r.population_grid or 0) - (r.population_covered or 0):,.0f}" for r in out[:3])
    )
    target = f"{res.target_covered_pct:g} % within {args.radius:g} m" if res.target_covered_pct is not None else ""
    target = target or (f"{res.target_per_10k:g} per 10,000" if res.target_per_10k is not None else "none")
    print(
        f"  below target ({target}): {len(s.districts_below_target)} of {len(res.rows)}: "
        + ", ".join(d.name_zh for d in s.districts_below_target)
    )
    print(
        f"greedy siting, 10 sites, province, in {sres.unit}   {ms(greedy_t)} cold [budget 2000 ms] "
        f"(CPU {ms(greedy_cpu).strip()}), "
        f"{ms(greedy_memo)} with the grid split memoised; {sres.seconds} "
        f"({sres.params['candidates']:,} candidates, {sres.params['demand_cells_open']:,} open demand cells); "
        f"+{sres.covered_after - sres.covered_before:,.0f} {sres.unit}"
    )
    for site in sres.sites[:3]:
        print(f"    {site.rank}. {site.place_name} ({site.lon}, {site.lat}) +{site.marginal_gain:,.0f}")
    t, ex = timed(
        lambda: suggest(
            districts, venues, args.category, args.radius, 10, region=args.district, exact=True, popgrid=popgrid
        )
    )
    e = ex.exact
    if e is not None:
        print(
            f"exact MILP, 10 sites, district {args.district}: {1000 * t:8.1f} ms total; "
            f"build {e.build_seconds} s, solve {e.solve_seconds} s, {e.status}; "
            f"{e.candidates:,} candidates x {e.demand_cells:,} cells; "
            f"greedy/exact on the grid {e.greedy_over_exact}, measured in {e.unit} {e.greedy_over_exact_measured} "
            f"(greedy +{e.greedy_gain_measured:,.0f}, exact +{e.exact_gain_measured:,.0f})"
        )
    with tempfile.TemporaryDirectory(prefix="locator-bench-") as d:
        client = create_app({"DATABASE": str(Path(d) / "x.sqlite3"), "ACCESS_LOG": False}).test_client()
        url = f"/api/v1/coverage/suggestions?category={args.category}&radius={args.radius:g}&n=10&exact=true"
        t, r = timed(lambda: client.get(url + f"&region={args.district}"))
        body = r.get_json() or {}
        print(
            f"GET …suggestions?exact=true&region={args.district}: {r.status_code} in {1000 * t:.0f} ms, "
            f"greedy/exact in people {(body.get('exact') or {}).get('greedy_over_exact_measured')}"
        )
        t, r = timed(lambda: client.get(url))
        print(
            f"GET …suggestions?exact=true (province): {r.status_code} in {1000 * t:.0f} ms: "
            f"{(r.get_json() or {}).get('detail')}"
        )
    if args.province_exact:
        t, ex = timed(
            lambda: suggest(
                districts,
                venues,
                args.category,
                args.radius,
                10,
                exact=True,
                time_limit=args.province_time_limit,
                popgrid=popgrid,
            )
        )
        e = ex.exact
        if e is not None:
            print(
                f"exact MILP, 10 sites, province (limit {args.province_time_limit:g} s for the whole request): "
                f"{t:6.1f} s total, solver {e.solve_seconds} s; "
                f"{e.candidates:,} candidates x {e.demand_cells:,} cells; {e.status}, "
                f"greedy/exact {e.greedy_over_exact} (measured {e.greedy_over_exact_measured}), "
                f"greedy/bound {e.greedy_over_bound}"
            )


if __name__ == "__main__":
    main()
