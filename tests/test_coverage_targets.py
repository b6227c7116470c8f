"""Coverage targets per category (COVERAGE_TARGETS): parsing, which target applies, and the flag."""

from __future__ import annotations

import pytest

from locator import create_app
from locator.config import COVERAGE_TARGETS
from locator.errors import InvalidParameter
from locator.planning.targets import CategoryTarget, EffectiveTarget, effective_target, parse_targets

OFFSHORE = {"460301", "460302"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, {}),
        ({}, {}),
        ({"outdoor_station": {"covered_pct": 5, "radius_m": 1000}}, {"outdoor_station": CategoryTarget(5.0, 1000.0)}),
        ({"reading_room": {"per_10k": 1.26}}, {"reading_room": CategoryTarget(per_10k=1.26)}),
    ],
)
def test_good_targets(raw, expected):
    assert parse_targets(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ([1, 2], "mapping"),
        ({"bus_stop": {"per_10k": 1}}, "'bus_stop'"),
        ({"outdoor_station": {"share": 5}}, "'share'"),
        ({"outdoor_station": {"covered_pct": 101, "radius_m": 1000}}, "101"),
        ({"outdoor_station": {"covered_pct": 5}}, "go together"),
        ({"reading_room": {"per_10k": -1}}, "-1"),
        ({"reading_room": {"per_10k": "1"}}, "'1'"),
        ({"reading_room": {"per_10k": True}}, "True"),
    ],
)
def test_bad_targets_name_the_setting_and_quote_the_value(raw, fragment):
    with pytest.raises(InvalidParameter) as e:
        parse_targets(raw)
    assert e.value.name == "COVERAGE_TARGETS" and fragment in str(e.value)


def test_the_documented_defaults_parse():
    t = parse_targets(COVERAGE_TARGETS)
    assert t["outdoor_station"] == CategoryTarget(covered_pct=5.0, radius_m=1000.0)
    assert set(t) == {"outdoor_station", "workers_home", "reading_room", "service_center", "innovation_studio", "other"}


T = parse_targets(
    {
        "outdoor_station": {"covered_pct": 5, "radius_m": 1000},
        "reading_room": {"per_10k": 1.2},
        "other": {"per_10k": 0.3},
    }
)


@pytest.mark.parametrize(
    ("cats", "radius", "override", "expected"),
    [
        (["outdoor_station"], 1000, None, EffectiveTarget(None, 5.0, 1000.0)),
        (["outdoor_station"], 1500, None, EffectiveTarget()),  # a share at 1 km is not checked at 1.5 km
        (["outdoor_station", "reading_room"], 1000, None, EffectiveTarget(1.2)),  # share: one category only
        (["reading_room", "other"], 1000, None, EffectiveTarget(1.5)),  # rates add up
        (["workers_home"], 1000, None, EffectiveTarget()),
        (["outdoor_station"], 1000, 2.0, EffectiveTarget(2.0, 5.0, 1000.0)),  # the old setting, explicitly
    ],
)
def test_effective_target(cats, radius, override, expected):
    assert effective_target(T, cats, radius, per_10k_override=override) == expected


# -- the flag over the shipped data ------------------------------------------------
@pytest.fixture(scope="module")
def app(tmp_path_factory):
    db = tmp_path_factory.mktemp("targets") / "test.sqlite3"
    return create_app({"TESTING": True, "DATABASE": str(db), "INDEX_REFRESH_SECONDS": 0, "TILES": "none"})


def test_outdoor_stations_at_1_km_separate_districts(app):
    doc = app.test_client().get("/api/v1/coverage?category=outdoor_station&radius=1000").get_json()
    assert doc["params"]["target_covered_pct"] == 5.0
    rows = doc["districts"]
    flagged = {r["adcode"] for r in rows if r["below_target"]}
    assert 0 < len(flagged) < len(rows)
    assert not flagged & OFFSHORE
    for r in rows:
        if r["adcode"] not in OFFSHORE:
            assert r["below_target"] == (r["population_covered_pct"] < 5.0), r
    assert {d["adcode"] for d in doc["summary"]["districts_below_target"]} == flagged


def test_at_another_radius_the_walking_target_does_not_apply(app):
    doc = app.test_client().get("/api/v1/coverage?category=outdoor_station&radius=3000").get_json()
    assert doc["params"]["target_covered_pct"] is None
    assert not any(r["below_target"] for r in doc["districts"])


def test_reading_rooms_flag_below_the_provincial_rate(app):
    doc = app.test_client().get("/api/v1/coverage?category=reading_room&radius=1000").get_json()
    assert doc["params"]["target_per_10k"] == 1.26
    flagged = [r for r in doc["districts"] if r["below_target"]]
    assert 0 < len(flagged) < len(doc["districts"])
    assert all(r["venues_per_10k"] < 1.26 for r in flagged)


def test_the_single_per_10k_setting_still_works_when_given(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "t.sqlite3"),
            "TILES": "none",
            "COVERAGE_TARGET_PER_10K": 100.0,
            "COVERAGE_TARGETS": {},
        }
    )
    doc = app.test_client().get("/api/v1/coverage?category=reading_room&radius=1000").get_json()
    assert doc["params"]["target_per_10k"] == 100.0
    assert all(r["below_target"] for r in doc["districts"] if r["venues_per_10k"] is not None)


def test_a_bad_targets_setting_fails_at_start_naming_it(tmp_path):
    with pytest.raises(InvalidParameter, match="COVERAGE_TARGETS"):
        create_app({"TESTING": True, "DATABASE": str(tmp_path / "t.sqlite3"), "COVERAGE_TARGETS": {"x": {}}})
