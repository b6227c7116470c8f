"""What each collection can be filtered, sorted and cut down to: queryables, ``sortby``, ``properties``. Pure.

The queryables are named as the properties they filter, so that a GIS
client's ``-where "district_code = '460106'"`` reaches the server unchanged
(``locator.filters`` compiles the filter itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from locator.categories import AMENITIES, CATEGORY_CODES
from locator.errors import InvalidParameter
from locator.filters import Queryable
from locator.venues import STATUSES, Venue

__all__ = ["MAX_SORT_KEYS", "VENUE_QUERYABLES", "parse_properties", "parse_sortby", "venue_record"]

MAX_SORT_KEYS = 5

#: What the venues collection can be filtered and sorted on: the names are the properties' own, so that
#: a client's ``-where "district_code = '460106'"`` reaches the server unchanged.
VENUE_QUERYABLES: tuple[Queryable, ...] = (
    Queryable("id", "string", "Venue id"),
    Queryable("name", "string", "Name"),
    Queryable("category", "string", "Category", tuple(CATEGORY_CODES)),
    Queryable("district_code", "string", "District adcode"),
    Queryable("address", "string", "Address"),
    Queryable("operator", "string", "Operator"),
    Queryable("opening_hours", "string", "Opening hours (OpenStreetMap syntax)"),
    Queryable("open_now", "boolean", "Open now (Asia/Shanghai)"),
    Queryable("amenities", "array", "Amenities", tuple(AMENITIES)),
    Queryable("status", "string", "Status", STATUSES),
    Queryable("last_confirmed", "string", "Last confirmed (ISO 8601 UTC; compare as text, e.g. >= '2026-11')"),
    Queryable("reported_closed", "boolean", "Reported closed by several people, not yet reviewed"),
    Queryable("geometry", "geometry", "Location (WGS-84)"),
)


def venue_record(v: Venue, open_now: bool | None) -> dict[str, Any]:
    """The values a filter sees for a venue (``open_now`` is computed by the caller at one instant)."""
    return {
        "id": v.id,
        "name": v.name,
        "category": v.category,
        "district_code": v.district_code,
        "address": v.address,
        "operator": v.operator,
        "opening_hours": v.opening_hours,
        "open_now": open_now,
        "amenities": v.amenities,
        "status": v.status,
        "last_confirmed": v.last_confirmed,
        "reported_closed": v.reported_closed,
        "geometry": (v.lon, v.lat),
    }


def parse_sortby(text: str, queryables: Sequence[Queryable]) -> tuple[tuple[str, bool], ...]:
    """``sortby=name,-district_code`` → ``(("name", False), ("district_code", True))`` (True: descending)."""
    allowed = {q.name for q in queryables if q.type not in ("geometry", "array")}
    keys = []
    for raw in (p.strip() for p in text.split(",")):
        if not raw:
            raise InvalidParameter("sortby", f"empty sort key in {text[:80]!r}")
        desc = raw.startswith("-")
        name = raw.lstrip("+-").strip()
        if name.upper().endswith((" A", " D", " ASC", " DESC")):
            name, direction = name.rsplit(" ", 1)
            desc = direction.upper().startswith("D")
        if name not in allowed:
            raise InvalidParameter("sortby", f"cannot sort by {name[:40]!r}; sortable: {', '.join(sorted(allowed))}")
        keys.append((name, desc))
    if len(keys) > MAX_SORT_KEYS:
        raise InvalidParameter("sortby", f"{len(keys)} sort keys; at most {MAX_SORT_KEYS}")
    return tuple(keys)


def parse_properties(text: str, queryables: Sequence[Queryable]) -> tuple[str, ...]:
    """``properties=name,category`` → the properties to keep, each checked (``geometry`` is always kept)."""
    allowed = [q.name for q in queryables if q.type != "geometry"]
    names = tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise InvalidParameter(
            "properties", f"unknown property {unknown[0][:40]!r}; expected some of {', '.join(allowed)}"
        )
    return names
