"""One register row, read as offices write it: the field readers the importer composes. Pure.

``read_row`` turns a row's raw cells into a :class:`Draft`: every field read
through the core's readers (``coords.read_angle``/``read_pair``,
``hours_zh.read_hours``, ``phones.read_phone``), with each conversion and
problem recorded as a :class:`RowIssue`, but not yet placed: the datum of the
whole file is decided first (``locator.io.importer``), and only then is each
draft's point shifted to WGS-84 and located (``place``).

Limits are the admin form's (``locator.editing``): an import must not store
what an admin could not have typed. Ids are kept to a pattern that is safe in
a URL path and a file name, so every imported venue can be edited, closed and
reported afterwards.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any

from locator.categories import AMENITIES, CATEGORIES, category_from_label
from locator.coords import read_angle, read_pair
from locator.districts import Districts
from locator.editing import MAX_TEXT
from locator.gazetteer import Gazetteer
from locator.geo import distance_m, to_wgs84
from locator.hours_zh import read_hours
from locator.io.render import control_characters
from locator.phones import read_phone
from locator.venues import HAINAN_BBOX, PRECISIONS, STATUSES

__all__ = [
    "DUPLICATE_METRES",
    "HEADERS",
    "ID_PATTERN",
    "LIMITS",
    "Draft",
    "DuplicateIndex",
    "RowIssue",
    "place",
    "read_row",
]

#: Accepted headers (Chinese or English, case-insensitive; a bracketed note such as ``（必填）`` is ignored).
HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("编号", "id", "venue_id"),
    "name": ("名称", "name", "阵地名称", "站点名称"),
    "category": ("类别", "category", "类型", "阵地类型"),
    "address": ("地址", "address", "详细地址"),
    "lon": ("经度", "lon", "lng", "longitude", "x"),
    "lat": ("纬度", "lat", "latitude", "y"),
    "coords": ("坐标", "经纬度", "坐标（经度,纬度）", "位置坐标", "coordinates"),
    "district": ("所属市县", "district", "district_code", "市县", "所属区县", "行政区划代码"),
    "opening_hours": ("开放时间", "opening_hours", "hours"),
    "amenities": ("设施", "amenities", "服务设施"),
    "phone": ("联系电话", "phone", "电话", "tel"),
    "operator": ("运营单位", "operator", "建设单位", "所属单位"),
    "description": ("说明", "description", "备注"),
    "source": ("来源", "source"),
    "status": ("状态", "status"),
    "location_precision": ("位置精度", "location_precision"),
    "register_version": ("登记版本", "register_version"),
}
#: Longest text per field, as the admin form allows (``locator.editing``).
LIMITS = {
    "id": 64,
    "name": MAX_TEXT,
    "address": MAX_TEXT,
    "operator": MAX_TEXT,
    "source": MAX_TEXT,
    "opening_hours": MAX_TEXT,
    "phone": 40,
    "description": 1000,
}
#: Ids an import may carry: safe in a URL path segment and a file name.
ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
DUPLICATE_METRES = 50.0
_AMENITY_OF = {a.name_zh: a.code for a in AMENITIES.values()} | {a.code: a.code for a in AMENITIES.values()}
_AMENITY_OF |= {a.name_en.lower(): a.code for a in AMENITIES.values()}
_STATUS_OF = {"active": "active", "开放": "active", "正常": "active"}
_STATUS_OF |= {"closed": "closed", "关闭": "closed", "已关闭": "closed"}
_PRECISION_OF = {"exact": "exact", "精确": "exact", "town": "town", "乡镇": "town", "乡镇中心": "town"}


@dataclass(frozen=True)
class RowIssue:
    """One line of the report about one row.

    ``level`` is ``error`` (the row is not written), ``warning`` (written, but
    look), or ``note`` (what was read, e.g. a converted opening time).
    """

    row: int  # the row number a person sees: the spreadsheet's row, or the feature number (from 1)
    level: str
    field: str
    reason: str

    def __str__(self) -> str:
        if self.level == "note":
            return f"row {self.row}: {self.reason}"
        return f"row {self.row}: {self.level}: {self.field}: {self.reason}"


@dataclass
class Draft:
    """A row read but not yet placed: its fields, its point as the file gives it, and its issues."""

    row: int
    fields: dict[str, Any]
    point: tuple[float, float] | None  # in the file's datum, lon/lat order
    district: str | None  # the district the row names, if any
    issues: list[RowIssue] = field(default_factory=list)

    def add(self, level: str, field_: str, reason: str) -> None:
        self.issues.append(RowIssue(self.row, level, field_, reason))

    @property
    def failed(self) -> bool:
        return any(i.level == "error" for i in self.issues)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _in_box(lon: float, lat: float) -> bool:
    west, south, east, north = HAINAN_BBOX
    return west <= lon <= east and south <= lat <= north


def district_code(text: str, districts: Districts) -> str | None:
    """The adcode a register's district cell names (code, Chinese or English name, with or without 市/县/区)."""
    if not text:
        return None
    if districts.get(text):
        return text
    for d in districts:
        if text in (d.name_zh, d.name_en) or text.endswith(d.name_zh) or text == d.name_zh.rstrip("市县区"):
            return d.adcode
    return None


