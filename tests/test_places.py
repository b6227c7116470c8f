"""``/api/v1/places``: the gazetteer over HTTP, bounded, one problem shape for bad input."""

from __future__ import annotations

import pytest

from locator.web.places import MAX_PLACE_Q, MAX_PLACES, gazetteer

pytestmark = pytest.mark.readonly


@pytest.mark.parametrize(
    ("q", "zh", "district"),
    [
        ("三亚", "三亚市", "460200"),
        ("海口", "海口市", "460100"),
        ("那大镇", "那大镇", "460400"),
        ("那大", "那大镇", "460400"),
        ("ｎａｄａ", "那大镇", "460400"),
        ("嘉积", "琼海市", "469002"),
    ],
)
def test_places_by_name(client, q, zh, district):
    r = client.get("/api/v1/places", query_string={"q": q})
    assert r.status_code == 200 and r.mimetype == "application/json"
    places = r.get_json()["places"]
    assert places and places[0]["name_zh"] == zh
    first = places[0]
    assert first["district_code"].startswith(district[:4])
    assert 108.5 < first["lon"] < 111.3 and 18.1 < first["lat"] < 20.2
    assert {"name_en", "kind", "district"} <= set(first)


def test_unknown_place_is_an_empty_list(client):
    r = client.get("/api/v1/places", query_string={"q": "户外劳动者服务站"})
    assert r.status_code == 200 and r.get_json() == {"places": []}


@pytest.mark.parametrize(
    "query",
    ["", "?q=", "?q=%20", "?q=" + "海" * (MAX_PLACE_Q + 1), "?q=a&q=b"],
)
def test_bad_q_is_a_problem_naming_it(client, query):
    r = client.get("/api/v1/places" + query)
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    assert [p["name"] for p in r.get_json(force=True)["invalid_params"]] == ["q"]


def test_the_longest_q_is_accepted(client):
    assert client.get("/api/v1/places", query_string={"q": "海" * MAX_PLACE_Q}).status_code == 200


def test_at_most_max_places(app, client):
    with app.app_context():
        g = gazetteer()
        assert g is gazetteer()  # read once per app
        busiest = max({n for p in g.places for n in p.names}, key=lambda n: len(g.lookup(n)))
    got = client.get("/api/v1/places", query_string={"q": busiest}).get_json()["places"]
    assert 1 <= len(got) <= MAX_PLACES


def test_openapi_documents_places(client):
    doc = client.get("/api/v1/openapi.json").get_json(force=True)
    op = next(p for u, p in doc["paths"].items() if u.endswith("/places"))["get"]
    assert op["parameters"] == [{"$ref": "#/components/parameters/place_q"}]
    assert doc["components"]["parameters"]["place_q"]["schema"]["maxLength"] == MAX_PLACE_Q
    assert doc["components"]["schemas"]["PlaceList"]["properties"]["places"]["maxItems"] == MAX_PLACES
