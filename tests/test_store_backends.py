"""The same store tests against both back ends: SQLite (embedded) and PostGIS (shared).

The ``store`` fixture is parametrized over ``sqlite`` and ``postgis``; each
test gets an empty register, and ``reopen`` opens a second handle on the same
register, as another process would. The PostGIS half needs PostgreSQL and
PostGIS (see ``tests/pg.py``) and is skipped, with the reason, without them.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterator

import pytest

from locator.errors import DataError
from locator.storage import TooManyReports, open_store
from locator.storage.sqlite import SQLiteStore
from locator.venues import Venue, load_venues

from .conftest import GEODATA
from .pg import pg_server, pg_url  # noqa: F401  (fixtures)


def v(vid: str, lon: float = 110.33, **kw) -> Venue:
    return Venue(
        id=vid,
        name=f"站{vid}",
        category=kw.pop("category", "outdoor_station"),
        district_code="460106",
        lon=lon,
        lat=kw.pop("lat", 20.03),
        **kw,
    )


@pytest.fixture(params=["sqlite", "postgis"])
def target(request, tmp_path) -> str:
    """Where an empty register lives: a SQLite path or a PostGIS URL."""
    if request.param == "sqlite":
        return str(tmp_path / "r.sqlite3")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def reopen(target) -> Iterator[Callable[[], object]]:
    opened: list = []

    def _open():
        s = open_store(target)
        opened.append(s)
        return s

    yield _open
    for s in opened:
        s.close()


@pytest.fixture
def store(reopen):
    return reopen()


def test_open_store_picks_the_back_end(store, target):
    assert type(store).__name__ == ("SQLiteStore" if target.endswith(".sqlite3") else "PostGISStore")
    assert store.version() == 0 and store.venues() == [] and store.versions() == [] and store.count() == 0


def test_store_round_trip_and_versions(store):
    assert store.seed_if_empty([v("a"), v("b", amenities=("microwave", "wifi"), opening_hours="24/7")])
    assert not store.seed_if_empty([v("c")])  # seeded once only
    assert store.version() == 1
    assert store.get("b") == v("b", amenities=("microwave", "wifi"), opening_hours="24/7")
    assert store.get("nope") is None
    assert [x.id for x in store.venues()] == ["a", "b"]
    assert store.changes_since(1) == (1, [])
    version = store.put(v("c", lon=110.34))
    assert version == 2 and store.changes_since(1) == (version, ["c"])
    store.put(v("a", status="closed"))
    assert [x.id for x in store.venues()] == ["b", "c"] and store.count() == 2
    assert [x.id for x in store.venues(include_closed=True)] == ["a", "b", "c"] and store.count(True) == 3
    assert store.changes_since(1)[1] == ["a", "c"]
    assert store.changes_since(2) == (3, ["a"])
    assert store.changes_since(0)[1] is None  # from scratch: reload everything


def test_ids_sort_bytewise_on_both_back_ends(store):
    store.seed_if_empty([v("b"), v("B"), v("a-2"), v("a_1"), v("海口")])
    assert [x.id for x in store.venues()] == sorted(["b", "B", "a-2", "a_1", "海口"])


def test_a_failed_replace_leaves_the_register_intact(store, reopen):
    store.seed_if_empty([v("a"), v("b")])
    with pytest.raises(DataError, match="duplicate venue id 'x'"):
        store.replace_all([v("x"), v("x")])

    class Boom(Exception):
        pass

    def rows():
        yield v("y")
        raise Boom

    with pytest.raises(Boom):
        store.replace_all(rows())
    other = reopen()  # another process's view
    assert [x.id for x in other.venues()] == ["a", "b"] and other.version() == 1 and other.versions() == []


def test_a_failure_in_the_middle_of_a_write_rolls_back_everything(store, reopen, monkeypatch):
    import locator.storage.postgis as pg_module
    import locator.storage.sqlite as sqlite_module

    seed = [v(f"v{i}", lon=110.3 + i * 1e-4) for i in range(500)]
    store.seed_if_empty(seed)
    module = sqlite_module if isinstance(store, SQLiteStore) else pg_module
    real = module.venue_row
    calls = {"n": 0}

    def flaky(x):
        calls["n"] += 1
        if calls["n"] == 300:
            raise OSError("disk full (injected)")
        return real(x)

    monkeypatch.setattr(module, "venue_row", flaky)
    with pytest.raises(OSError, match="injected"):
        store.replace_all([Venue(**{**x.as_dict(), "amenities": (), "name": "新" + x.name}) for x in seed])
    monkeypatch.setattr(module, "venue_row", real)
    other = reopen()
    assert other.venues() == sorted(seed, key=lambda x: x.id) and other.version() == 1 and other.versions() == []
    assert other.audit_log() == [] and other.changes_since(1) == (1, [])


def test_replace_merge_versions_and_rollback(store):
    store.seed_if_empty([v("a"), v("b")])
    v2 = store.replace_all([v("c"), v("d", status="closed")], note="import x.csv (replace)")
    assert v2 == 2 and [x.id for x in store.venues(include_closed=True)] == ["c", "d"]
    assert store.changes_since(1) == (2, None)  # a replace: reload everything
    v3 = store.merge([v("c", lon=110.4), v("e")], note="import y.csv (merge)", actor="cli")
    assert v3 == 3 and store.changes_since(2) == (3, ["c", "e"])
    assert store.get("c").lon == 110.4
    snaps = store.versions()
    assert [(s.data_version, s.note, s.venue_count) for s in snaps] == [
        (2, "before: import y.csv (merge)", 2),
        (1, "before: import x.csv (replace)", 2),
    ]
    assert snaps[0].id > snaps[1].id and snaps[0].created_at.endswith("+00:00")
    v4 = store.rollback(snaps[1].id, actor="lin")
    assert v4 == 4 and [x.id for x in store.venues()] == ["a", "b"]
    assert store.versions()[0].note == f"before: rollback to version {snaps[1].id}"
    assert store.versions()[0].venue_count == 3
    entry = store.audit_log(limit=1)[0]
    assert (entry.actor, entry.action, entry.note) == ("lin", "replace", f"rollback to version {snaps[1].id}: 2 venues")
    with pytest.raises(DataError, match=r"no register version 999 \(kept versions: "):
        store.rollback(999)


def test_edits_are_audited_with_before_and_after(store):
    store.seed_if_empty([v("a")])
    moved = v("a", lon=110.34)
    version = store.edit(moved, "lin", "move", "drag on the map")
    got = store.get("a")
    assert got.last_confirmed is not None  # an audited edit is a person checking the venue (issue 16)
    assert got == dataclasses.replace(moved, last_confirmed=got.last_confirmed)
    assert store.changes_since(version - 1) == (version, ["a"])
    (entry,) = store.audit_log()
    assert (entry.actor, entry.action, entry.venue_id, entry.note) == ("lin", "move", "a", "drag on the map")
    assert entry.before["lon"] == 110.33 and entry.after["lon"] == 110.34
    assert entry.after == got.as_dict() and entry.at.endswith("+00:00")
    store.edit(v("b"), "lin", "create")
    assert [e.action for e in store.audit_log()] == ["create", "move"]
    assert store.audit_log(venue_id="b")[0].before is None
    assert [e.action for e in store.audit_log(limit=1, offset=1)] == ["move"]
    store.merge([v("c")], note="import x.csv", actor="cli")
    assert store.audit_log(limit=1)[0].note == "import x.csv: 1 venues"


def test_reports_queue_limit_and_decisions(store):
    store.seed_if_empty([v("a")])
    first = store.add_report("a", "closed", "门关了", {"lon": 110.3}, client="c1", max_per_hour=2)
    store.add_report("a", "other", "", {}, client="c1", max_per_hour=2)
    with pytest.raises(TooManyReports, match="at most 2 an hour"):
        store.add_report("a", "other", "", {}, client="c1", max_per_hour=2)
    store.add_report("a", "other", "", {}, client="c2", max_per_hour=2)  # another client is not limited
    assert [r.id for r in store.reports()] == [first, first + 1, first + 2]
    assert store.get_report(first).proposal == {"lon": 110.3} and store.get_report(first).message == "门关了"
    version = store.version()
    decided = store.decide_report(first, True, "lin", v("a", status="closed"))
    assert decided.status == "accepted" and decided.decided_by == "lin" and decided.decided_at
    assert store.version() == version + 1 and store.changes_since(version) == (version + 1, ["a"])
    assert store.get("a").status == "closed" and store.audit_log()[0].action == "report-closed"
    assert store.audit_log()[0].note == f"report #{first}: 门关了"
    with pytest.raises(DataError, match="already accepted"):
        store.decide_report(first, False, "lin")
    with pytest.raises(DataError, match="no report 999"):
        store.decide_report(999, True, "lin")
    rejected = store.decide_report(first + 1, False, "lin")
    assert rejected.status == "rejected" and store.version() == version + 1  # a rejection changes no venue
    assert [r.id for r in store.reports("accepted")] == [first]
    assert [r.status for r in store.reports(None)] == ["accepted", "rejected", "pending"]


def test_concurrent_edits_from_several_handles_get_distinct_versions(store, reopen):
    store.seed_if_empty([v(f"s{i}") for i in range(8)])
    handles = [reopen() for _ in range(4)]
    got: list[int] = []
    errors: list[BaseException] = []

    def work(h, k):
        try:
            for j in range(5):
                got.append(h.edit(v(f"s{(k + j) % 8}", lon=110.3 + k * 0.01 + j * 1e-3), f"u{k}", "move"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(h, k)) for k, h in enumerate(handles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(got) == list(range(2, 22)) and store.version() == 21
    assert len(store.audit_log(limit=1000)) == 20
    assert store.changes_since(1)[1] == sorted({f"s{i}" for i in range(8)})


def test_seed_if_empty_seeds_once_when_processes_race(store, reopen):
    handles = [reopen() for _ in range(4)]
    results: list[bool] = []
    barrier = threading.Barrier(len(handles))

    def seed(h, k):
        barrier.wait()
        results.append(h.seed_if_empty([v(f"{k}-{i}") for i in range(50)]))

    threads = [threading.Thread(target=seed, args=(h, k)) for k, h in enumerate(handles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert store.version() == 1 and store.count() == 50


def test_the_shipped_register_round_trips(store):
    venues = load_venues(GEODATA / "venues.geojson")
    venues[5] = Venue(**{**venues[5].as_dict(), "amenities": venues[5].amenities, "status": "closed"})
    store.seed_if_empty(venues)
    assert store.venues(include_closed=True) == sorted(venues, key=lambda x: x.id)
    assert store.count() == 2620 and store.count(include_closed=True) == 2621


def _raw_update(target: str, sql: str, args: tuple) -> None:
    """Change the database behind the store's back, as a hand edit or an old version might."""
    if target.endswith(".sqlite3"):
        import sqlite3

        con = sqlite3.connect(target)
        con.execute(sql, args)
        con.commit()
        con.close()
    else:
        import psycopg

        with psycopg.connect(target) as conn:
            conn.execute(sql.replace("?", "%s"), args)


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("category", "spa", "venue 'b': unknown category 'spa'"),
        ("lon", 100.5, r"venue 'b': point \(100.5, 20.03\) lies outside Hainan"),
        ("name", " ", "venue 'b': name must be a non-empty string, got ' '"),
    ],
)
def test_a_bad_row_in_the_database_is_refused_not_served(store, target, column, value, message):
    store.seed_if_empty([v("a"), v("b")])
    _raw_update(target, f"UPDATE venues SET {column}=? WHERE id='b'", (value,))
    for read in (lambda: store.get("b"), store.venues, store.snapshot_venues, lambda: store.get_many(["a", "b"])):
        with pytest.raises(DataError, match=message):
            read()
    assert store.get("a") == v("a")


