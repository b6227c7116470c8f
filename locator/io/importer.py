"""Read a venue register from CSV, XLSX or GeoJSON and validate every row. Pure.

The real register arrives as spreadsheets from the city and county unions:
Chinese headers, Chinese category names, coordinates from Amap (GCJ-02) or
Baidu (BD-09), sometimes swapped, sometimes missing. ``read_register`` maps the
headers, converts coordinates to WGS-84, and returns the venues it could
build together with a report of every problem, row by row. Nothing is
written here; ``locator import`` decides what to do with the report.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from locator.categories import AMENITIES, CATEGORIES, category_from_label
from locator.districts import Districts
from locator.errors import DataError
from locator.geo import CRS_NAMES, distance_m, to_wgs84
from locator.hours import parse_error
from locator.io.render import control_characters, from_spreadsheet_text
from locator.venues import HAINAN_BBOX, STATUSES, Venue

__all__ = ["HEADERS", "ImportReport", "RowIssue", "read_register", "read_rows"]

#: Accepted headers (Chinese or English, case-insensitive) for each field.
HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("编号", "id", "venue_id"),
    "name": ("名称", "name", "阵地名称", "站点名称"),
    "category": ("类别", "category", "类型", "阵地类型"),
    "address": ("地址", "address", "详细地址"),
    "lon": ("经度", "lon", "lng", "longitude", "x"),
    "lat": ("纬度", "lat", "latitude", "y"),
    "district": ("所属市县", "district", "district_code", "市县", "所属区县", "行政区划代码"),
    "opening_hours": ("开放时间", "opening_hours", "hours"),
    "amenities": ("设施", "amenities", "服务设施"),
    "phone": ("联系电话", "phone", "电话", "tel"),
    "operator": ("运营单位", "operator", "建设单位", "所属单位"),
    "description": ("说明", "description", "备注"),
    "source": ("来源", "source"),
    "status": ("状态", "status"),
}
_HEADER_OF = {alias.lower(): key for key, aliases in HEADERS.items() for alias in aliases}
_AMENITY_OF = {a.name_zh: a.code for a in AMENITIES.values()} | {a.code: a.code for a in AMENITIES.values()}
_AMENITY_OF |= {a.name_en.lower(): a.code for a in AMENITIES.values()}
_STATUS_OF = {
    "active": "active",
    "开放": "active",
    "正常": "active",
    "closed": "closed",
    "关闭": "closed",
    "已关闭": "closed",
}
DUPLICATE_METRES = 50.0


@dataclass(frozen=True)
class RowIssue:
    row: int  # the row number a person sees: spreadsheet row (header = 1) or feature number (from 1)
    level: str  # "error" (row rejected) or "warning" (row kept)
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.level}: {self.field}: {self.reason}"


@dataclass
class ImportReport:
    path: str
    rows: int = 0
    venues: list[Venue] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)

    @property
    def invalid_rows(self) -> list[int]:
        return sorted({i.row for i in self.issues if i.level == "error"})

    @property
    def ok(self) -> bool:
        return not self.invalid_rows

    def lines(self) -> list[str]:
        out = [str(i) for i in sorted(self.issues, key=lambda i: (i.row, i.level != "error", i.field))]
        out.append(
            f"{self.rows} rows read: {len(self.venues)} valid, {len(self.invalid_rows)} invalid, "
            f"{sum(i.level == 'warning' for i in self.issues)} warning(s)"
        )
        return out


# -- reading files -----------------------------------------------------------
def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        return str(best)
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise DataError(f"{path!r}: cannot tell the text encoding (tried UTF-8, GBK/GB18030)") from None


def read_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row number, {field: raw value}) from CSV, XLSX or GeoJSON."""
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {str(p)!r}: {exc.strerror or exc}") from None
    if suffix in (".geojson", ".json"):
        yield from _geojson_rows(data, str(p))
    elif suffix in (".xlsx", ".xlsm"):
        yield from _table_rows(_xlsx_table(data, str(p)), str(p))
    elif suffix in (".csv", ".txt"):
        text = _decode(data, str(p))
        yield from _table_rows(list(csv.reader(io.StringIO(text))), str(p))
    else:
        raise DataError(f"{str(p)!r}: unknown file type {suffix or '(none)'!r}; expected .csv, .xlsx or .geojson")


