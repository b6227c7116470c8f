"""Memory per worker and start-up time of ``locator serve`` at Hainan and national scale (issue 13, item 7).

For each register size (``--venues``: the shipped 2,621, and 200,000
synthesised as ``bench/national.py`` lays them out) this builds a SQLite
register, then for each way of starting (``--modes``):

- ``preload``: ``locator serve`` as shipped: gunicorn loads the app (register
  and index) once in the master and forks the workers, which share it
  copy-on-write (``locator/cli/gunicorn_hooks.py``);
- ``plain``: gunicorn on ``locator:create_app()`` without those hooks (as
  ``deploy/run.sh`` starts an instance): every worker loads its own;

starts it with 1 and with ``--workers`` workers, takes the seconds from
launch to the first ``/readyz`` 200 with every worker forked, warms every
worker up with nearest and OGC items requests (with and without a bbox),
and reads each process's private memory (``Private_Clean + Private_Dirty``
of ``/proc/<pid>/smaps_rollup``) and the total PSS. The issue's targets: a
worker added at 200,000 venues costs at most 50 MB of private memory, and
start-up to ready takes at most 10 s.

    .venv/bin/python bench/memory.py                       # 2,621 and 200,000 venues, 1 and 4 workers
    .venv/bin/python bench/memory.py --venues 200000 --modes preload --workers 8
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.national import synth_venues  # noqa: E402
from locator.storage.sqlite import SQLiteStore  # noqa: E402
from locator.venues import load_venues  # noqa: E402

BIN = Path(sys.executable).parent
HANG = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def private_mb(pid: int) -> tuple[float, float]:
    """(private MB, PSS MB) of one process, from ``smaps_rollup``."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value)
    return (fields["Private_Clean"] + fields["Private_Dirty"]) / 1024, fields["Pss"] / 1024


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and its live children: start-up work, whatever the machine's load."""
    total = 0.0
    for p in [pid, *children(pid)]:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return sorted(int(p) for p in text.split())


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def build_register(folder: Path, n: int) -> Path:
    path = folder / f"register-{n}.sqlite3"
    venues = load_venues(ROOT / "geodata" / "venues.geojson") if n <= 2621 else synth_venues(n, 2026)
    store = SQLiteStore(path)
    t0 = time.perf_counter()
    store.seed_if_empty(venues)
    store.close()
    print(f"  built a SQLite register of {len(venues):,} venues in {time.perf_counter() - t0:.1f} s")
    return path


