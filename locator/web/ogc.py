"""Blueprint: OGC API – Features Part 1 Core over ``/api/v1`` (and the API's docs).

Landing page ``/api/v1/``, ``/conformance``, ``/collections``,
``/collections/{venues,districts}``, ``…/items`` and ``…/items/{id}``, plus
``/openapi.json`` and the human-readable ``/docs``; Part 3's ``…/queryables``
and the ``filter``, ``sortby`` and ``properties`` of ``…/items``. The documents
are built by pure helpers in ``locator.web.catalog`` and ``locator.web.openapi``
(this blueprint's OpenAPI fragment: ``locator.web.ogc_oas``); this module only
reads parameters and wraps answers, as JSON or (``locator.web.ogc_html``) as HTML pages for people.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request
from werkzeug.datastructures import MultiDict

from locator import params
from locator.errors import InvalidParameter, NotFound
from locator.filters import queryables_schema
from locator.hours import TZ
from locator.queryables import venue_record
from locator.search import filter_venues
from locator.venues import Venue
from locator.web import catalog as colls
from locator.web import oas
from locator.web.api import GEOJSON, json_response, open_now, venue_feature
from locator.web.catalog import OPENAPI_MIMETYPE
from locator.web.i18n import LANGUAGES
from locator.web.ogc_html import HTML_FORMATS, JSON_FORMATS, alternate_html, render, wants_html
from locator.web.openapi import openapi_document
from locator.web.state import app_state, get_register
from locator.web.urls import public_base

__all__ = ["DEFAULT_LIMIT", "FORMATS", "LIMIT_CEILING", "MAX_LIMIT", "bp"]

bp = Blueprint("ogc", __name__, url_prefix="/api/v1")

MAX_LIMIT = 1000
"""Largest page of ``…/items``: a larger ``limit`` is answered with this many (OGC /req/core/fc-limit-response-1)."""
LIMIT_CEILING = 999_999_999
"""Largest ``limit`` accepted (then clamped to :data:`MAX_LIMIT`); beyond it the number is malformed."""
DEFAULT_LIMIT = 100
"""Page size of ``…/items`` when ``limit`` is not given."""
FORMATS = (*JSON_FORMATS, *HTML_FORMATS)
"""Accepted values of ``f``: JSON (GeoJSON for features), or HTML where a resource has an HTML form."""


@bp.before_request
def _check_args() -> None:
    params.reject_repeats(request.args, request.environ.get("QUERY_STRING"))
    f = request.args.get("f")
    if f is not None and f not in FORMATS:  # an empty f= too: it is not one of the formats
        raise InvalidParameter("f", f"unsupported format {f!r}; expected one of {', '.join(FORMATS)}")
    lang = request.args.get("lang")
    if lang is not None and lang not in LANGUAGES:  # as the document's enum: the pages link zh and en
        raise InvalidParameter("lang", f"unsupported language {lang[:20]!r}; expected one of {', '.join(LANGUAGES)}")


def _respond(doc: dict[str, Any], mimetype: str, template: str, title: str, **context: Any) -> Response:
    """``doc`` as JSON (with an ``alternate`` link to its HTML form) or, when asked for, as HTML."""
    if wants_html():
        crs = context.pop("crs", None) or colls.SUPPORTED_CRS[colls.CRS84]
        page = {**context.pop("page", {}), "datum": crs.datum, "latFirst": crs.lat_first}
        return render(template, doc, title, _base() + "/", page=page, **context)
    resp = json_response({**doc, "links": alternate_html(doc["links"])}, mimetype)
    resp.vary.add("Accept")
    return resp


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
    doc = colls.landing_page(_base())
    return _respond(doc, "application/json", "landing.html", doc["title"])


@bp.get("/conformance")
def conformance() -> Response:
    url = f"{_base()}/conformance"
    doc = {
        "conformsTo": list(colls.CONFORMANCE),
        "links": [{"rel": "self", "type": "application/json", "title": "Conformance classes", "href": url}],
    }
    return _respond(doc, "application/json", "conformance.html", "Conformance")


@bp.get("/collections")
def collections() -> Response:
    base, summary = _base(), _summary()
    body = {
        "links": [
            {"rel": "self", "type": "application/json", "title": "Collections", "href": f"{base}/collections"},
        ],
        "collections": [colls.collection_info(base, cid, summary) for cid in colls.COLLECTIONS],
    }
    return _respond(body, "application/json", "collections.html", "Collections")


def _collection_id(cid: str) -> str:
    if cid not in colls.COLLECTIONS:
        raise NotFound(f"no collection {cid!r}; expected one of {', '.join(colls.COLLECTIONS)}")
    return cid


@bp.get("/collections/<cid>")
def collection(cid: str) -> Response:
    doc = colls.collection_info(_base(), _collection_id(cid), _summary())
    return _respond(doc, "application/json", "collection.html", doc["title"])


def _page_links(base: str, cid: str, offset: int, limit: int, matched: int) -> list[dict[str, str]]:
    url = f"{base}/collections/{cid}/items"
    args = {k: v for k, v in request.args.items() if k not in ("offset", "limit", "f", "lang")}

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


@bp.get("/collections/<cid>/queryables")
def queryables(cid: str) -> Response:
    """What the collection's features can be filtered and sorted on (Part 3: a JSON Schema)."""
    cid = _collection_id(cid)
    wants_html(html_ok=False)  # f=html is a 400 here: a JSON Schema has no HTML form
    url = f"{_base()}/collections/{cid}/queryables"
    return json_response(
        queryables_schema(colls.QUERYABLES[cid], colls.COLLECTIONS[cid]["title"], url), colls.SCHEMA_JSON
    )


