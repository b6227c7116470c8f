"""Serving through a register outage (issue 13): reads never wait on the store, ``/readyz`` tells the truth.

The register's index is caught up by a background thread (the poller; on
PostGIS also the listener), never by a request: a store that hangs or fails
cannot stall a read. While it does not answer, ``/readyz`` says ``degraded``
(200), reads carry ``X-Data-Version``/``X-Data-Age``, and writes get 503
problem+json with ``Retry-After``. The PostGIS test stops the throwaway
cluster under a running app and starts it again; it prints how long the
app took to notice each way and asserts only a generous bound that stops a
hang (``HANG``), never a speed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import pwd
import shlex
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from locator import create_app
from locator.storage import Register
from locator.storage.freshness import Poller
from locator.storage.register import LARGE_CHANGE
from locator.venues import Venue
from locator.web.state import get_register

from .pg import ENV, pg_server, pg_url  # noqa: F401  (fixtures)

TOKEN = "outage-test-token"
NEAREST = "/api/v1/nearest?lon=110.33&lat=20.03&k=3"
HANG = 30.0  # seconds: a state never reached by then is broken, not slow


def _wait_for(predicate, what: str) -> float:
    t0 = time.monotonic()
    while not predicate():
        assert time.monotonic() - t0 < HANG, f"never: {what}"
        time.sleep(0.02)
    return time.monotonic() - t0


class Gate:
    """Wraps a store: while closed, every call blocks (as a pool waiting on a dead server does) or raises."""

    def __init__(self, store, fail: type[Exception] | None = None) -> None:
        self._store, self.fail, self.calls = store, fail, 0
        self.open = threading.Event()
        self.open.set()

    def __getattr__(self, name):
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def call(*a, **kw):
            self.calls += 1
            if not self.open.is_set():
                if self.fail is not None:
                    raise self.fail("the register is unreachable (injected)")
                self.open.wait(HANG)
            return attr(*a, **kw)

        return call


def _app(db: Path, **extra):
    return create_app(
        {
            "TESTING": True,
            "DATABASE": str(db),
            "ACCESS_LOG": False,
            "ADMIN_TOKENS": {hashlib.sha256(TOKEN.encode()).hexdigest(): "bot"},
            **extra,
        }
    )


def test_reads_never_call_the_store_and_the_poller_catches_up(tmp_path):
    app = _app(tmp_path / "r.sqlite3", INDEX_REFRESH_SECONDS=0.05)
    reg = get_register(app)
    client = app.test_client()
    first = client.get(NEAREST).get_json()["features"][0]["id"]
    gate = Gate(reg.store)
    reg.store = gate
    gate.open.clear()  # every store call now blocks: a read that touched it would hang this test
    try:
        before = gate.calls
        for _ in range(5):
            r = client.get(NEAREST)
            assert r.status_code == 200 and r.headers["X-Data-Version"] == "1"
        assert client.get("/readyz").status_code == 200
        assert float(client.get(NEAREST).headers["X-Data-Age"]) >= 0
    finally:
        gate.open.set()
    # only the poller thread called the store meanwhile (it blocked in the gate): the requests never did
    assert gate.calls - before <= 1
    # a change committed elsewhere is applied in the background, with no request asking for it
    venue = reg.index.get(first)
    reg.store.edit(Venue(**{**venue.as_dict(), "amenities": venue.amenities, "status": "closed"}), "t", "close")
    took = _wait_for(lambda: reg.index.version == 2, "the poller applied the change")
    assert client.get(NEAREST).get_json()["features"][0]["id"] != first
    print(f"\npoller applied an outside edit after {took:.3f} s")
    reg.close()


def test_a_large_change_is_built_aside_and_swapped_in(tmp_path):
    app = _app(tmp_path / "l.sqlite3", INDEX_REFRESH_SECONDS=3600)  # refreshed by hand here
    reg = get_register(app)
    small, large = reg.index.venues()[:3], reg.index.venues()[3 : 3 + LARGE_CHANGE + 1]
    live = reg.index
    for v in small:
        reg.store.edit(Venue(**{**v.as_dict(), "amenities": v.amenities, "name": v.name + "·"}), "t", "update")
    assert reg.refresh() and reg.index is live  # a few venues: upserted in place
    assert all(reg.index.get(v.id).name.endswith("·") for v in small)
    reg.store.merge([Venue(**{**v.as_dict(), "amenities": v.amenities, "name": v.name + "·"}) for v in large])
    assert reg.refresh() and reg.index is not live  # more than LARGE_CHANGE: a new index, swapped in whole
    assert all(reg.index.get(v.id).name.endswith("·") for v in large) and len(reg.index) == 2621
    assert live.version == 4 and reg.index.version == 5  # the old one was left as it was, for readers holding it
    reg.close()


def test_sqlite_unreachable_degrades_reads_keep_answering_writes_get_503(tmp_path):
    app = _app(tmp_path / "d.sqlite3", INDEX_REFRESH_SECONDS=0.05)
    reg = get_register(app)
    client = app.test_client()
    victim = client.get(NEAREST).get_json()["features"][0]["id"]
    url = f"/api/v1/admin/venues/{victim}"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    etag = client.get(url, headers=auth).headers["ETag"]
    gate = Gate(reg.store, fail=sqlite3.OperationalError)
    reg.store = gate
    gate.open.clear()
    _wait_for(lambda: client.get("/readyz").get_json()["status"] == "degraded", "degraded")
    ready = client.get("/readyz")
    doc = ready.get_json()
    assert ready.status_code == 200 and doc["data_version"] == 1 and "unreachable (injected)" in doc["reason"]
    assert doc["data_age_s"] >= 0
    r = client.get(NEAREST)
    assert r.status_code == 200 and r.headers["X-Data-Version"] == "1"
    w = client.delete(url, headers={**auth, "If-Match": etag})
    assert w.status_code == 503 and w.mimetype == "application/problem+json" and w.headers["Retry-After"] == "5"
    assert "unreachable" in w.get_json()["detail"]
    form = client.post(f"/report/{victim}", data={"kind": "closed"})
    assert form.status_code == 503 and form.headers["Retry-After"] == "5"
    assert client.get(f"/report/{victim}").status_code == 200  # the form itself opens from memory
    admin_read = client.get(url, headers=auth)  # the admin's reads go to the store: refused at once, not waited on
    assert admin_read.status_code == 503 and admin_read.mimetype == "application/problem+json"
    gate.open.set()
    _wait_for(lambda: client.get("/readyz").get_json()["status"] == "ready", "ready again")
    assert client.delete(url, headers={**auth, "If-Match": etag}).status_code == 200
    assert victim not in [f["id"] for f in client.get(NEAREST).get_json()["features"]]  # own write served at once
    reg.close()


@pytest.mark.parametrize(
    "error, status, says",
    [
        (sqlite3.OperationalError("database is locked"), 503, "database is locked"),
        (sqlite3.OperationalError("database or disk is full"), 507, "nothing was written"),
        (OSError(errno.ENOSPC, "No space left on device"), 507, "nothing was written"),
        (OSError(errno.EROFS, "Read-only file system"), 503, "Read-only file system"),
    ],
)
def test_a_store_error_during_a_write_is_503_or_507_not_500(tmp_path, monkeypatch, error, status, says):
    app = _app(tmp_path / "e.sqlite3", INDEX_REFRESH_SECONDS=3600)
    reg = get_register(app)
    client = app.test_client()
    victim = reg.index.venues()[0].id
    auth = {"Authorization": f"Bearer {TOKEN}"}
    etag = client.get(f"/api/v1/admin/venues/{victim}", headers=auth).headers["ETag"]

    def failing(*a, **kw):
        raise error

    monkeypatch.setattr(reg.store, "edit", failing)
    w = client.delete(f"/api/v1/admin/venues/{victim}", headers={**auth, "If-Match": etag})
    assert w.status_code == status and w.mimetype == "application/problem+json", w.get_data(as_text=True)
    assert says in w.get_json()["detail"]
    assert reg.store.get(victim).status == "active" and reg.store.version() == 1  # nothing half-written
    reg.close()


def test_the_poller_survives_failures_and_records_them():
    calls: list[int] = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("injected")

    p = Poller(flaky, 0)
    assert p.interval > 0 and p.ok is None
    assert not p.poll_once() and p.ok is False and "injected" in p.last_error
    assert p.poll_once() and p.ok is True and p.last_error == ""
    with pytest.raises(ValueError, match="got -1"):
        Poller(flaky, -1)
    with pytest.raises(ValueError, match="got -1"):
        Register(None, None, -1)  # type: ignore[arg-type]


# -- PostGIS: stop the throwaway cluster under a running app ----------------------------


def _pg_ctl(admin_url: str):
    """``(stop, start)`` for the cluster behind ``admin_url``: pg_ctl as the data directory's owner, same options."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        data = Path(conn.execute("SELECT current_setting('data_directory')").fetchone()[0])
    bindir = Path(shlex.split((data / "postmaster.opts").read_text())[0]).parent
    argv = shlex.split((data / "postmaster.opts").read_text())[1:]
    opts = []
    skip = False
    for a in argv:  # everything but -D <data>, which pg_ctl passes itself
        if skip:
            skip = False
        elif a == "-D":
            skip = True
        else:
            opts.append(a)
    owner = pwd.getpwuid(data.stat().st_uid).pw_name
    pre = [] if os.geteuid() != 0 else ["runuser", "-u", owner, "--"]
    log = data.parent / "server.log"

    def stop() -> None:
        subprocess.run(
            [*pre, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start() -> None:
        subprocess.run(
            [
                *pre,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                shlex.join(opts),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=90,
        )

    return stop, start


def test_postgis_outage_reads_answer_readyz_degrades_writes_503_and_recovers(pg_server, pg_url):  # noqa: F811
    if os.environ.get(ENV):
        pytest.skip(f"outage test skipped: it stops the server, and {ENV} names one it does not own")
    stop, start = _pg_ctl(pg_server.admin_url)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": pg_url,
            "ACCESS_LOG": False,
            "INDEX_REFRESH_SECONDS": 0.5,
            "ADMIN_TOKENS": {hashlib.sha256(TOKEN.encode()).hexdigest(): "bot"},
        }
    )
    reg = get_register(app)
    client = app.test_client()
    try:
        _wait_for(lambda: reg.listener is not None and reg.listener.healthy, "the listener is up")
        assert client.get("/readyz").get_json()["status"] == "ready"
        victim = client.get(NEAREST).get_json()["features"][0]["id"]
        auth = {"Authorization": f"Bearer {TOKEN}"}
        etag = client.get(f"/api/v1/admin/venues/{victim}", headers=auth).headers["ETag"]
        stop()
        try:
            t0 = time.monotonic()
            degraded = _wait_for(lambda: client.get("/readyz").get_json()["status"] == "degraded", "degraded")
            reads = [client.get(NEAREST) for _ in range(20)]
            assert {r.status_code for r in reads} == {200} and reads[-1].headers["X-Data-Version"] == "1"
            ready = client.get("/readyz")
            assert ready.status_code == 200 and ready.get_json()["reason"]
            w = client.delete(f"/api/v1/admin/venues/{victim}", headers={**auth, "If-Match": etag})
            assert w.status_code == 503 and w.mimetype == "application/problem+json" and w.headers["Retry-After"]
            admin_read = client.get(f"/api/v1/admin/venues/{victim}", headers=auth)
            assert admin_read.status_code == 503 and admin_read.headers["Retry-After"]  # not a wait on the pool
            assert client.get(f"/report/{victim}").status_code == 200  # the public form opens from memory
            down_for = time.monotonic() - t0
        finally:
            start()
        recovered = _wait_for(lambda: client.get("/readyz").get_json()["status"] == "ready", "ready again")
        w = client.delete(f"/api/v1/admin/venues/{victim}", headers={**auth, "If-Match": etag})
        assert w.status_code == 200, w.get_data(as_text=True)
        assert victim not in [f["id"] for f in client.get(NEAREST).get_json()["features"]]
        print(
            f"\npostgis outage: degraded after {degraded:.2f} s (asked within 2 s), ready {recovered:.2f} s after "
            f"the server was back (asked within 10 s); down {down_for:.2f} s, 20 reads all 200"
        )
    finally:
        reg.close()


def test_a_read_on_a_connection_the_server_dropped_is_retried_on_a_fresh_one(pg_url):  # noqa: F811
    import psycopg

    from locator.storage import open_store

    store = open_store(pg_url, pool_size=1)  # one pooled connection: the retry cannot dodge it by luck
    try:
        version = store.version()
        with psycopg.connect(pg_url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        assert killed >= 1  # the pool's connection is now broken, and the pool does not know it
        assert store.version() == version and store.get("no-such-venue") is None
    finally:
        store.close()
