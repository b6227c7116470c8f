"""Freshness across processes: two app instances on one register, on both back ends.

Each instance is a real gunicorn process (as ``locator serve`` runs it) with
its own in-memory index. A venue closed through the admin API of one instance
must disappear from the other's answers, and never come back.
PostGIS refreshes on LISTEN/NOTIFY with the shipped default
``INDEX_REFRESH_SECONDS`` (1 s, here only the fallback poll); SQLite's bound
is the refresh interval itself, so it runs with 0.5 s.

The tests print the propagation delays but assert none: on a shared machine a
wall-clock bound fails for the wrong reason. ``HANG`` only stops a test that
would otherwise wait for ever. That the SQLite bound is the refresh interval
is tested with a stepped clock (``test_throttle_says_when_the_interval_has_passed``).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from locator.storage import open_store
from locator.storage.freshness import ChangeListener
from locator.venues import Venue

from .conftest import ROOT
from .pg import pg_server, pg_url  # noqa: F401  (fixtures)

TOKEN = "freshness-test-token"
POINT = (110.33, 20.03)
GUNICORN = Path(sys.executable).parent / "gunicorn"
HANG = 30.0  # seconds: a change never seen by then is lost, not slow


def _free_port() -> int:
    """A free port below the ephemeral range, so no client connection can take it before a server binds it."""
    while True:
        port = random.randint(20000, 32000)
        if _port_free(port):
            return port


def _get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return json.loads(r.read())


def _nearest_ids(port: int, k: int = 3) -> list[str]:
    doc = _get(port, f"/api/v1/nearest?lon={POINT[0]}&lat={POINT[1]}&k={k}")
    return [f["id"] for f in doc["features"]]


def _close(port: int, venue_id: str) -> dict:
    url = f"http://127.0.0.1:{port}/api/v1/admin/venues/{venue_id}"
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})) as r:
        etag = r.headers["ETag"]  # writes require If-Match (issue 14)
    req = urllib.request.Request(url, method="DELETE", headers={"Authorization": f"Bearer {TOKEN}", "If-Match": etag})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


@pytest.fixture(params=["sqlite", "postgis"])
def instances(request, tmp_path):
    """Two gunicorn instances (1 worker × 2 threads each) on one register; yields their ports."""
    env = {
        **os.environ,
        "LOCATOR_ADMIN_TOKENS": json.dumps({hashlib.sha256(TOKEN.encode()).hexdigest(): "bot"}),
        "LOCATOR_RATELIMIT_ENABLED": "false",
        "LOCATOR_ACCESS_LOG": "false",
        "LOCATOR_CACHE_MAX_AGE": "0",
    }
    if request.param == "sqlite":
        env["LOCATOR_DATABASE"] = str(tmp_path / "shared.sqlite3")
        env["LOCATOR_INDEX_REFRESH_SECONDS"] = "0.5"
        env.pop("LOCATOR_DATABASE_URL", None)
        target = env["LOCATOR_DATABASE"]
    else:
        target = env["LOCATOR_DATABASE_URL"] = request.getfixturevalue("pg_url")
        env.pop("LOCATOR_INDEX_REFRESH_SECONDS", None)  # the shipped default (1 s): NOTIFY does the work
    open_store(target).close()  # create the schema once, before two processes race to seed
    ports = [_free_port(), _free_port()]
    procs = [
        subprocess.Popen(
            [
                str(GUNICORN),
                "--bind",
                f"127.0.0.1:{p}",
                "--workers",
                "1",
                "--threads",
                "2",
                "--chdir",
                str(ROOT),
                "--log-level",
                "warning",
                "locator:create_app()",
            ],
            env={**env, "LOCATOR_INSTANCE": str(i)},
            cwd=tmp_path,
            start_new_session=True,
        )
        for i, p in enumerate(ports)
    ]
    try:
        deadline = time.monotonic() + 30
        for p, proc in zip(ports, procs, strict=True):
            while True:
                try:
                    if _get(p, "/readyz")["status"] == "ready":
                        break
                except OSError:
                    pass
                assert proc.poll() is None, f"instance on port {p} exited with {proc.returncode}"
                assert time.monotonic() < deadline, f"instance on port {p} not ready in 30 s"
                time.sleep(0.1)
        yield request.param, ports, target
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(10)


def test_a_venue_closed_on_one_instance_is_gone_from_the_other(instances):
    backend, (a, b), target = instances
    ready_a, ready_b = _get(a, "/readyz"), _get(b, "/readyz")
    assert ready_a["backend"] == ready_b["backend"] == backend
    assert ready_a["pid"] != ready_b["pid"] and ready_a["data_version"] == ready_b["data_version"] == 1
    assert ready_a["venues"] == ready_b["venues"] == 2621
    if backend == "postgis":
        assert ready_a["listening"] is True and ready_b["listening"] is True

    delays = []
    for _ in range(3):  # three venues in a row, each closed on A and watched on B
        victim = _nearest_ids(b, 1)[0]
        assert _nearest_ids(a, 1)[0] == victim
        t0 = time.monotonic()
        _close(a, victim)  # committed when this returns
        for port in (b, a):  # the other instance, then the one that made the edit: each refreshes on its own
            while victim in _nearest_ids(port):
                assert time.monotonic() - t0 < HANG, f"{backend}: port {port} still serves {victim!r}"
                time.sleep(0.005)
            delays.append(time.monotonic() - t0)
        stale = [i for i in range(100) if victim in _nearest_ids(b) + _nearest_ids(a)]
        assert stale == [], f"{backend}: a stale answer came back after the change was seen"
    ra, rb = _get(a, "/readyz"), _get(b, "/readyz")
    assert ra["data_version"] == rb["data_version"] == 4 and ra["venues"] == rb["venues"] == 2618
    print(f"\n{backend}: propagation delays (s): {', '.join(f'{d:.3f}' for d in delays)}")


def test_an_import_from_elsewhere_reaches_both_instances(instances):
    backend, (a, b), target = instances
    store = open_store(target)  # as `locator import` on another host would
    try:
        keep = store.venues()[:10]
        t0 = time.monotonic()
        version = store.replace_all(keep, note="import small.csv (replace)")
        moved = Venue(**{**keep[0].as_dict(), "amenities": keep[0].amenities, "lon": POINT[0], "lat": POINT[1]})
        version = store.edit(moved, "cli", "move")
    finally:
        store.close()
    for port in (a, b):
        while _get(port, "/readyz")["data_version"] != version:
            assert time.monotonic() - t0 < HANG, f"{backend}: port {port} never caught up with {version}"
            time.sleep(0.01)
        assert _get(port, "/readyz")["venues"] == 10 and _nearest_ids(port, 1) == [moved.id]


# -- the pieces, without processes --------------------------------------------------


def test_listener_refreshes_on_notify_and_survives_a_failing_refresh(pg_url):  # noqa: F811
    import psycopg

    calls: list[float] = []

    def on_change():
        calls.append(time.monotonic())
        if len(calls) == 2:
            raise RuntimeError("database hiccup (injected)")

    listener = ChangeListener(pg_url, "locator_test", on_change, poll_seconds=30).start()
    try:
        assert listener.healthy and len(calls) == 1  # one catch-up call right after LISTEN
        with psycopg.connect(pg_url, autocommit=True) as conn:
            for n in (2, 3):
                t0 = time.monotonic()
                conn.execute("NOTIFY locator_test, 'x'")
                while len(calls) < n:
                    assert time.monotonic() - t0 < HANG, f"no refresh after NOTIFY {n - 1}"
                    time.sleep(0.002)
        assert listener.healthy and listener.notifications == 2
    finally:
        listener.stop(wait=0.1)
    with pytest.raises(ValueError, match="plain identifier"):
        ChangeListener(pg_url, "x; DROP TABLE venues", on_change)


# -- the deployment recipe: deploy/run.sh, two instances behind nginx ------------------


def test_deploy_recipe_balances_two_instances_and_an_edit_reaches_both(pg_url, tmp_path):  # noqa: F811
    import shutil

    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("deploy recipe test skipped: nginx is not installed (apt-get install nginx)")
    lb, first = _free_port(), _free_port()
    while first + 1 == lb or first == lb or not _port_free(first + 1):
        first = _free_port()
    env = {
        **os.environ,
        "LOCATOR_DATABASE_URL": pg_url,
        "WEB_WORKERS": "1",
        "WEB_THREADS": "2",
        "LOCATOR_RATELIMIT_ENABLED": "false",
        "LOCATOR_ACCESS_LOG": "false",
        "LOCATOR_CACHE_MAX_AGE": "0",
        "LOCATOR_ADMIN_TOKENS": json.dumps({hashlib.sha256(TOKEN.encode()).hexdigest(): "bot"}),
    }
    proc = subprocess.Popen(
        [
            "bash",
            str(ROOT / "deploy" / "run.sh"),
            "-n",
            "2",
            "-p",
            str(first),
            "-l",
            str(lb),
            "-d",
            str(tmp_path / "run"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"ready: http://127.0.0.1:{lb}/"), line + proc.stdout.read()
        seen = set()
        for _ in range(20):
            with urllib.request.urlopen(f"http://127.0.0.1:{lb}/readyz", timeout=5) as r:
                seen.add((r.headers["X-Upstream"], json.loads(r.read())["pid"]))
        assert {u for u, _ in seen} == {f"127.0.0.1:{first}", f"127.0.0.1:{first + 1}"} and len(seen) == 2
        victim = _nearest_ids(lb, 1)[0]
        t0 = time.monotonic()
        _close(lb, victim)  # through the balancer: lands on either instance
        while any(victim in _nearest_ids(p) for p in (first, first + 1)):
            assert time.monotonic() - t0 < HANG, "an instance still serves the closed venue"
            time.sleep(0.005)
        assert not any(victim in _nearest_ids(lb) for _ in range(50))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    deadline = time.monotonic() + 10
    while not (_port_free(lb) and _port_free(first) and _port_free(first + 1)):  # everything stopped
        assert time.monotonic() < deadline, "nginx or an instance outlived deploy/run.sh"
        time.sleep(0.1)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is no obstacle
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
