"""Read a venue register from CSV, XLSX or GeoJSON as offices keep it, and validate every row. Pure.

The real register arrives as spreadsheets from the city and county unions:
a merged title row and a sign-off footer around the table, Chinese headers
and category names, opening hours as staff write them, coordinates in any
notation and in any of three datums (WGS-84, Amap's GCJ-02, Baidu's BD-09),
phones mangled by Excel, and rows with an address but no coordinates.
``read_register`` finds the table (``io.tables``), reads each row
(``io.rows``), decides the datum of the whole file (``coords.fit_datum``:
never a silent shift), places each row (address-only rows at their town,
from the gazetteer), and returns the venues it could build together with a
report of every conversion and problem, row by row. Nothing is written here;
``locator import`` decides what to do with the report.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from locator.coords import DatumFit, fit_datum
from locator.districts import Districts
from locator.errors import DataError
from locator.gazetteer import Gazetteer
from locator.geo import CRS_NAMES
from locator.io.render import from_spreadsheet_text
from locator.io.rows import DUPLICATE_METRES, HEADERS, Draft, DuplicateIndex, RowIssue, place, read_row, stable_id
from locator.io.tables import HEADER_SCAN_ROWS, MAX_ROWS, check_xlsx, find_table
from locator.venues import Venue

__all__ = ["HEADERS", "MAX_FILE_BYTES", "ImportReport", "RowIssue", "read_register", "read_rows"]

#: Largest register file read at all, in bytes (an XLSX is also checked unpacked: ``io.tables.check_xlsx``).
MAX_FILE_BYTES = 64 * 1024 * 1024
_HEADER_OF = {alias.lower(): key for key, aliases in HEADERS.items() for alias in aliases}
_HEADER_OF |= {"坐标": "coords"}  # 坐标（经度,纬度） reads as 坐标 once its bracketed note is dropped


@dataclass
class ImportReport:
    path: str
    rows: int = 0
    venues: list[Venue] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    #: Lines about the file as a whole: where the header was, columns not used, the footer.
    notes: list[str] = field(default_factory=list)
    #: The datum test, when it ran; ``datum.better`` set means the file is refused.
    datum: DatumFit | None = None
    #: Venue id -> the register version its row was exported at (rows of an export only).
    exported_at: dict[str, int] = field(default_factory=dict)

    @property
    def invalid_rows(self) -> list[int]:
        return sorted({i.row for i in self.issues if i.level == "error"})

    @property
    def ok(self) -> bool:
        return not self.invalid_rows and not self.datum_mismatch

    @property
    def datum_mismatch(self) -> bool:
        return self.datum is not None and self.datum.better is not None

    def lines(self) -> list[str]:
        """The report: file notes, then every row issue in row order, then the counts."""
        if self.datum_mismatch:
            assert self.datum is not None
            return [self.datum.message()]
        order = {"error": 0, "warning": 1, "note": 2}
        head = [n for n in self.notes if not n.startswith("row ")]
        tail = [n for n in self.notes if n.startswith("row ")]  # the footer: after the rows, where it is
        out = head + [str(i) for i in sorted(self.issues, key=lambda i: (i.row, order[i.level], i.field))] + tail
        out.append(
            f"{self.rows} rows read: {len(self.venues)} valid, {len(self.invalid_rows)} invalid, "
            f"{sum(i.level == 'warning' for i in self.issues)} warning(s)"
        )
        return out


# -- reading files -----------------------------------------------------------
Rows = list[tuple[int, dict[str, Any]]]


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


def read_rows(path: str | Path) -> tuple[Rows, list[str]]:
    """(row number, {field: raw value}) for every row of a CSV, XLSX or GeoJSON, and notes on the layout.

    Raises ``DataError`` (one line, quoting the file) when the file cannot be read as a register.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".geojson", ".json", ".xlsx", ".xlsm", ".csv", ".txt"):
        raise DataError(f"{str(p)!r}: unknown file type {suffix or '(none)'!r}; expected .csv, .xlsx or .geojson")
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DataError(f"{str(p)!r} is {size / 1e6:,.0f} MB, over the limit of {MAX_FILE_BYTES / 1e6:,.0f} MB")
        data = p.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {str(p)!r}: {exc.strerror or exc}") from None
    if suffix in (".geojson", ".json"):
        return list(_geojson_rows(data, str(p))), []
    if suffix in (".xlsx", ".xlsm"):
        return _table_rows(_xlsx_table(data, str(p)), str(p))
    text = _decode(data, str(p))
    try:
        table = []
        for values in csv.reader(io.StringIO(text)):
            table.append(values)
            if len(table) > MAX_ROWS + HEADER_SCAN_ROWS:
                raise DataError(f"{str(p)!r} has more than {MAX_ROWS:,} rows, the limit")
    except csv.Error as exc:
        raise DataError(f"{str(p)!r} is not readable CSV: {exc} (line {len(table) + 1})") from None
    return _table_rows(table, str(p))


