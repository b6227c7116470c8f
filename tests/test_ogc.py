"""OGC API – Features: the documents, paging and filters, and OWSLib against a live server."""

from __future__ import annotations

import threading
from collections import Counter
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from locator import create_app
from locator.categories import CATEGORY_CODES
from locator.web.catalog import CONFORMANCE
from locator.web.state import get_register

pytestmark = pytest.mark.readonly  # `app`/`client` here: the shared read-only app


def rel(doc, name):
    return [link for link in doc["links"] if link["rel"] == name]


def test_landing_and_conformance(client):
    landing = client.get("/api/v1/").get_json(force=True)
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= {link["rel"] for link in landing["links"]}
    assert rel(landing, "service-desc")[0]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    conf = client.get("/api/v1/conformance").get_json(force=True)
    assert set(conf["conformsTo"]) == set(CONFORMANCE)
    assert any(c.endswith("/conf/core") for c in conf["conformsTo"])


def test_collections(client):
    body = client.get("/api/v1/collections").get_json(force=True)
    ids = [c["id"] for c in body["collections"]]
    assert ids == ["venues", "districts"]
    for c in body["collections"]:
        assert c["itemType"] == "feature"
        west, south, east, north = c["extent"]["spatial"]["bbox"][0]
        assert 108 < west < east < 118 and 3 < south < north < 21
        assert rel(c, "items")[0]["href"].endswith(f"/collections/{c['id']}/items")
        assert client.get(f"/api/v1/collections/{c['id']}").get_json(force=True)["id"] == c["id"]


def test_items_paging_walks_every_venue_once(app, client):
    url = "/api/v1/collections/venues/items?limit=1000"
    seen = []
    pages = 0
    while url:
        r = client.get(url)
        assert r.status_code == 200 and r.mimetype == "application/geo+json"
        body = r.get_json(force=True)
        assert body["numberReturned"] == len(body["features"])
        assert body["numberMatched"] == len(get_register(app).index)
        assert body["timeStamp"].endswith("Z")
        seen += [f["id"] for f in body["features"]]
        nxt = rel(body, "next")
        assert bool(rel(body, "prev")) == (pages > 0)
        url = urlsplit(nxt[0]["href"])._replace(scheme="", netloc="").geturl() if nxt else None
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == len(get_register(app).index)


def test_items_default_limit_and_offset(client):
    body = client.get("/api/v1/collections/venues/items").get_json(force=True)
    assert body["numberReturned"] == 100
    second = client.get("/api/v1/collections/venues/items?offset=100&limit=10").get_json(force=True)
    assert second["numberReturned"] == 10
    assert set(f["id"] for f in second["features"]).isdisjoint(f["id"] for f in body["features"])
    prev = rel(second, "prev")[0]["href"]
    assert "offset=90" in prev and "limit=10" in prev


