"""Blueprint: OGC API – Features Part 1 Core over ``/api/v1`` (and the API's docs).

Landing page ``/api/v1/``, ``/conformance``, ``/collections``,
``/collections/{venues,districts}``, ``…/items`` and ``…/items/{id}``, plus
``/openapi.json`` and the human-readable ``/docs``. The documents are built by
pure helpers in ``locator.web.catalog`` and ``locator.web.openapi``; this module
only reads parameters and wraps answers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from locator import params
from locator.errors import InvalidParameter, NotFound
from locator.hours import TZ
from locator.search import filter_venues
from locator.web import catalog as colls
from locator.web import oas
from locator.web.api import GEOJSON, json_response, venue_feature
from locator.web.catalog import OPENAPI_MIMETYPE
from locator.web.openapi import openapi_document
from locator.web.state import app_state, get_register
from locator.web.urls import public_base

__all__ = ["DEFAULT_LIMIT", "FORMATS", "LIMIT_CEILING", "MAX_LIMIT", "bp", "get_oas"]

bp = Blueprint("ogc", __name__, url_prefix="/api/v1")

MAX_LIMIT = 1000
"""Largest page of ``…/items``: a larger ``limit`` is answered with this many (OGC /req/core/fc-limit-response-1)."""
LIMIT_CEILING = 999_999_999
"""Largest ``limit`` accepted (then clamped to :data:`MAX_LIMIT`); beyond it the number is malformed."""
DEFAULT_LIMIT = 100
"""Page size of ``…/items`` when ``limit`` is not given."""
FORMATS = ("json", "geojson", "application/json", "application/geo+json")
"""Accepted values of ``f``: this API answers JSON only."""


@bp.before_request
def _check_args() -> None:
    params.reject_repeats(request.args)
    f = params.one(request.args, "f")
    if f is not None and f not in FORMATS:
        raise InvalidParameter("f", f"unsupported format {f!r}; this API answers json only")


def _base() -> str:
    """The API root's public URL (``locator.web.urls``): every link is absolute."""
    return public_base() + oas.API


def _summary() -> colls.Summary:
    """District features and extents for the index's current data version, built once per version."""
    state = app_state()
    reg = state.register

    def build() -> colls.Summary:
        index = reg.index
        return colls.summarise(index.venues(), reg.districts, index.version)

    summary: colls.Summary = state.for_data(state.collections, build)
    return summary


@bp.get("/")
def landing() -> Response:
    return json_response(colls.landing_page(_base()))


@bp.get("/conformance")
def conformance() -> Response:
    return json_response({"conformsTo": list(colls.CONFORMANCE)})


@bp.get("/collections")
def collections() -> Response:
    base, summary = _base(), _summary()
    body = {
        "links": [
            {"rel": "self", "type": "application/json", "title": "Collections", "href": f"{base}/collections"},
        ],
        "collections": [colls.collection_info(base, cid, summary) for cid in colls.COLLECTIONS],
    }
    return json_response(body)


def _collection_id(cid: str) -> str:
    if cid not in colls.COLLECTIONS:
        raise NotFound(f"no collection {cid!r}; expected one of {', '.join(colls.COLLECTIONS)}")
    return cid


@bp.get("/collections/<cid>")
def collection(cid: str) -> Response:
    return json_response(colls.collection_info(_base(), _collection_id(cid), _summary()))


def _page_links(base: str, cid: str, offset: int, limit: int, matched: int) -> list[dict[str, str]]:
    url = f"{base}/collections/{cid}/items"
    args = {k: v for k, v in request.args.items() if k not in ("offset", "limit")}

    def href(off: int) -> str:
        return f"{url}?{urlencode({**args, 'limit': limit, 'offset': off})}"

    links = [
        {"rel": "self", "type": GEOJSON, "title": "This page", "href": href(offset)},
        {
            "rel": "collection",
            "type": "application/json",
            "title": "The collection",
            "href": f"{base}/collections/{cid}",
        },
    ]
    if offset + limit < matched:
        links.append({"rel": "next", "type": GEOJSON, "title": "Next page", "href": href(offset + limit)})
    if offset > 0:
        links.append({"rel": "prev", "type": GEOJSON, "title": "Previous page", "href": href(max(0, offset - limit))})
    return links


@bp.get("/collections/<cid>/items")
def items(cid: str) -> Response:
    cid = _collection_id(cid)
    args = request.args
    bbox = params.bbox_param(args)
    limit = min(params.int_param(args, "limit", default=DEFAULT_LIMIT, low=1, high=LIMIT_CEILING), MAX_LIMIT)
    offset = params.int_param(args, "offset", default=0, low=0, high=params.MAX_OFFSET)
    reg = get_register()
    features: list[dict[str, Any]]
    if cid == "venues":
        if bbox is None:
            candidates = reg.index.venues()
        else:  # across the antimeridian: two boxes, whose venues are disjoint
            candidates = sorted(
                (v for part in colls.bbox_parts(bbox) for v in reg.index.within_bbox(*part)), key=lambda v: v.id
            )
        found = filter_venues(
            candidates,
            categories=params.categories_param(args),
            districts=params.districts_param(args, reg.districts.codes),
            amenities=params.amenities_param(args),
            q=params.q_param(args),
        )
        now = datetime.now(TZ)
        matched = len(found)
        features = [venue_feature(v, "wgs84", now=now) for v in found[offset : offset + limit]]
    else:
        all_features = colls.filter_district_features(_summary().district_features, bbox)
        matched = len(all_features)
        features = all_features[offset : offset + limit]
    body = {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": matched,
        "numberReturned": len(features),
        # to the minute, like open_now: the same data answers with the same bytes (and ETag) all minute
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:00Z"),
        "links": _page_links(_base(), cid, offset, limit, matched),
    }
    return json_response(body, GEOJSON)