def _point(raw: dict[str, Any], d: Draft) -> tuple[float, float] | None:
    """The row's point in the file's datum (two columns, or one ``坐标`` cell), or None if it has none."""
    lon_cell, lat_cell = raw.get("lon"), raw.get("lat")
    try:
        if _blank(lon_cell) and _blank(lat_cell):
            if _blank(raw.get("coords")):
                return None
            lon, lat = read_pair(raw["coords"])
        elif _blank(lon_cell) or _blank(lat_cell):
            d.add("error", "lon/lat", f"only one coordinate given ({_text(lon_cell)!r}, {_text(lat_cell)!r})")
            return None
        else:
            (lon, axis_a), (lat, axis_b) = read_angle(lon_cell), read_angle(lat_cell)
            if axis_a == "lat" or axis_b == "lon":  # 北纬… in the longitude column: the columns are swapped
                lon, lat = lat, lon
    except ValueError as exc:
        d.add("error", "lon/lat", str(exc))
        return None
    if not _in_box(lon, lat) and _in_box(lat, lon):
        d.add(
            "warning",
            "lon/lat",
            f"latitude and longitude swapped ({lon:g}, {lat:g}); corrected to ({lat:g}, {lon:g})",
        )
        lon, lat = lat, lon
    return lon, lat


def read_row(n: int, raw: dict[str, Any], districts: Districts) -> Draft:
    """Read every field of one row (see the module docstring); the point is placed later by ``place``."""
    d = Draft(n, {}, None, None)
    for key in HEADERS:  # refused rather than dropped: the exporter could not write them back
        value = raw.get(key)
        text = "" if value is None else "".join(map(str, value)) if isinstance(value, list) else str(value)
        if bad := control_characters(text):
            d.add("error", key, f"control character(s) {''.join(bad)!r} in {text!r}")
        limit = LIMITS.get(key)
        if limit is not None and len(text.strip()) > limit:
            d.add("error", key, f"{len(text.strip()):,} characters, more than the {limit} allowed")
    f = d.fields
    f["name"] = _text(raw.get("name"))
    if not f["name"]:
        d.add("error", "name", "missing name")
    label = _text(raw.get("category"))
    f["category"] = category_from_label(label) if label else None
    if f["category"] is None:
        d.add(
            "error",
            "category",
            f"unknown category {label!r}; expected one of {', '.join(c.name_zh for c in CATEGORIES.values())}",
        )
    d.point = _point(raw, d)
    district_text = _text(raw.get("district"))
    d.district = district_code(district_text, districts)
    if district_text and d.district is None:
        d.add("error", "district", f"unknown district {district_text!r}")
    hours_cell = raw.get("opening_hours")
    reading = read_hours(hours_cell)
    f["opening_hours"] = reading.expr
    if reading.problem:
        d.add("warning", "opening_hours", reading.problem)
    elif reading.expr is not None and reading.expr != _text(hours_cell):
        d.add("note", "opening_hours", f"opening hours {_text(hours_cell)!r} read as {reading.expr!r}")
    phone = read_phone(raw.get("phone"))
    f["phone"] = phone.value
    if phone.problem:
        d.add("warning", "phone", f"{phone.problem}; the venue is kept without a phone")
    elif phone.warning:
        d.add("warning", "phone", phone.warning)
    amenities: list[str] = []
    raw_amenities = raw.get("amenities")
    tokens = (
        [_text(t) for t in raw_amenities]
        if isinstance(raw_amenities, list)
        else re.split(r"[;,，、；/|\s]+", _text(raw_amenities))
    )
    for token in tokens:
        if not token:
            continue
        code = _AMENITY_OF.get(token) or _AMENITY_OF.get(token.lower())
        if code is None:
            d.add("warning", "amenities", f"unknown amenity {token!r} ignored")
        elif code not in amenities:
            amenities.append(code)
    f["amenities"] = tuple(amenities)
    status_text = _text(raw.get("status")) or "active"
    f["status"] = _STATUS_OF.get(status_text.lower())
    if f["status"] is None:
        d.add("error", "status", f"unknown status {status_text!r}; expected one of {', '.join(STATUSES)}")
    precision_text = _text(raw.get("location_precision")) or "exact"
    f["location_precision"] = _PRECISION_OF.get(precision_text.lower())
    if f["location_precision"] is None:
        d.add(
            "error",
            "location_precision",
            f"unknown location precision {precision_text!r}; expected one of {', '.join(PRECISIONS)}",
        )
    version_text = _text(raw.get("register_version"))
    f["register_version"] = int(version_text) if version_text.isdigit() else None
    if version_text and f["register_version"] is None:
        d.add("error", "register_version", f"register version {version_text!r} is not a whole number")
    f["id"] = _text(raw.get("id"))
    if f["id"] and (not ID_PATTERN.fullmatch(f["id"]) or not f["id"].strip(".")):
        d.add(
            "error",
            "id",
            f"id {f['id'][:80]!r} is not allowed: use 1 to 64 letters, digits, '.', '_' or '-' (not only dots)",
        )
    for key in ("address", "operator", "description", "source"):
        f[key] = _text(raw.get(key))
    return d


