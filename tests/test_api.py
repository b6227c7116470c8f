"""The public API: /nearest, /venues, the OpenAPI document and docs, and the one error shape."""

from __future__ import annotations

import json
import random
import re
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from locator import create_app, params
from locator.errors import InvalidParameter
from locator.geo import wgs84_to_gcj02
from locator.hours import TZ
from locator.web.api import nearest_collection_json, venue_feature
from locator.web.state import get_register

pytestmark = pytest.mark.readonly  # `app`/`client` here: the shared read-only app

HAIKOU = {"lat": 20.03, "lon": 110.33}


def assert_problem(resp, status, param=None):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body)
    assert all(isinstance(body[k], str) and body[k] for k in ("type", "title", "detail"))
    assert resp.headers["X-Request-ID"]
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Traceback" not in resp.get_data(as_text=True)
    if param is not None:
        assert [p["name"] for p in body["invalid_params"]] == [param]
        assert body["invalid_params"][0]["reason"]
    return body


# -- /nearest -----------------------------------------------------------------


def test_nearest_shape(client):
    r = client.get("/api/v1/nearest", query_string=HAIKOU)
    assert r.status_code == 200
    assert r.mimetype == "application/geo+json"
    body = r.get_json(force=True)
    assert body["type"] == "FeatureCollection"
    feats = body["features"]
    assert len(feats) == 5
    dists = [f["properties"]["distance_m"] for f in feats]
    assert dists == sorted(dists)
    for f in feats:
        assert f["type"] == "Feature" and isinstance(f["id"], str)
        assert f["geometry"]["type"] == "Point" and len(f["geometry"]["coordinates"]) == 2
        p = f["properties"]
        assert set(p) == {
            "name",
            "category",
            "category_name",
            "district_code",
            "district_name",
            "address",
            "opening_hours",
            "open_now",
            "amenities",
            "phone",
            "location_precision",
            "last_confirmed",
            "reported_closed",
            "distance_m",
            "bearing_deg",
        }
        assert p["location_precision"] in ("exact", "town")
        assert p["last_confirmed"] is None and p["reported_closed"] is False  # the seed: nobody confirmed yet
        assert p["open_now"] in (True, False, None)
        assert p["open_now"] is None or p["opening_hours"]
        assert 0 <= p["bearing_deg"] < 360
        assert round(p["distance_m"], 1) == p["distance_m"]
        assert re.search(r"[\u4e00-\u9fff]", p["category_name"])


def test_nearest_categories_and_k(client):
    r = client.get("/api/v1/nearest", query_string={**HAIKOU, "k": 12, "category": "outdoor_station,service_center"})
    feats = r.get_json(force=True)["features"]
    assert len(feats) == 12
    assert {f["properties"]["category"] for f in feats} <= {"outdoor_station", "service_center"}


def test_nearest_max_distance_empty_says_how_far(client):
    r = client.get("/api/v1/nearest", query_string={"lat": 19.0, "lon": 112.5, "max_distance": 1000})
    body = r.get_json(force=True)
    assert r.status_code == 200 and body["features"] == []
    far = client.get("/api/v1/nearest", query_string={"lat": 19.0, "lon": 112.5, "k": 1}).get_json(force=True)
    assert body["nearest_beyond"] == far["features"][0]["properties"]["distance_m"] > 1000


def test_nearest_max_distance_filters(client):
    body = client.get("/api/v1/nearest", query_string={**HAIKOU, "k": 50, "max_distance": 2000}).get_json(force=True)
    assert body["features"] and all(f["properties"]["distance_m"] <= 2000 for f in body["features"])
    assert "nearest_beyond" not in body


def test_nearest_crs_applies_to_input_and_output(client):
    wgs = client.get("/api/v1/nearest", query_string={**HAIKOU, "k": 3}).get_json(force=True)["features"]
    glon, glat = wgs84_to_gcj02(HAIKOU["lon"], HAIKOU["lat"])
    gcj = client.get("/api/v1/nearest", query_string={"lat": glat, "lon": glon, "k": 3, "crs": "gcj02"}).get_json(
        force=True
    )["features"]
    assert [f["id"] for f in gcj] == [f["id"] for f in wgs]
    for a, b in zip(wgs, gcj, strict=True):
        assert abs(a["properties"]["distance_m"] - b["properties"]["distance_m"]) < 1.0
        elon, elat = wgs84_to_gcj02(*a["geometry"]["coordinates"])
        assert b["geometry"]["coordinates"] == pytest.approx([elon, elat], abs=2e-6)
        assert b["geometry"]["coordinates"] != a["geometry"]["coordinates"]


