"""Write the register as CSV, XLSX, GeoJSON or GeoPackage. Pure.

CSV and XLSX carry Chinese headers (the ones ``locator.io.importer`` reads) and
Chinese category and amenity names, so a data officer can open them in Excel;
CSV is UTF-8 with a byte-order mark so that Excel shows the Chinese correctly.
Coordinates are WGS-84 at full precision, so an export imports again unchanged.
The formats themselves are written by ``locator.io.render``, the one registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from locator.categories import AMENITIES, CATEGORIES
from locator.io.render import Column, Document, Layer, Sheet, render
from locator.venues import Venue, venue_to_feature

__all__ = ["COLUMNS", "FORMATS", "VERSION_HEADER", "export_bytes", "venue_document"]

#: (header, how to get the value) — headers are the first alias in importer.HEADERS.
COLUMNS: list[tuple[str, Callable[[Venue], object]]] = [
    ("编号", lambda v: v.id),
    ("名称", lambda v: v.name),
    ("类别", lambda v: CATEGORIES[v.category].name_zh),
    ("所属市县", lambda v: v.district_code),
    ("地址", lambda v: v.address),
    ("经度", lambda v: v.lon),
    ("纬度", lambda v: v.lat),
    ("运营单位", lambda v: v.operator),
    ("联系电话", lambda v: v.phone),
    ("开放时间", lambda v: v.opening_hours or ""),
    ("设施", lambda v: "、".join(AMENITIES[a].name_zh for a in v.amenities)),
    ("说明", lambda v: v.description),
    ("来源", lambda v: v.source),
    ("状态", lambda v: v.status),
    ("位置精度", lambda v: v.location_precision),
]
FORMATS = ("csv", "xlsx", "geojson", "gpkg")
#: The column recording the register version an export was taken at.
VERSION_HEADER = "登记版本"
SHEET = "职工服务阵地"


def venue_document(venues: Sequence[Venue], version: int | None = None) -> Document:
    """The register as a document: one sheet with the importer's Chinese headers, one map layer.

    Sorted by id, so the same register always gives the same file. The map
    layer is the API's venue Feature with the category's Chinese name added,
    for QGIS users who do not know the codes. With ``version`` (the register's
    data version the venues were read at) every row records it (``登记版本``,
    ``register_version``), so importing the file later can tell which register
    edits it would overwrite (``locator.io.conflicts``).
    """
    ordered = sorted(venues, key=lambda v: v.id)
    table = COLUMNS if version is None else [*COLUMNS, (VERSION_HEADER, lambda v: version)]
    columns = [Column(f"c{i}", header) for i, (header, _) in enumerate(table)]
    rows = [{f"c{i}": get(v) for i, (_, get) in enumerate(table)} for v in ordered]
    features = []
    for v in ordered:
        f = venue_to_feature(v)
        f["properties"]["category_name"] = CATEGORIES[v.category].name_zh
        if version is not None:
            f["properties"]["register_version"] = version
        features.append(f)
    return Document(name="venues", sheets=(Sheet(SHEET, columns, rows),), layers=(Layer("venues", features),))


def export_bytes(venues: Sequence[Venue], fmt: str, version: int | None = None) -> bytes:
    """The register in ``fmt`` (one of FORMATS), as bytes; ``version`` as in ``venue_document``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return render(venue_document(venues, version), fmt)