# -- PostGIS only ------------------------------------------------------------------


@pytest.fixture
def pg_store(pg_url):  # noqa: F811
    from locator.storage.postgis import PostGISStore

    s = PostGISStore(pg_url)
    yield s
    s.close()


def test_migrations_are_recorded_and_safe_to_rerun_concurrently(pg_url):  # noqa: F811
    import psycopg

    from locator.storage.migrations import POSTGIS, migrate_postgis, migrations

    results: list[list[int]] = []

    def run():
        with psycopg.connect(pg_url) as conn:
            results.append(migrate_postgis(conn))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [[], [], []]  # the template database was migrated already
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        assert rows == [(m.version, m.name) for m in migrations(POSTGIS)]
        conn.execute("DROP TABLE venues, snapshots, audit, reports, changes, register_state, schema_migrations")
        conn.commit()
    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # each migration ran exactly once, whichever process got its lock first (each one has its own transaction)
    assert sorted(v for r in results[3:] for v in r) == [m.version for m in migrations(POSTGIS)]


def test_venues_are_geography_points_under_a_gist_index(pg_store):
    pg_store.seed_if_empty([v("a"), v("b", lon=110.34), v("far", lon=110.9, lat=19.5), v("gone", status="closed")])
    assert pg_store.within_distance(110.33, 20.03, 2000) == ["a", "b"]  # ~1,045 m apart
    assert pg_store.within_distance(110.33, 20.03, 500) == ["a"]
    assert pg_store.within_distance(110.33, 20.03, 10, include_closed=True) == ["a", "gone"]
    plan = pg_store.explain_within_distance(110.33, 20.03, 2000)
    assert "venues_geog" in plan, plan
    import psycopg

    with psycopg.connect(pg_store.url) as conn:
        (typ,) = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid='venues'::regclass AND attname='geog'"
        ).fetchone()
        assert typ == "geography(Point,4326)"