@bp.get("/collections/<cid>/items/<path:fid>")
def item(cid: str, fid: str) -> Response:
    cid = _collection_id(cid)
    base = _base()
    if cid == "venues":
        venue = get_register().index.get(fid)
        if venue is None:
            raise NotFound(f"no venue with id {fid!r}")
        feature = venue_feature(venue, "wgs84")
    else:
        found = [f for f in _summary().district_features if f["id"] == fid]
        if not found:
            raise NotFound(f"no district with adcode {fid!r}")
        feature = dict(found[0])
    feature["links"] = [
        {"rel": "self", "type": GEOJSON, "title": "This feature", "href": f"{base}/collections/{cid}/items/{fid}"},
        {
            "rel": "collection",
            "type": "application/json",
            "title": "The collection",
            "href": f"{base}/collections/{cid}",
        },
    ]
    return json_response(feature, GEOJSON)


@bp.get("/openapi.json")
def openapi() -> Response:
    return json_response(openapi_document(public_base()), OPENAPI_MIMETYPE)


@bp.get("/docs")
def docs() -> str:
    """The API described for people, rendered from the OpenAPI document on the server (no CDN)."""
    return render_template("api_docs.html", spec=openapi_document(public_base()))


def get_oas() -> oas.Fragment:
    """This blueprint's part of the OpenAPI document (``locator.web.openapi``)."""
    col = ["collectionId"]
    json_doc = "application/json"
    paths = {
        f"{oas.API}/": oas.operation(
            "Landing page",
            "Links to the API definition, its documentation, conformance and collections.",
            "ogc",
            ["f"],
            oas.ok("The landing page.", json_doc),
            op_id="getLandingPage",
        ),
        f"{oas.API}/conformance": oas.operation(
            "Conformance",
            "The OGC conformance classes this API implements.",
            "ogc",
            ["f"],
            oas.ok("Conformance classes.", json_doc),
            op_id="getConformanceDeclaration",
        ),
        f"{oas.API}/collections": oas.operation(
            "Collections",
            "The feature collections: venues and districts.",
            "ogc",
            ["f"],
            oas.ok("The collections.", json_doc),
            op_id="getCollections",
        ),
        f"{oas.API}/collections/{{collectionId}}": oas.operation(
            "Collection",
            "One collection's description and extent.",
            "ogc",
            [*col, "f"],
            oas.ok("The collection.", json_doc),
            ("400", "404", "429"),
            op_id="describeCollection",
        ),
        f"{oas.API}/collections/{{collectionId}}/items": oas.operation(
            "Collection items",
            "A page of features. `venues` takes bbox, category, district, amenity and q; `districts` takes bbox. "
            "District features carry venue counts per category.",
            "ogc",
            [*col, "bbox", "limit", "offset", "category", "district", "amenity", "q", "f"],
            oas.ok(
                "A page of features with numberMatched, numberReturned and self/next/prev links.",
                GEOJSON,
                "ItemCollection",
            ),
            ("400", "404", "429"),
            op_id="getFeatures",
        ),
        f"{oas.API}/collections/{{collectionId}}/items/{{featureId}}": oas.operation(
            "Collection item",
            "One feature by id (a venue id, or a district adcode).",
            "ogc",
            [*col, "featureId", "f"],
            oas.ok("The feature.", GEOJSON),
            ("400", "404", "429"),
            op_id="getFeature",
        ),
        f"{oas.API}/openapi.json": oas.operation(
            "OpenAPI document",
            "This document.",
            "meta",
            [],
            oas.ok("The API definition.", OPENAPI_MIMETYPE),
            ("429",),
            op_id="getOpenAPI",
        ),
        f"{oas.API}/docs": oas.operation(
            "Documentation",
            "This API for people, as an HTML page (works offline).",
            "meta",
            [],
            {"description": "HTML.", "content": {"text/html": {}}},
            ("429",),
            op_id="getDocs",
        ),
    }
    parameters = {
        "bbox": {
            "name": "bbox",
            "in": "query",
            "description": (
                "west,south,east,north in WGS-84 degrees (CRS84); 6 numbers (with heights) are accepted too. "
                "West greater than east is a box across the antimeridian."
            ),
            "required": False,
            "style": "form",
            "explode": False,
            "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        },
        "limit": oas.param(
            "limit",
            f"Page size; a limit above {MAX_LIMIT} is answered with {MAX_LIMIT} features.",
            {"type": "integer", "minimum": 1, "maximum": LIMIT_CEILING, "default": DEFAULT_LIMIT},
        ),
        "offset": oas.param(
            "offset",
            "How many matches to skip (see the next/prev links).",
            {"type": "integer", "minimum": 0, "maximum": params.MAX_OFFSET, "default": 0},
        ),
        "f": oas.param("f", "Output format; only JSON is served.", {"type": "string", "enum": list(FORMATS[:2])}),
        "collectionId": oas.param(
            "collectionId", "The collection.", {"type": "string", "enum": list(colls.COLLECTIONS)}, where="path"
        ),
        "featureId": oas.param("featureId", "A venue id, or a district adcode.", {"type": "string"}, where="path"),
    }
    return oas.fragment(paths, parameters, {"ItemCollection": ITEMS_SCHEMA, "Link": LINK_SCHEMA})


ITEMS_SCHEMA: dict[str, Any] = {
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
"""A page of ``…/items``."""

LINK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "title": {"type": "string"},
    },
}
