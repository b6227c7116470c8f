"""The SQLite register and the register's index refresh."""

from __future__ import annotations

import sqlite3

import pytest

from locator.errors import DataError
from locator.extension import get_register
from locator.store import SQLiteStore, open_store
from locator.venues import Venue


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


def test_store_round_trip_and_versions(tmp_path):
    store = SQLiteStore(tmp_path / "r.sqlite3")
    assert store.version() == 0
    assert store.seed_if_empty([v("a"), v("b", amenities=("microwave",), opening_hours="24/7")])
    assert not store.seed_if_empty([v("c")])  # seeded once only
    assert store.version() == 1
    assert store.get("b") == v("b", amenities=("microwave",), opening_hours="24/7")
    assert [x.id for x in store.venues()] == ["a", "b"]
    assert store.changes_since(1) == (1, [])
    version = store.put(v("c", lon=110.34))
    assert store.changes_since(1) == (version, ["c"])
    store.put(v("a", status="closed"))
    assert [x.id for x in store.venues()] == ["b", "c"]
    assert [x.id for x in store.venues(include_closed=True)] == ["a", "b", "c"]
    assert store.changes_since(1)[1] == ["a", "c"]
    assert store.changes_since(0)[1] is None  # from scratch: reload everything
    assert sqlite3.connect(tmp_path / "r.sqlite3").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_failed_replace_leaves_the_register_intact(tmp_path):
    store = SQLiteStore(tmp_path / "r.sqlite3")
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
    assert [x.id for x in store.venues()] == ["a", "b"] and store.version() == 1


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
    assert reg.index.nearest(110.33, 20.03, 1)[0].venue.id != first.id  # refresh interval 0 in tests
    assert len(reg.index) == 2620
    reg.store.replace_all(reg.store.venues()[:10])
    assert len(reg.index) == 10


def test_factory_honours_env_and_test_config(tmp_path, monkeypatch):
    from locator import create_app

    monkeypatch.setenv("LOCATOR_INDEX_REFRESH_SECONDS", "7.5")
    app = create_app({"DATABASE": str(tmp_path / "x.sqlite3")})
    assert app.config["INDEX_REFRESH_SECONDS"] == 7.5
    assert not app.testing
    assert create_app({"TESTING": True, "DATABASE": str(tmp_path / "x.sqlite3")}).testing


def test_edits_are_audited_with_before_and_after(tmp_path):
    store = SQLiteStore(tmp_path / "r.sqlite3")
    store.seed_if_empty([v("a")])
    moved = v("a", lon=110.34)
    version = store.edit(moved, "lin", "move", "drag on the map")
    assert store.get("a") == moved and store.changes_since(version - 1) == (version, ["a"])
    (entry,) = store.audit_log()
    assert (entry.actor, entry.action, entry.venue_id, entry.note) == ("lin", "move", "a", "drag on the map")
    assert entry.before["lon"] == 110.33 and entry.after["lon"] == 110.34
    store.edit(v("b"), "lin", "create")
    assert [e.action for e in store.audit_log()] == ["create", "move"]
    assert store.audit_log(venue_id="b")[0].before is None
    store.merge([v("c")], note="import x.csv", actor="cli")
    assert store.audit_log(limit=1)[0].note == "import x.csv: 1 venues"


def test_reports_queue_limit_and_decisions(tmp_path):
    from locator.store import TooManyReports

    store = SQLiteStore(tmp_path / "r.sqlite3")
    store.seed_if_empty([v("a")])
    first = store.add_report("a", "closed", "门关了", {}, client="c1", max_per_hour=2)
    store.add_report("a", "other", "", {}, client="c1", max_per_hour=2)
    with pytest.raises(TooManyReports, match="at most 2 an hour"):
        store.add_report("a", "other", "", {}, client="c1", max_per_hour=2)
    store.add_report("a", "other", "", {}, client="c2", max_per_hour=2)  # another client is not limited
    assert [r.id for r in store.reports()] == [first, first + 1, first + 2]
    decided = store.decide_report(first, True, "lin", v("a", status="closed"))
    assert decided.status == "accepted" and decided.decided_by == "lin"
    assert store.get("a").status == "closed" and store.audit_log()[0].action == "report-closed"
    with pytest.raises(DataError, match="already accepted"):
        store.decide_report(first, False, "lin")
    with pytest.raises(DataError, match="no report 999"):
        store.decide_report(999, True, "lin")
    assert [r.id for r in store.reports("accepted")] == [first]
