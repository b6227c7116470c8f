"""National scale: 200,000 venues in PostGIS, two app instances behind nginx.

Synthesises ``--venues`` venues laid out like mainland China's (clustered
around 40 large cities, plus Hainan's 2,621 shipped venues, so an admin can
still edit Hainan ones) and loads them into a PostGIS database with COPY; loads the 2,621
Hainan venues alone into a second database. For each register it then

1. builds one worker's index in this process (``--repeat`` times): the time to
   read the register and the time to build the ``VenueIndex``, and the memory
   (RSS) they add;
2. starts two app instances (``deploy/run.sh``: gunicorn × 2, nginx in front)
   on loopback, and reports each instance worker's RSS;
3. drives ``/api/v1/nearest`` through nginx with ``--concurrency`` clients
   (bounded load: a fixed number of requests, each client waiting for its
   answer), at random points where that register's venues are: p50, p99,
   requests per second;
4. closes venues through the admin API of instance 1 and measures how long
   until instance 2 stops serving them (national register only).

It ends with the issue's two targets: the 200,000-venue index builds in
under 10 s, and the nearest p50 through nginx is within 1.5x of the
2,621-venue p50 of the same run.

    .venv/bin/python bench/national.py                          # a throwaway PostgreSQL cluster
    .venv/bin/python bench/national.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from locator.categories import CATEGORY_CODES  # noqa: E402
from locator.storage.base import COLUMN_LIST  # noqa: E402
from locator.storage.migrations import migrate_postgis  # noqa: E402
from locator.storage.postgis import venue_row  # noqa: E402
from locator.venues import HAINAN_BBOX, Venue, load_venues  # noqa: E402

TOKEN = "bench-national-token"
HAINAN = (108.62, 18.17, 111.05, 20.10)
#: The mainland box the city layout is shrunk from (west, south, east, north).
MAINLAND = (85.0, 18.0, 130.0, 48.0)
# (lon, lat, weight) of 40 large mainland cities: venues cluster where people work.
CITIES = [
    (116.40, 39.90, 22),
    (121.47, 31.23, 25),
    (113.26, 23.13, 19),
    (114.06, 22.54, 18),
    (104.07, 30.67, 21),
    (106.55, 29.56, 32),
    (114.30, 30.59, 13),
    (108.94, 34.34, 13),
    (120.16, 30.27, 12),
    (118.80, 32.06, 9),
    (117.20, 39.13, 14),
    (113.62, 34.75, 13),
    (112.94, 28.23, 10),
    (125.32, 43.82, 9),
    (123.43, 41.80, 9),
    (126.53, 45.80, 10),
    (117.00, 36.67, 9),
    (120.38, 36.07, 10),
    (119.30, 26.08, 8),
    (118.09, 24.48, 5),
    (102.71, 25.04, 8),
    (106.71, 26.58, 6),
    (108.32, 22.82, 9),
    (117.23, 31.82, 9),
    (115.86, 28.68, 6),
    (112.55, 37.87, 5),
    (114.51, 38.04, 11),
    (111.75, 40.84, 3),
    (87.62, 43.83, 4),
    (103.83, 36.06, 4),
    (101.78, 36.62, 2),
    (106.23, 38.49, 3),
    (91.13, 29.65, 1),
    (113.12, 23.02, 9),
    (113.75, 23.02, 10),
    (120.30, 31.57, 7),
    (120.58, 31.30, 12),
    (121.55, 29.87, 9),
    (119.95, 31.78, 5),
    (121.61, 38.91, 7),
]


def synth(n: int, seed: int) -> list[tuple]:  # type: ignore[type-arg]
    """``n`` venue rows (the PostGIS store's COPY columns) of :func:`synth_venues`."""
    return [venue_row(v) for v in synth_venues(n, seed)]


def synth_venues(n: int, seed: int) -> list[Venue]:
    """``n`` venues: Hainan's shipped venues, the rest clustered as around mainland cities.

    The register reads back only venues ``Venue`` accepts, which lie inside
    ``HAINAN_BBOX``; so the mainland's pattern (40 cities, their weights and
    spreads) is shrunk linearly into that box. The scale and the clustering,
    which are what the index and the queries feel, stay national.
    """
    rows = load_venues(ROOT / "geodata" / "venues.geojson")
    rng = np.random.default_rng(seed)
    m = n - len(rows)
    w = np.array([c[2] for c in CITIES], float)
    city = rng.choice(len(CITIES), size=m, p=w / w.sum())
    spread = rng.choice([0.08, 0.3, 1.2], size=m, p=[0.5, 0.35, 0.15])  # urban core, suburbs, county towns
    lon = np.array([CITIES[c][0] for c in city]) + rng.normal(0, 1, m) * spread
    lat = np.array([CITIES[c][1] for c in city]) + rng.normal(0, 1, m) * spread * 0.8
    west, south, east, north = HAINAN_BBOX
    lon = np.clip(west + (lon - MAINLAND[0]) / (MAINLAND[2] - MAINLAND[0]) * (east - west), west, east)
    lat = np.clip(south + (lat - MAINLAND[1]) / (MAINLAND[3] - MAINLAND[1]) * (north - south), south, north)
    cats = rng.choice(CATEGORY_CODES, size=m, p=None)
    for i in range(m):
        venue = Venue(
            id=f"cn-{i:06d}",
            name=f"户外劳动者服务站{i}",
            category=str(cats[i]),
            district_code="110101",
            lon=float(lon[i]),
            lat=float(lat[i]),
            source="synthetic national benchmark data",
        )
        rows.append(venue)
    return rows


def db_url(server: str, name: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path="/" + name))


