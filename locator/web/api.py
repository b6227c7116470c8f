"""Blueprint ``/api/v1``: nearest venues and the map's venue layer.

The OGC API – Features endpoints (landing page, collections, items) live in
``locator.web.ogc``; the OpenAPI document in ``locator.web.openapi``. Parameters are
parsed by ``locator.params`` (pure), so every bad value ends as one
``InvalidParameter`` and one problem document (``locator.web.problems``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, request

from locator import params
from locator.categories import CATEGORIES, CATEGORY_CODES
from locator.errors import InvalidParameter
from locator.geo import from_wgs84, to_wgs84
from locator.hours import TZ, is_open
from locator.index import Hit, VenueIndex
from locator.search import filter_venues
from locator.venues import Venue
from locator.web import oas
from locator.web.http import current_request
from locator.web.state import app_state, get_register

__all__ = [
    "DEFAULT_NEAREST_K",
    "GEOJSON",
    "MAX_NEAREST_K",
    "bp",
    "export_ok",
    "export_response",
    "get_oas",
    "json_response",
    "nearest_open",
    "nearest_collection_json",
    "open_now",
    "venue_feature",
]

bp = Blueprint("api", __name__, url_prefix="/api/v1")

GEOJSON = "application/geo+json"
MAX_NEAREST_K = 50
"""Largest ``k`` of ``/nearest``."""
DEFAULT_NEAREST_K = 5
"""``k`` of ``/nearest`` when not given."""
LAT_LIMIT, LON_LIMIT = 90, 180
"""``/nearest`` takes ``lat`` in ±90 and ``lon`` in ±180 degrees."""


def json_response(body: Any, mimetype: str = "application/json", status: int = 200) -> Response:
    """Serialise with the standard library directly: compact, UTF-8, no key sorting (the hot path)."""
    data = _dumps(body).encode()
    return Response(data, status=status, mimetype=mimetype)


@lru_cache(maxsize=8192)
def _open_at_minute(expr: str, minute: datetime) -> bool | None:
    return is_open(expr, minute)


@lru_cache(maxsize=8192)
def _open_at_minute_ts(expr: str, minute: int) -> bool | None:
    """``is_open`` at the minute starting at Unix time ``minute``, in Asia/Shanghai (an int key hashes
    faster than an aware datetime, whose hash asks the time zone for its offset)."""
    return _open_at_minute(expr, datetime.fromtimestamp(minute, TZ))


def open_now(expr: str | None, now: datetime | None = None) -> bool | None:
    """``is_open`` at ``now`` (default: now in Asia/Shanghai), cached per minute.

    Opening hours have minute resolution, so evaluating at the start of the
    minute gives the same answer as at any second within it.
    """
    if not expr:
        return None
    when = (now.astimezone(TZ) if now is not None and now.tzinfo else now) or datetime.now(TZ)
    return _open_at_minute(expr, when.replace(second=0, microsecond=0))


def venue_feature(
    venue: Venue, crs: str = "wgs84", hit: Hit | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The public GeoJSON Feature of a venue (the shape every endpoint shares)."""
    if crs == "wgs84":
        lon, lat = venue.lon, venue.lat
    else:
        lon, lat = from_wgs84(venue.lon, venue.lat, crs)  # type: ignore[assignment]
    district = get_register().districts.get(venue.district_code)
    props: dict[str, Any] = {
        "name": venue.name,
        "category": venue.category,
        "category_name": CATEGORIES[venue.category].name_zh,
        "district_code": venue.district_code,
        "district_name": district.name_zh if district else None,
        "address": venue.address,
        "opening_hours": venue.opening_hours,
        "open_now": open_now(venue.opening_hours, now),
        "amenities": list(venue.amenities),
        "phone": venue.phone,
        "location_precision": venue.location_precision,
        "last_confirmed": venue.last_confirmed,
        "reported_closed": venue.reported_closed,
    }
    if hit is not None:
        props["distance_m"] = round(hit.distance_m, 1)
        props["bearing_deg"] = round(hit.bearing_deg, 1)
    return {
        "type": "Feature",
        "id": venue.id,
        "geometry": {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]},
        "properties": props,
    }


