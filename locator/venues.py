"""The venue record, its validation, and reading it from GeoJSON. Pure."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from locator.categories import AMENITIES, CATEGORIES
from locator.errors import DataError

__all__ = [
    "HAINAN_BBOX",
    "PRECISIONS",
    "Venue",
    "load_venues",
    "parse_feature",
    "validate_unique",
    "venue_to_feature",
]

# Generous box around the province's land and sea, Sansha's islands included
# (west, south, east, north).
HAINAN_BBOX = (108.3, 3.3, 117.9, 20.3)

VENUE_FIELDS = (
    "id",
    "name",
    "category",
    "district_code",
    "address",
    "lon",
    "lat",
    "operator",
    "phone",
    "opening_hours",
    "amenities",
    "description",
    "source",
    "status",
    "location_precision",
    "last_confirmed",
    "reported_closed",
)
STATUSES = ("active", "closed")
#: How exactly a venue's point is known: ``exact`` (surveyed or from a map), or ``town`` (the centre of the
#: town its address names, placed by the importer from the gazetteer: 位置为乡镇中心，仅供参考).
PRECISIONS = ("exact", "town")


@dataclass(frozen=True, slots=True)
class Venue:
    """One worker service venue. Coordinates are WGS-84 degrees."""

    id: str
    name: str
    category: str
    district_code: str
    lon: float
    lat: float
    address: str = ""
    operator: str = ""
    phone: str = ""
    opening_hours: str | None = None
    amenities: tuple[str, ...] = field(default_factory=tuple)
    description: str = ""
    source: str = ""
    status: str = "active"
    location_precision: str = "exact"
    #: When someone last confirmed the venue works (ISO 8601, UTC): an admin edit or review, or an accepted
    #: confirmation from the public. None: never. Kept across imports (``locator.storage.base.carry_freshness``).
    last_confirmed: str | None = None
    #: Several people said lately that it is closed (``locator.config.CLOSED_TAPS``) and no admin has reviewed it.
    reported_closed: bool = False

    def __post_init__(self) -> None:
        where = f"venue {self.id!r}"
        if not isinstance(self.id, str) or not self.id.strip():
            raise DataError(f"venue id must be a non-empty string, got {self.id!r}")
        if not isinstance(self.name, str) or not self.name.strip():
            raise DataError(f"{where}: name must be a non-empty string, got {self.name!r}")
        if self.category not in CATEGORIES:
            raise DataError(f"{where}: unknown category {self.category!r}; expected one of {', '.join(CATEGORIES)}")
        for name in ("lon", "lat"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise DataError(f"{where}: {name} must be a finite number, got {value!r}")
        west, south, east, north = HAINAN_BBOX
        if not (west <= self.lon <= east and south <= self.lat <= north):
            raise DataError(
                f"{where}: point ({self.lon!r}, {self.lat!r}) lies outside Hainan "
                f"(lon {west}–{east}, lat {south}–{north})"
            )
        if not isinstance(self.district_code, str) or not self.district_code.isdigit():
            raise DataError(f"{where}: district_code must be a 6-digit adcode, got {self.district_code!r}")
        bad = [a for a in self.amenities if a not in AMENITIES]
        if bad:
            raise DataError(f"{where}: unknown amenity {bad[0]!r}; expected some of {', '.join(AMENITIES)}")
        if self.status not in STATUSES:
            raise DataError(f"{where}: status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if self.location_precision not in PRECISIONS:
            raise DataError(
                f"{where}: location_precision must be one of {', '.join(PRECISIONS)}, got {self.location_precision!r}"
            )
        for name in ("address", "operator", "phone", "description", "source"):
            if not isinstance(getattr(self, name), str):
                raise DataError(f"{where}: {name} must be a string, got {getattr(self, name)!r}")
        if self.last_confirmed is not None and not _iso_time(self.last_confirmed):
            raise DataError(f"{where}: last_confirmed must be an ISO 8601 time or null, got {self.last_confirmed!r}")
        if not isinstance(self.reported_closed, bool):
            raise DataError(f"{where}: reported_closed must be true or false, got {self.reported_closed!r}")
        if self.opening_hours is not None and not isinstance(self.opening_hours, str):
            raise DataError(f"{where}: opening_hours must be a string or null, got {self.opening_hours!r}")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["amenities"] = list(self.amenities)
        return d


def parse_feature(feature: Any, position: int | None = None) -> Venue:
    """Build a :class:`Venue` from one GeoJSON Feature, or raise DataError."""
    where = f"feature {position}" if position is not None else "feature"
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise DataError(f"{where}: expected a GeoJSON Feature object, got {_short(feature)}")
    geometry = feature.get("geometry")
    if not isinstance(geometry, Mapping) or geometry.get("type") != "Point":
        raise DataError(f"{where}: geometry must be a Point, got {_short(geometry)}")
    coords = geometry.get("coordinates")
    if not isinstance(coords, (list, tuple)) or len(coords) < 2:
        raise DataError(f"{where}: Point coordinates must be [lon, lat], got {_short(coords)}")
    props = feature.get("properties")
    if not isinstance(props, Mapping):
        raise DataError(f"{where}: properties must be an object, got {_short(props)}")
    venue_id = feature.get("id", props.get("id"))
    amenities = props.get("amenities") or []
    if not isinstance(amenities, (list, tuple)):
        raise DataError(f"{where}: amenities must be a list, got {_short(amenities)}")
    try:
        return Venue(
            id=venue_id if isinstance(venue_id, str) else str(venue_id) if venue_id is not None else "",
            name=props.get("name", ""),
            category=props.get("category", ""),
            district_code=str(props.get("district_code", "")),
            lon=coords[0],
            lat=coords[1],
            address=props.get("address") or "",
            operator=props.get("operator") or "",
            phone=props.get("phone") or "",
            opening_hours=props.get("opening_hours"),
            amenities=tuple(amenities),
            description=props.get("description") or "",
            source=props.get("source") or "",
            status=props.get("status") or "active",
            location_precision=props.get("location_precision") or "exact",
            last_confirmed=props.get("last_confirmed") or None,
            reported_closed=props.get("reported_closed") or False,
        )
    except DataError as exc:
        raise DataError(f"{where}: {exc}") from None


def validate_unique(venues: Iterable[Venue]) -> None:
    """Raise DataError on the first duplicate id."""
    seen: set[str] = set()
    for v in venues:
        if v.id in seen:
            raise DataError(f"duplicate venue id {v.id!r}")
        seen.add(v.id)


def load_venues(path: str | Path) -> list[Venue]:
    """Read and validate a GeoJSON FeatureCollection of venues."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read {str(p)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{str(p)!r} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{str(p)!r} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(doc, Mapping) or doc.get("type") != "FeatureCollection":
        raise DataError(f"{str(p)!r} is not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise DataError(f"{str(p)!r}: 'features' must be a list")
    venues = [parse_feature(f, i) for i, f in enumerate(features)]
    validate_unique(venues)
    return venues


def venue_to_feature(v: Venue) -> dict[str, Any]:
    """The GeoJSON Feature for a venue (WGS-84)."""
    props = v.as_dict()
    for key in ("id", "lon", "lat"):
        del props[key]
    return {
        "type": "Feature",
        "id": v.id,
        "geometry": {"type": "Point", "coordinates": [v.lon, v.lat]},
        "properties": props,
    }


def _iso_time(value: Any) -> bool:
    """Whether ``value`` is an ISO 8601 date-time with a time zone."""
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