def test_nearest_over_http_equals_the_index_for_1000_points(app, client):
    rng = random.Random(2621)
    index = get_register(app).index
    for _ in range(1000):
        lon, lat = round(rng.uniform(108.6, 111.1), 5), round(rng.uniform(18.1, 20.2), 5)
        k = rng.randint(1, 10)
        got = client.get(f"/api/v1/nearest?lat={lat}&lon={lon}&k={k}").get_json(force=True)["features"]
        want = index.nearest(lon, lat, k)
        assert [f["id"] for f in got] == [h.venue.id for h in want]
        assert [f["properties"]["distance_m"] for f in got] == [round(h.distance_m, 1) for h in want]


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_fast_serialiser_matches_venue_feature(app, crs):
    now = datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
    with app.test_request_context("/"):
        index = get_register().index
        for lon, lat in [(110.33, 20.03), (109.5, 18.25), (111.0, 19.2)]:
            hits = index.nearest(lon, lat, 7)
            fast = json.loads(nearest_collection_json(hits, crs, now, {"nearest_beyond": None}))
            slow = {
                "type": "FeatureCollection",
                "features": [venue_feature(h.venue, crs, h, now) for h in hits],
                "nearest_beyond": None,
            }
            assert fast == slow
            # the view passes the Unix time (time.time()); without extra members, none are written
            by_ts = json.loads(nearest_collection_json(hits, crs, now.timestamp() + 59.9))
            assert by_ts == {k: v for k, v in slow.items() if k != "nearest_beyond"}


# -- /venues (the map's layer) -------------------------------------------------


def test_venues_layer_shape_and_filters(app, client):
    everything = client.get("/api/v1/venues").get_json(force=True)["features"]
    assert len(everything) == len(get_register(app).index)
    assert "distance_m" not in everything[0]["properties"]
    two = client.get("/api/v1/venues?category=outdoor_station,service_center").get_json(force=True)["features"]
    assert {f["properties"]["category"] for f in two} == {"outdoor_station", "service_center"}
    assert len(two) == sum(f["properties"]["category"] in ("outdoor_station", "service_center") for f in everything)
    hk = client.get("/api/v1/venues", query_string={"q": "海口", "district": "460106"}).get_json(force=True)["features"]
    assert hk and all(f["properties"]["district_code"] == "460106" for f in hk)
    assert all("海口" in f["properties"]["name"] + f["properties"]["address"] for f in hk)
    water = client.get("/api/v1/venues?amenity=drinking_water,toilet").get_json(force=True)["features"]
    assert water and all({"drinking_water", "toilet"} <= set(f["properties"]["amenities"]) for f in water)


# -- the one error shape, on every error path -----------------------------------