_OPEN_JSON = {True: "true", False: "false", None: "null"}


def _fragments(venue: Venue, crs: str, cache: dict[tuple[str, str], tuple[Any, str, str]]) -> tuple[str, str]:
    """The feature's JSON around its ``open_now`` value, built once per venue record and crs (kept in ``cache``)."""
    entry = cache.get((venue.id, crs))
    if entry is None or entry[0] is not venue:
        feature = venue_feature(venue, crs)
        props = feature.pop("properties")
        head = {k: props[k] for k in list(props)[: list(props).index("open_now")]}
        tail = {k: props[k] for k in list(props)[list(props).index("open_now") + 1 :]}
        dumped = _dumps(feature)[:-1]  # without the closing brace
        entry = (venue, f'{dumped},"properties":{_dumps(head)[:-1]},"open_now":', f",{_dumps(tail)[1:-1]}")
        cache[(venue.id, crs)] = entry
    return entry[1], entry[2]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def nearest_collection_json(
    hits: list[Hit],
    crs: str,
    now: datetime | float,
    extra: dict[str, Any] | None = None,
    cache: dict[tuple[str, str], tuple[Any, str, str]] | None = None,
) -> str:
    """The nearest answer serialised: the same document as ``venue_feature`` gives, ten times faster.

    Each venue's static JSON is built once (``_fragments``); per request only
    ``open_now``, ``distance_m`` and ``bearing_deg`` are written. ``now`` is an
    aware datetime or a Unix time (``time.time()``, cheaper than an aware
    datetime's ``timestamp()``, which asks the time zone).
    """
    minute = int(now if isinstance(now, (int, float)) else now.timestamp()) // 60 * 60
    if cache is None:
        cache = app_state().feature_json
    parts = []
    for venue, distance_m, bearing_deg in hits:
        entry = cache.get((venue.id, crs))  # _fragments' lookup, inline: this loop is on every nearest request
        if entry is not None and entry[0] is venue:
            _, head, tail = entry
        else:
            head, tail = _fragments(venue, crs, cache)
        expr = venue.opening_hours
        is_open_now = _open_at_minute_ts(expr, minute) if expr else None
        # f"{x:.1f}" is repr(round(x, 1)) for these magnitudes, without making the float
        parts.append(
            f'{head}{_OPEN_JSON[is_open_now]}{tail},"distance_m":{distance_m:.1f},"bearing_deg":{bearing_deg:.1f}}}}}'
        )
    more = "".join(f",{_dumps(k)}:{_dumps(v)}" for k, v in extra.items()) if extra else ""
    return f'{{"type":"FeatureCollection","features":[{",".join(parts)}]{more}}}'


@bp.before_request
def _no_repeats() -> None:
    req = current_request()  # one context lookup, not two
    params.reject_repeats(req.args, req.environ.get("QUERY_STRING"))


@bp.get("/venues")
def venues() -> Response:
    """Every active venue as one GeoJSON FeatureCollection (the map's layer).

    Optional filters: ``category``, ``district``, ``amenity`` (comma lists),
    ``q`` (name or address substring), and ``crs`` for the output geometries.
    """
    args = request.args
    crs = params.crs_param(args)
    reg = get_register()
    items = filter_venues(
        reg.index.venues(),
        categories=params.categories_param(args),
        districts=params.districts_param(args, reg.districts.codes),
        amenities=params.amenities_param(args),
        q=params.q_param(args),
    )
    now = datetime.now(TZ)
    body = {"type": "FeatureCollection", "features": [venue_feature(v, crs, now=now) for v in items]}
    return json_response(body, GEOJSON)