def test_items_filters(app, client):
    bbox = (110.2, 19.9, 110.5, 20.1)
    body = client.get(
        "/api/v1/collections/venues/items", query_string={"bbox": ",".join(map(str, bbox)), "limit": 1000}
    ).get_json(force=True)
    assert body["numberMatched"] > 0
    for f in body["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]
    q = client.get(
        "/api/v1/collections/venues/items",
        query_string={"q": "书屋", "category": "reading_room", "district": "460108", "limit": 1000},
    ).get_json(force=True)
    assert q["numberMatched"] > 0
    for f in q["features"]:
        p = f["properties"]
        assert p["category"] == "reading_room" and p["district_code"] == "460108" and "书屋" in p["name"] + p["address"]
    want = sum(1 for v in get_register(app).index.venues() if "wifi" in v.amenities)
    assert client.get("/api/v1/collections/venues/items?amenity=wifi").get_json(force=True)["numberMatched"] == want
    none = client.get("/api/v1/collections/venues/items", query_string={"q": "没有这个名字的阵地"}).get_json(force=True)
    assert none["numberMatched"] == 0 and none["features"] == []


def test_districts_carry_venue_counts(app, client):
    body = client.get("/api/v1/collections/districts/items").get_json(force=True)
    reg = get_register(app)
    assert body["numberMatched"] == len(reg.districts)
    want = Counter((v.district_code, v.category) for v in reg.index.venues())
    total = 0
    for f in body["features"]:
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        p = f["properties"]
        assert p["adcode"] == f["id"] and p["name_zh"]
        assert set(p["venue_counts"]) == set(CATEGORY_CODES)
        assert all(p["venue_counts"][c] == want[(f["id"], c)] for c in CATEGORY_CODES)
        assert p["venue_total"] == sum(p["venue_counts"].values())
        total += p["venue_total"]
    assert total == len(reg.index)
    one = client.get("/api/v1/collections/districts/items/460106").get_json(force=True)
    assert one["id"] == "460106" and one["properties"]["name_zh"] == "龙华区"


def test_item_by_id(app, client):
    venue = get_register(app).index.venues()[0]
    body = client.get(f"/api/v1/collections/venues/items/{venue.id}").get_json(force=True)
    assert body["id"] == venue.id and body["properties"]["name"] == venue.name
    assert body["geometry"]["coordinates"] == [round(venue.lon, 6), round(venue.lat, 6)]
    assert rel(body, "self")[0]["href"].endswith(f"/items/{venue.id}")


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/v1/"
    server.shutdown()
    thread.join(timeout=5)


def test_owslib_reads_the_collections(app, live_url):
    from owslib.ogcapi.features import Features

    api = Features(live_url)
    assert api.feature_collections() == ["venues", "districts"]
    assert api.conformance()["conformsTo"]
    assert api.api()["openapi"].startswith("3.")
    bbox = [110.25, 19.95, 110.45, 20.08]
    items = api.collection_items("venues", bbox=bbox, limit=50)
    assert items["type"] == "FeatureCollection" and 0 < items["numberReturned"] <= 50
    for f in items["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]
    first = items["features"][0]
    one = api.collection_item("venues", first["id"])
    assert one["id"] == first["id"] and one["properties"] == first["properties"]
    assert api.collection("districts")["id"] == "districts"


@pytest.mark.parametrize(
    ("configured", "root"), [(None, "http://localhost"), ("https://map.example.cn/", "https://map.example.cn")]
)
def test_links_and_the_openapi_server_share_one_base_url(tmp_path, configured, root):
    app = create_app(
        {"TESTING": True, "DATABASE": str(tmp_path / "t.sqlite3"), "ACCESS_LOG": False, "PUBLIC_BASE_URL": configured}
    )
    c = app.test_client()
    assert rel(c.get("/api/v1/").get_json(force=True), "self")[0]["href"] == f"{root}/api/v1/"
    page = c.get("/api/v1/collections/venues/items?limit=1").get_json(force=True)
    assert rel(page, "next")[0]["href"].startswith(f"{root}/api/v1/collections/venues/items?")
    doc = c.get("/api/v1/openapi.json").get_json(force=True)
    assert doc["servers"] == [{"url": f"{root}/api/v1"}]
    assert doc["paths"]["/healthz"]["servers"] == [{"url": root}]
    assert "/collections/venues/items" in doc["paths"] and "/" in doc["paths"]


# -- Part 1 strictly: unknown parameters, limit, antimeridian ---------------------------------

SAMPLE_PATH_VALUES = {"cid": "venues", "fid": "460105-IS-001", "venue_id": "460105-IS-001"}


def test_every_api_route_refuses_an_unknown_parameter_naming_it(app, client):
    import re

    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or "GET" not in rule.methods:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE_PATH_VALUES[m.group(1)], rule.rule)
        r = client.get(f"{path}?no_such_param=1")
        assert r.status_code == 400 and r.mimetype == "application/problem+json", path
        body = r.get_json(force=True)
        assert [p["name"] for p in body["invalid_params"]] == ["no_such_param"], path
        assert body["detail"].startswith("no_such_param: unknown parameter"), path
        checked += 1
    assert checked >= 15


def test_unknown_parameters_are_all_named_and_known_ones_pass(client):
    r = client.get("/api/v1/collections/venues/items?limit=2&sortBy=name&crs_x=1")
    assert r.status_code == 400
    assert [p["name"] for p in r.get_json(force=True)["invalid_params"]] == ["sortBy", "crs_x"]
    assert "limit" in r.get_json(force=True)["invalid_params"][0]["reason"]
    assert client.get("/api/v1/collections/venues/items?limit=2&offset=1&f=json").status_code == 200


def test_limit_above_the_maximum_is_answered_with_the_maximum(client):
    from locator.web.ogc import MAX_LIMIT

    body = client.get(f"/api/v1/collections/venues/items?limit={MAX_LIMIT * 5}").get_json(force=True)
    assert body["numberReturned"] == MAX_LIMIT < body["numberMatched"]
    assert f"limit={MAX_LIMIT}&" in rel(body, "next")[0]["href"]


@pytest.mark.parametrize("cid", ["venues", "districts"])
def test_a_bbox_across_the_antimeridian_is_two_boxes(client, cid):
    every = client.get(f"/api/v1/collections/{cid}/items?limit=1000").get_json(force=True)["numberMatched"]
    # from 170°E eastwards over 180° to 120°E: Hainan (108–112°E) is inside
    across = client.get(f"/api/v1/collections/{cid}/items?bbox=170,-60,120,60&limit=1000").get_json(force=True)
    assert across["numberMatched"] == every > 0
    # from 170°E over 180° to 100°E: Hainan is outside
    outside = client.get(f"/api/v1/collections/{cid}/items?bbox=170,-60,100,60").get_json(force=True)
    assert outside["numberMatched"] == 0
    # the western half alone (only up to 180°) holds nothing either
    west_only = client.get(f"/api/v1/collections/{cid}/items?bbox=170,-60,180,60").get_json(force=True)
    assert west_only["numberMatched"] == 0
