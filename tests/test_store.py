"""The SQLite register (its migrations, WAL mode), the storage seam's protocol, and the index refresh.

The store's behaviour is tested on both back ends in test_store_backends.py;
this file holds what is SQLite's own, and the checks that the seam is one.
"""

from __future__ import annotations

import inspect
import shutil
import sqlite3
import threading

import pytest

from locator.errors import DataError
from locator.storage import VenueStore, open_store
from locator.storage.migrations import SQLITE, migrate_sqlite, migrations, sqlite_statements
from locator.storage.sqlite import SQLiteStore
from locator.venues import Venue
from locator.web.state import get_register


def v(vid: str, lon: float = 110.33, **kw) -> Venue:
    return Venue(
        id=vid,
        name=f"站{vid}",
        category=kw.pop("category", "outdoor_station"),
        district_code="460106",
        lon=lon,
        lat=20.03,
        **kw,
    )


def test_open_store_rejects_unknown_urls_and_bad_files(tmp_path):
    with pytest.raises(DataError, match="unsupported database URL scheme 'mysql'"):
        open_store("mysql://localhost/x")
    bad = tmp_path / "not.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DataError, match="cannot open the register"):
        open_store(bad)


def test_app_seeds_the_register_and_the_index_follows_edits(app):
    reg = get_register(app)
    assert len(reg.index) == 2621 and reg.store.version() == 1
    first = reg.index.nearest(110.33, 20.03, 1)[0].venue
    reg.store.put(Venue(**{**first.as_dict(), "amenities": tuple(first.amenities), "status": "closed"}))
    reg.refresh()  # what the poller thread does in the background (issue 13: reads never touch the store)
    assert reg.index.nearest(110.33, 20.03, 1)[0].venue.id != first.id
    assert len(reg.index) == 2620
    reg.store.replace_all(reg.store.venues()[:10])
    reg.refresh()
    assert len(reg.index) == 10


def test_factory_honours_env_and_test_config(tmp_path, monkeypatch):
    from locator import create_app

    monkeypatch.setenv("LOCATOR_INDEX_REFRESH_SECONDS", "7.5")
    app = create_app({"DATABASE": str(tmp_path / "x.sqlite3")})
    assert app.config["INDEX_REFRESH_SECONDS"] == 7.5
    assert not app.testing
    assert create_app({"TESTING": True, "DATABASE": str(tmp_path / "x.sqlite3")}).testing


def test_sqlite_register_is_in_wal_mode(tmp_path):
    store = SQLiteStore(tmp_path / "r.sqlite3")
    store.seed_if_empty([v("a")])
    assert sqlite3.connect(tmp_path / "r.sqlite3").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# -- the protocol is the whole seam ------------------------------------------------------


def test_both_back_ends_have_every_protocol_member_with_its_signature():
    pytest.importorskip("psycopg")
    from locator.storage.postgis import PostGISStore

    members = {n for n in vars(VenueStore) if not n.startswith("_")} | set(VenueStore.__annotations__)
    assert {"replace_all", "rollback", "listen_on", "close", "backend"} <= members
    for cls in (SQLiteStore, PostGISStore):
        for name in sorted(members):
            assert hasattr(cls, name), f"{cls.__name__} lacks {name}"
            spec = getattr(VenueStore, name, None)
            if callable(spec):
                assert inspect.signature(getattr(cls, name)) == inspect.signature(spec), f"{cls.__name__}.{name}"
    public = [{n for n in dir(cls) if not n.startswith("_")} for cls in (SQLiteStore, PostGISStore)]
    shared_methods = {n for n in public[0] & public[1] if callable(getattr(SQLiteStore, n))}
    assert shared_methods <= members, f"public on both back ends but not in VenueStore: {shared_methods - members}"
    assert (SQLiteStore.backend, PostGISStore.backend) == ("sqlite", "postgis")


# -- SQLite migrations -------------------------------------------------------------------