def load(server: str, name: str, rows: list[tuple]) -> str:  # type: ignore[type-arg]
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = db_url(server, name)
    t0 = time.perf_counter()
    with psycopg.connect(url) as conn:
        migrate_postgis(conn)
        with conn.transaction():
            conn.execute("UPDATE register_state SET version = 1")
            with conn.cursor() as cur, cur.copy(f"COPY venues ({COLUMN_LIST}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
            conn.execute("INSERT INTO changes (version, venue_id) VALUES (1, NULL)")
        conn.execute("ANALYZE venues")
        conn.commit()
    print(f"  loaded {len(rows):,} venues into {name} in {time.perf_counter() - t0:.1f} s (COPY, GiST index)")
    return url


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build_once(url: str) -> tuple[float, float, float]:
    """(seconds to read, seconds to build, MB added) for one worker's index, in a fresh process."""
    code = (
        "import json, sys, time\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from bench.national import rss_mb\n"
        "from locator.storage import open_store\n"
        "from locator.index import VenueIndex\n"
        f"s = open_store({url!r})\n"
        "before = rss_mb()\n"
        "t0 = time.perf_counter(); version, venues = s.snapshot_venues(); t1 = time.perf_counter()\n"
        "ix = VenueIndex(venues, version=version); t2 = time.perf_counter()\n"
        "print(json.dumps([t1 - t0, t2 - t1, rss_mb() - before, len(ix)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    read, build, mb, _ = json.loads(out.stdout.strip().splitlines()[-1])
    return read, build, mb


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        for attempt in (0, 1):
            try:
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                return r.status, r.read(), dict(r.getheaders())
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError

    def json(self, path: str) -> dict:  # type: ignore[type-arg]
        status, body, _ = self.get(path)
        assert status == 200, (status, body[:200])
        return json.loads(body)


def load_test(port: int, points: list[tuple[float, float]], concurrency: int) -> dict[str, float]:
    lat_ms: list[float] = []
    errors = [0]
    lock = threading.Lock()
    chunks = [points[i::concurrency] for i in range(concurrency)]

    def worker(chunk: list[tuple[float, float]]) -> None:
        c = Client(port)
        mine = []
        for lon, lat in chunk:
            t = time.perf_counter()
            status, _, _ = c.get(f"/api/v1/nearest?lon={lon:.5f}&lat={lat:.5f}&k=5")
            mine.append((time.perf_counter() - t) * 1000)
            if status != 200:
                errors[0] += 1
        with lock:
            lat_ms.extend(mine)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(ch,)) for ch in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    q = np.percentile(lat_ms, [50, 99])
    return {"p50": float(q[0]), "p99": float(q[1]), "rps": len(lat_ms) / wall, "errors": errors[0]}


def points_for(rows: list[tuple], n: int, rng: random.Random) -> list[tuple[float, float]]:  # type: ignore[type-arg]
    """Query points near where the venues are (a venue's position, jittered by ~5 km)."""
    return [(r[5] + rng.uniform(-0.05, 0.05), r[6] + rng.uniform(-0.05, 0.05)) for r in rng.choices(rows, k=n)]


def start_pair(url: str, lb: int, first: int, workers: int, threads: int) -> subprocess.Popen:  # type: ignore[type-arg]
    env = {
        **os.environ,
        "LOCATOR_DATABASE_URL": url,
        "WEB_WORKERS": str(workers),
        "WEB_THREADS": str(threads),
        "LOCATOR_RATELIMIT_ENABLED": "false",
        "LOCATOR_ACCESS_LOG": "false",
        "LOCATOR_ADMIN_TOKENS": json.dumps({hashlib.sha256(TOKEN.encode()).hexdigest(): "bench"}),
    }
    proc = subprocess.Popen(
        ["bash", str(ROOT / "deploy" / "run.sh"), "-n", "2", "-p", str(first), "-l", str(lb)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("ready:"):
        os.killpg(proc.pid, signal.SIGTERM)
        raise SystemExit(f"deploy/run.sh did not start: {line}")
    return proc


def worker_rss(port: int) -> str:
    c = Client(port)
    pids = {c.json("/readyz")["pid"] for _ in range(20)}
    return ", ".join(f"pid {p}: {rss_mb(p):.0f} MB" for p in sorted(pids))


def propagation(first: int, rows: list[tuple], times: int) -> list[float]:  # type: ignore[type-arg]
    """Close Hainan venues on instance 1; seconds until instance 2 stops serving each."""
    b = Client(first + 1)
    out = []
    for r in [r for r in rows if not r[0].startswith("cn-")][:times]:
        lon, lat = r[5], r[6]
        path = f"/api/v1/nearest?lon={lon}&lat={lat}&k=1"
        assert b.json(path)["features"][0]["id"] == r[0]
        conn = http.client.HTTPConnection("127.0.0.1", first, timeout=10)
        conn.request("GET", f"/api/v1/admin/venues/{r[0]}", headers={"Authorization": f"Bearer {TOKEN}"})
        got = conn.getresponse()
        got.read()
        etag = got.headers["ETag"]  # writes require If-Match
        t0 = time.monotonic()
        conn.request(
            "DELETE", f"/api/v1/admin/venues/{r[0]}", headers={"Authorization": f"Bearer {TOKEN}", "If-Match": etag}
        )
        assert conn.getresponse().status == 200
        while b.json(path)["features"][0]["id"] == r[0]:
            if time.monotonic() - t0 > 5:
                raise SystemExit(f"instance 2 still serves {r[0]} after 5 s")
        out.append(time.monotonic() - t0)
        stale = sum(b.json(path)["features"][0]["id"] == r[0] for _ in range(50))
        assert stale == 0, f"{stale} stale answers after the change was seen"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--database-url",
        default=os.environ.get("LOCATOR_BENCH_DATABASE_URL"),
        help="a PostgreSQL server where this may create databases; default: a throwaway cluster",
    )
    ap.add_argument("--venues", type=int, default=200_000)
    ap.add_argument("--requests", type=int, default=3000, help="nearest requests per register")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3, help="index builds per register (median reported)")
    ap.add_argument("--workers", type=int, default=1, help="gunicorn workers per instance")
    ap.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()

    cluster = None
    server = args.database_url
    if not server:
        from tests.pg import start_cluster

        cluster = start_cluster()
        server = next(cluster).admin_url
    rng = random.Random(args.seed)
    try:
        print(f"synthesising {args.venues:,} venues laid out like mainland China's (seed {args.seed})")
        national = synth(args.venues, args.seed)
        hainan = national[:2621]
        urls = {
            "hainan-2621": load(server, "bench_hainan", hainan),
            f"national-{args.venues}": load(server, "bench_national", national),
        }
        results: dict[str, dict[str, float]] = {}
        for (name, url), rows, port in zip(urls.items(), (hainan, national), (24101, 24201), strict=True):
            print(f"\n== {name}")
            builds = [build_once(url) for _ in range(args.repeat)]
            read = statistics.median(b[0] for b in builds)
            build = statistics.median(b[1] for b in builds)
            mb = statistics.median(b[2] for b in builds)
            print(
                f"  one worker's index: read {read:.2f} s + build {build:.2f} s = {read + build:.2f} s, "
                f"+{mb:.0f} MB RSS (median of {args.repeat}: " + ", ".join(f"{b[0] + b[1]:.2f}" for b in builds) + " s)"
            )
            proc = start_pair(url, port, port + 1, args.workers, args.threads)
            try:
                for inst in (port + 1, port + 2):
                    print(f"  instance :{inst} workers: {worker_rss(inst)}")
                warm = points_for(rows, 300, rng)
                load_test(port, warm, args.concurrency)
                r = load_test(port, points_for(rows, args.requests, rng), args.concurrency)
                print(
                    f"  nearest k=5 through nginx, {args.requests} requests, {args.concurrency} clients: "
                    f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, {r['rps']:.0f} req/s, {r['errors']} errors"
                )
                results[name] = {**r, "build": read + build}
                if name.startswith("national"):
                    delays = propagation(port + 1, rows, 5)
                    print(
                        "  admin close on instance 1 -> gone from instance 2: "
                        f"median {statistics.median(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms "
                        f"({', '.join(f'{d * 1000:.0f}' for d in delays)} ms)"
                    )
                    results[name]["delay_max"] = max(delays)
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
        small, big = results["hainan-2621"], results[f"national-{args.venues}"]
        ratio = big["p50"] / small["p50"]
        print("\n== targets")
        print(
            f"  index build at {args.venues:,} venues: {big['build']:.2f} s "
            f"({'OK' if big['build'] < 10 else 'MISSED'}: < 10 s)"
        )
        print(
            f"  nearest p50 through nginx: {big['p50']:.2f} ms vs {small['p50']:.2f} ms = {ratio:.2f}x "
            f"({'OK' if ratio <= 1.5 else 'MISSED'}: <= 1.5x)"
        )
        ok = "OK" if big["delay_max"] < 1 else "MISSED"
        print(f"  edit propagation: max {big['delay_max'] * 1000:.0f} ms ({ok}: < 1 s)")
    finally:
        if cluster is not None:
            next(cluster, None)


if __name__ == "__main__":
    main()
