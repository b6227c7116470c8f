"""Blueprint ``/api/v1``: the public read API."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, json, request

from .categories import CATEGORIES, CATEGORY_CODES
from .errors import InvalidParameter
from .extension import get_register
from .geo import CRS_NAMES, from_wgs84, to_wgs84
from .hours import TZ, is_open
from .index import Hit
from .venues import Venue

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _float_arg(name: str, required: bool = False, default: float | None = None) -> float | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise InvalidParameter(name, "given more than once")
    if not values or values[0] == "":
        if required:
            raise InvalidParameter(name, "is required")
        return default
    try:
        f = float(values[0])
    except ValueError:
        raise InvalidParameter(name, f"must be a number, got {values[0]!r}") from None
    if not math.isfinite(f):
        raise InvalidParameter(name, f"must be finite, got {values[0]!r}")
    return f


def _one_arg(name: str, default: str | None = None) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise InvalidParameter(name, "given more than once")
    return values[0] if values else default


def venue_feature(venue: Venue, crs: str = "wgs84", hit: Hit | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The public GeoJSON Feature of a venue (the shape every endpoint shares)."""
    lon, lat = from_wgs84(venue.lon, venue.lat, crs)
    district = get_register().districts.get(venue.district_code)
    props: dict[str, Any] = {
        "name": venue.name,
        "category": venue.category,
        "category_name": CATEGORIES[venue.category].name_zh,
        "district_code": venue.district_code,
        "district_name": district.name_zh if district else None,
        "address": venue.address,
        "opening_hours": venue.opening_hours,
        "open_now": is_open(venue.opening_hours, now),
        "amenities": list(venue.amenities),
        "phone": venue.phone,
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


def _crs_arg() -> str:
    crs = _one_arg("crs", "wgs84") or "wgs84"
    if crs not in CRS_NAMES:
        raise InvalidParameter("crs", f"unknown crs {crs!r}; expected one of {', '.join(CRS_NAMES)}")
    return crs


def _categories_arg() -> list[str] | None:
    text = _one_arg("category")
    if not text:
        return None
    cats = [c.strip() for c in text.split(",") if c.strip()]
    for c in cats:
        if c not in CATEGORY_CODES:
            raise InvalidParameter("category", f"unknown category {c!r}; expected one of {', '.join(CATEGORY_CODES)}")
    return cats


@bp.get("/venues")
def venues() -> Response:
    """Every active venue as one GeoJSON FeatureCollection (the map's layer).

    Optional filters: ``category`` (comma list), ``crs``.
    """
    crs = _crs_arg()
    cats = _categories_arg()
    items = get_register().index.venues()
    if cats:
        items = [v for v in items if v.category in cats]
    now = datetime.now(TZ)
    body = {"type": "FeatureCollection", "features": [venue_feature(v, crs, now=now) for v in items]}
    return Response(json.dumps(body), mimetype="application/geo+json")


@bp.get("/nearest")
def nearest() -> Response:
    crs = _crs_arg()
    lat = _float_arg("lat", required=True)
    lon = _float_arg("lon", required=True)
    assert lat is not None and lon is not None
    if not -90 <= lat <= 90:
        raise InvalidParameter("lat", f"must be between -90 and 90, got {lat!r}")
    if not -180 <= lon <= 180:
        raise InvalidParameter("lon", f"must be between -180 and 180, got {lon!r}")
    k_text = _one_arg("k", "5") or "5"
    if not k_text.isdigit() or not 1 <= int(k_text) <= 50:
        raise InvalidParameter("k", f"must be an integer from 1 to 50, got {k_text!r}")
    k = int(k_text)
    cats = _categories_arg()
    max_distance = _float_arg("max_distance")
    if max_distance is not None and max_distance < 0:
        raise InvalidParameter("max_distance", f"must be a non-negative number of metres, got {max_distance!r}")
    wlon, wlat = to_wgs84(lon, lat, crs)  # type: ignore[arg-type]
    index = get_register().index
    hits = index.nearest(float(wlon), float(wlat), k, cats, max_distance)
    now = datetime.now(TZ)
    body: dict[str, Any] = {"type": "FeatureCollection", "features": [venue_feature(h.venue, crs, h, now) for h in hits]}
    if not hits and max_distance is not None:
        beyond = index.nearest(float(wlon), float(wlat), 1, cats)
        body["nearest_beyond"] = round(beyond[0].distance_m, 1) if beyond else None
    return Response(json.dumps(body), mimetype="application/geo+json")