# The schema exactly as the store created it before it had migrations (locator/store.py, user_version 0).
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS venues (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    district_code TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    operator TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    opening_hours TEXT,
    amenities TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active'
);
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY,
    data_version INTEGER NOT NULL,  -- the register's version when it was kept
    created_at TEXT NOT NULL,
    note TEXT NOT NULL,
    venue_count INTEGER NOT NULL,
    payload BLOB NOT NULL           -- zlib-compressed JSON list of venue dicts
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    venue_id TEXT,
    before TEXT,
    after TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_venue ON audit (venue_id);
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY,
    venue_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    proposal TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    client TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    decided_by TEXT,
    decided_at TEXT
);
CREATE INDEX IF NOT EXISTS reports_client ON reports (client, created_at);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY,
    venue_id TEXT          -- NULL: everything changed
);
"""


def _legacy_register(path):
    con = sqlite3.connect(path)
    con.executescript(OLD_SCHEMA)
    con.execute("INSERT INTO meta VALUES ('version', '1')")
    con.execute(
        "INSERT INTO venues (id, name, category, district_code, lon, lat, amenities) "
        "VALUES ('old', '站old', 'outdoor_station', '460106', 110.33, 20.03, '[\"wifi\"]')"
    )
    con.commit()
    con.close()


def _user_version(path) -> int:
    con = sqlite3.connect(path)
    try:
        return int(con.execute("PRAGMA user_version").fetchone()[0])
    finally:
        con.close()


def test_a_new_register_is_migrated_and_records_its_version(tmp_path):
    SQLiteStore(tmp_path / "r.sqlite3").close()
    assert _user_version(tmp_path / "r.sqlite3") == len(migrations(SQLITE)) >= 1
    con = sqlite3.connect(tmp_path / "r.sqlite3")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"meta", "venues", "snapshots", "audit", "reports", "changes"}
    assert migrate_sqlite(con) == []  # applied already: nothing to do


def test_a_register_made_before_migrations_opens_as_version_1_with_its_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    _legacy_register(path)
    assert _user_version(path) == 0
    store = SQLiteStore(path)
    assert _user_version(path) == 3  # 0001 recognised, 0002 (location_precision) and 0003 (freshness) applied
    assert store.version() == 1 and store.venues() == [v("old", amenities=("wifi",))]
    old = store.venues()[0]
    assert (old.location_precision, old.last_confirmed, old.reported_closed) == ("exact", None, False)
    assert store.put(v("new")) == 2 and store.count() == 2


def test_concurrent_openers_migrate_once(tmp_path):
    path = tmp_path / "race.sqlite3"
    results: list[list[int]] = []
    barrier = threading.Barrier(4)

    def run():
        con = sqlite3.connect(path, timeout=30, isolation_level=None)
        barrier.wait()
        results.append(migrate_sqlite(con))
        con.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # each migration ran exactly once, whichever opener took its write lock first
    assert sorted(v for r in results for v in r) == [1, 2, 3] and SQLiteStore(path).version() == 0


def test_a_later_migration_applies_once_and_a_failing_one_changes_nothing(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    shutil.copy(SQLITE / "0001_register.sql", folder)
    path = tmp_path / "r.sqlite3"
    con = sqlite3.connect(path, isolation_level=None)
    assert migrate_sqlite(con, folder) == [1]
    (folder / "0002_broken.sql").write_text("CREATE TABLE half (x);\nINSERT INTO nowhere VALUES (1);\n")
    with pytest.raises(sqlite3.OperationalError, match="nowhere"):
        migrate_sqlite(con, folder)
    assert (
        _user_version(path) == 1
        and con.execute("SELECT count(*) FROM sqlite_master WHERE name='half'").fetchone()[0] == 0
    )
    (folder / "0002_broken.sql").unlink()
    (folder / "0002_notes.sql").write_text(
        "-- a note column; stays idempotent only by being recorded\nALTER TABLE venues ADD COLUMN notes TEXT;\n"
    )
    assert migrate_sqlite(con, folder) == [2] and migrate_sqlite(con, folder) == []
    assert _user_version(path) == 2


def test_a_register_newer_than_the_code_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    SQLiteStore(path).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(DataError, match=r"schema is at version 99, newer than this code knows \(3\)"):
        SQLiteStore(path)


def test_migration_scripts_split_into_whole_statements():
    statements = sqlite_statements((SQLITE / "0001_register.sql").read_text())
    assert all(sqlite3.complete_statement(s) for s in statements)
    assert sum(s.lstrip("-").count("CREATE TABLE") for s in statements) == 6
    assert sqlite_statements("-- only a comment\n") == []
    with pytest.raises(ValueError, match="ends inside a statement: 'CREATE TABLE x'"):
        sqlite_statements("CREATE TABLE x")
