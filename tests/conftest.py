"""Shared fixtures: one read-only app for the session, a writable app per test.

Building an app seeds its register from ``geodata/venues.geojson`` (2,621
venues) and builds the index, about a second each time. So:

- ``ro_app`` / ``ro_client``: ONE app for the whole session, for tests that
  only read. Its store refuses writes (the test that tries fails on the spot,
  named), and after each test the register's data version and the app's
  config are compared with what they were before it, so a test that changed
  shared state fails by name instead of breaking a later test.
- ``app`` / ``client`` / ``runner``: a writable app of its own per test. Its
  register is a copy of a template the app factory seeded once per session
  (the same file a first start produces, checked when it is built), so no
  test pays for seeding again. In a test marked ``readonly`` (or a module
  with ``pytestmark = pytest.mark.readonly``) they are ``ro_app`` and its
  client instead.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from locator import create_app
from locator.web.state import get_register

ROOT = Path(__file__).resolve().parents[1]
GEODATA = ROOT / "geodata"

#: The config every test app starts from (the one the per-test ``app`` always had).
TEST_CONFIG = {"TESTING": True, "INDEX_REFRESH_SECONDS": 0}

#: The store methods that write (``VenueStore`` in ``locator.storage.sqlite``).
STORE_WRITES = frozenset(
    {
        "put",
        "edit",
        "merge",
        "replace_all",
        "rollback",
        "seed_if_empty",
        "add_report",
        "decide_report",
        "add_confirmation",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "readonly: `app` and `client` are the shared read-only app (see conftest.py)")


class ReadOnlyStore:
    """The session app's store: reads pass through, any write fails the test that tried it."""

    def __init__(self, store: Any) -> None:
        self.wrapped = store

    def __getattr__(self, name: str) -> Any:
        if name in STORE_WRITES:
            raise AssertionError(
                f"store.{name}() on the shared read-only app (ro_app/ro_client): a test that writes takes `app`"
            )
        return getattr(self.wrapped, name)


def _copy_register(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    wal = src.with_name(src.name + "-wal")  # normally checkpointed away on close; copied if not
    if wal.exists():
        shutil.copyfile(wal, dst.with_name(dst.name + "-wal"))
    return dst


@pytest.fixture(scope="session")
def register_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A register file exactly as the app factory seeds it on first start, built once per session."""
    path = tmp_path_factory.mktemp("template") / "register.sqlite3"
    reg = get_register(create_app({**TEST_CONFIG, "DATABASE": str(path)}))
    seeded = json.loads((GEODATA / "venues.geojson").read_text(encoding="utf-8"))["features"]
    assert reg.store.version() == 1 and reg.store.count() == len(seeded), "the app did not seed the shipped venues"
    reg.close()
    return path


@pytest.fixture(scope="session")
def _session_app(register_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    db = _copy_register(register_template, tmp_path_factory.mktemp("readonly") / "register.sqlite3")
    app = create_app({**TEST_CONFIG, "DATABASE": str(db), "ACCESS_LOG": False})
    reg = get_register(app)
    reg.store = ReadOnlyStore(reg.store)  # type: ignore[assignment]
    yield app
    reg.store.wrapped.close()


@pytest.fixture
def ro_app(_session_app: Flask) -> Iterator[Flask]:
    """The shared read-only app; fails the test that changed its register or its config."""
    store = get_register(_session_app).store
    version, config = store.version(), dict(_session_app.config)
    yield _session_app
    assert store.version() == version, "this test wrote to the shared read-only register; use the `app` fixture"
    now = _session_app.config
    changed = sorted(k for k in config.keys() | now.keys() if config.get(k) != now.get(k))
    now.clear()
    now.update(config)  # put it back, so that only this test fails
    assert not changed, f"this test changed the shared app's config {changed}; use the `app` fixture"


@pytest.fixture
def ro_client(ro_app: Flask) -> Any:
    """A client of its own (cookies are per test) on the shared read-only app."""
    return ro_app.test_client()


@pytest.fixture
def app(request: pytest.FixtureRequest, register_template: Path, tmp_path: Path) -> Flask:
    """A writable app of its own, on a copy of the seeded register (marked ``readonly``: the shared one)."""
    if request.node.get_closest_marker("readonly"):
        ro: Flask = request.getfixturevalue("ro_app")
        return ro
    db = _copy_register(register_template, tmp_path / "test.sqlite3")
    return create_app({**TEST_CONFIG, "DATABASE": str(db)})


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


def feature(vid="t-1", name="测试站", category="outdoor_station", lon=110.33, lat=20.03, district="460106", **props):
    return {
        "type": "Feature",
        "id": vid,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": name, "category": category, "district_code": district, **props},
    }


def write_collection(path: Path, features) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8"
    )
    return path
