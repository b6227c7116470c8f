"""OGC API – Features Part 3 on ``…/items``: queryables, CQL2 text and JSON filters, sortby, properties.

Filters run on the in-memory index on both back ends (reads never wait on the
database), so the filter, sortby and properties tests run against an app on
the SQLite register (the shared read-only app) and one on PostGIS
(``tests/pg.py``; skipped, with the reason, without PostgreSQL and PostGIS).
Expected answers are computed from the register's index, not through HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from locator import create_app
from locator.categories import CATEGORY_CODES
from locator.filters import FILTER_LANGS, MAX_FILTER_CHARS
from locator.web.catalog import (
    CONFORMANCE,
    DISTRICT_PROPERTIES,
    DISTRICT_QUERYABLES,
    QUERYABLES_REL,
    VENUE_PROPERTIES,
)
from locator.web.state import get_register

from .pg import pg_server, pg_url  # noqa: F401  (fixtures)

VENUES = "/api/v1/collections/venues/items"
DISTRICTS = "/api/v1/collections/districts/items"


@pytest.fixture(params=["sqlite", "postgis"])
def api(request: pytest.FixtureRequest) -> Iterator[tuple[Flask, FlaskClient]]:
    """An app and its client, on the SQLite register or on PostGIS."""
    if request.param == "sqlite":
        yield request.getfixturevalue("ro_app"), request.getfixturevalue("ro_client")
        return
    url = request.getfixturevalue("pg_url")
    app = create_app({"TESTING": True, "DATABASE_URL": url, "ACCESS_LOG": False})
    reg = get_register(app)
    assert type(reg.store).__module__ == "locator.storage.postgis" and len(reg.index) > 2000
    try:
        yield app, app.test_client()
    finally:
        reg.close()


def every_page(client: FlaskClient, url: str) -> list[dict]:
    """The features of every page, following the next links."""
    features: list[dict] = []
    next_url: str | None = url
    while next_url:
        r = client.get(next_url)
        assert r.status_code == 200, r.get_data(as_text=True)
        body = r.get_json(force=True)
        features += body["features"]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        next_url = urlsplit(nxt[0])._replace(scheme="", netloc="").geturl() if nxt else None
    return features


def test_a_cql2_text_filter(api):
    app, client = api
    text = "category = 'outdoor_station' AND district_code = '460106'"
    venues = get_register(app).index.venues()
    want = sorted(v.id for v in venues if v.category == "outdoor_station" and v.district_code == "460106")
    assert len(want) > 10
    got = every_page(client, f"{VENUES}?limit=7&filter={quote(text)}")
    assert sorted(f["id"] for f in got) == want
    # the same as the simple parameters, under the properties' own names and the old ones
    for simple in ("category=outdoor_station&district_code=460106", "category=outdoor_station&district=460106"):
        body = client.get(f"{VENUES}?limit=1000&{simple}").get_json(force=True)
        assert sorted(f["id"] for f in body["features"]) == want


def test_a_cql2_json_filter(api):
    app, client = api
    tree = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "category"}, "reading_room"]},
            {"op": "a_contains", "args": [{"property": "amenities"}, ["wifi"]]},
            {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [110.0, 19.8, 110.7, 20.2]}]},
        ],
    }
    want = sorted(
        v.id
        for v in get_register(app).index.venues()
        if v.category == "reading_room" and "wifi" in v.amenities and 110 <= v.lon <= 110.7 and 19.8 <= v.lat <= 20.2
    )
    assert want
    url = f"{VENUES}?limit=1000&filter-lang=cql2-json&filter={quote(json.dumps(tree))}"
    body = client.get(url).get_json(force=True)
    assert body["numberMatched"] == len(want)
    assert sorted(f["id"] for f in body["features"]) == want


def test_sortby_orders_every_page(api):
    app, client = api
    got = every_page(client, f"{VENUES}?limit=1000&sortby=-district_code,name")
    venues = get_register(app).index.venues()
    assert len(got) == len(venues)
    by_id = {v.id: v for v in venues}
    keys = [(by_id[f["id"]].district_code, by_id[f["id"]].name) for f in got]
    assert [k[0] for k in keys] == sorted((k[0] for k in keys), reverse=True)
    for a, b in zip(keys, keys[1:], strict=False):
        if a[0] == b[0]:
            assert a[1] <= b[1]
    # ascending with a filter: the page is the first of the matches in name order
    body = client.get(f"{VENUES}?limit=5&sortby=name&category=reading_room").get_json(force=True)
    want = sorted((v.name, v.id) for v in venues if v.category == "reading_room")[:5]
    assert [f["properties"]["name"] for f in body["features"]] == [name for name, _ in want]


def test_properties_cut_the_features_down(api):
    _, client = api
    body = client.get(f"{VENUES}?limit=50&properties=name,open_now,amenities").get_json(force=True)
    assert body["numberReturned"] == 50
    for f in body["features"]:
        assert set(f["properties"]) == {"name", "open_now", "amenities"}
        assert f["id"] and f["geometry"]["type"] == "Point"
    full = client.get(f"{VENUES}?limit=1").get_json(force=True)["features"][0]
    assert tuple(full["properties"]) == VENUE_PROPERTIES


@pytest.mark.readonly
def test_districts_take_filter_sortby_and_properties(client):
    url = f"{DISTRICTS}?filter={quote('venue_total > 100 AND population_2020 >= 300000')}"
    body = client.get(f"{url}&sortby=-population_2020&properties=name_zh,population_2020,venue_total").get_json(
        force=True
    )
    props = [f["properties"] for f in body["features"]]
    assert props and all(set(p) == {"name_zh", "population_2020", "venue_total"} for p in props)
    assert all(p["venue_total"] > 100 and p["population_2020"] >= 300000 for p in props)
    pops = [p["population_2020"] for p in props]
    assert pops == sorted(pops, reverse=True)
    every = client.get(f"{DISTRICTS}?limit=100").get_json(force=True)["features"]
    assert tuple(every[0]["properties"]) == DISTRICT_PROPERTIES
    want = [
        f["id"] for f in every if f["properties"]["venue_total"] > 100 and f["properties"]["population_2020"] >= 300000
    ]
    assert sorted(f["id"] for f in body["features"]) == sorted(want)
    # the venue filters are not the districts' (their operation does not list them): a 400 naming them
    r = client.get(f"{DISTRICTS}?q=海口&category=reading_room")
    assert r.status_code == 400
    assert [p["name"] for p in r.get_json(force=True)["invalid_params"]] == ["q", "category"]


@pytest.mark.readonly
def test_aliases_named_as_the_properties(client):
    a = client.get(f"{VENUES}?limit=1000&amenities=wifi,toilet").get_json(force=True)
    b = client.get(f"{VENUES}?limit=1000&amenity=wifi,toilet").get_json(force=True)
    assert a["numberMatched"] == b["numberMatched"] > 0
    assert [f["id"] for f in a["features"]] == [f["id"] for f in b["features"]]
    # both given: a venue must pass both
    both = client.get(f"{VENUES}?limit=1000&amenities=wifi&amenity=toilet").get_json(force=True)
    assert both["numberMatched"] == a["numberMatched"]
    none = client.get(f"{VENUES}?district=460106&district_code=460105").get_json(force=True)
    assert none["numberMatched"] == 0
    r = client.get(f"{VENUES}?district_code=999999")
    assert r.status_code == 400 and r.get_json(force=True)["invalid_params"][0]["name"] == "district_code"


@pytest.mark.readonly
@pytest.mark.parametrize("cid", ["venues", "districts"])
def test_queryables_document(client, cid):
    coll = client.get(f"/api/v1/collections/{cid}").get_json(force=True)
    link = next(link for link in coll["links"] if link["rel"] == QUERYABLES_REL)
    assert link["type"] == "application/schema+json"
    r = client.get(urlsplit(link["href"]).path)
    assert r.status_code == 200 and r.mimetype == "application/schema+json"
    doc = r.get_json(force=True)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema" and doc["type"] == "object"
    assert doc["$id"] == link["href"]
    if cid == "venues":
        assert doc["properties"]["category"]["enum"] == list(CATEGORY_CODES)
        assert doc["properties"]["amenities"]["type"] == "array"
        assert doc["properties"]["geometry"]["format"] == "geometry-point"
    else:
        assert set(doc["properties"]) == {q.name for q in DISTRICT_QUERYABLES}
    # every queryable it names, the filter takes
    for name, schema in doc["properties"].items():
        if "format" in schema or schema.get("type") == "array":
            continue
        items = f"/api/v1/collections/{cid}/items?limit=1&filter={quote(f'{name} IS NOT NULL')}"
        assert client.get(items).status_code == 200, name
    assert client.get("/api/v1/collections/roads/queryables").status_code == 404


@pytest.mark.readonly
def test_conformance_declares_part_3_and_cql2(client):
    conf = set(client.get("/api/v1/conformance").get_json(force=True)["conformsTo"])
    assert conf == set(CONFORMANCE)
    for cls in ("features-3/1.0/conf/filter", "features-3/1.0/conf/queryables", "features-3/1.0/conf/features-filter"):
        assert f"http://www.opengis.net/spec/ogcapi-{cls}" in conf
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in conf


@pytest.mark.readonly
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("filter=" + quote("colour = 'red'"), "filter"),
        ("filter=" + quote("category = 3"), "filter"),
        ("filter=" + quote("category = 'outdoor_station' AND"), "filter"),
        ("filter=" + "x" * (MAX_FILTER_CHARS + 1), "filter"),
        ("filter-lang=cql2-xml&filter=" + quote("category = 'x'"), "filter-lang"),
        ("filter-lang=cql2-xml", "filter-lang"),
        ("filter-lang=cql2-json&filter=" + quote("{not json"), "filter"),
        ("sortby=amenities", "sortby"),
        ("sortby=colour", "sortby"),
        ("sortby=name,", "sortby"),
        ("properties=colour", "properties"),
        ("properties=", "properties"),
        ("filter=", "filter"),
        ("sortby=", "sortby"),
        ("filter-lang=", "filter-lang"),
        ("crs=", "crs"),
        ("bbox-crs=", "bbox-crs"),
    ],
)
def test_bad_part_3_input_is_a_400_naming_it(client, query, name):
    r = client.get(f"{VENUES}?{query}")
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert r.get_json(force=True)["invalid_params"][0]["name"] == name


@pytest.mark.readonly
def test_openapi_describes_the_filter_parameters_precisely(client):
    doc = client.get("/api/v1/openapi.json").get_json(force=True)
    p = doc["components"]["parameters"]
    assert p["filter"]["schema"]["maxLength"] == MAX_FILTER_CHARS and p["filter"]["schema"]["minLength"] == 1
    assert p["filter-lang"]["schema"]["enum"] == list(FILTER_LANGS)
    assert p["venueProperties"]["name"] == "properties" and p["venueProperties"]["explode"] is False
    assert p["venueProperties"]["schema"]["items"]["enum"] == list(VENUE_PROPERTIES)
    assert {"name", "-name", "+name"} <= set(p["venueSortby"]["schema"]["items"]["enum"])
    assert "-population_2020" in p["districtSortby"]["schema"]["items"]["enum"]
    names = {r["$ref"].rsplit("/", 1)[1] for r in doc["paths"]["/collections/venues/items"]["get"]["parameters"]}
    assert {"filter", "filter-lang", "venueSortby", "venueProperties", "district_code", "amenities"} <= names


# -- Part 2: crs and bbox-crs -----------------------------------------------------------------

EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"


def test_crs_answers_in_the_crs_asked_for(api):
    from locator.geo import wgs84_to_bd09, wgs84_to_gcj02
    from locator.web.catalog import CRS_ALIASES

    app, client = api
    venue = sorted(get_register(app).index.venues(), key=lambda v: v.id)[0]
    url = f"{VENUES}?limit=1&properties=name"
    plain = client.get(url)
    assert plain.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    assert plain.get_json(force=True)["features"][0]["geometry"]["coordinates"] == [
        round(venue.lon, 6),
        round(venue.lat, 6),
    ]
    for uri in (EPSG4326, EPSG4490):
        r = client.get(f"{url}&crs={quote(uri, safe='')}")
        assert r.headers["Content-Crs"] == f"<{uri}>"
        assert r.get_json(force=True)["features"][0]["geometry"]["coordinates"] == [
            round(venue.lat, 6),
            round(venue.lon, 6),
        ]
    for name, shift in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        r = client.get(f"{url}&crs={quote(CRS_ALIASES[name], safe='')}")
        assert r.headers["Content-Crs"] == f"<{CRS_ALIASES[name]}>"
        lon, lat = shift(venue.lon, venue.lat)
        got = r.get_json(force=True)["features"][0]["geometry"]["coordinates"]
        assert got == [round(float(lon), 6), round(float(lat), 6)] and got != [round(venue.lon, 6), round(venue.lat, 6)]
        # the short name works too, and a single feature takes crs as well
        assert client.get(f"{url}&crs={name}").get_json(force=True)["features"][0]["geometry"]["coordinates"] == got
        one = client.get(f"{VENUES}/{venue.id}?crs={name}")
        assert one.get_json(force=True)["geometry"]["coordinates"] == got and one.headers["Content-Crs"]


def test_bbox_crs_reads_the_bbox_in_that_crs(api):
    from locator.geo import wgs84_to_gcj02

    app, client = api
    west, south, east, north = 110.25, 19.95, 110.45, 20.08
    want = sorted(v.id for v in get_register(app).index.venues() if west <= v.lon <= east and south <= v.lat <= north)
    assert want

    def ids(query: str) -> list[str]:
        return sorted(f["id"] for f in every_page(client, f"{VENUES}?limit=1000&{query}"))

    assert ids(f"bbox={west},{south},{east},{north}") == want
    # EPSG:4326 and 4490: latitude first
    for uri in (EPSG4326, EPSG4490):
        assert ids(f"bbox={south},{west},{north},{east}&bbox-crs={quote(uri, safe='')}") == want
    # GCJ-02: the same box as a GCJ-02 map shows it finds the same venues, give or take the edges
    (gw, ge), (gs, gn) = wgs84_to_gcj02([west, east], [south, north])
    shifted = ids(f"bbox={gw},{gs},{ge},{gn}&bbox-crs=gcj02")
    assert len(set(shifted) ^ set(want)) <= max(3, len(want) // 50)
    # the same numbers read as CRS84 miss some of them: the shift is real
    assert ids(f"bbox={gw},{gs},{ge},{gn}") != shifted


@pytest.mark.readonly
def test_collections_say_their_crs_and_bad_ones_are_refused(client):
    from locator.web.catalog import CRS84, SUPPORTED_CRS

    coll = client.get("/api/v1/collections/venues").get_json(force=True)
    assert coll["storageCrs"] == CRS84 and coll["crs"] == list(SUPPORTED_CRS)
    assert {EPSG4326, EPSG4490} <= set(coll["crs"])
    conf = client.get("/api/v1/conformance").get_json(force=True)["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf
    for query, name in (("crs=EPSG:3857", "crs"), ("bbox=1,2,3,4&bbox-crs=utm50", "bbox-crs")):
        r = client.get(f"{VENUES}?{query}")
        assert r.status_code == 400 and r.get_json(force=True)["invalid_params"][0]["name"] == name
    p = client.get("/api/v1/openapi.json").get_json(force=True)["components"]["parameters"]
    assert p["ogcCrs"]["name"] == "crs" and EPSG4326 in p["ogcCrs"]["schema"]["enum"]
    assert p["bboxCrs"]["name"] == "bbox-crs" and p["bboxCrs"]["schema"]["default"] == CRS84
