"""Fuzzing the query strings: no input may produce a 5xx, and every error is the problem shape."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locator import create_app

ENDPOINTS = [
    "/api/v1/nearest",
    "/api/v1/venues",
    "/api/v1/collections/venues/items",
    "/api/v1/collections/districts/items",
    "/api/v1/collections/venues/items/460105-IS-001",
    "/api/v1/",
]
NAMES = [
    "lat",
    "lon",
    "k",
    "category",
    "max_distance",
    "crs",
    "bbox",
    "limit",
    "offset",
    "district",
    "amenity",
    "q",
    "f",
]
numberish = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        [
            "",
            "nan",
            "-inf",
            "1e999",
            "0x1f",
            "１２",
            "٣",
            "20.",
            ".5",
            "1,2,3,4",
            "110,20,111,21",
            "outdoor_station",
            "gcj02",
        ]
    ),
)
value = st.one_of(numberish, st.text(max_size=120), st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
pairs = st.lists(st.tuples(st.one_of(st.sampled_from(NAMES), st.text(max_size=8)), value), max_size=6)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
    app = create_app({"TESTING": True, "DATABASE": str(db), "ACCESS_LOG": False, "RATELIMIT_ENABLED": False})
    return app.test_client()


def check(resp):
    assert resp.status_code < 500, resp.get_data(as_text=True)
    if resp.status_code >= 400:
        assert resp.mimetype == "application/problem+json"
        body = resp.get_json(force=True)
        assert body["status"] == resp.status_code and body["title"] and body["detail"]
        assert resp.status_code in (400, 404)
    else:
        assert resp.status_code == 200


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(ENDPOINTS), args=pairs)
def test_fuzzed_parameters_never_fail(client, endpoint, args):
    qs = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in args)
    check(client.get(f"{endpoint}?{qs}"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    raw=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80),
)
def test_fuzzed_raw_query_strings_never_fail(client, endpoint, raw):
    check(client.get(f"{endpoint}?{raw.replace('#', '%23')}"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lat=st.floats(min_value=-90, max_value=90),
    lon=st.floats(min_value=-180, max_value=180),
    k=st.integers(1, 50),
    crs=st.sampled_from(["wgs84", "gcj02", "bd09"]),
    max_distance=st.one_of(st.none(), st.floats(min_value=0, max_value=1e9)),
)
def test_every_valid_nearest_query_answers_200(client, lat, lon, k, crs, max_distance):
    qs = {"lat": repr(lat), "lon": repr(lon), "k": k, "crs": crs}
    if max_distance is not None:
        qs["max_distance"] = repr(max_distance)
    r = client.get("/api/v1/nearest", query_string=qs)
    assert r.status_code == 200, r.get_data(as_text=True)
    feats = r.get_json(force=True)["features"]
    assert len(feats) <= k
    d = [f["properties"]["distance_m"] for f in feats]
    assert d == sorted(d)
