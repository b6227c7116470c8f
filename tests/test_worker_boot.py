"""A worker replaced while the register cannot be opened does not halt its instance (issue 13).

gunicorn halts an instance whose worker fails to boot. A replacement worker
that finds the store unreachable starts instead, from the local snapshot or
with no data (``not_ready``, 503), while its sibling serves from memory; once
the register is back, its poller catches up and it is ready. Here
the register's folder is swapped for a plain file (so opening the register
fails with an ``OSError``, as an unreachable store fails), a worker is
killed, and the instance is watched. Timeouts only stop a hung test.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HANG = 60.0
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HANG)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _wait(predicate, what: str) -> None:
    t0 = time.monotonic()
    while not predicate():
        assert time.monotonic() - t0 < HANG, f"never: {what}"
        time.sleep(0.1)


def test_a_replacement_worker_retries_while_the_register_is_unreachable(register_template: Path, tmp_path: Path):
    folder = tmp_path / "register"
    folder.mkdir()
    shutil.copyfile(register_template, folder / "r.sqlite3")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {
        **os.environ,
        "LOCATOR_DATABASE": str(folder / "r.sqlite3"),
        "LOCATOR_ACCESS_LOG": "false",
        "LOCATOR_RATELIMIT_ENABLED": "false",
    }
    argv = [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "1"]
    argv += ["--worker-class", "locator.web.worker.HeaderBufferingWorker", "locator:create_app()"]
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(argv, env=env, stderr=err, start_new_session=True)
    try:
        pids: set[int] = set()

        def both_workers_seen() -> bool:
            try:
                status, body = _get(port, "/readyz")
            except OSError:
                return False
            if status == 200:
                pids.add(json.loads(body)["pid"])
            return len(pids) == 2

        _wait(both_workers_seen, "both workers answer /readyz")
        away = tmp_path / "register.away"
        folder.rename(away)
        folder.write_text("not a folder: opening the register now fails")
        victim = min(pids)
        os.kill(victim, signal.SIGKILL)
        fresh: dict[int, str] = {}

        def replacement_up() -> bool:
            try:
                status, body = _get(port, "/readyz")
            except OSError:
                return False
            doc = json.loads(body)
            if doc["pid"] not in pids:
                fresh[doc["pid"]] = doc["status"]
                assert status == (503 if doc["status"] == "not_ready" else 200)
            return bool(fresh)

        _wait(replacement_up, "a replacement worker answers while the register cannot be opened")
        assert proc.poll() is None, "gunicorn halted the instance"
        # The replacement has no snapshot beside an unreadable register: it runs, says not_ready, and waits.
        assert set(fresh.values()) <= {"not_ready", "degraded"}
        # whichever worker accepts answers: the survivor from memory (200), the replacement 503; never a
        # refused connection or a 500 (which worker the kernel hands a connection to is not ours to pick)
        statuses = {_get(port, "/api/v1/nearest?lon=110.33&lat=20.03&k=3")[0] for _ in range(10)}
        assert statuses <= {200, 503}
        folder.unlink()
        away.rename(folder)

        def replacement_ready() -> bool:
            status, body = _get(port, "/readyz")
            doc = json.loads(body)
            return doc["pid"] in fresh and doc["status"] == "ready"

        _wait(replacement_ready, "the replacement is ready once the register is back")
        assert proc.poll() is None and victim not in fresh
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
