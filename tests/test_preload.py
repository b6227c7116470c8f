"""``locator serve`` loads once and forks (issue 13, items 2 and 7), checked on a real gunicorn.

The master builds the app (register, index) before forking; each worker then
opens its own store and starts its own poller (``locator.cli.gunicorn_hooks``).
So: every worker answers ``ready``, an edit made through one worker reaches
the others, a worker killed later is replaced and catches up from the store,
and one replaced while the register cannot be opened serves the master's
data, ``degraded``, instead of exiting (which would halt gunicorn), and is
``ready`` again once the register is back. No wall-clock assertion: only a
bound (``HANG``) that stops a hang.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from locator.storage.snapshot import read_snapshot, snapshot_path

from .pg import pg_server, pg_url  # noqa: F401  (fixtures)
from .test_outage import HANG, TOKEN

ROOT = Path(__file__).resolve().parents[1]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, tmp: Path, workers: int) -> None:
        self.db = tmp / "register.sqlite3"
        self.port = _free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LOCATOR_DATABASE": str(self.db),
            "LOCATOR_SNAPSHOT_DIR": str(tmp),
            "LOCATOR_INDEX_REFRESH_SECONDS": "0.2",
            "LOCATOR_SNAPSHOT_SECONDS": "0",
            "LOCATOR_RATELIMIT_ENABLED": "false",
            "LOCATOR_ACCESS_LOG": "false",
            "LOCATOR_ADMIN_TOKENS": json.dumps({hashlib.sha256(TOKEN.encode()).hexdigest(): "bot"}),
        }
        argv = [sys.executable, "-m", "locator.cli", "serve", "--port", str(self.port), "--workers", str(workers)]
        self.log = tmp / "serve.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True)

    def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HANG)
        try:  # a new connection each time: the workers share the socket, so each may get it
            conn.request(method, path, headers={"Connection": "close", **(headers or {})})
            resp = conn.getresponse()
            body = resp.read()
            return resp.status, json.loads(body) if body else {}, dict(resp.headers)
        finally:
            conn.close()

    def workers(self) -> set[int]:
        pid = self.proc.pid
        return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}

    def readyz_of_every_worker(self) -> dict[int, dict]:
        """``/readyz`` of each live worker (asked until each has answered once).

        The live children are read afresh each time: the master may also have
        a short-lived child writing the snapshot (``Register.detach``).
        """
        seen: dict[int, dict] = {}
        t0 = time.monotonic()
        while not (want := self.workers()) <= seen.keys():
            self.alive()
            assert time.monotonic() - t0 < HANG, f"workers {want - seen.keys()} never answered"
            try:
                status, body, _ = self.request("GET", "/readyz")
            except OSError:
                time.sleep(0.05)
                continue
            seen[body["pid"]] = {**body, "http": status}
        return {pid: seen[pid] for pid in want}

    def wait(self, predicate, what: str) -> None:
        t0 = time.monotonic()
        while not predicate():
            self.alive()
            assert time.monotonic() - t0 < HANG, f"never: {what}"
            time.sleep(0.1)

    def alive(self) -> None:
        assert self.proc.poll() is None, f"gunicorn exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(60)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path, workers=2)
    try:
        s.wait(lambda: len(s.workers()) == 2, "two workers forked")
        yield s
    finally:
        s.stop()


def _replace_a_worker(server: Server) -> int:
    before = set(server.readyz_of_every_worker())  # workers only: each has answered
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    server.wait(lambda: len(set(server.readyz_of_every_worker()) - before) == 1, "the worker is replaced")
    return (set(server.readyz_of_every_worker()) - before).pop()


def test_workers_forked_from_one_load_stay_fresh_are_replaced_and_survive_an_outage(server):
    every = server.readyz_of_every_worker()
    assert {w["status"] for w in every.values()} == {"ready"}, every
    assert {w["data_version"] for w in every.values()} == {1}
    # the master wrote the local snapshot (from a short-lived child, so its own pages stay shared)
    snap = snapshot_path(str(server.db), server.db.parent)
    server.wait(snap.exists, "the snapshot is written")
    assert read_snapshot(snap).data_version == 1 and len(read_snapshot(snap).venues) == every.popitem()[1]["venues"]

    # an edit through one worker reaches the other (each has its own poller, started after the fork)
    status, near, _ = server.request("GET", "/api/v1/nearest?lon=110.33&lat=20.03&k=1")
    victim = near["features"][0]["id"]
    _, _, head = server.request("GET", f"/api/v1/admin/venues/{victim}", AUTH)
    status, _, _ = server.request("DELETE", f"/api/v1/admin/venues/{victim}", {**AUTH, "If-Match": head["ETag"]})
    assert status == 200
    server.wait(
        lambda: {w["data_version"] for w in server.readyz_of_every_worker().values()} == {2}, "both serve version 2"
    )
    # a worker rewrites the snapshot (from a short-lived child of its own), once for the instance
    server.wait(lambda: read_snapshot(snap).data_version == 2, "the snapshot follows the edit")
    assert victim not in {v.id for v in read_snapshot(snap).venues}

    # a worker killed now is replaced from the master (which loaded version 1) and catches up from the store
    fresh = _replace_a_worker(server)
    server.wait(lambda: server.readyz_of_every_worker()[fresh]["data_version"] == 2, "the new worker caught up")

    # the register cannot be opened (a folder where the file was): a replaced worker serves, degraded
    good = server.db.with_name("good.sqlite3")
    good.write_bytes(server.db.read_bytes())  # WAL mode: the edit may still be in the -wal file
    for suffix in ("-wal", "-shm"):
        side = server.db.with_name(server.db.name + suffix)
        if side.exists():
            good.with_name(good.name + suffix).write_bytes(side.read_bytes())
            side.unlink()
    server.db.unlink()
    server.db.mkdir()
    fresh = _replace_a_worker(server)
    state = server.readyz_of_every_worker()[fresh]
    assert state["http"] == 200 and state["status"] == "degraded" and state["reason"], state
    got = [server.request("GET", "/api/v1/nearest?lon=110.33&lat=20.03&k=3")[0] for _ in range(10)]
    assert got == [200] * 10

    # the register is back: the new worker opens it and is ready, at the current version
    server.db.rmdir()
    for suffix in ("", "-wal", "-shm"):
        side = good.with_name(good.name + suffix)
        if side.exists():
            side.rename(server.db.with_name(server.db.name + suffix))
    server.wait(lambda: server.readyz_of_every_worker()[fresh]["status"] == "ready", "the new worker is ready")
    assert server.readyz_of_every_worker()[fresh]["data_version"] == 2


def test_serve_starts_without_its_register_not_ready_and_keeps_running(tmp_path):
    (tmp_path / "register.sqlite3").mkdir()  # cannot be opened, and there is no snapshot
    s = Server(tmp_path, workers=1)
    try:
        s.wait(lambda: len(s.workers()) == 1, "a worker forked")
        state = s.readyz_of_every_worker()
        assert [w["http"] for w in state.values()] == [503] and [w["status"] for w in state.values()] == ["not_ready"]
        status, body, _ = s.request("GET", "/api/v1/nearest?lon=110.33&lat=20.03&k=1")
        assert status == 503 and body["status"] == 503
        s.alive()  # gunicorn did not halt: a worker that exited at boot would have stopped it
        assert "warning: the register does not answer" in s.log.read_text()
    finally:
        s.stop()


def test_serve_refuses_a_bad_setting_with_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOCATOR_DATABASE_URL": "mysql://db/locator"}
    out = subprocess.run(
        [sys.executable, "-m", "locator.cli", "serve", "--port", str(_free_port())],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert out.returncode == 1 and out.stderr.strip().splitlines() == [
        "locator: error: unsupported database URL scheme 'mysql'; use a SQLite path, sqlite:/// or postgresql://"
    ]


def test_a_postgis_register_detaches_before_a_fork_and_reattaches_in_the_child(pg_url, tmp_path):  # noqa: F811
    from locator import create_app
    from locator.storage import after_fork, before_fork
    from locator.web.state import get_register

    app = create_app({"TESTING": True, "DATABASE_URL": pg_url, "SNAPSHOT_DIR": str(tmp_path), "ACCESS_LOG": False})
    reg = get_register(app)
    try:
        assert reg.listener is not None and reg.poller is not None
        before_fork()  # what the gunicorn master does: no thread, no pooled connection crosses the fork
        assert reg.listener is None and reg.poller is None and reg.freshness().reachable is False
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: its own pool, listener and poller; an edit through it is served at once
            code = 1
            try:
                after_fork()
                t0 = time.monotonic()
                while not (reg.listener is not None and reg.listener.healthy) and time.monotonic() - t0 < HANG:
                    time.sleep(0.05)
                venue = reg.index.venues()[0]
                reg.store.put(venue.__class__(**{**venue.as_dict(), "amenities": (), "status": "closed"}))
                reg.refresh()
                ok = reg.freshness().reachable and venue.id not in reg.index and reg.poller.alive
                os.write(write, json.dumps({"ok": ok, "version": reg.index.version}).encode())
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        _, status = os.waitpid(pid, 0)
        got = json.loads(os.read(read, 1000) or b"{}")
        assert os.waitstatus_to_exitcode(status) == 0 and got["ok"], got
        after_fork()  # the parent (as a test stand-in for a worker) reattaches and catches up with the child's edit
        reg.refresh()
        assert reg.index.version == got["version"] and reg.freshness().reachable
    finally:
        reg.close()