ERRORS = [
    ("GET", "/api/v1/nearest?lat=91&lon=110", 400, "lat"),
    ("GET", "/api/v1/nearest?lat=-90.5&lon=110", 400, "lat"),
    ("GET", "/api/v1/nearest?lat=20&lon=180.01", 400, "lon"),
    ("GET", "/api/v1/nearest?lat=nan&lon=110", 400, "lat"),
    ("GET", "/api/v1/nearest?lat=20&lon=inf", 400, "lon"),
    ("GET", "/api/v1/nearest?lat=20&lon=-Infinity", 400, "lon"),
    ("GET", "/api/v1/nearest?lat=1e999&lon=110", 400, "lat"),
    ("GET", "/api/v1/nearest?lat=twenty&lon=110", 400, "lat"),
    ("GET", "/api/v1/nearest?lat=2_0&lon=110", 400, "lat"),
    ("GET", "/api/v1/nearest?lon=110", 400, "lat"),
    ("GET", "/api/v1/nearest?lat=20", 400, "lon"),
    ("GET", "/api/v1/nearest?lat=20&lon=110&k=0", 400, "k"),
    ("GET", "/api/v1/nearest?lat=20&lon=110&k=51", 400, "k"),
    ("GET", "/api/v1/nearest?lat=20&lon=110&k=2.5", 400, "k"),
    ("GET", "/api/v1/nearest?lat=20&lon=110&k=" + "9" * 5000, 400, "k"),
    ("GET", "/api/v1/nearest?lat=20&lon=110&k=%C2%B2", 400, "k"),
    ("GET", "/api/v1/nearest?lat=20&lon=110&category=bogus", 400, "category"),
    ("GET", "/api/v1/nearest?lat=20&lon=110&category=,", 400, "category"),
    ("GET", "/api/v1/nearest?lat=20&lon=110&crs=utm50", 400, "crs"),
    ("GET", "/api/v1/nearest?lat=20&lon=110&max_distance=-1", 400, "max_distance"),
    ("GET", "/api/v1/nearest?lat=20&lat=21&lon=110", 400, "lat"),
    ("GET", "/api/v1/venues?category=reading_room&category=other", 400, "category"),
    ("GET", "/api/v1/venues?crs=wgs-84", 400, "crs"),
    ("GET", "/api/v1/collections/venues/items?bbox=110,21,111,20", 400, "bbox"),
    ("GET", "/api/v1/collections/venues/items?bbox=110,20,111", 400, "bbox"),
    ("GET", "/api/v1/collections/venues/items?bbox=a,b,c,d", 400, "bbox"),
    ("GET", "/api/v1/collections/venues/items?bbox=110,20,111,95", 400, "bbox"),
    ("GET", "/api/v1/collections/venues/items?limit=0", 400, "limit"),
    ("GET", "/api/v1/collections/venues/items?limit=1000000000", 400, "limit"),
    ("GET", "/api/v1/collections/venues/items?limit=-5", 400, "limit"),
    ("GET", "/api/v1/nearest?lat=20&lon=110&radius=5", 400, "radius"),
    ("GET", "/api/v1/venues?bbox=110,20,111,21", 400, "bbox"),
    ("GET", "/api/v1/collections?sort=id", 400, "sort"),
    ("GET", "/api/v1/collections/districts/items?crs_name=wgs84", 400, "crs_name"),
    ("GET", "/api/v1/coverage?category=reading_room&debug=1", 400, "debug"),
    ("GET", "/api/v1/openapi.json?x=1", 400, "x"),
    ("GET", "/api/v1/collections/venues/items?offset=-1", 400, "offset"),
    ("GET", "/api/v1/collections/venues/items?q=" + "职" * 101, 400, "q"),
    ("GET", "/api/v1/collections/venues/items?district=999999", 400, "district"),
    ("GET", "/api/v1/collections/venues/items?amenity=jacuzzi", 400, "amenity"),
    ("GET", "/api/v1/collections/venues/items?limit=5&limit=6", 400, "limit"),
    ("GET", "/api/v1/collections?f=xml", 400, "f"),
    ("GET", "/api/v1/no-such-thing", 404, None),
    ("GET", "/api/v1/collections/roads", 404, None),
    ("GET", "/api/v1/collections/roads/items", 404, None),
    ("GET", "/api/v1/collections/venues/items/no-such-venue", 404, None),
    ("GET", "/api/v1/collections/districts/items/000000", 404, None),
    ("POST", "/api/v1/nearest?lat=20&lon=110", 405, None),
    ("DELETE", "/api/v1/collections/venues/items/x", 405, None),
    ("PUT", "/api/v1/venues", 405, None),
]


@pytest.mark.parametrize(("method", "url", "status", "param"), ERRORS)
def test_every_error_is_one_problem_shape(client, method, url, status, param):
    body = assert_problem(client.open(url, method=method), status, param)
    if param is not None:
        assert body["detail"].startswith(f"{param}:")


def test_405_says_allow(client):
    r = client.post("/api/v1/nearest")
    assert_problem(r, 405)
    assert "GET" in r.headers["Allow"]


def test_413_for_a_large_body(client):
    r = client.post("/api/v1/nearest", data=b"x" * (1024 * 1024 + 1), content_type="application/octet-stream")
    assert_problem(r, 413)


def test_bad_value_is_quoted(client):
    body = client.get("/api/v1/nearest?lat=abc&lon=110").get_json(force=True)
    assert "'abc'" in body["invalid_params"][0]["reason"]


