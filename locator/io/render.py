"""One registry of output renderers, used by the CLI and the web alike.

Every downloadable thing (the register export, the coverage report) is first
built as a :class:`Document`: named tables (``Sheet``) of labelled columns and
plain values, named map layers (``Layer``) of GeoJSON features, and an optional
structured ``body`` for JSON. A renderer turns a document into the bytes of one
format; :data:`RENDERERS` maps each format to its media type, file extension and
render function. A view computes its document once and asks the registry for
the format; nothing else writes CSV, XLSX, GeoJSON or GeoPackage.

Why one model: the same table used to be written three times (the exporter,
the CLI's coverage renderer, and the web download, which spliced translated
headers into the CLI's CSV and re-opened its workbook to rename them). Column
labels are now part of the document, in both languages, so the language is a
render argument.

Spreadsheet safety lives here too, once for every export: a text cell that a
spreadsheet would read as a formula is written as text (:func:`spreadsheet_text`),
and XLSX cells are always written as values.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import secrets
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CONTROL_CHARACTERS",
    "FORMULA_START",
    "LANGS",
    "RENDERERS",
    "Column",
    "Document",
    "Layer",
    "Renderer",
    "Sheet",
    "control_characters",
    "from_spreadsheet_text",
    "media_type",
    "render",
    "spreadsheet_text",
    "write_atomic",
]

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Column:
    """A table column: the key of its values in each row, and its header in Chinese and English.

    ``en`` ``None`` means the header is the same in both languages (the
    register export keeps its Chinese headers, which ``locator import`` reads).
    """

    key: str
    zh: str
    en: str | None = None

    def label(self, lang: str) -> str:
        return self.en if lang == "en" and self.en is not None else self.zh


@dataclass(frozen=True)
class Sheet:
    """A named table: columns and rows (mappings from column key to a plain value)."""

    name: str
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]
    name_en: str | None = None

    def title(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en is not None else self.name


@dataclass(frozen=True)
class Layer:
    """A named map layer: GeoJSON features in WGS-84 (RFC 7946).

    ``item`` is what one feature is called where several layers share one
    GeoJSON collection (its ``layer`` property and id prefix), e.g. layer
    ``gaps`` of items ``gap``; by default the layer's name.
    """

    name: str
    features: Sequence[Mapping[str, Any]]
    item: str | None = None


@dataclass(frozen=True)
class Document:
    """What a view or command computed once, ready for any renderer.

    ``sheets[0]`` is the main table (the CSV holds only it); ``layers`` are the
    geographic parts; ``body`` is the JSON document when the format is ``json``
    (else the sheets as lists of rows); ``meta`` goes at the top of the GeoJSON
    collection (e.g. the analysis parameters); ``name`` is the GeoPackage's
    base file name.
    """

    name: str
    sheets: Sequence[Sheet] = ()
    layers: Sequence[Layer] = ()
    body: Any = None
    meta: Mapping[str, Any] = field(default_factory=dict)


#: Leading characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: Control characters no spreadsheet cell may hold (XLSX cannot store them): C0 except
#: tab, line feed and carriage return, and DEL. A ``str.translate`` table that drops them.
CONTROL_CHARACTERS: dict[int, None] = {c: None for c in range(32) if c not in (9, 10, 13)} | {0x7F: None}


def spreadsheet_text(value: Any) -> Any:
    """``value`` made safe to open in a spreadsheet.

    Control characters (which make XLSX unwritable) are dropped; text that
    starts like a formula gets a leading apostrophe, so Excel and LibreOffice
    show it as text; numbers and everything else pass unchanged.
    :func:`from_spreadsheet_text` undoes the apostrophe when the file is read back.
    """
    if not isinstance(value, str):
        return value
    text = value.translate(CONTROL_CHARACTERS)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def from_spreadsheet_text(value: Any) -> Any:
    """A cell written by :func:`spreadsheet_text`, as it was before.

    Only an apostrophe followed by a formula-start character is removed (that
    is the one :func:`spreadsheet_text` adds), so ``'=SUM(1)`` reads as
    ``=SUM(1)`` while ``'quoted'`` and ``''=x`` keep theirs.
    """
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def control_characters(text: str) -> list[str]:
    """The characters of ``text`` that :data:`CONTROL_CHARACTERS` forbids, in order, once each."""
    return list(dict.fromkeys(ch for ch in text if ord(ch) in CONTROL_CHARACTERS))


def _plain(value: Any) -> Any:
    """A cell value as a spreadsheet holds it: lists joined, NaN empty."""
    if isinstance(value, list | tuple):
        return "; ".join(str(_plain(v)) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _csv(doc: Document, lang: str) -> bytes:
    """The main table as CSV: UTF-8 with a byte-order mark (Excel reads the Chinese), CRLF."""
    sheet = doc.sheets[0]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([spreadsheet_text(c.label(lang)) for c in sheet.columns])
    for row in sheet.rows:
        cells = (_plain(row.get(c.key)) for c in sheet.columns)
        w.writerow(["" if x is None else repr(x) if isinstance(x, float) else spreadsheet_text(x) for x in cells])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _xlsx(doc: Document, lang: str) -> bytes:
    """Every sheet, headers in ``lang``, every cell a value (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    for sheet in doc.sheets:
        ws = wb.create_sheet(sheet.title(lang)[:31])
        ws.freeze_panes = "A2"
        ws.append([spreadsheet_text(c.label(lang)) for c in sheet.columns])
        for row in sheet.rows:
            cells = []
            for c in sheet.columns:
                cell = WriteOnlyCell(ws, value=spreadsheet_text(_plain(row.get(c.key))))
                if cell.data_type == "f":  # openpyxl reads "=…" as a formula; spreadsheet_text prevents it
                    cell.data_type = "s"
                cells.append(cell)
            ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _json(doc: Document, lang: str) -> bytes:
    body = doc.body
    if body is None:
        body = {s.name: [dict(r) for r in s.rows] for s in doc.sheets}
    return (json.dumps(body, ensure_ascii=False, allow_nan=False, indent=2) + "\n").encode("utf-8")


def _features(doc: Document) -> list[dict[str, Any]]:
    """All layers' features in one list; with several layers each says its ``layer``."""
    several = len(doc.layers) > 1
    out = []
    for layer in doc.layers:
        tag = layer.item or layer.name
        for f in layer.features:
            f = dict(f)
            if several:
                f["id"] = f"{tag}-{f['id']}" if f.get("id") is not None else None
                f["properties"] = {"layer": tag, **(f.get("properties") or {})}
            out.append(f)
    return out


def _geojson(doc: Document, lang: str) -> bytes:
    fc: dict[str, Any] = {"type": "FeatureCollection", **dict(doc.meta), "features": _features(doc)}
    return (json.dumps(fc, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def _gpkg(doc: Document, lang: str) -> bytes:
    """One GeoPackage layer per document layer, EPSG:4326; list and dict properties as text."""
    import geopandas as gpd
    from shapely.geometry import shape

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{doc.name}.gpkg"
        for layer in doc.layers:
            if not layer.features:
                continue
            props = [
                {"id": f.get("id"), **{k: _plain(v) for k, v in (f.get("properties") or {}).items()}}
                for f in layer.features
            ]
            geoms = [shape(f["geometry"]) if f.get("geometry") else None for f in layer.features]
            gdf = gpd.GeoDataFrame(props, geometry=geoms, crs="EPSG:4326")
            gdf.to_file(path, layer=layer.name, driver="GPKG", engine="pyogrio")
        if not path.exists():
            raise ValueError("nothing to write: the document has no features")
        return path.read_bytes()


@dataclass(frozen=True)
class Renderer:
    """One output format: its media type, file extension, and the function that writes it."""

    media_type: str
    extension: str
    render: Callable[[Document, str], bytes]


RENDERERS: dict[str, Renderer] = {
    "csv": Renderer("text/csv; charset=utf-8", "csv", _csv),
    "xlsx": Renderer("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", _xlsx),
    "json": Renderer("application/json", "json", _json),
    "geojson": Renderer("application/geo+json", "geojson", _geojson),
    "gpkg": Renderer("application/geopackage+sqlite3", "gpkg", _gpkg),
}


def media_type(fmt: str) -> str:
    return RENDERERS[fmt].media_type


def render(doc: Document, fmt: str, lang: str = "zh") -> bytes:
    """``doc`` as bytes in ``fmt`` (a key of :data:`RENDERERS`), headers in ``lang``."""
    if fmt not in RENDERERS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(RENDERERS)}")
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
    return RENDERERS[fmt].render(doc, lang)


def write_atomic(path: str | Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half.

    The one atomic writer: a temporary file in the same folder, flushed and
    synced, then renamed over ``path``; on any failure the temporary file is
    removed and ``path`` is left as it was.

    Parameters
    ----------
    path
        The file to write; its folder must exist.
    data
        The whole new content.
    mode
        Permission bits, e.g. ``0o600`` for secrets: the file has them from
        its creation, so it is never readable by others even for a moment.
        ``None`` gives the ordinary permissions the umask allows (the
        temporary file is created with ``0o666`` and the kernel applies the
        umask; reading the umask would mean changing it, which is not
        thread-safe).
    """
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if mode is not None else 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