_SIMPLE_FILTERS = frozenset({"category", "district", "district_code", "amenity", "amenities", "q"})
"""The parameters :func:`_venue_items` filters on itself (blank values filter nothing, so any given one counts)."""


def _venue_items(args: Any, bbox: colls.Box | None, query: colls.ItemQuery) -> Sequence[Venue]:
    """The venues matching the request, in answer order: bbox, the simple filters, then ``filter`` and ``sortby``."""
    reg = get_register()
    candidates: Sequence[Venue]
    if bbox is None:
        candidates = reg.index.venues()
    else:  # across the antimeridian: two boxes, whose venues are disjoint
        candidates = sorted(
            (v for part in colls.bbox_parts(bbox) for v in reg.index.within_bbox(*part)), key=lambda v: v.id
        )
    if bbox is None and not _SIMPLE_FILTERS.intersection(args) and query.where is None and not query.sortby:
        return candidates  # a plain page: the kept id-ordered tuple, sliced by the caller (nothing per venue)
    known = reg.districts.codes
    amenities = [
        *(params.amenities_param(args) or ()),
        *(params.amenities_param(args, "amenities") or ()),
    ]
    found = filter_venues(
        candidates,
        categories=params.categories_param(args),
        districts=params.districts_param(args, known),
        amenities=amenities or None,
        q=params.q_param(args),
    )
    # district_code, the property's own name (GDAL pushes `-where "district_code = '…'"` down as it):
    # with district as well, a venue must pass both
    district_code = params.districts_param(args, known, "district_code")
    if district_code is not None:
        found = filter_venues(found, districts=district_code)
    minute = datetime.now(TZ)
    return colls.apply_query(found, lambda v: venue_record(v, open_now(v.opening_hours, minute)), query)


@bp.get("/collections/<cid>/items")
def items(cid: str) -> Response:
    cid = _collection_id(cid)
    args = request.args
    crs = colls.crs_param(args.get("crs"), "crs")
    bbox = _bbox(args)
    limit = min(params.int_param(args, "limit", default=DEFAULT_LIMIT, low=1, high=LIMIT_CEILING), MAX_LIMIT)
    offset = params.int_param(args, "offset", default=0, low=0, high=params.MAX_OFFSET)
    # Part 2 and 3 parameters: given empty, they are refused as their schemas say (not taken as absent)
    query = colls.item_query(
        cid,
        args.get("filter"),
        args.get("filter-lang"),
        args.get("sortby"),
        args.get("properties"),
        args.get("filter-crs"),
    )
    features: list[dict[str, Any]]
    if cid == "venues":
        found = _venue_items(args, bbox, query)
        now = datetime.now(TZ)
        if params.bool_param(args, "open_now"):
            found = [v for v in found if open_now(v.opening_hours, now) is True]
        matched = len(found)
        features = [venue_feature(v, "wgs84", now=now) for v in found[offset : offset + limit]]
    else:
        districts = colls.filter_district_features(_summary().district_features, bbox)
        districts = colls.apply_query(districts, lambda f: f["properties"], query)
        matched = len(districts)
        features = districts[offset : offset + limit]
    body = {
        "type": "FeatureCollection",
        "features": [colls.geometry_in(colls.select_properties(f, query.properties), crs) for f in features],
        "numberMatched": matched,
        "numberReturned": len(features),
        # to the minute, like open_now: the same data answers with the same bytes (and ETag) all minute
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:00Z"),
        "links": _page_links(_base(), cid, offset, limit, matched),
    }
    title = colls.COLLECTIONS[cid]["title"]
    page = {"offset": offset, "limit": limit}
    return _in_crs(_respond(body, GEOJSON, "items.html", title, cid=cid, page=page, crs=crs), crs)


def _bbox(args: Any) -> colls.Box | None:
    """``bbox`` in CRS84, read in ``bbox-crs`` (Part 2): latitude first for EPSG:4326 and 4490, datum shifted."""
    bbox_crs = colls.crs_param(args.get("bbox-crs"), "bbox-crs")
    text = params.one(args, "bbox")
    if text is None:
        return None
    if bbox_crs.lat_first:
        text = colls.lat_first_text(text)
    bbox = params.bbox_param(MultiDict([("bbox", text)]))
    return colls.bbox_in_crs84(bbox, bbox_crs) if bbox is not None else None


def _in_crs(resp: Response, crs: colls.Crs) -> Response:
    resp.headers["Content-Crs"] = f"<{crs.uri}>"
    return resp


@bp.get("/collections/<cid>/items/<path:fid>")
def item(cid: str, fid: str) -> Response:
    cid = _collection_id(cid)
    crs = colls.crs_param(request.args.get("crs"), "crs")
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
    feature = colls.geometry_in(feature, crs)
    feature["links"] = [
        {"rel": "self", "type": GEOJSON, "title": "This feature", "href": f"{base}/collections/{cid}/items/{fid}"},
        {
            "rel": "collection",
            "type": "application/json",
            "title": "The collection",
            "href": f"{base}/collections/{cid}",
        },
    ]
    props = feature.get("properties", {})
    title = str(props.get("name") or props.get("name_zh") or fid)
    return _in_crs(_respond(feature, GEOJSON, "item.html", title, cid=cid, crs=crs), crs)


@bp.get("/openapi.json")
def openapi() -> Response:
    return json_response(openapi_document(public_base()), OPENAPI_MIMETYPE)


@bp.get("/docs")
def docs() -> str:
    """The API described for people, rendered from the OpenAPI document on the server (no CDN)."""
    return render_template("api_docs.html", spec=app_state().openapi)  # full paths, as people read them
