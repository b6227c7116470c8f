"""The web app's one state object and its settings: ``locator/web/state.py``, ``locator/web/settings.py``."""

from __future__ import annotations

import dataclasses

import pytest

from locator import config, create_app
from locator.errors import InvalidParameter
from locator.web import catalog
from locator.web.settings import Settings
from locator.web.state import KEY, AppState, Cached, app_state, get_register, get_settings

DEFAULTS = {k: getattr(config, k) for k in dir(config) if k.isupper()}


# -- settings ---------------------------------------------------------------------------------


def test_settings_are_read_once_with_the_documented_defaults(tmp_path):
    s = Settings.from_config(DEFAULTS, tmp_path)
    assert (s.cache_max_age, s.access_log, s.reports_per_hour, s.tiles) == (60, True, 5, "osm")
    assert s.admin_users_file == tmp_path / "admin_users.json"
    assert s.public_base_url is None and s.embed_frame_ancestors == "*"
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.cache_max_age = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "value", "quoted"),
    [
        ("CACHE_MAX_AGE", "60", "'60'"),
        ("CACHE_MAX_AGE", -1, "-1"),
        ("CACHE_MAX_AGE", True, "True"),
        ("REPORTS_PER_HOUR", 2.5, "2.5"),
        ("ACCESS_LOG", "yes", "'yes'"),
        ("RATELIMIT_ENABLED", 1, "1"),
        ("RATELIMIT_DEFAULT", "lots per minute", "'lots per minute'"),
        ("RATELIMIT_STRATEGY", "leaky-bucket", "'leaky-bucket'"),
        ("TILES", "googlemaps", "'googlemaps'"),
        ("MAX_CONTENT_LENGTH", 0, "0"),
        ("COVERAGE_TARGET_PER_10K", float("nan"), "nan"),
        ("COVERAGE_TARGET_PER_10K", "1", "'1'"),
        ("PUBLIC_BASE_URL", "map.example.cn", "'map.example.cn'"),
        ("PUBLIC_BASE_URL", "https://map.example.cn/?a=1", "'https://map.example.cn/?a=1'"),
        ("PUBLIC_BASE_URL", "javascript:alert(1)", "'javascript:alert(1)'"),
        ("ADMIN_TOKENS", ["abc"], "['abc']"),
        ("TIANDITU_KEY", 123, "123"),
    ],
)
def test_settings_reject_a_bad_value_quoting_it(tmp_path, key, value, quoted):
    with pytest.raises(InvalidParameter) as caught:
        Settings.from_config({**DEFAULTS, key: value}, tmp_path)
    assert caught.value.name == key
    assert quoted in str(caught.value) and str(caught.value).startswith(f"{key}: ")


def test_a_bad_setting_stops_start_up(tmp_path):
    with pytest.raises(ValueError, match=r"CACHE_MAX_AGE: .*'soon'"):
        create_app({"TESTING": True, "DATABASE": str(tmp_path / "t.sqlite3"), "CACHE_MAX_AGE": "soon"})


def test_settings_from_the_environment_are_typed(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCATOR_CACHE_MAX_AGE", "7")
    monkeypatch.setenv("LOCATOR_ACCESS_LOG", "false")
    monkeypatch.setenv("LOCATOR_PUBLIC_BASE_URL", "https://map.example.cn/")
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "t.sqlite3")})
    s = get_settings(app)
    assert (s.cache_max_age, s.access_log, s.public_base_url) == (7, False, "https://map.example.cn")
    r = app.test_client().get("/api/v1/collections")
    assert r.headers["Cache-Control"] == "public, max-age=7"


def test_a_limiter_that_is_off_may_keep_any_leftover_settings(tmp_path):
    s = Settings.from_config({**DEFAULTS, "RATELIMIT_ENABLED": False, "RATELIMIT_DEFAULT": "x"}, tmp_path)
    assert not s.ratelimit_enabled


# -- one state object ----------------------------------------------------------------------------


def test_the_app_keeps_one_state_object(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "t.sqlite3")})
    state = app_state(app)
    assert isinstance(state, AppState) and list(app.extensions).count(KEY) == 1
    assert state.register is get_register(app) and state.settings is get_settings(app)
    assert state.limiter is not None and state.frame_ancestors == "*"
    assert not [k for k in app.extensions if k.startswith(("locator.", "coverage"))]


def test_the_state_of_the_current_app_is_the_app_in_context_and_none_outside(tmp_path):
    one = create_app({"TESTING": True, "DATABASE": str(tmp_path / "one.sqlite3")})
    two = create_app({"TESTING": True, "DATABASE": str(tmp_path / "two.sqlite3")})
    with one.app_context():
        assert app_state() is one.extensions[KEY]
        with two.test_request_context("/"):  # the innermost context is the current app
            assert app_state() is two.extensions[KEY] and get_register() is two.extensions[KEY].register
        assert app_state() is one.extensions[KEY]
    with pytest.raises(RuntimeError, match="application context"):
        app_state()


def test_cached_recomputes_only_when_the_key_changes():
    calls = []
    slot: Cached[list[int]] = Cached()

    def compute() -> list[int]:
        calls.append(1)
        return [len(calls)]

    first = slot.get(3, compute)
    assert slot.get(3, compute) is first and len(calls) == 1 and slot.key == 3
    second = slot.get(4, compute)
    assert second == [2] and second is not first and slot.key == 4
    assert slot.get(4, compute) is second and len(calls) == 2


def test_a_version_keyed_cache_recomputes_after_a_write_and_not_otherwise(tmp_path, monkeypatch):
    app = create_app(
        {"TESTING": True, "DATABASE": str(tmp_path / "t.sqlite3"), "INDEX_REFRESH_SECONDS": 0, "ACCESS_LOG": False}
    )
    builds = []
    real = catalog.summarise
    monkeypatch.setattr(catalog, "summarise", lambda *a: builds.append(a[2]) or real(*a))
    client = app.test_client()
    reg = get_register(app)

    def total() -> int:
        page = client.get("/api/v1/collections/districts/items?limit=50").get_json()
        return sum(f["properties"]["venue_total"] for f in page["features"])

    before = total()
    client.get("/api/v1/collections")
    client.get("/api/v1/collections/venues")
    assert builds == [reg.index.version]  # three requests, one build

    venue = reg.index.venues()[0]
    reg.store.edit(dataclasses.replace(venue, status="closed"), "test", "close")
    reg.refresh()
    assert total() == before - 1
    assert len(builds) == 2 and builds[-1] == reg.index.version == app_state(app).collections.key
    client.get("/api/v1/collections")
    assert len(builds) == 2