@bp.get("/nearest")
def nearest() -> Response:
    """The k venues nearest a point by geodesic distance, nearest first."""
    args = request.args
    crs = params.crs_param(args)
    lat = params.float_param(args, "lat", required=True, low=-LAT_LIMIT, high=LAT_LIMIT)
    lon = params.float_param(args, "lon", required=True, low=-LON_LIMIT, high=LON_LIMIT)
    k = params.int_param(args, "k", default=DEFAULT_NEAREST_K, low=1, high=MAX_NEAREST_K)
    cats = params.categories_param(args)
    max_distance = params.float_param(args, "max_distance", low=0)
    open_only = params.bool_param(args, "open_now")
    assert lat is not None and lon is not None
    if crs != "wgs84":
        # The datum shifts are a few hundred metres; at the poles and the antimeridian
        # they may step outside the valid range, so bring the point back in.
        wlon, wlat = (float(c) for c in to_wgs84(lon, lat, crs))
        lon, lat = ((wlon + 180.0) % 360.0) - 180.0 if not -180 <= wlon <= 180 else wlon, min(90.0, max(-90.0, wlat))
    state = app_state()
    index = state.register.index
    now_ts = time.time()  # open_now is of the minute: one clock reading for the search and the answer
    now = datetime.fromtimestamp(now_ts, TZ) if open_only else None
    if now is not None:
        hits = nearest_open(index, lon, lat, k, cats, max_distance, now)
    else:
        hits = index.nearest(lon, lat, k, cats, max_distance)
    extra: dict[str, Any] = {}
    if not hits and max_distance is not None:
        beyond = (
            nearest_open(index, lon, lat, 1, cats, None, now) if now is not None else index.nearest(lon, lat, 1, cats)
        )
        extra["nearest_beyond"] = round(beyond[0].distance_m, 1) if beyond else None
    body = nearest_collection_json(hits, crs, now_ts, extra, state.feature_json).encode()
    return Response(body, mimetype=GEOJSON)


OPEN_SEARCH_LIMIT = 1000
"""``open_now=true`` looks for open venues among at most this many nearest venues (a bounded search)."""


def nearest_open(
    index: VenueIndex,
    lon: float,
    lat: float,
    k: int,
    cats: list[str] | None,
    max_distance: float | None,
    now: datetime,
) -> list[Hit]:
    """The k venues open at ``now`` nearest to (lon, lat), nearest first.

    Asks the index for a few times k candidates and widens fourfold until k
    open ones are found, the candidates run out, or :data:`OPEN_SEARCH_LIMIT`
    is reached: at night most stations are closed, and the bound keeps one
    request's work fixed however few are open.
    """
    n = min(k * 4, OPEN_SEARCH_LIMIT)
    while True:
        hits = index.nearest(lon, lat, n, cats, max_distance)
        found = [h for h in hits if open_now(h.venue.opening_hours, now) is True]
        if len(found) >= k or len(hits) < n or n >= OPEN_SEARCH_LIMIT:
            return found[:k]
        n = min(n * 4, OPEN_SEARCH_LIMIT)


def export_response(venues: Sequence[Venue], fmt: str, version: int | None = None) -> Response:
    """The register as a download in ``fmt`` (``locator.io.exporter``: re-imports unchanged).

    ``version`` is the register's data version the venues were read at; the file records it,
    so merging it back later lists every venue edited since as a conflict (``locator import``).
    """
    from locator.io.exporter import FORMATS, export_bytes
    from locator.io.render import media_type

    if fmt not in FORMATS:
        raise InvalidParameter("format", f"unknown format {fmt[:20]!r}; expected one of {', '.join(FORMATS)}")
    resp = Response(export_bytes(venues, fmt, version), content_type=media_type(fmt))  # its charset, once
    resp.headers["Content-Disposition"] = f'attachment; filename="hainan-worker-venues.{fmt}"'
    return resp


@bp.get("/export")
def export() -> Response:
    """Every active venue as CSV (UTF-8 with BOM, Chinese headers), XLSX, GeoJSON or GeoPackage."""
    params.reject_repeats(request.args)
    index = get_register().index  # from memory: reads never wait on the database
    return export_response(index.venues(), request.args.get("format", "csv"), index.version)  # format= is a 400