# -- params (pure) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("20", 20.0),
        ("-19.5", -19.5),
        ("+1e1", 10.0),
        (".5", 0.5),
        (" 7 ", 7.0),
        ("1.", 1.0),
        ("nan", None),
        ("-inf", None),
        ("1e400", None),
        ("0x10", None),
        ("1_0", None),
        ("٣", None),
        ("", "absent"),
        ("1,2", None),
    ],
)
def test_float_param_table(text, ok):
    args = MultiDict([("x", text)])
    if ok is None:
        with pytest.raises(InvalidParameter) as e:
            params.float_param(args, "x")
        assert e.value.name == "x" and repr(text.strip()[:40])[1:-1] in str(e.value)
    elif ok == "absent":
        assert params.float_param(args, "x", default=3.0) == 3.0
    else:
        assert params.float_param(args, "x") == ok


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("1,2,3,4", (1, 2, 3, 4)),
        ("1,2,0,3,4,9", (1, 2, 3, 4)),
        ("-180,-90,180,90", (-180, -90, 180, 90)),
        ("1,2,3", None),
        ("4,2,3,5", (4, 2, 3, 5)),  # west > east: across the antimeridian
        ("1,5,3,2", None),
        ("1,2,3,4,5", None),
        ("1,2,3,x", None),
        ("1,2,3,nan", None),
    ],
)
def test_bbox_param_table(text, want):
    args = MultiDict([("bbox", text)])
    if want is None:
        with pytest.raises(InvalidParameter, match="bbox"):
            params.bbox_param(args)
    else:
        assert params.bbox_param(args) == want


# -- OpenAPI and docs -------------------------------------------------------------


def _openapi_paths(rule: str, documented) -> set[str]:
    """The documented paths a Flask rule serves: its templated form, or literal paths its variables can take."""
    templated = re.sub(
        r"<(?:path:)?(\w+)>",
        lambda m: "{" + {"cid": "collectionId", "fid": "featureId", "venue_id": "venueId"}[m.group(1)] + "}",
        rule,
    )
    pattern = re.sub(r"<(?:path:)?\w+>", "[^/{}]+", rule)
    return {p for p in documented if p == templated or re.fullmatch(pattern, p)}


def _documented(doc) -> dict[str, dict]:
    """The document's paths as the app serves them: the server's path before each (``servers`` per path too)."""
    out = {}
    for path, item in doc["paths"].items():
        server = urlsplit((item.get("servers") or doc["servers"])[0]["url"]).path.rstrip("/")
        out[server + path] = {k: v for k, v in item.items() if k != "servers"}
    return out


