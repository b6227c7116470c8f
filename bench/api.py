"""Load test of the HTTP API on loopback, against a bare Flask app in the same run.

Starts the app under gunicorn as ``locator serve`` does (its worker class, and
its settings: loaded once in the master, heap frozen, then forked), and
beside it, under the very same gunicorn settings, a bare Flask app
(:func:`bare_app`: no middleware) with a constant endpoint and a nearest
endpoint on SciPy's ``cKDTree`` that returns the same five GeoJSON features.
Waits for both, then drives, in interleaved rounds,

- ``/api/v1/nearest?lat=…&lon=…&k=5`` at random points over Hainan island,
- ``/healthz`` (the framework and the project's middleware alone),
- the bare app's ``/nearest`` and ``/const``,

for a fixed time each with ``wrk`` (``/usr/bin/wrk``), or, without wrk, a fixed
number of requests from a Python thread pool. Prints requests per second,
p50/p99 latency and errors for each (medians of the rounds), and the ratios
nearest/bare-cKDTree and healthz/bare-constant: what the project's per-request
path costs against the framework (issue 17's target: 0.85 or more), both as
the ratio of the medians and as the median of each round's own ratio. It
prints the ratios; it asserts nothing.

Rate limiting stays on, with a limit the run cannot reach (``--rate-limit``),
so its per-request cost is measured but it never answers 429.

``--attribute`` adds a third server, the project's app with its per-request
hooks removed (:func:`unguarded_app`), measured in the same rounds, and splits
the nearest gap into the view and framework and the protections.

    .venv/bin/python bench/api.py                 # 10 s each, 2 wrk threads, 16 connections
    .venv/bin/python bench/api.py --workers 2 --threads 1 --connections 32 --duration 5
    .venv/bin/python bench/api.py --rounds 10 --duration 60 --attribute
"""

from __future__ import annotations

import argparse
import csv
import http.client
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
ISLAND = (108.62, 18.17, 111.05, 20.10)  # west, south, east, north: Hainan island
K = 5

LUA = textwrap.dedent(
    """
    local west, south, east, north = {west}, {south}, {east}, {north}
    local counter = 0
    function setup(thread)
      counter = counter + 1
      thread:set("seed", counter)
    end
    function init(args)
      math.randomseed(seed * 7919)
    end
    request = {request}
    function done(summary, latency, requests)
      local e = summary.errors
      io.write(string.format("RESULT %d %d %d %d %d\\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect + e.read + e.write + e.status + e.timeout))
    end
    """
)
NEAREST_PATHS = {"nearest": "/api/v1/nearest", "bare-nearest": "/nearest", "unguarded": "/api/v1/nearest"}
CONST_PATHS = {"healthz": "/healthz", "bare-const": "/const"}
TARGETS = ("healthz", "bare-const", "nearest", "bare-nearest")
"""What each round measures, in this order: the project (port 0) and the bare app (port 1) alternate."""


def wrk_request(name: str) -> str:
    """The Lua ``request`` function for a target: a random point on the island, or a constant path."""
    if name in CONST_PATHS:
        return f'function() return wrk.format("GET", "{CONST_PATHS[name]}") end'
    return (
        "function() local lon = west + math.random() * (east - west); "
        "local lat = south + math.random() * (north - south); "
        f'return wrk.format("GET", string.format("{NEAREST_PATHS[name]}?lat=%.5f&lon=%.5f&k={K}", lat, lon)) end'
    )


