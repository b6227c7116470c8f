"""Load test of the HTTP API on loopback: /api/v1/nearest against /healthz.

Starts the app under gunicorn exactly as ``locator serve`` does (same workers
and threads for both measurements), waits for ``/readyz``, then drives

- ``/api/v1/nearest?lat=…&lon=…&k=5`` at random points over Hainan island, and
- ``/healthz`` (the framework and middleware alone),

for a fixed time each with ``wrk`` (``/usr/bin/wrk``), or, without wrk, a fixed
number of requests from a Python thread pool. Prints requests per second,
p50/p99 latency and errors for each, and the ratio nearest/healthz: what the
API costs above the framework.

Rate limiting stays on, with a limit the run cannot reach (``--rate-limit``),
so its per-request cost is measured but it never answers 429.

    .venv/bin/python bench/api.py                 # 10 s each, 2 wrk threads, 16 connections
    .venv/bin/python bench/api.py --workers 2 --threads 1 --connections 32 --duration 5
"""

from __future__ import annotations

import argparse
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
NEAREST_REQUEST = (
    "function() local lon = west + math.random() * (east - west); local lat = south + math.random() * (north - south); "
    f'return wrk.format("GET", string.format("/api/v1/nearest?lat=%.5f&lon=%.5f&k={K}", lat, lon)) end'
)
HEALTH_REQUEST = 'function() return wrk.format("GET", "/healthz") end'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, workers: int, threads: int, tmp: Path, rate_limit: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LOCATOR_DATABASE": str(tmp / "bench.sqlite3"),
        "LOCATOR_RATELIMIT_DEFAULT": rate_limit,
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
        "locator:create_app()",
    ]
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: gunicorn exited with {proc.returncode} before /readyz answered")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("bench: /readyz did not answer in time")


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
        f"/api/v1/nearest?lat={rng.uniform(south, north):.5f}&lon={rng.uniform(west, east):.5f}&k={K}"
        if which == "nearest"
        else "/healthz"
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
    ap.add_argument("--python", action="store_true", help="use the Python client even if wrk is installed")
    args = ap.parse_args()

    use_wrk = shutil.which("wrk") is not None and not args.python
    with tempfile.TemporaryDirectory(prefix="locator-bench-") as d:
        tmp = Path(d)
        port = free_port()
        proc = start_server(port, args.workers, args.threads, tmp, args.rate_limit)
        try:
            wait_ready(port, proc)
            rounds: dict[str, list[dict[str, float]]] = {"healthz": [], "nearest": []}
            if use_wrk:
                for _name, fn in (("healthz", HEALTH_REQUEST), ("nearest", NEAREST_REQUEST)):
                    run_wrk(port, fn, args.warmup, args.wrk_threads, args.connections, tmp)
                # Interleaved slices, so that load from anything else on the machine hits both alike.
                for _ in range(args.rounds):
                    for name, fn in (("healthz", HEALTH_REQUEST), ("nearest", NEAREST_REQUEST)):
                        rounds[name].append(
                            run_wrk(port, fn, args.duration / args.rounds, args.wrk_threads, args.connections, tmp)
                        )
            else:
                for name in rounds:
                    run_python(port, name, max(200, args.count // 10), args.connections)
                for _ in range(args.rounds):
                    for name in rounds:
                        rounds[name].append(run_python(port, name, args.count // args.rounds, args.connections))
            results = {name: summarise(rs) for name, rs in rounds.items()}
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    tool = (
        f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration:g}s"
        if use_wrk
        else f"python client, {args.connections} connections, {args.count} requests"
    )
    print(
        f"gunicorn {args.workers} workers x {args.threads} threads; {tool}; "
        f"nearest k={K} at random points on Hainan island"
    )
    print(f"medians over {args.rounds} interleaved rounds")
    print(f"{'endpoint':<10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'worst p99':>11}{'errors':>8}{'requests':>10}")
    for name, r in results.items():
        print(
            f"{name:<10}{r['rps']:>9.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['p99_worst_ms']:>11.2f}"
            f"{int(r['errors']):>8d}{int(r['requests']):>10d}"
        )
    print(f"ratio nearest/healthz: {results['nearest']['rps'] / results['healthz']['rps']:.2f}")


if __name__ == "__main__":
    main()
