"""CPU instructions a request takes in the app and in a bare Flask app, counted by valgrind: the same every run.

Throughput on a shared two-core machine moves by a tenth or more between runs
of the same code (``bench/api.py`` measures it, as deployed). This counts
instead what the process executes for one request, in-process (no server, no
sockets): the project's app and the bare one of ``bench/api.py`` each answer
``--requests`` requests through their WSGI callable under valgrind's
callgrind, counting only while those requests run (the access-log writer
thread included). Two runs of the same code agree to within about half a
percent, so a change of 1 % shows.

An instruction count is not time (cache misses, a C loop that runs fast), and
under valgrind the CPU's SHA extensions are not used: the ETag's SHA-256 is
counted as software (about 85k instructions a nearest answer, a few µs less
in reality). ``--no-hash`` replaces it by a constant, to compare the rest.

Needs valgrind (Debian ``valgrind``; ``callgrind_control`` comes with it)::

    .venv/bin/python bench/instructions.py
    .venv/bin/python bench/instructions.py --requests 2000 --no-hash
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.api import ISLAND, K  # noqa: E402

TARGETS = {
    "nearest": ("project", "/api/v1/nearest"),
    "bare-nearest": ("bare", "/nearest"),
    "healthz": ("project", "/healthz"),
    "bare-const": ("bare", "/const"),
}
WARMUP = 300


def _environ(path: str, query: str) -> dict[str, object]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "wrk",
        "wsgi.version": (1, 0),
    }


def _child(target: str, requests: int, marker: Path, no_hash: bool) -> None:
    """Build the app, warm it, then answer ``requests`` requests between the two marks the parent waits for."""
    os.environ.setdefault("LOCATOR_RATELIMIT_DEFAULT", "100000000 per minute")
    which, path = TARGETS[target]
    if which == "bare":
        from bench.api import bare_app

        app = bare_app()
    else:
        from locator import create_app

        app = create_app()
        for handler in logging.getLogger("locator.access").handlers:
            handler.stream = open(os.devnull, "w")  # type: ignore[attr-defined]  # noqa: SIM115
        if no_hash:
            import locator.web.http as http

            class _Constant:
                def __init__(self, _data: bytes) -> None:
                    pass

                def hexdigest(self) -> str:
                    return "0" * 64

            http.hashlib = type("hashlib", (), {"sha256": _Constant})  # type: ignore[assignment]
    import gc

    gc.collect()
    gc.freeze()  # as locator serve runs: the start-up heap is never walked again
    rng = random.Random(2621)
    west, south, east, north = ISLAND
    queries = [
        f"lat={rng.uniform(south, north):.5f}&lon={rng.uniform(west, east):.5f}&k={K}" if "nearest" in path else ""
        for _ in range(1000)
    ]

    def call(i: int) -> None:
        body = app(_environ(path, queries[i % 1000]), lambda status, headers, exc_info=None: None)
        for _chunk in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()

    for i in range(WARMUP):
        call(i)
    marker.write_text("ready")
    time.sleep(1.0)  # the parent turns counting on
    for i in range(requests):
        call(i)
    for handler in logging.getLogger("locator.access").handlers:
        handler.flush()  # the writer's lines of these requests are counted too
    marker.write_text("done")
    time.sleep(1.0)  # the parent turns counting off


def _wait_for(marker: Path, text: str, proc: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not (marker.exists() and marker.read_text() == text):
        if proc.poll() is not None:
            raise SystemExit(f"bench: the counted process exited with {proc.returncode} before {text!r}")
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: no {text!r} from the counted process in {timeout:g} s")
        time.sleep(0.1)


def count(target: str, requests: int, no_hash: bool) -> float:
    """Instructions a request for ``target``, counted by callgrind."""
    with tempfile.TemporaryDirectory(prefix="locator-instr-") as d:
        tmp = Path(d)
        marker, out = tmp / "marker", tmp / "callgrind.out"
        env = {**os.environ, "LOCATOR_DATABASE": str(tmp / "bench.sqlite3")}
        argv = [sys.executable, __file__, "--child", target, "--requests", str(requests), "--marker", str(marker)]
        if no_hash:
            argv.append("--no-hash")
        proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", *argv],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(marker, "ready", proc)
            subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], capture_output=True, check=True)
            _wait_for(marker, "done", proc)
            subprocess.run(["callgrind_control", "-i", "off", str(proc.pid)], capture_output=True, check=True)
        finally:
            proc.wait(timeout=600)
        totals = re.search(r"^totals:\s+(\d+)", out.read_text(), re.MULTILINE)
        if totals is None:
            raise SystemExit(f"bench: no totals in callgrind's output for {target}")
        return int(totals.group(1)) / requests


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=1000, help="counted requests per endpoint (default 1000)")
    ap.add_argument("--no-hash", action="store_true", help="the project's ETag hash replaced by a constant")
    ap.add_argument("--child", choices=sorted(TARGETS), help=argparse.SUPPRESS)
    ap.add_argument("--marker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.requests, args.marker, args.no_hash)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("bench: valgrind is not installed (Debian: apt-get install valgrind)")
    per = {target: count(target, args.requests, args.no_hash) for target in TARGETS}
    note = ", the ETag hash replaced by a constant" if args.no_hash else ""
    print(f"instructions a request, in-process, {args.requests} requests each (callgrind{note})")
    for target, n in per.items():
        print(f"{target:<14}{n:>12,.0f}")
    for ours, bare in (("nearest", "bare-nearest"), ("healthz", "bare-const")):
        print(f"ratio {bare}/{ours}: {per[bare] / per[ours]:.2f} (the project's share of the bare app's speed)")


if __name__ == "__main__":
    main()
