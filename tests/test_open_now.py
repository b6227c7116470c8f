"""``open_now=true`` on /nearest and on OGC items: only open venues, nearest first, bounded."""

from __future__ import annotations

from datetime import datetime

import pytest

from locator.hours import TZ
from locator.web.api import OPEN_SEARCH_LIMIT, nearest_open, open_now
from locator.web.state import get_register

pytestmark = pytest.mark.readonly

HAIKOU = {"lat": 20.03, "lon": 110.33}
NIGHT = datetime(2026, 12, 2, 23, 30, tzinfo=TZ)
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=TZ)


@pytest.mark.parametrize("now", [NIGHT, NOON], ids=["23:30", "12:00"])
@pytest.mark.parametrize("k", [1, 5])
def test_nearest_open_equals_brute_force(app, now, k):
    index = get_register(app).index
    got = nearest_open(index, HAIKOU["lon"], HAIKOU["lat"], k, None, None, now)
    every = index.nearest(HAIKOU["lon"], HAIKOU["lat"], OPEN_SEARCH_LIMIT, None)
    want = [h for h in every if open_now(h.venue.opening_hours, now) is True][:k]
    assert [h.venue.id for h in got] == [h.venue.id for h in want]
    assert len(got) == k
    assert all(open_now(h.venue.opening_hours, now) for h in got)


def test_at_night_the_nearest_open_is_not_the_nearest(app):
    """The demonstration data at 23:30 downtown: the closest venues are closed, an open one lies farther."""
    index = get_register(app).index
    first = index.nearest(HAIKOU["lon"], HAIKOU["lat"], 1, ["outdoor_station"])[0]
    opened = nearest_open(index, HAIKOU["lon"], HAIKOU["lat"], 1, ["outdoor_station"], None, NIGHT)[0]
    assert open_now(first.venue.opening_hours, NIGHT) is not True
    assert opened.distance_m > first.distance_m


def test_nearest_open_respects_categories_and_max_distance(app):
    index = get_register(app).index
    got = nearest_open(index, HAIKOU["lon"], HAIKOU["lat"], 5, ["outdoor_station"], 2000.0, NOON)
    assert got and all(h.venue.category == "outdoor_station" and h.distance_m <= 2000 for h in got)


def test_http_nearest_open_now_true(client):
    r = client.get("/api/v1/nearest", query_string={**HAIKOU, "open_now": "true", "k": 5})
    assert r.status_code == 200
    feats = r.get_json(force=True)["features"]
    assert feats, "some venue is open at any hour (24/7 stations)"
    assert all(f["properties"]["open_now"] is True for f in feats)
    d = [f["properties"]["distance_m"] for f in feats]
    assert d == sorted(d)


def test_http_open_now_false_is_the_plain_answer(client):
    plain = client.get("/api/v1/nearest", query_string=HAIKOU).get_json(force=True)
    off = client.get("/api/v1/nearest", query_string={**HAIKOU, "open_now": "false"}).get_json(force=True)
    assert [f["id"] for f in plain["features"]] == [f["id"] for f in off["features"]]


def test_items_open_now_true(client):
    r = client.get("/api/v1/collections/venues/items", query_string={"open_now": "1", "limit": 100})
    assert r.status_code == 200
    body = r.get_json(force=True)
    everything = client.get("/api/v1/collections/venues/items", query_string={"limit": 1})
    assert 0 < body["numberMatched"] <= everything.get_json(force=True)["numberMatched"]
    assert all(f["properties"]["open_now"] is True for f in body["features"])


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/nearest?lat=20&lon=110&open_now=yes",
        "/api/v1/nearest?lat=20&lon=110&open_now=true&open_now=false",
        "/api/v1/collections/venues/items?open_now=2",
    ],
)
def test_bad_open_now_is_a_problem_naming_it(client, url):
    r = client.get(url)
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    assert [p["name"] for p in r.get_json(force=True)["invalid_params"]] == ["open_now"]


def test_openapi_documents_open_now(client):
    doc = client.get("/api/v1/openapi.json").get_json(force=True)
    assert doc["components"]["parameters"]["open_now"]["schema"]["type"] == "boolean"
    items = next(p for u, p in doc["paths"].items() if u.endswith("/collections/venues/items"))
    names = [p.get("$ref", "").rsplit("/", 1)[-1] for p in items["get"]["parameters"]]
    assert "open_now" in names
