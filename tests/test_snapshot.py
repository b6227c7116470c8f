"""Workers boot without the database (issue 13, item 2): the local snapshot of the last good register.

Each serving process writes what it serves to a gzip file of JSON lines,
atomically, from its poller. A process whose store does not answer at
start-up serves that snapshot (``/readyz``: ``degraded``, naming it), refuses
writes with 503, and catches up once the store is back; with no snapshot it
is ``not_ready`` (503) but keeps running and trying. On SQLite the outage is
a register file that cannot be opened (overwritten, then put back); on
PostGIS the throwaway cluster is stopped and started.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from locator import create_app
from locator.errors import DataError
from locator.storage import Register, Settings
from locator.storage.snapshot import FORMAT, read_snapshot, snapshot_path, write_snapshot
from locator.venues import Venue
from locator.web.state import get_register

from .pg import ENV, pg_server, pg_url  # noqa: F401  (fixtures)
from .test_outage import NEAREST, TOKEN, _pg_ctl, _wait_for

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _config(**extra):
    return {
        "TESTING": True,
        "ACCESS_LOG": False,
        "INDEX_REFRESH_SECONDS": 0,
        "SNAPSHOT_SECONDS": 0,
        "ADMIN_TOKENS": {hashlib.sha256(TOKEN.encode()).hexdigest(): "bot"},
        **extra,
    }


def _venue(i: int, **kw) -> Venue:
    return Venue(
        id=f"snap-{i}",
        name=f"站点{i}",
        category="outdoor_station",
        district_code="460106",
        lon=110.3 + i / 1000,
        lat=20.0,
        **kw,
    )


# -- the file -------------------------------------------------------------------------------


def test_write_then_read_round_trips_and_leaves_no_temporary_file(tmp_path):
    venues = [
        _venue(1, amenities=("drinking_water", "wifi"), opening_hours="24/7"),
        _venue(2, address='海口 "引号"\n换行'),
    ]
    path = write_snapshot(tmp_path / "s" / "r.jsonl.gz", 7, venues)
    snap = read_snapshot(path)
    assert (snap.data_version, snap.venues) == (7, venues)
    assert sorted(os.listdir(path.parent)) == [path.name]
    assert path.stat().st_mode & 0o777 == 0o600
    with gzip.open(path, "rt", encoding="utf-8") as f:
        header = json.loads(f.readline())
    assert header["format"] == FORMAT and header["count"] == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # torn: half a file
        lambda b: b[:-4],  # the gzip trailer (length) cut off
        lambda b: b[:40] + bytes([b[40] ^ 0xFF]) + b[41:],  # a flipped byte
        lambda b: gzip.compress(b'{"format": "something else"}\n'),
        lambda b: b"",
    ],
    ids=["half", "no-trailer", "flipped-byte", "foreign", "empty"],
)
def test_a_damaged_snapshot_is_refused_not_half_read(tmp_path, damage):
    path = write_snapshot(tmp_path / "r.jsonl.gz", 3, [_venue(i) for i in range(50)])
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DataError, match="snapshot"):
        read_snapshot(path)


def test_a_failed_write_keeps_the_old_snapshot_whole(tmp_path, monkeypatch):
    path = write_snapshot(tmp_path / "r.jsonl.gz", 1, [_venue(1)])

    def disk_full(*_a, **_kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_snapshot(path, 2, [_venue(1), _venue(2)])
    assert read_snapshot(path).data_version == 1 and os.listdir(tmp_path) == [path.name]


def test_the_file_is_keyed_by_the_store_beside_sqlite_and_hashed_for_a_url(tmp_path):
    assert snapshot_path(str(tmp_path / "a.sqlite3"), tmp_path / "x") == tmp_path / "a.sqlite3.snapshot.jsonl.gz"
    one = snapshot_path("postgresql://u:secret@db1/locator", tmp_path)
    two = snapshot_path("postgresql://u:secret@db2/locator", tmp_path)
    assert one.parent == tmp_path and one != two and "secret" not in str(one)


def _unopenable(db: Path) -> None:
    """Make the SQLite register impossible to open (a folder where the file was), as a lost disk would."""
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    db.mkdir()


# -- a serving SQLite register ------------------------------------------------------------------


def test_the_poller_writes_the_snapshot_and_rewrites_it_when_the_data_moves(tmp_path):
    db = tmp_path / "r.sqlite3"
    reg = get_register(create_app(_config(DATABASE=str(db))))
    try:
        path = snapshot_path(str(db), tmp_path)
        _wait_for(path.exists, "the first snapshot")
        snap = read_snapshot(path)
        assert snap.data_version == reg.index.version and len(snap.venues) == len(reg.index)
        reg.store.put(_venue(1))
        _wait_for(lambda: read_snapshot(path).data_version == reg.store.version(), "the snapshot follows an edit")
        assert "snap-1" in {v.id for v in read_snapshot(path).venues}
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    finally:
        reg.close()


def test_the_poller_rebuilds_the_kd_trees_after_many_edits(tmp_path):
    """Edits reach the index at once; its nearest kd-trees are rebuilt on the poller's thread, not a request's."""
    from locator.index import KD_DELTA_MAX

    db = tmp_path / "r.sqlite3"
    reg = get_register(create_app(_config(DATABASE=str(db))))
    try:
        for i in range(KD_DELTA_MAX // 4 + 5):
            reg.store.put(_venue(i))
        _wait_for(lambda: "snap-20" in reg.index, "the edits in the index")
        _wait_for(lambda: reg.index._kd_added == {}, "the kd-trees rebuilt")
        assert reg.index.nearest(110.3 + 20 / 1000, 20.0, 1)[0].venue.id == "snap-20"
    finally:
        reg.close()


def test_a_negative_interval_writes_no_snapshot(tmp_path):
    db = tmp_path / "r.sqlite3"
    reg = get_register(create_app(_config(DATABASE=str(db), SNAPSHOT_SECONDS=-1)))
    try:
        reg.poller.poll_once()
        assert reg.save_snapshot(force=True) is None and not snapshot_path(str(db), tmp_path).exists()
    finally:
        reg.close()


def test_sqlite_unopenable_at_start_serves_the_snapshot_degraded_then_catches_up(tmp_path):
    db = tmp_path / "r.sqlite3"
    first = get_register(create_app(_config(DATABASE=str(db))))
    path = snapshot_path(str(db), tmp_path)
    _wait_for(path.exists, "the first snapshot")
    first.close()
    good = tmp_path / "good.sqlite3"
    shutil.copyfile(db, good)
    _unopenable(db)  # the register cannot be opened: start from the snapshot

    app = create_app(_config(DATABASE=str(db)))
    reg, client = get_register(app), app.test_client()
    try:
        ready = client.get("/readyz")
        body = ready.get_json()
        assert ready.status_code == 200 and body["status"] == "degraded", body
        assert str(path) in body["reason"] and "written" in body["reason"]
        assert body["data_version"] == 1 and body["venues"] == len(first.index)
        near = client.get(NEAREST)
        assert near.status_code == 200 and near.get_json()["features"]
        w = client.delete("/api/v1/admin/venues/anything", headers={**AUTH, "If-Match": '"x"'})
        assert w.status_code == 503 and w.mimetype == "application/problem+json" and w.headers["Retry-After"]

        db.rmdir()
        shutil.copyfile(good, db)  # the register is back: the poller opens it and catches up
        reg.settings.open_store().put(_venue(9))  # a change made while this process served the snapshot
        _wait_for(lambda: client.get("/readyz").get_json()["status"] == "ready", "ready again")
        _wait_for(lambda: "snap-9" in reg.index, "the change made meanwhile is served")
    finally:
        reg.close()


def test_no_snapshot_and_no_register_is_not_ready_503_but_keeps_running(tmp_path):
    db = tmp_path / "r.sqlite3"
    _unopenable(db)
    app = create_app(_config(DATABASE=str(db)))  # does not raise: a worker that exits would halt gunicorn
    reg, client = get_register(app), app.test_client()
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["status"] == "not_ready"
        assert "no snapshot" in ready.get_json()["reason"]
        near = client.get(NEAREST)
        assert near.status_code == 503 and near.mimetype == "application/problem+json"
        assert client.get("/healthz").status_code == 200
        db.rmdir()  # a fresh register: the poller opens and seeds it
        _wait_for(lambda: client.get("/readyz").get_json()["status"] == "ready", "ready once the register opens")
        assert client.get(NEAREST).status_code == 200
    finally:
        reg.close()


def test_the_cli_still_fails_at_once_on_a_register_it_cannot_open(tmp_path):
    db = tmp_path / "r.sqlite3"
    db.write_bytes(b"not a database" * 100)
    geodata = str(Path(__file__).resolve().parents[1] / "geodata")
    settings = Settings.from_mapping({"GEODATA_DIR": geodata, "DATABASE": str(db)}, tmp_path)
    with pytest.raises(DataError, match="cannot open the register"):
        Register.open(settings, listen=False)
    with pytest.raises(DataError, match="unsupported database URL scheme"):  # a mistake, not an outage
        Register.open(Settings.from_mapping({"GEODATA_DIR": geodata, "DATABASE_URL": "mysql://x/y"}, tmp_path))


# -- PostGIS: a second app starts while the cluster is stopped ----------------------------------


def test_postgis_app_started_during_an_outage_serves_its_snapshot_and_catches_up(pg_server, pg_url, tmp_path):  # noqa: F811
    if os.environ.get(ENV):
        pytest.skip(f"outage test skipped: it stops the server, and {ENV} names one it does not own")
    stop, start = _pg_ctl(pg_server.admin_url)
    config = _config(DATABASE_URL=pg_url, SNAPSHOT_DIR=str(tmp_path), INDEX_REFRESH_SECONDS=0.5)
    first_app = create_app(config)
    first = get_register(first_app)
    second = None
    try:
        path = snapshot_path(pg_url, tmp_path)
        _wait_for(path.exists, "the first app wrote its snapshot")
        version = first.index.version
        stop()
        try:
            t0 = time.monotonic()
            app = create_app(config)  # the store does not answer: start from the snapshot
            built = time.monotonic() - t0
            second, client = get_register(app), app.test_client()
            body = client.get("/readyz").get_json()
            assert body["status"] == "degraded" and str(path) in body["reason"], body
            assert body["data_version"] == version and body["venues"] == len(first.index)
            reads = [client.get(NEAREST) for _ in range(10)]
            assert {r.status_code for r in reads} == {200}
            assert reads[0].get_json()["features"] == first_app.test_client().get(NEAREST).get_json()["features"]
            w = client.delete("/api/v1/admin/venues/x", headers={**AUTH, "If-Match": '"x"'})
            assert w.status_code == 503 and w.mimetype == "application/problem+json"
        finally:
            start()
        recovered = _wait_for(lambda: client.get("/readyz").get_json()["status"] == "ready", "ready again")
        _wait_for(lambda: second.listener is not None and second.listener.healthy, "the listener is up")
        victim = client.get(NEAREST).get_json()["features"][0]["id"]
        first_client = first_app.test_client()
        _wait_for(lambda: first_client.get("/readyz").get_json()["status"] == "ready", "the first app is ready")
        etag = first_client.get(f"/api/v1/admin/venues/{victim}", headers=AUTH).headers["ETag"]
        edit = first_client.delete(f"/api/v1/admin/venues/{victim}", headers={**AUTH, "If-Match": etag})
        assert edit.status_code == 200, edit.get_data(as_text=True)
        reached = _wait_for(lambda: victim not in second.index, "an edit on the first app reaches the second")
        print(
            f"\npostgis boot during an outage: app built from the snapshot in {built:.2f} s, ready {recovered:.2f} s "
            f"after the server was back, an edit reached it in {reached:.2f} s"
        )
    finally:
        first.close()
        if second is not None:
            second.close()