def test_openapi_describes_every_endpoint(app, client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/vnd.oai.openapi+json"
    doc = r.get_json(force=True)
    assert doc["openapi"].startswith("3.")
    paths = _documented(doc)
    ours = ("api.", "ogc.", "health.", "mapdata.", "admin_api.", "coverage.", "places.")
    rules = {}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(ours) and (rule.rule.startswith("/api/") or rule.endpoint.startswith("health.")):
            found = _openapi_paths(rule.rule, paths)
            assert found, rule.rule
            served |= found
            for path in found:
                rules.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    assert len(rules) == 25
    assert served == set(paths)
    for path, methods in rules.items():
        assert set(paths[path]) == methods, path
    names = lambda path: {ref["$ref"].rsplit("/", 1)[1] for ref in paths[path]["get"]["parameters"]}  # noqa: E731
    assert names("/api/v1/nearest") == {"lat", "lon", "k", "category", "max_distance", "open_now", "crs"}
    assert {"bbox", "limit", "offset", "category", "district", "amenity", "q", "filter"} <= names(
        "/api/v1/collections/venues/items"
    )
    assert "q" not in names("/api/v1/collections/districts/items")
    assert names("/api/v1/coverage/suggestions") == {"coverageCategory", "radius", "n", "region", "measure", "exact"}
    assert paths["/api/v1/admin/venues/{venueId}"]["delete"]["security"] == [{"bearerAuth": []}]
    for path in paths.values():
        for op in path.values():
            for ref in op["parameters"]:
                assert ref["$ref"].rsplit("/", 1)[1] in doc["components"]["parameters"]
            for resp in op["responses"].values():
                if "$ref" in resp:
                    assert resp["$ref"].rsplit("/", 1)[1] in doc["components"]["responses"]


def test_openapi_limits_are_the_codes_constants(client):
    from locator.planning import MAX_RADIUS_M, MIN_RADIUS_M
    from locator.web import api, coverage, ogc

    doc_params = client.get("/api/v1/openapi.json").get_json(force=True)["components"]["parameters"]
    p = {k: v["schema"] for k, v in doc_params.items()}
    assert (p["k"]["maximum"], p["k"]["default"]) == (api.MAX_NEAREST_K, api.DEFAULT_NEAREST_K)
    assert (p["limit"]["maximum"], p["limit"]["default"]) == (ogc.LIMIT_CEILING, ogc.DEFAULT_LIMIT)
    assert f"above {ogc.MAX_LIMIT} is answered with {ogc.MAX_LIMIT}" in doc_params["limit"]["description"]
    assert p["offset"]["maximum"] == params.MAX_OFFSET and p["q"]["maxLength"] == params.MAX_Q
    assert (p["radius"]["minimum"], p["radius"]["maximum"]) == (MIN_RADIUS_M, MAX_RADIUS_M)
    assert p["radius"]["default"] == coverage.DEFAULT_RADIUS and p["n"]["maximum"] == coverage.MAX_API_N
    assert p["measure"]["enum"] == list(coverage.MEASURES) and p["f"]["enum"] == ["json", "geojson", "html"]


@pytest.mark.parametrize(("name", "query"), [("k", "lat=20.03&lon=110.33&k={}"), ("limit", "limit={}")])
def test_the_documented_maximum_is_accepted_and_one_more_is_not(client, name, query):
    doc = client.get("/api/v1/openapi.json").get_json(force=True)
    top = doc["components"]["parameters"][name]["schema"]["maximum"]
    path = "/api/v1/nearest?" if name == "k" else "/api/v1/collections/venues/items?"
    assert client.get(path + query.format(top)).status_code == 200
    r = client.get(path + query.format(top + 1))
    assert r.status_code == 400 and r.get_json(force=True)["invalid_params"][0]["name"] == name


def test_openapi_follows_a_changed_limit(tmp_path, monkeypatch):
    from locator.web import api

    monkeypatch.setattr(api, "MAX_NEAREST_K", 7)
    c = create_app({"TESTING": True, "DATABASE": str(tmp_path / "t.sqlite3"), "ACCESS_LOG": False}).test_client()
    doc = c.get("/api/v1/openapi.json").get_json(force=True)
    assert doc["components"]["parameters"]["k"]["schema"]["maximum"] == 7
    assert c.get("/api/v1/nearest?lat=20.03&lon=110.33&k=8").status_code == 400


def test_openapi_fragments_may_not_disagree():
    from locator.web import oas
    from locator.web.openapi import build_document

    ping = oas.operation("Ping", "Ping.", "meta", ["k"], oas.ok("Pong.", "application/json"))
    k = oas.param("k", "How many.", {"type": "integer"})
    doc = build_document([oas.fragment({"/a": ping}, {"k": k}), oas.fragment({"/b": ping}, {"k": k})])
    assert list(doc["paths"]) == ["/a", "/b"] and doc["components"]["parameters"]["k"] == k
    other = oas.param("k", "How many.", {"type": "integer", "maximum": 3})
    with pytest.raises(ValueError, match="parameter 'k'"):
        build_document([oas.fragment({"/a": ping}, {"k": k}), oas.fragment({}, {"k": other})])
    with pytest.raises(ValueError, match="no fragment defines: k"):
        build_document([oas.fragment({"/a": ping})])


def test_docs_page_works_offline_and_is_linked(client):
    landing = client.get("/api/v1/").get_json(force=True)
    doc_link = next(link["href"] for link in landing["links"] if link["rel"] == "service-doc")
    html = client.get(doc_link).get_data(as_text=True)
    assert "/api/v1/nearest" in html and "/api/v1/collections/venues/items" in html and "max_distance" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    for asset in re.findall(r"""(?:src|href)="(/static/[^"]+)""", html):
        assert client.get(asset).status_code == 200


def test_the_documented_schemas_are_what_the_server_accepts(client):
    from locator.categories import AMENITIES, CATEGORY_CODES

    p = client.get("/api/v1/openapi.json").get_json(force=True)["components"]["parameters"]
    assert p["category"]["schema"]["items"]["enum"] == list(CATEGORY_CODES) and p["category"]["explode"] is False
    assert p["amenity"]["schema"]["items"]["enum"] == list(AMENITIES)
    for code in CATEGORY_CODES:
        assert client.get(f"/api/v1/venues?category={code}").status_code == 200
    assert client.get("/api/v1/venues?category=pool").status_code == 400
    sizes = sorted(s["maxItems"] for s in p["bbox"]["schema"]["oneOf"])  # 0: blank, the same as absent
    assert sizes == [0, 4, 6] and all(s.get("minItems", 0) == s["maxItems"] for s in p["bbox"]["schema"]["oneOf"])
    assert client.get("/api/v1/collections/venues/items?bbox=1,2,3,4,5").status_code == 400
    assert client.get("/api/v1/collections/venues/items?bbox=").status_code == 200
    # an empty f is not one of the formats
    r = client.get("/api/v1/collections?f=")
    assert r.status_code == 400 and r.get_json(force=True)["invalid_params"][0]["name"] == "f"
    # the example id is a real feature, so that a fuzzer reaches one
    example = p["featureId"]["schema"]["example"]
    assert client.get(f"/api/v1/collections/venues/items/{example}").status_code == 200


def test_a_route_the_document_does_not_describe_is_refused_at_start_up():
    from locator.web import oas
    from locator.web.openapi import build_document, query_rules

    ping = oas.operation("Ping", "Ping.", "meta", ["k"], oas.ok("Pong.", "application/json"))
    k = oas.param("k", "How many.", {"type": "integer"})
    doc = build_document([oas.fragment({"/api/v1/ping/{x}": ping, "/api/v1/ping/one": ping}, {"k": k})])
    rules = query_rules(doc, [("ping", "/api/v1/ping/<x>"), ("page", "/not-api")])
    assert list(rules) == ["ping"]
    # the literal path first, then the templated one; each with its query names per method
    assert [p.pattern for p, _ in rules["ping"]] == [r"/api/v1/ping/one", r"/api/v1/ping/[^/]+"]
    assert rules["ping"][0][1] == {"GET": frozenset({"k"})}
    assert doc["paths"]["/api/v1/ping/one"]["get"]["responses"]["400"] == oas.error("400")
    with pytest.raises(ValueError, match="does not describe the route '/api/v1/pong'"):
        query_rules(doc, [("pong", "/api/v1/pong")])


def test_the_public_export_records_the_register_version_it_was_read_at(client, app):
    """So a file downloaded from the site, merged back later, shows what was edited since (locator import)."""
    import csv
    import io

    from locator.io.exporter import VERSION_HEADER

    r = client.get("/api/v1/export?format=csv")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert len(rows) == 2621
    assert {row[VERSION_HEADER] for row in rows} == {str(get_register(app).index.version)}


@pytest.mark.parametrize(
    ("query", "repeated"),
    [
        ("lat=20.03&lon=110.33&k=1&k=2", "k"),
        ("lat=20.03&lon=110.33&%6B=1&k=2", "k"),  # the same name, percent-encoded
        ("lat=20.03&&lon=110.33&lat=20.1", "lat"),  # an empty segment does not hide a repeat
        ("lat=20.03&lon=110.33&k=3&&", None),
        ("lat=20.03&lon=110.33&k=", None),
    ],
)
def test_a_parameter_given_twice_is_refused_however_the_query_is_spelled(client, query, repeated):
    r = client.get(f"/api/v1/nearest?{query}")
    if repeated is None:
        assert r.status_code == 200
    else:
        assert r.status_code == 400 and r.get_json()["invalid_params"][0]["name"] == repeated
    args = MultiDict([tuple(p.split("=", 1)) for p in query.replace("%6B", "k").split("&") if p])
    for raw in (None, query):  # the shortcut on the raw query and the full walk agree
        if repeated is None:
            params.reject_repeats(args, raw)
        else:
            with pytest.raises(InvalidParameter, match="more than once"):
                params.reject_repeats(args, raw)