def _xlsx_table(data: bytes, path: str) -> list[list[Any]]:
    check_xlsx(data, path)  # before openpyxl spends minutes on a zip bomb
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        table = []
        for values in ws.iter_rows(values_only=True):  # a sheet may not declare its size: count as well
            table.append(list(values))
            if len(table) > MAX_ROWS + HEADER_SCAN_ROWS:
                raise DataError(f"{path!r}: the sheet has more than {MAX_ROWS:,} rows, the limit")
    except DataError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise DataError(f"{path!r} is not a readable XLSX workbook: {exc}") from None
    return table


def _table_rows(table: list[list[Any]], path: str) -> tuple[Rows, list[str]]:
    if not any(any(v is not None and str(v).strip() for v in values) for values in table):
        raise DataError(f"{path!r} is empty")
    layout = find_table(table, _HEADER_OF, ("name", "category"), path)
    rows = []
    for n, values in layout.rows:
        # The exporter (locator.io.render.spreadsheet_text) wrote '=…, '+…, '-…, '@… so that
        # no spreadsheet runs them; read them back as they were.
        rows.append((n, {k: from_spreadsheet_text(v) for k, v in zip(layout.keys, values, strict=False) if k}))
    return rows, layout.notes()


def _geojson_rows(data: bytes, path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        doc = json.loads(_decode(data, path))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path!r} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise DataError(f"{path!r} is not a GeoJSON FeatureCollection")
    if len(doc["features"]) > MAX_ROWS:
        raise DataError(f"{path!r} has {len(doc['features']):,} features, over the limit of {MAX_ROWS:,}")
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


# -- the whole file ------------------------------------------------------------
def read_register(
    path: str | Path, districts: Districts, crs: str | None = None, gazetteer: Gazetteer | None = None
) -> ImportReport:
    """Read and validate a register file; see the module docstring.

    ``crs`` is the datum the user declared; ``None`` means "not said": the
    file is read as WGS-84, but first tested under every datum, and refused
    (``report.datum_mismatch``) when another fits clearly better. Without
    ``gazetteer`` rows with no coordinates are errors.
    """
    if crs is not None and crs not in CRS_NAMES:
        raise DataError(f"unknown crs {crs!r}; expected one of {', '.join(CRS_NAMES)}")
    rows, notes = read_rows(path)
    report = ImportReport(path=str(path), rows=len(rows), notes=notes)
    drafts = [read_row(n, raw, districts) for n, raw in rows]
    if crs is None:
        named = [(*d.point, d.district) for d in drafts if d.point is not None and d.district is not None]
        report.datum = fit_datum(named, districts.contains, "wgs84")
        if report.datum.better is not None:
            return report
    datum = crs or "wgs84"
    seen_ids: dict[str, int] = {}
    kept = DuplicateIndex()
    source = f"imported from {Path(path).name}"
    for d in drafts:
        placed = place(d, datum, districts, gazetteer)
        _check_unique(d, placed, seen_ids, kept)
        report.issues.extend(d.issues)
        if d.failed or placed is None:
            continue
        try:
            venue = _venue(d, placed, source)
        except DataError as exc:
            report.issues.append(RowIssue(d.row, "error", "row", str(exc)))
            continue
        seen_ids[venue.id] = d.row
        if d.fields["register_version"] is not None:
            report.exported_at[venue.id] = d.fields["register_version"]
        kept.add(venue.name, venue.lon, venue.lat, d.row)
        report.venues.append(venue)
    return report


def _check_unique(
    d: Draft, placed: tuple[float, float, str] | None, seen_ids: dict[str, int], kept: DuplicateIndex
) -> None:
    vid, name = d.fields["id"], d.fields["name"]
    if vid and vid in seen_ids:
        d.add("error", "id", f"duplicate id {vid!r} (first on row {seen_ids[vid]})")
    elif not vid and placed is not None:  # no id: derive a stable one, so re-importing gives the same ids
        base = stable_id(name, placed[2], placed[0], placed[1])
        vid, extra = base, 1
        while vid in seen_ids:
            extra += 1
            vid = f"{base}-{extra}"
        d.fields["id"] = vid
    if placed is not None and name and (other := kept.find(name, placed[0], placed[1])) is not None:
        d.add("error", "name", f"duplicate of row {other}: the same name within {DUPLICATE_METRES:g} m")


def _venue(d: Draft, placed: tuple[float, float, str], source: str) -> Venue:
    f = d.fields
    return Venue(
        id=f["id"],
        name=f["name"],
        category=f["category"],
        district_code=placed[2],
        lon=placed[0],
        lat=placed[1],
        address=f["address"],
        operator=f["operator"],
        phone=f["phone"],
        opening_hours=f["opening_hours"],
        amenities=f["amenities"],
        description=f["description"],
        source=f["source"] or source,
        status=f["status"],
        location_precision=f["location_precision"],
    )