def _xlsx_table(data: bytes, path: str) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise DataError(f"{path!r} is not a readable XLSX workbook: {exc}") from None
    ws = wb.worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _table_rows(table: list[list[Any]], path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if not table:
        raise DataError(f"{path!r} is empty")
    header = [str(h).strip().lower() if h is not None else "" for h in table[0]]
    keys = [_HEADER_OF.get(h) for h in header]
    missing = [k for k in ("name", "category") if k not in keys]
    if missing:
        found = ", ".join(h for h in header if h) or "none"
        expected = ", ".join(HEADERS[m][0] + "/" + HEADERS[m][1] for m in missing)
        raise DataError(
            f"{path!r}: no column for {', '.join(missing)} (headers found: {found}; expected e.g. {expected})"
        )
    for n, values in enumerate(table[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        # The exporter (locator.io.render.spreadsheet_text) wrote '=…, '+…, '-…, '@… so that
        # no spreadsheet runs them; read them back as they were.
        row = {k: from_spreadsheet_text(v) for k, v in zip(keys, values, strict=False) if k is not None}
        yield n, row


def _geojson_rows(data: bytes, path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        doc = json.loads(_decode(data, path))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path!r} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise DataError(f"{path!r} is not a GeoJSON FeatureCollection")
    for n, f in enumerate(doc["features"], start=1):
        props = (f.get("properties") if isinstance(f, dict) else None) or {}
        row = {_HEADER_OF.get(str(k).lower(), str(k)): v for k, v in props.items()}
        if isinstance(f, dict) and f.get("id") is not None:
            row["id"] = f["id"]
        geom = f.get("geometry") if isinstance(f, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) and geom.get("type") == "Point" else None
        if isinstance(coords, list) and len(coords) >= 2:
            row["lon"], row["lat"] = coords[0], coords[1]
        yield n, row


# -- validating rows ----------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return math.nan
    try:
        return float(str(value).strip().replace("°", ""))
    except ValueError:
        return math.nan


def _in_box(lon: float, lat: float) -> bool:
    west, south, east, north = HAINAN_BBOX
    return west <= lon <= east and south <= lat <= north


def _district_code(text: str, districts: Districts) -> str | None:
    if not text:
        return None
    if districts.get(text):
        return text
    for d in districts:
        if text in (d.name_zh, d.name_en) or text.endswith(d.name_zh) or text == d.name_zh.rstrip("市县区"):
            return d.adcode
    return None


def _stable_id(name: str, district: str) -> str:
    return "imp-" + hashlib.sha1(f"{district}|{name}".encode()).hexdigest()[:12]


def read_register(path: str | Path, districts: Districts, crs: str = "wgs84") -> ImportReport:
    """Read and validate a register file; see the module docstring."""
    if crs not in CRS_NAMES:
        raise DataError(f"unknown crs {crs!r}; expected one of {', '.join(CRS_NAMES)}")
    report = ImportReport(path=str(path))
    seen_ids: dict[str, int] = {}
    kept: dict[str, list[tuple[int, Venue]]] = {}  # by name, for the duplicate check
    for n, raw in read_rows(path):
        report.rows += 1
        issues: list[RowIssue] = []

        def err(field_: str, reason: str, level: str = "error", n: int = n, issues: list[RowIssue] = issues) -> None:
            issues.append(RowIssue(n, level, field_, reason))

        for key in HEADERS:  # refused rather than dropped: the exporter could not write them back
            value = raw.get(key)
            text = "" if value is None else "".join(map(str, value)) if isinstance(value, list) else str(value)
            if bad := control_characters(text):
                err(key, f"control character(s) {''.join(bad)!r} in {text!r}")
        name = _text(raw.get("name"))
        if not name:
            err("name", "missing name")
        label = _text(raw.get("category"))
        category = category_from_label(label) if label else None
        if category is None:
            err(
                "category",
                f"unknown category {label!r}; expected one of {', '.join(c.name_zh for c in CATEGORIES.values())}",
            )
        lon, lat = _number(raw.get("lon")), _number(raw.get("lat"))
        point: tuple[float, float] | None = None
        if lon is None or lat is None:
            err("lon/lat", "missing coordinates")
        elif not (math.isfinite(lon) and math.isfinite(lat)):
            err("lon/lat", f"unparsable coordinates ({_text(raw.get('lon'))!r}, {_text(raw.get('lat'))!r})")
        else:
            if not _in_box(lon, lat) and _in_box(lat, lon):
                err(
                    "lon/lat",
                    f"latitude and longitude swapped ({lon:g}, {lat:g}); corrected to ({lat:g}, {lon:g})",
                    "warning",
                )
                lon, lat = lat, lon
            wlon, wlat = to_wgs84(lon, lat, crs)
            wlon, wlat = round(float(wlon), 7), round(float(wlat), 7)
            located = districts.locate(wlon, wlat)
            if located is None:
                err("lon/lat", f"point ({wlon:.6f}, {wlat:.6f}) lies outside Hainan's land")
            else:
                point = (wlon, wlat)
        district_text = _text(raw.get("district"))
        district = _district_code(district_text, districts)
        if district_text and district is None:
            err("district", f"unknown district {district_text!r}")
        if point is not None:
            here = districts.locate(*point)
            assert here is not None
            if district is None:
                district = here.adcode
            elif district != here.adcode:
                named = districts.get(district)
                err(
                    "district",
                    f"point lies in {here.name_zh} ({here.adcode}), not in "
                    f"{named.name_zh if named else district} as named; kept in {here.name_zh}",
                    "warning",
                )
                district = here.adcode
        hours = _text(raw.get("opening_hours")) or None
        if hours and (why := parse_error(hours)):
            err("opening_hours", why)
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
                err("amenities", f"unknown amenity {token!r} ignored", "warning")
            elif code not in amenities:
                amenities.append(code)
        status_text = _text(raw.get("status")) or "active"
        status = _STATUS_OF.get(status_text.lower())
        if status is None:
            err("status", f"unknown status {status_text!r}; expected one of {', '.join(STATUSES)}")
        vid = _text(raw.get("id"))
        if vid and vid in seen_ids:
            err("id", f"duplicate id {vid!r} (first on row {seen_ids[vid]})")
        elif not vid:  # no id column: derive a stable one, so re-importing the same file gives the same ids
            base = _stable_id(f"{name}|{point[0]:.5f}|{point[1]:.5f}" if point else name, district or "")
            vid, extra = base, 1
            while vid in seen_ids:
                extra += 1
                vid = f"{base}-{extra}"
        if point is not None and name:
            for other_row, other in kept.get(name, ()):
                if distance_m(other.lon, other.lat, *point) <= DUPLICATE_METRES:
                    err("name", f"duplicate of row {other_row}: the same name within {DUPLICATE_METRES:g} m")
                    break
        report.issues.extend(issues)
        if any(i.level == "error" for i in issues):
            continue
        assert point is not None and category is not None and district is not None and status is not None
        try:
            venue = Venue(
                id=vid,
                name=name,
                category=category,
                district_code=district,
                lon=point[0],
                lat=point[1],
                address=_text(raw.get("address")),
                operator=_text(raw.get("operator")),
                phone=_text(raw.get("phone")),
                opening_hours=hours,
                amenities=tuple(amenities),
                description=_text(raw.get("description")),
                source=_text(raw.get("source")) or f"imported from {Path(path).name}",
                status=status,
            )
        except DataError as exc:
            report.issues.append(RowIssue(n, "error", "row", str(exc)))
            continue
        seen_ids[vid] = n
        kept.setdefault(name, []).append((n, venue))
        report.venues.append(venue)
    return report