def start(mode: str, db: Path, workers: int, port: int, folder: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LOCATOR_DATABASE": str(db),
        "LOCATOR_RATELIMIT_ENABLED": "false",
        "LOCATOR_ACCESS_LOG": "false",
        "LOCATOR_SNAPSHOT_DIR": str(folder),
        "WEB_THREADS": "4",
        "PYTHONPATH": str(ROOT),  # this checkout's package, whichever one the venv installed
    }
    if mode == "preload":
        argv = [str(BIN / "locator"), "serve", "--port", str(port), "--workers", str(workers)]
    else:
        argv = [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            "4",
            "--worker-class",
            "locator.web.worker.HeaderBufferingWorker",
            "locator:create_app()",
        ]
    log = open(folder / f"serve-{mode}-{workers}.log", "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True)


def wait_ready(proc: subprocess.Popen[bytes], port: int, workers: int) -> float:
    """Seconds from launch until ``/readyz`` answers 200 with every worker forked and answering."""
    t0 = time.monotonic()
    seen: set[int] = set()
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before it was ready")
        if time.monotonic() - t0 > HANG:
            raise SystemExit(f"not ready in {HANG:.0f} s")
        try:
            status, body = get(port, "/readyz")
        except OSError:
            time.sleep(0.05)
            continue
        if status == 200:
            seen.add(json.loads(body)["pid"])
            if len(children(proc.pid)) == workers and (workers == 1 or len(seen) >= 1):
                return time.monotonic() - t0
        time.sleep(0.05)


def warm_up(port: int, rounds: int, rng: random.Random, paging: bool) -> int:
    """Requests from 8 clients (a new connection each, so every worker gets some); returns the errors.

    ``paging`` False: nearest (k=5, and k=10 in one category) and OGC items in
    a bbox (the map's requests). True: OGC items pages without a bbox, which
    go through every venue of the register.
    """
    paths = []
    if not paging:
        for _ in range(rounds):
            lon, lat = rng.uniform(108.6, 111.0), rng.uniform(18.2, 20.1)
            paths.append(f"/api/v1/nearest?lon={lon:.5f}&lat={lat:.5f}&k=5")
            paths.append(f"/api/v1/nearest?lon={lon:.5f}&lat={lat:.5f}&k=10&category=outdoor_station")
        for _ in range(max(8, rounds // 10)):
            lon, lat = rng.uniform(108.6, 110.5), rng.uniform(18.2, 19.5)
            paths.append(f"/api/v1/collections/venues/items?bbox={lon:.3f},{lat:.3f},{lon + 0.3:.3f},{lat + 0.3:.3f}")
    else:
        for _ in range(max(8, rounds // 10)):
            paths.append(f"/api/v1/collections/venues/items?limit=100&offset={rng.randrange(0, 2000)}")
    rng.shuffle(paths)
    errors = [0]
    lock = threading.Lock()

    def client(chunk: list[str]) -> None:
        for path in chunk:
            status, _ = get(port, path)
            if status != 200:
                with lock:
                    errors[0] += 1

    threads = [threading.Thread(target=client, args=(paths[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors[0]


def memory(proc: subprocess.Popen[bytes]) -> tuple[tuple[float, float], list[tuple[float, float]]]:
    time.sleep(1.0)
    return private_mb(proc.pid), [private_mb(k) for k in children(proc.pid)]


def measure(mode: str, db: Path, workers: int, folder: Path, rounds: int, seed: int) -> dict[str, float]:
    port = free_port()
    proc = start(mode, db, workers, port, folder)
    try:
        ready = wait_ready(proc, port, workers)
        cpu = cpu_s(proc.pid)
        errors = warm_up(port, rounds, random.Random(seed), paging=False)
        master, each = memory(proc)
        errors += warm_up(port, rounds, random.Random(seed), paging=True)
        _, paged = memory(proc)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    worker_private = [p for p, _ in each]
    pss = master[1] + sum(s for _, s in each)
    print(
        f"  {mode:8s} {workers} worker(s): ready in {ready:5.2f} s ({cpu:.1f} CPU s); "
        f"private MB: master {master[0]:6.1f}, "
        f"workers {', '.join(f'{p:.1f}' for p in worker_private)} (after items pages without a bbox: "
        f"{', '.join(f'{p:.1f}' for p, _ in paged)}); total PSS {pss:.0f} MB; {errors} errors"
    )
    return {
        "ready": ready,
        "cpu": cpu,
        "worker": statistics.mean(worker_private),
        "pss": pss,
        "max": max(worker_private),
        "paged": max(p for p, _ in paged),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--venues", type=int, nargs="+", default=[2621, 200_000])
    ap.add_argument("--workers", type=int, default=4, help="the larger worker count (the other is 1)")
    ap.add_argument("--modes", nargs="+", choices=("preload", "plain"), default=["preload", "plain"])
    ap.add_argument("--rounds", type=int, default=300, help="nearest points in the warm-up (items: a tenth)")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="locator-memory-") as tmp:
        folder = Path(tmp)
        summary = []
        for n in args.venues:
            print(f"\n== {n:,} venues")
            db = build_register(folder, n)
            for mode in args.modes:
                one = measure(mode, db, 1, folder, args.rounds, args.seed)
                many = measure(mode, db, args.workers, folder, args.rounds, args.seed)
                extra = (many["pss"] - one["pss"]) / (args.workers - 1)
                summary.append((n, mode, one, many, extra))
        print("\n== per extra worker (mean private MB of the workers; PSS added per worker) and start-up to ready")
        for n, mode, one, many, extra in summary:
            target = "" if n < 200_000 else (" OK" if many["max"] <= 50 else " MISSED") + " (<= 50 MB)"
            ready = "" if n < 200_000 else (" OK" if many["ready"] <= 10 else " MISSED") + " (<= 10 s)"
            print(
                f"  {n:>7,} {mode:8s}: private {many['worker']:.1f} MB (max {many['max']:.1f}){target}; "
                f"max {many['paged']:.1f} MB after items pages without a bbox; PSS +{extra:.1f} MB/worker; "
                f"ready {one['ready']:.2f} s (1 worker), {many['ready']:.2f} s ({args.workers} workers){ready}, "
                f"{many['cpu']:.1f} CPU s"
            )


if __name__ == "__main__":
    main()