def bare_app() -> object:
    """The framework alone: Flask, no middleware; gunicorn loads it as ``bench.api:bare_app()``.

    ``/const`` answers what ``/healthz`` answers. ``/nearest`` finds the k nearest venues of the
    register's seed file with a ``cKDTree`` over unit-sphere vectors (chord order is great-circle
    order), and returns them as a FeatureCollection with each feature's properties serialised
    once at start-up and ``distance_m`` (haversine) and ``bearing_deg`` written per request, as
    the project's nearest does. No validation, no headers: the floor the project is compared with.
    """
    import json
    import math

    import numpy as np
    from flask import Flask, Response, request
    from scipy.spatial import cKDTree

    with open(os.environ.get("BENCH_VENUES", ROOT / "geodata" / "venues.geojson"), encoding="utf-8") as fh:
        feats = [f for f in json.load(fh)["features"] if f["properties"].get("status", "active") == "active"]
    lon = np.radians([f["geometry"]["coordinates"][0] for f in feats])
    lat = np.radians([f["geometry"]["coordinates"][1] for f in feats])
    tree = cKDTree(np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]))
    heads = [
        json.dumps(
            {"type": "Feature", "id": f.get("id") or f["properties"].get("id"), "geometry": f["geometry"]},
            ensure_ascii=False,
            separators=(",", ":"),
        )[:-1]
        + ',"properties":'
        + json.dumps({k: v for k, v in f["properties"].items() if k != "status"}, ensure_ascii=False)[:-1]
        for f in feats
    ]
    app = Flask("bare")

    @app.get("/const")
    def const() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/nearest")
    def nearest() -> Response:
        plon, plat = math.radians(float(request.args["lon"])), math.radians(float(request.args["lat"]))
        k = int(request.args.get("k", K))
        c = math.cos(plat)
        _, idx = tree.query([c * math.cos(plon), c * math.sin(plon), math.sin(plat)], k=k)
        parts = []
        for i in np.atleast_1d(idx):
            dlon, vlat = float(lon[i]) - plon, float(lat[i])
            h = math.sin((vlat - plat) / 2) ** 2 + math.cos(plat) * math.cos(vlat) * math.sin(dlon / 2) ** 2
            dist = 2 * 6371008.8 * math.asin(math.sqrt(h))
            y = math.sin(dlon) * math.cos(vlat)
            x = math.cos(plat) * math.sin(vlat) - math.sin(plat) * math.cos(vlat) * math.cos(dlon)
            bearing = math.degrees(math.atan2(y, x)) % 360
            parts.append(f'{heads[i]},"distance_m":{round(dist, 1)!r},"bearing_deg":{round(bearing, 1)!r}}}}}')
        body = f'{{"type":"FeatureCollection","features":[{",".join(parts)}]}}'
        return Response(body, mimetype="application/geo+json")

    return app


def unguarded_app() -> object:
    """The project's app without its WSGI layer and its request hooks: ``--attribute`` only.

    Not an app to deploy: no rate limit, headers, CORS, caching, access log,
    deadline or parameter checks. Its nearest against the bare app's is the
    view and the framework alone; the project's against it, what the
    per-request protections cost.
    """
    from locator import create_app
    from locator.web.http import Edge

    app = create_app()
    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        hooks.clear()
    if isinstance(app.wsgi_app, Edge):
        app.wsgi_app = app.wsgi_app.wsgi_app  # type: ignore[method-assign]
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    port: int, workers: int, threads: int, worker_class: str, tmp: Path, rate_limit: str, app: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LOCATOR_DATABASE": str(tmp / "bench.sqlite3"),
        "LOCATOR_RATELIMIT_DEFAULT": rate_limit,
        "BENCH_VENUES": str(ROOT / "geodata" / "venues.geojson"),
    }
    gunicorn = shutil.which("gunicorn", path=str(VENV_BIN)) or "gunicorn"
    argv = [
        gunicorn,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        worker_class,
        # As ``locator serve`` runs it: loaded once in the master, heap frozen, then forked (for both apps).
        "--config",
        "python:locator.cli.gunicorn_hooks",
        app,
    ]
    log = open(tmp / f"server-{port}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(port: int, proc: subprocess.Popen[bytes], path: str = "/readyz", timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: gunicorn exited with {proc.returncode} before /readyz answered")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench: {path} did not answer in time")


