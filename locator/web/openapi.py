"""The OpenAPI 3.0 document describing every endpoint and parameter. Pure.

``tests/test_api.py`` checks that every route the app serves appears here,
with every query parameter the code reads.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from locator.categories import AMENITIES, CATEGORY_CODES
from locator.geo import CRS_NAMES
from locator.params import MAX_OFFSET, MAX_Q
from locator.web.catalog import COLLECTIONS, OPENAPI_MIMETYPE

__all__ = ["OPENAPI_MIMETYPE", "openapi_document"]

API = "/api/v1"


def _p(
    name: str, description: str, schema: dict[str, Any], required: bool = False, where: str = "query"
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": where, "description": description, "schema": schema}
    if required or where == "path":
        out["required"] = True
    if where == "query" and schema.get("type") != "array":
        out["style"] = "form"
        out["explode"] = False
    return out


_CSV = "One code or a comma-separated list"
PARAMS: dict[str, dict[str, Any]] = {
    "lat": _p(
        "lat", "Latitude of the point, degrees (in `crs`).", {"type": "number", "minimum": -90, "maximum": 90}, True
    ),
    "lon": _p(
        "lon", "Longitude of the point, degrees (in `crs`).", {"type": "number", "minimum": -180, "maximum": 180}, True
    ),
    "k": _p("k", "How many venues to return.", {"type": "integer", "minimum": 1, "maximum": 50, "default": 5}),
    "category": _p(
        "category",
        f"{_CSV} of venue categories: {', '.join(CATEGORY_CODES)}.",
        {"type": "string", "example": "outdoor_station"},
    ),
    "max_distance": _p(
        "max_distance", "Drop venues farther than this many geodesic metres.", {"type": "number", "minimum": 0}
    ),
    "crs": _p(
        "crs",
        "Datum of the input point and of the output geometries: WGS-84, GCJ-02 (Amap, Tencent) or BD-09 (Baidu).",
        {"type": "string", "enum": list(CRS_NAMES), "default": "wgs84"},
    ),
    "district": _p(
        "district",
        f"{_CSV} of district adcodes (see the districts collection).",
        {"type": "string", "example": "460106"},
    ),
    "amenity": _p(
        "amenity",
        f"{_CSV} of amenities; a venue must offer all of them: {', '.join(AMENITIES)}.",
        {"type": "string", "example": "drinking_water"},
    ),
    "q": _p(
        "q",
        f"Substring of the name or address, case-insensitive (Chinese works); at most {MAX_Q} characters.",
        {"type": "string", "maxLength": MAX_Q},
    ),
    "bbox": {
        "name": "bbox",
        "in": "query",
        "description": "west,south,east,north in WGS-84 degrees (CRS84); 6 numbers (with heights) are accepted too.",
        "required": False,
        "style": "form",
        "explode": False,
        "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
    },
    "limit": _p("limit", "Page size.", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),
    "offset": _p(
        "offset",
        "How many matches to skip (see the next/prev links).",
        {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
    ),
    "f": _p("f", "Output format; only JSON is served.", {"type": "string", "enum": ["json", "geojson"]}),
    "format": _p(
        "format",
        "File format: csv (UTF-8 with BOM, Chinese headers, opens in Excel), xlsx, geojson or gpkg (QGIS). "
        "An export imports again unchanged with `locator import`.",
        {"type": "string", "enum": ["csv", "xlsx", "geojson", "gpkg"], "default": "csv"},
    ),
    "radius": _p(
        "radius",
        "Service radius in metres (a 15-minute walk is about 1000).",
        {"type": "number", "minimum": 50, "maximum": 20000, "default": 1000},
    ),
    "n": _p("n", "How many new sites to suggest.", {"type": "integer", "minimum": 1, "maximum": 200, "default": 10}),
    "region": _p(
        "region",
        "Limit siting to one district (adcode) or a box `west,south,east,north`; default the whole province.",
        {"type": "string", "example": "460106"},
    ),
    "measure": _p(
        "measure",
        "The measure a map would colour districts by (echoed in the answer).",
        {"type": "string", "enum": ["covered_pct", "venues_per_10k", "dist_median_m"], "default": "covered_pct"},
    ),
    "coverageCategory": _p(
        "category",
        f"{_CSV} of venue categories to count (default outdoor_station): {', '.join(CATEGORY_CODES)}.",
        {"type": "string", "example": "outdoor_station"},
    ),
    "venueId": _p("venueId", "A venue id.", {"type": "string"}, where="path"),
    "collectionId": _p("collectionId", "The collection.", {"type": "string", "enum": list(COLLECTIONS)}, where="path"),
    "featureId": _p("featureId", "A venue id, or a district adcode.", {"type": "string"}, where="path"),
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _error(status: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{status}"}


def _ok(description: str, mimetype: str, schema: str | None = None) -> dict[str, Any]:
    content: dict[str, Any] = (
        {"schema": {"$ref": f"#/components/schemas/{schema}"}} if schema else {"schema": {"type": "object"}}
    )
    return {"description": description, "content": {mimetype: content}}


def _op(
    summary: str,
    description: str,
    tag: str,
    params: list[str],
    ok: dict[str, Any],
    errors: tuple[str, ...] = ("400", "429"),
    op_id: str | None = None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok}
    if tag != "health":
        responses["304"] = {"description": "Not modified (the `If-None-Match` ETag still matches)."}
    for status in errors:
        responses[status] = _error(status)
    return {
        "get": {
            "operationId": op_id or summary.lower().replace(" ", "_"),
            "summary": summary,
            "description": description,
            "tags": [tag],
            "parameters": [_ref(p) for p in params],
            "responses": responses,
        }
    }


def _admin(
    method: str,
    summary: str,
    description: str,
    params: list[str],
    ok: dict[str, Any],
    body: bool = False,
    status: str = "200",
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"admin_{method}_{summary.lower().replace(' ', '_')}",
        "summary": summary,
        "description": description + " Needs `Authorization: Bearer <token>` (`locator admin new-token NAME`).",
        "tags": ["admin"],
        "security": [{"bearerAuth": []}],
        "parameters": [_ref(p) for p in params],
        "responses": {status: ok, "400": _error("400"), "401": _error("401"), "404": _error("404")},
    }
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VenueFields"}}},
        }
    return {method: op}


_VENUE_FIELDS = {
    "type": "object",
    "description": "Venue fields (WGS-84 lon/lat). On PATCH/PUT, absent fields keep their value; "
    "the district is the one the point lies in.",
    "properties": {
        "name": {"type": "string", "maxLength": 200},
        "category": {"type": "string", "enum": list(CATEGORY_CODES)},
        "lon": {"type": "number"},
        "lat": {"type": "number"},
        "address": {"type": "string"},
        "operator": {"type": "string"},
        "phone": {"type": "string", "maxLength": 40},
        "opening_hours": {"type": "string", "nullable": True, "description": "OpenStreetMap opening_hours syntax."},
        "amenities": {"type": "array", "items": {"type": "string", "enum": list(AMENITIES)}},
        "description": {"type": "string"},
        "status": {"type": "string", "enum": ["active", "closed"]},
    },
}

_PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "invalid_params": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "reason"],
                "properties": {"name": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}
_VENUE = {
    "type": "object",
    "description": "A venue as a GeoJSON Feature; `id` is the venue id.",
    "required": ["type", "id", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"type": "string"},
        "geometry": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["Point"]},
                "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            },
        },
        "properties": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "category": {"type": "string", "enum": list(CATEGORY_CODES)},
                "category_name": {"type": "string", "description": "Chinese name of the category."},
                "district_code": {"type": "string"},
                "district_name": {"type": "string", "nullable": True},
                "address": {"type": "string"},
                "opening_hours": {
                    "type": "string",
                    "nullable": True,
                    "description": "OpenStreetMap opening_hours syntax.",
                },
                "open_now": {
                    "type": "boolean",
                    "nullable": True,
                    "description": "Evaluated in Asia/Shanghai; null when the hours are unknown.",
                },
                "amenities": {"type": "array", "items": {"type": "string"}},
                "phone": {"type": "string"},
                "distance_m": {"type": "number", "description": "Geodesic WGS-84 metres, one decimal (nearest only)."},
                "bearing_deg": {
                    "type": "number",
                    "description": "Initial bearing from the point, degrees clockwise from north (nearest only).",
                },
            },
        },
    },
}
_NEAREST = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"$ref": "#/components/schemas/Venue"}},
        "nearest_beyond": {
            "type": "number",
            "nullable": True,
            "description": "Only when max_distance left nothing: the distance (m) of the nearest match.",
        },
    },
}
_ITEMS = {
    "type": "object",
    "required": ["type", "features", "numberMatched", "numberReturned", "links"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"type": "object"}},
        "numberMatched": {"type": "integer"},
        "numberReturned": {"type": "integer"},
        "timeStamp": {"type": "string", "format": "date-time"},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
    },
}
_LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "title": {"type": "string"},
    },
}
_RESPONSES = {
    "400": "Malformed or out-of-range input; `invalid_params` names each bad parameter.",
    "401": "No bearer token, or not a valid one.",
    "404": "No such collection, feature or path.",
    "405": "Method not allowed (the API is read-only); `Allow` lists the methods.",
    "413": "Request body too large.",
    "429": "Rate limited; `Retry-After` says when to try again.",
}


@lru_cache(maxsize=16)
def openapi_document(base: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document; ``base`` is the API root URL (``…/api/v1``)."""
    root = base[: -len(API)] if base.endswith(API) else base
    col = ["collectionId"]
    paths: dict[str, Any] = {
        f"{API}/nearest": _op(
            "Nearest venues",
            "The k venues nearest a point by geodesic WGS-84 distance, nearest first, as GeoJSON. "
            "When `max_distance` leaves nothing, the collection is empty and `nearest_beyond` "
            "says how far the nearest match is.",
            "venues",
            ["lat", "lon", "k", "category", "max_distance", "crs"],
            _ok("The nearest venues.", "application/geo+json", "NearestCollection"),
            op_id="nearest",
        ),
        f"{API}/venues": _op(
            "All venues",
            "Every active venue as one GeoJSON FeatureCollection (the map's layer), optionally filtered.",
            "venues",
            ["category", "district", "amenity", "q", "crs"],
            _ok("The venues.", "application/geo+json", "NearestCollection"),
            op_id="venues",
        ),
        f"{API}/": _op(
            "Landing page",
            "Links to the API definition, its documentation, conformance and collections.",
            "ogc",
            ["f"],
            _ok("The landing page.", "application/json"),
            op_id="getLandingPage",
        ),
        f"{API}/conformance": _op(
            "Conformance",
            "The OGC conformance classes this API implements.",
            "ogc",
            ["f"],
            _ok("Conformance classes.", "application/json"),
            op_id="getConformanceDeclaration",
        ),
        f"{API}/collections": _op(
            "Collections",
            "The feature collections: venues and districts.",
            "ogc",
            ["f"],
            _ok("The collections.", "application/json"),
            op_id="getCollections",
        ),
        f"{API}/collections/{{collectionId}}": _op(
            "Collection",
            "One collection's description and extent.",
            "ogc",
            [*col, "f"],
            _ok("The collection.", "application/json"),
            ("400", "404", "429"),
            op_id="describeCollection",
        ),
        f"{API}/collections/{{collectionId}}/items": _op(
            "Collection items",
            "A page of features. `venues` takes bbox, category, district, amenity and q; `districts` takes bbox. "
            "District features carry venue counts per category.",
            "ogc",
            [*col, "bbox", "limit", "offset", "category", "district", "amenity", "q", "f"],
            _ok(
                "A page of features with numberMatched, numberReturned and self/next/prev links.",
                "application/geo+json",
                "ItemCollection",
            ),
            ("400", "404", "429"),
            op_id="getFeatures",
        ),
        f"{API}/collections/{{collectionId}}/items/{{featureId}}": _op(
            "Collection item",
            "One feature by id (a venue id, or a district adcode).",
            "ogc",
            [*col, "featureId", "f"],
            _ok("The feature.", "application/geo+json"),
            ("400", "404", "429"),
            op_id="getFeature",
        ),
        f"{API}/openapi.json": _op(
            "OpenAPI document",
            "This document.",
            "meta",
            [],
            _ok("The API definition.", OPENAPI_MIMETYPE),
            ("429",),
            op_id="getOpenAPI",
        ),
        f"{API}/docs": _op(
            "Documentation",
            "This API for people, as an HTML page (works offline).",
            "meta",
            [],
            {"description": "HTML.", "content": {"text/html": {}}},
            ("429",),
            op_id="getDocs",
        ),
        f"{API}/export": _op(
            "Export",
            "Every active venue as a file to download (Content-Disposition: attachment).",
            "venues",
            ["format"],
            {
                "description": "The file.",
                "content": {
                    t: {}
                    for t in (
                        "text/csv",
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        "application/geo+json",
                        "application/geopackage+sqlite3",
                    )
                },
            },
            op_id="export",
        ),
        f"{API}/map/venues": _op(
            "Map layer",
            "The worker map's compact venue layer: one array per venue (see the map's script), "
            "with opening times for the coming days so that `open now` works offline.",
            "map",
            [],
            _ok("The layer.", "application/json"),
            ("429",),
            op_id="mapVenues",
        ),
        f"{API}/map/districts": _op(
            "Map outlines",
            "Simplified district outlines for the map (drawn when tiles are unavailable).",
            "map",
            [],
            _ok("The outlines.", "application/json"),
            ("429",),
            op_id="mapDistricts",
        ),
        f"{API}/coverage": _op(
            "Coverage table",
            "Per district: venues, venues per 10,000 residents (2020 census), area and the area within `radius` "
            "(equal-area projections), nearest-venue distance (median, p90, max on a ≤500 m grid), and a summary "
            "naming the districts without any venue.",
            "coverage",
            ["coverageCategory", "radius", "measure"],
            _ok("The table.", "application/json"),
            op_id="coverage",
        ),
        f"{API}/coverage/gaps": _op(
            "Coverage gaps",
            "The part of each district beyond `radius` of every venue, as GeoJSON (WGS-84).",
            "coverage",
            ["coverageCategory", "radius", "measure"],
            _ok("The gaps.", "application/geo+json"),
            op_id="coverageGaps",
        ),
        f"{API}/coverage/suggestions": _op(
            "Siting suggestions",
            "`n` new sites chosen greedily to add the most covered area (or population, with a population grid), "
            "existing venues kept; each with its marginal gain and coverage before and after, and the curve.",
            "coverage",
            ["coverageCategory", "radius", "n", "region", "measure"],
            _ok("The suggested sites.", "application/geo+json"),
            op_id="coverageSuggestions",
        ),
        f"{API}/admin/venues": _admin(
            "post",
            "Create venue",
            "Add a venue; recorded in the audit log.",
            [],
            _ok("The new venue.", "application/json", "Venue"),
            body=True,
            status="201",
        ),
        f"{API}/admin/venues/{{venueId}}": {
            **_admin(
                "get",
                "Get venue",
                "One venue, closed ones included.",
                ["venueId"],
                _ok("The venue.", "application/json", "Venue"),
            ),
            **_admin(
                "patch",
                "Update venue",
                "Change or move a venue; recorded in the audit log.",
                ["venueId"],
                _ok("The venue.", "application/json", "Venue"),
                body=True,
            ),
            **_admin(
                "put",
                "Replace venue",
                "As PATCH.",
                ["venueId"],
                _ok("The venue.", "application/json", "Venue"),
                body=True,
            ),
            **_admin(
                "delete",
                "Close venue",
                "Close a venue: a soft delete, the record and its history stay.",
                ["venueId"],
                _ok("The closed venue.", "application/json", "Venue"),
            ),
        },
        f"{API}/admin/export": _admin(
            "get",
            "Export register",
            "The whole register, closed venues included.",
            ["format"],
            {"description": "The file.", "content": {"application/octet-stream": {}}},
        ),
        f"{API}/admin/audit": _admin(
            "get",
            "Audit log",
            "The latest 100 changes: who, when, action, before and after.",
            [],
            _ok("Audit entries.", "application/json"),
        ),
        "/healthz": _op(
            "Liveness",
            "The process is alive. Not rate-limited.",
            "health",
            [],
            _ok("Alive.", "application/json"),
            (),
            op_id="healthz",
        ),
        "/readyz": _op(
            "Readiness",
            "The index is loaded; says which data version is served. Not rate-limited.",
            "health",
            [],
            _ok("Ready.", "application/json"),
            (),
            op_id="readyz",
        ),
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Hainan worker service venue locator API · 海南职工服务阵地查询",
            "version": "1.0.0",
            "description": (
                "Find Hainan's trade-union worker service venues. Distances are geodesics on the WGS-84 ellipsoid. "
                "Every error is application/problem+json (RFC 9457). Responses carry ETag and Cache-Control "
                "(send If-None-Match for a 304), X-Request-ID, and CORS `Access-Control-Allow-Origin: *`. "
                "Clients are rate-limited per address (429 with Retry-After). A parameter given twice is a 400."
            ),
            "license": {"name": "MIT"},
        },
        "servers": [{"url": root or "/"}],
        "tags": [
            {"name": "venues", "description": "Nearest venues and the venue layer."},
            {"name": "ogc", "description": "OGC API – Features Part 1: Core."},
            {"name": "meta", "description": "This API's own description."},
            {"name": "map", "description": "Data for the worker map."},
            {"name": "coverage", "description": "Coverage analysis for planners."},
            {"name": "admin", "description": "Editing the register (bearer token)."},
            {"name": "health", "description": "Probes."},
        ],
        "paths": paths,
        "components": {
            "parameters": PARAMS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "VenueFields": _VENUE_FIELDS,
                "Problem": _PROBLEM,
                "Venue": _VENUE,
                "NearestCollection": _NEAREST,
                "ItemCollection": _ITEMS,
                "Link": _LINK,
            },
            "responses": {
                status: {
                    "description": text,
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
                for status, text in _RESPONSES.items()
            },
        },
    }