def place(d: Draft, crs: str, districts: Districts, gazetteer: Gazetteer | None) -> tuple[float, float, str] | None:
    """The draft's WGS-84 point and district, from its coordinates or, failing those, its address's town.

    Records the issues on the draft; ``None`` when the row cannot be placed.
    """
    if d.point is not None:
        x, y = to_wgs84(d.point[0], d.point[1], crs)
        lon, lat = round(float(x), 7), round(float(y), 7)
        here = districts.locate(lon, lat)
        if here is None:
            d.add("error", "lon/lat", f"point ({lon:.6f}, {lat:.6f}) lies outside Hainan's land")
            return None
    elif any(i.field == "lon/lat" for i in d.issues):
        return None  # coordinates given but unreadable: said already
    else:
        address = d.fields["address"]
        town = gazetteer.in_address(address, d.district) if gazetteer is not None and address else None
        if town is None:
            where = f"no town in its address {address[:60]!r} is known" if address else "no address"
            d.add(
                "error",
                "lon/lat",
                f"no coordinates, and {where}; add coordinates (经度 and 纬度, or 坐标), "
                "or the town's name (e.g. 那大镇) to the address",
            )
            return None
        lon, lat = town.lon, town.lat
        here = districts.locate(lon, lat) or districts.get(town.district_code)
        if here is None:
            d.add("error", "lon/lat", f"the town {town.label} from the address lies outside Hainan's districts")
            return None
        d.fields["location_precision"] = "town"
        d.add("note", "lon/lat", f"located at {town.label} (town level) from its address")
    if d.district is not None and d.district != here.adcode:
        named = districts.get(d.district)
        d.add(
            "warning",
            "district",
            f"point lies in {here.name_zh} ({here.adcode}), not in "
            f"{named.name_zh if named else d.district} as named; kept in {here.name_zh}",
        )
    return lon, lat, here.adcode


def stable_id(name: str, district: str, lon: float, lat: float) -> str:
    """An id for a row without one, the same on every import of the same row."""
    return "imp-" + hashlib.sha1(f"{district}|{name}|{lon:.5f}|{lat:.5f}".encode()).hexdigest()[:12]


class DuplicateIndex:
    """Rows kept so far, bucketed by name and a grid of cells at least ``DUPLICATE_METRES`` wide.

    A new row is compared only with the same name in its cell and the eight
    around it, so 4,000 rows of one name cost 4,000 small look-ups, not 8
    million distances.
    """

    CELL = 0.001  # degrees: 111 m of latitude, 104 m of longitude at Hainan's 20°N, both over 50 m

    def __init__(self) -> None:
        self._cells: dict[tuple[str, int, int], list[tuple[int, float, float]]] = {}

    def _key(self, lon: float, lat: float) -> tuple[int, int]:
        return math.floor(lon / self.CELL), math.floor(lat / self.CELL)

    def find(self, name: str, lon: float, lat: float) -> int | None:
        """The row of a kept venue of this name within ``DUPLICATE_METRES``, if any."""
        cx, cy = self._key(lon, lat)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for row, x, y in self._cells.get((name, cx + dx, cy + dy), ()):
                    if distance_m(x, y, lon, lat) <= DUPLICATE_METRES:
                        return row
        return None

    def add(self, name: str, lon: float, lat: float, row: int) -> None:
        self._cells.setdefault((name, *self._key(lon, lat)), []).append((row, lon, lat))