def run_wrk(port: int, request_fn: str, duration: float, threads: int, connections: int, tmp: Path) -> dict[str, float]:
    script = tmp / "bench.lua"
    west, south, east, north = ISLAND
    script.write_text(LUA.format(west=west, south=south, east=east, north=north, request=request_fn))
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"bench: wrk failed ({out.returncode}): {out.stderr or out.stdout}")
    out = out.stdout  # type: ignore[assignment]
    m = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not m:
        raise SystemExit(f"bench: cannot read wrk's output:\n{out}")
    n, dur_us, p50, p99, errors = (int(x) for x in m.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": n / (dur_us / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "errors": errors + (int(non2xx.group(1)) if non2xx else 0),
        "requests": n,
    }


def run_python(port: int, which: str, count: int, connections: int) -> dict[str, float]:
    rng = random.Random(2621)
    west, south, east, north = ISLAND
    paths = [
        CONST_PATHS[which]
        if which in CONST_PATHS
        else f"{NEAREST_PATHS[which]}?lat={rng.uniform(south, north):.5f}&lon={rng.uniform(west, east):.5f}&k={K}"
        for _ in range(count)
    ]
    per = [paths[i::connections] for i in range(connections)]

    def worker(chunk: list[str]) -> tuple[list[float], int]:
        lat, errors = [], 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for p in chunk:
            t = time.perf_counter()
            try:
                conn.request("GET", p)
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    errors += 1
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
            except OSError:
                errors += 1
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            lat.append(time.perf_counter() - t)
        return lat, errors

    t0 = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        results = list(pool.map(worker, per))
    elapsed = time.perf_counter() - t0
    lats = sorted(x for r in results for x in r[0])
    q = statistics.quantiles(lats, n=100)
    return {
        "rps": len(lats) / elapsed,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "errors": sum(r[1] for r in results),
        "requests": len(lats),
    }


