"""Edits to the register from people: admin forms, the admin API, public reports. Pure.

Every edit is validated here and then written through the store's audited
path (``store.edit`` / ``store.decide_report``); nothing is ever erased:
closing a venue sets its status to ``closed``.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from locator.categories import AMENITIES, CATEGORIES
from locator.districts import Districts
from locator.errors import InvalidParameter
from locator.hours import parse_error
from locator.venues import STATUSES, Venue

__all__ = ["CONFIRMATION_KINDS", "REPORT_KINDS", "apply_report", "new_venue_id", "validate_report", "venue_from_fields"]

#: What the public may report: code -> (Chinese, English).
REPORT_KINDS: dict[str, tuple[str, str]] = {
    "closed": ("已关闭或不开放", "Closed or not open"),
    "wrong_location": ("位置不对", "Wrong location"),
    "missing_amenity": ("缺少设施", "Missing amenity"),
    "other": ("其他问题", "Other"),
}
#: The one-tap confirmations on the map card (``/confirm/<id>``), queued with the reports: code -> (Chinese, English).
CONFIRMATION_KINDS: dict[str, tuple[str, str]] = {
    "confirm_open": ("开着", "Open"),
    "confirm_closed": ("关着", "Closed"),
    "confirm_problem": ("设施有问题", "Facilities problem"),
}
_ABBR = {
    "workers_home": "WH",
    "reading_room": "RR",
    "service_center": "SC",
    "outdoor_station": "OS",
    "innovation_studio": "IS",
    "other": "OT",
}
MAX_TEXT = 200


def new_venue_id(category: str, district_code: str) -> str:
    return f"{district_code}-{_ABBR.get(category, 'OT')}-{secrets.token_hex(3)}"


def _text(fields: Mapping[str, Any], name: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = fields.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidParameter(name, f"must be text, got {value!r}")
    value = value.strip()
    if required and not value:
        raise InvalidParameter(name, "is required")
    if len(value) > limit:
        raise InvalidParameter(name, f"must be at most {limit} characters, got {len(value)}")
    return value


def _coord(fields: Mapping[str, Any], name: str) -> float:
    raw = fields.get(name)
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidParameter(name, f"must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise InvalidParameter(name, f"must be finite, got {raw!r}")
    return value


def venue_from_fields(fields: Mapping[str, Any], districts: Districts, existing: Venue | None = None) -> Venue:
    """A validated venue from form or JSON fields (WGS-84 lon/lat).

    On update, fields that are absent keep their current value. The district
    is the one the point lies in.
    """
    base: dict[str, Any] = existing.as_dict() if existing else {}
    merged = {**base, **{k: v for k, v in fields.items() if v is not None}}
    name = _text(merged, "name", required=True)
    category = _text(merged, "category", required=True)
    if category not in CATEGORIES:
        raise InvalidParameter("category", f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}")
    lon, lat = _coord(merged, "lon"), _coord(merged, "lat")
    district = districts.locate(lon, lat)
    if district is None:
        raise InvalidParameter("lon", f"point ({lon:.6f}, {lat:.6f}) lies outside Hainan's land")
    hours = _text(merged, "opening_hours") or None
    if hours and (why := parse_error(hours)):
        raise InvalidParameter("opening_hours", why)
    amenities = merged.get("amenities", [])  # a list, or the form's comma-separated text; {} or 0 is refused
    if isinstance(amenities, str):
        amenities = [a for a in amenities.replace(";", ",").split(",") if a.strip()]
    if not isinstance(amenities, (list, tuple)) or not all(isinstance(a, str) for a in amenities):
        raise InvalidParameter("amenities", f"must be a list of amenity codes, got {amenities!r}")
    for a in amenities:
        if a.strip() not in AMENITIES:
            raise InvalidParameter("amenities", f"unknown amenity {a!r}; expected some of {', '.join(AMENITIES)}")
    order = list(AMENITIES)
    status = _text(merged, "status") or "active"
    if status not in STATUSES:
        raise InvalidParameter("status", f"must be one of {', '.join(STATUSES)}, got {status!r}")
    return Venue(
        id=existing.id if existing else new_venue_id(category, district.adcode),
        name=name,
        category=category,
        district_code=district.adcode,
        lon=round(lon, 7),
        lat=round(lat, 7),
        address=_text(merged, "address"),
        operator=_text(merged, "operator"),
        phone=_text(merged, "phone", limit=40),
        opening_hours=hours,
        amenities=tuple(sorted({a.strip() for a in amenities}, key=order.index)),
        description=_text(merged, "description", limit=1000),
        source=_text(merged, "source") or (existing.source if existing else "admin"),
        status=status,
        last_confirmed=existing.last_confirmed if existing else None,
        reported_closed=existing.reported_closed if existing else False,
    )


def validate_report(fields: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(kind, message, proposal) from a public report form, or InvalidParameter."""
    kind = _text(fields, "kind", required=True)
    if kind not in REPORT_KINDS:
        raise InvalidParameter("kind", f"unknown kind {kind!r}; expected one of {', '.join(REPORT_KINDS)}")
    message = _text(fields, "message", limit=500)
    proposal: dict[str, Any] = {}
    if kind == "wrong_location":
        if fields.get("lon") or fields.get("lat"):
            proposal["lon"], proposal["lat"] = _coord(fields, "lon"), _coord(fields, "lat")
    elif kind == "missing_amenity":
        amenity = _text(fields, "amenity", required=True)
        if amenity not in AMENITIES:
            raise InvalidParameter("amenity", f"unknown amenity {amenity!r}; expected one of {', '.join(AMENITIES)}")
        proposal["amenity"] = amenity
    if kind == "other" and not message:
        raise InvalidParameter("message", "is required for 'other'")
    return kind, message, proposal


def apply_report(venue: Venue, kind: str, proposal: Mapping[str, Any], districts: Districts) -> Venue | None:
    """The venue as an accepted report would change it; None when nothing changes automatically."""
    if kind == "closed":
        return replace(venue, status="closed")
    if kind == "missing_amenity" and proposal.get("amenity") in venue.amenities:
        return replace(venue, amenities=tuple(a for a in venue.amenities if a != proposal["amenity"]))
    if kind == "wrong_location" and "lon" in proposal:
        return venue_from_fields({"lon": proposal["lon"], "lat": proposal["lat"]}, districts, venue)
    return None
