"""The SQLite register and the register's index refresh."""

from __future__ import annotations

import sqlite3

import pytest

from locator.errors import DataError
from locator.storage import open_store
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


def test_sqlite_register_is_in_wal_mode(tmp_path):
    """The store's behaviour is tested on both back ends in test_store_backends.py; this is SQLite's own."""
    store = SQLiteStore(tmp_path / "r.sqlite3")
    store.seed_if_empty([v("a")])
    assert sqlite3.connect(tmp_path / "r.sqlite3").execute("PRAGMA journal_mode").fetchone()[0] == "wal"