def test_every_write_notifies_listeners_at_commit(pg_store):
    import psycopg

    from locator.storage.postgis import CHANNEL

    with psycopg.connect(pg_store.url, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        pg_store.seed_if_empty([v("a")])
        pg_store.edit(v("a", lon=110.35), "lin", "move")
        pg_store.merge([v("b")])
        rid = pg_store.add_report("a", "other", "", {}, client="x", max_per_hour=5)  # queues only: no change
        pg_store.decide_report(rid, True, "lin", v("a", status="closed"))
        got = [n.payload for n in listener.notifies(timeout=2, stop_after=4)]
    assert got == ["1", "2", "3", "4"]


def test_a_database_newer_than_the_code_is_refused(pg_url):  # noqa: F811
    import psycopg

    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')")
    with pytest.raises(DataError, match=r"schema is at version 99, newer than this code knows \(3\)"):
        open_store(pg_url)


def test_a_bad_url_is_one_line(tmp_path):
    pytest.importorskip("psycopg")
    message = r"^cannot open the register 'postgresql://u:\*\*\*@127\.0\.0\.1:1/x': .*refused"
    with pytest.raises(DataError, match=message):
        open_store("postgresql://u:secret@127.0.0.1:1/x")
    try:
        open_store("postgresql://u:secret@127.0.0.1:1/x")
    except DataError as exc:
        assert "secret" not in str(exc)


def test_records_are_json_in_the_audit_log(pg_store):
    pg_store.seed_if_empty([v("a")])
    pg_store.edit(v("a", amenities=("wifi",)), "lin", "update")
    (entry,) = pg_store.audit_log()
    after = v("a", amenities=("wifi",), last_confirmed=pg_store.get("a").last_confirmed).as_dict()
    assert json.loads(json.dumps(entry.after)) == after