def summarise(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Medians over the rounds (requests and errors summed; worst p99 kept too)."""
    return {
        "rps": statistics.median(r["rps"] for r in rounds),
        "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
        "p99_ms": statistics.median(r["p99_ms"] for r in rounds),
        "p99_worst_ms": max(r["p99_ms"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "requests": sum(r["requests"] for r in rounds),
    }


def write_rounds(path: Path, rounds: dict[str, list[dict[str, float]]]) -> None:
    """Every round's figures, one row per round and endpoint, in the order they ran."""
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["round", "endpoint", "rps", "p50_ms", "p99_ms", "errors"])
        for name, rs in rounds.items():
            for i, r in enumerate(rs, 1):
                out.writerow([i, name, f"{r['rps']:.1f}", f"{r['p50_ms']:.3f}", f"{r['p99_ms']:.3f}", int(r["errors"])])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_WORKERS", "2")),
        help="gunicorn workers (default $WEB_WORKERS or 2)",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("WEB_THREADS", "1")),
        help="threads per worker (default $WEB_THREADS or 1)",
    )
    ap.add_argument(
        "--duration", type=float, default=10.0, help="seconds per endpoint with wrk, split over the rounds (default 10)"
    )
    ap.add_argument("--rounds", type=int, default=5, help="interleaved healthz/nearest slices (default 5)")
    ap.add_argument("--count", type=int, default=5000, help="requests per endpoint without wrk (default 5000)")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds of unmeasured load on each first (default 1)")
    ap.add_argument(
        "--rate-limit", default="100000000 per minute", help="the server's RATELIMIT_DEFAULT during the run"
    )
    ap.add_argument(
        "--worker-class",
        default="locator.web.worker.HeaderBufferingWorker",
        help="gunicorn worker class for both apps (default: locator serve's)",
    )
    ap.add_argument("--python", action="store_true", help="use the Python client even if wrk is installed")
    ap.add_argument(
        "--attribute",
        action="store_true",
        help="also run the project's app without its per-request hooks (unguarded_app) and split the gap",
    )
    ap.add_argument(
        "--rounds-csv",
        type=Path,
        help="also write every round's figures to this CSV (round, endpoint, req/s, p50, p99), to see a drift",
    )
    args = ap.parse_args()
    targets = (*TARGETS, "unguarded") if args.attribute else TARGETS

    use_wrk = shutil.which("wrk") is not None and not args.python
    with tempfile.TemporaryDirectory(prefix="locator-bench-") as d:
        tmp = Path(d)
        apps = {"project": "locator:create_app()", "bare": "bench.api:bare_app()"}
        if args.attribute:
            apps["unguarded"] = "bench.api:unguarded_app()"
        ports = {name: free_port() for name in apps}
        procs = {
            name: start_server(ports[name], args.workers, args.threads, args.worker_class, tmp, args.rate_limit, app)
            for name, app in apps.items()
        }
        server_of = {"unguarded": "unguarded"}
        port_of = {t: ports[server_of.get(t, "bare" if t.startswith("bare") else "project")] for t in targets}
        try:
            wait_ready(ports["project"], procs["project"])
            wait_ready(ports["bare"], procs["bare"], "/const")
            if args.attribute:
                wait_ready(ports["unguarded"], procs["unguarded"], "/healthz")
            rounds: dict[str, list[dict[str, float]]] = {t: [] for t in targets}

            def measure(target: str, warm: bool) -> dict[str, float]:
                if use_wrk:
                    seconds = args.warmup if warm else args.duration / args.rounds
                    return run_wrk(
                        port_of[target], wrk_request(target), seconds, args.wrk_threads, args.connections, tmp
                    )
                count = max(200, args.count // 10) if warm else args.count // args.rounds
                return run_python(port_of[target], target, count, args.connections)

            for target in targets:
                measure(target, warm=True)
            # Interleaved slices, so that load from anything else on the machine hits all alike.
            for _ in range(args.rounds):
                for target in targets:
                    rounds[target].append(measure(target, warm=False))
            results = {name: summarise(rs) for name, rs in rounds.items()}
            if args.rounds_csv:
                write_rounds(args.rounds_csv, rounds)
        finally:
            for proc in procs.values():
                os.killpg(proc.pid, signal.SIGTERM)
            for proc in procs.values():
                proc.wait(timeout=30)
    tool = (
        f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration:g}s"
        if use_wrk
        else f"python client, {args.connections} connections, {args.count} requests"
    )
    print(
        f"gunicorn {args.workers} workers x {args.threads} threads ({args.worker_class}) for both apps; {tool} "
        f"per endpoint; nearest k={K} at random points on Hainan island"
    )
    print(f"medians over {args.rounds} interleaved rounds")
    print(f"{'endpoint':<14}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'worst p99':>11}{'errors':>8}{'requests':>10}")
    for name, r in results.items():
        print(
            f"{name:<14}{r['rps']:>9.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['p99_worst_ms']:>11.2f}"
            f"{int(r['errors']):>8d}{int(r['requests']):>10d}"
        )
    rps = {name: r["rps"] for name, r in results.items()}
    print(f"ratio nearest/healthz: {rps['nearest'] / rps['healthz']:.2f}")
    for ours, bare in (("nearest", "bare-nearest"), ("healthz", "bare-const")):
        ratio = rps[ours] / rps[bare]
        # Each round measures the two back to back: the median of the rounds' own ratios is
        # less moved by load that comes and goes on a shared machine than the ratio of medians.
        paired = statistics.median(a["rps"] / b["rps"] for a, b in zip(rounds[ours], rounds[bare], strict=True))
        print(
            f"ratio {ours}/{bare}: {ratio:.2f} (target 0.85: {'met' if ratio >= 0.85 else 'NOT met'}); "
            f"median of the rounds' ratios {paired:.2f}"
        )
    if args.attribute:
        for ours, base, what in (
            ("unguarded", "bare-nearest", "the view and Flask without the per-request hooks"),
            ("nearest", "unguarded", "what the per-request protections leave"),
        ):
            paired = statistics.median(a["rps"] / b["rps"] for a, b in zip(rounds[ours], rounds[base], strict=True))
            ratio = rps[ours] / rps[base]
            print(f"ratio {ours}/{base}: {ratio:.2f}, median of the rounds' ratios {paired:.2f} ({what})")


if __name__ == "__main__":
    main()
