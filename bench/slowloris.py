"""Benchmark: slow clients (slowloris) against ``locator serve`` (issue 14).

Run: .venv/bin/python bench/slowloris.py [--slow 64] [--seconds 20] [--setups sync:1 gthread:4 buffering:4]

For each setup (a worker class and threads per worker: ``sync`` is gunicorn's
sync worker, the old ``make serve`` default; ``gthread`` its threaded worker;
``buffering`` ``locator.web.worker.HeaderBufferingWorker``, the new default),
starts gunicorn with 2 workers on a free port, as ``locator serve`` does, and measures:

1. throughput: nearest requests a second from 4 client threads, no slow clients;
2. under attack: ``--slow`` connections that send a request line and then one
   header byte a second (reconnecting when dropped) while the same 4 threads
   send normal nearest requests with a 5 s timeout, for ``--seconds``.

Prints, per setting, the throughput, the share of normal requests answered
under attack and their p99 latency. The issue's bar: >= 99 % answered, p99 <= 1 s,
and throughput within 10 % of the sync worker's, in the same run.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).parent / "gunicorn"
CLASSES = {"sync": "sync", "gthread": "gthread", "buffering": "locator.web.worker.HeaderBufferingWorker"}
PATH = "/api/v1/nearest?lon=110.33&lat=20.03&k=5"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(port: int, worker: str, threads: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LOCATOR_ACCESS_LOG": "false",
        "LOCATOR_RATELIMIT_ENABLED": "false",
        "LOCATOR_DATABASE": str(tmp / "bench.sqlite3"),
    }
    argv = [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", str(threads)]
    argv += ["--worker-class", CLASSES[worker], "locator:create_app()"]
    proc = subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.2)


def _normal(port: int, until: float, out: list[float | None]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while time.monotonic() < until:
        t0 = time.monotonic()
        try:
            conn.request("GET", PATH)
            r = conn.getresponse()
            r.read()
            out.append(time.monotonic() - t0 if r.status == 200 else None)
        except OSError:
            out.append(None)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)


def _slow(port: int, until: float) -> None:
    sock = None
    while time.monotonic() < until:
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(f"GET {PATH} HTTP/1.1\r\nHost: x\r\n".encode())
            sock.sendall(random.choice(b"abcdefgh").to_bytes(1, "big"))
            time.sleep(1)
        except OSError:
            if sock is not None:
                sock.close()
            sock = None
            time.sleep(0.1)
    if sock is not None:
        sock.close()


def _load(port: int, seconds: float, slow: int) -> list[float | None]:
    until = time.monotonic() + seconds
    out: list[float | None] = []
    attackers = [threading.Thread(target=_slow, args=(port, until), daemon=True) for _ in range(slow)]
    for t in attackers:
        t.start()
    if slow:
        time.sleep(2)  # let the slow clients take their places first
    normal = [threading.Thread(target=_normal, args=(port, until, out)) for _ in range(4)]
    for t in normal:
        t.start()
    for t in normal + attackers:
        t.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--setups", nargs="+", default=["sync:1", "gthread:4", "buffering:4"])
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for setup in args.setups:
            worker, _, threads_text = setup.partition(":")
            threads = int(threads_text or "1")
            port = _free_port()
            proc = _start(port, worker, threads, Path(tmp))
            try:
                base = _load(port, 5, 0)
                rate = sum(x is not None for x in base) / 5
                hit = _load(port, args.seconds, args.slow)
            finally:
                proc.terminate()
                proc.wait(30)
            ok = sorted(x for x in hit if x is not None)
            share = len(ok) / len(hit) if hit else 0.0
            p99 = ok[min(len(ok) - 1, int(0.99 * len(ok)))] if ok else float("nan")
            median = statistics.median(ok) if ok else float("nan")
            print(
                f"{worker} × {threads} threads: {rate:.0f} nearest/s unattacked; with {args.slow} slow clients "
                f"for {args.seconds:.0f} s: {len(ok)}/{len(hit)} answered ({share:.1%}), "
                f"median {median * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