def export_ok() -> dict[str, Any]:
    """The success response of an export: one media type per ``format`` (``locator.io.render``)."""
    from locator.io.exporter import FORMATS
    from locator.io.render import media_type

    def schema(fmt: str) -> dict[str, str]:
        return {"type": "object"} if fmt == "geojson" else {"type": "string", "format": "binary"}

    content = {media_type(f).split(";")[0]: {"schema": schema(f)} for f in FORMATS}
    return {"description": "The file.", "content": content}


def get_oas() -> oas.Fragment:
    """This blueprint's part of the OpenAPI document (``locator.web.openapi``)."""
    venue_layer = oas.ok("The venues.", GEOJSON, "NearestCollection")
    paths = {
        f"{oas.API}/nearest": oas.operation(
            "Nearest venues",
            "The k venues nearest a point by geodesic WGS-84 distance, nearest first, as GeoJSON. "
            "When `max_distance` leaves nothing, the collection is empty and `nearest_beyond` "
            "says how far the nearest match is.",
            "venues",
            ["lat", "lon", "k", "category", "max_distance", "open_now", "crs"],
            oas.ok("The nearest venues.", GEOJSON, "NearestCollection"),
            op_id="nearest",
        ),
        f"{oas.API}/venues": oas.operation(
            "All venues",
            "Every active venue as one GeoJSON FeatureCollection (the map's layer), optionally filtered.",
            "venues",
            ["category", "district", "amenity", "q", "crs"],
            venue_layer,
            op_id="venues",
        ),
        f"{oas.API}/export": oas.operation(
            "Export",
            "Every active venue as a file to download (Content-Disposition: attachment).",
            "venues",
            ["format"],
            export_ok(),
            op_id="export",
        ),
    }
    parameters = {
        "lat": oas.param(
            "lat",
            "Latitude of the point, degrees (in `crs`).",
            {"type": "number", "minimum": -LAT_LIMIT, "maximum": LAT_LIMIT},
            True,
        ),
        "lon": oas.param(
            "lon",
            "Longitude of the point, degrees (in `crs`).",
            {"type": "number", "minimum": -LON_LIMIT, "maximum": LON_LIMIT},
            True,
        ),
        "k": oas.param(
            "k",
            "How many venues to return.",
            {"type": "integer", "minimum": 1, "maximum": MAX_NEAREST_K, "default": DEFAULT_NEAREST_K},
        ),
        "open_now": oas.param(
            "open_now",
            "`true`: only venues open now (Asia/Shanghai); nearest searches the "
            f"{OPEN_SEARCH_LIMIT} nearest venues for them.",
            {"type": "boolean", "default": False},
        ),
        "max_distance": oas.param(
            "max_distance", "Drop venues farther than this many geodesic metres.", {"type": "number", "minimum": 0}
        ),
    }
    return oas.fragment(paths, parameters, {"Venue": VENUE_SCHEMA, "NearestCollection": NEAREST_SCHEMA})


VENUE_SCHEMA: dict[str, Any] = {
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
                "location_precision": {
                    "type": "string",
                    "enum": ["exact", "town"],
                    "description": "town: placed at the centre of the town its address names (位置为乡镇中心).",
                },
                "last_confirmed": {
                    "type": "string",
                    "format": "date-time",
                    "nullable": True,
                    "description": "When the venue was last confirmed to work (an admin's edit or review, or an "
                    "accepted confirmation from the public), UTC; null: never.",
                },
                "reported_closed": {
                    "type": "boolean",
                    "description": "Several people said lately that it is closed (有人反映已关闭) and no admin "
                    "has reviewed it yet.",
                },
                "distance_m": {"type": "number", "description": "Geodesic WGS-84 metres, one decimal (nearest only)."},
                "bearing_deg": {
                    "type": "number",
                    "description": "Initial bearing from the point, degrees clockwise from north (nearest only).",
                },
            },
        },
    },
}
"""The shape of ``venue_feature``'s answer."""

NEAREST_SCHEMA: dict[str, Any] = {
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
