"""Write the register as CSV, XLSX, GeoJSON or GeoPackage. Pure.

CSV and XLSX carry Chinese headers (the ones ``locator.io.importer`` reads) and
Chinese category and amenity names, so a data officer can open them in Excel;
CSV is UTF-8 with a byte-order mark so that Excel shows the Chinese correctly.
Coordinates are WGS-84 at full precision, so an export imports again unchanged.
Every file is written atomically: to a temporary file, then renamed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from locator.categories import AMENITIES, CATEGORIES
from locator.venues import Venue, venue_to_feature

__all__ = ["COLUMNS", "FORMATS", "export_bytes", "write_atomic"]

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
]
FORMATS = ("csv", "xlsx", "geojson", "gpkg")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
}


def _csv(venues: Sequence[Venue]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([h for h, _ in COLUMNS])
    for v in venues:
        w.writerow([repr(x) if isinstance(x, float) else x for x in (get(v) for _, get in COLUMNS)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _xlsx(venues: Sequence[Venue]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("职工服务阵地")
    ws.append([h for h, _ in COLUMNS])
    for v in venues:
        ws.append([get(v) for _, get in COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _geojson(venues: Sequence[Venue]) -> bytes:
    doc = {"type": "FeatureCollection", "features": [venue_to_feature(v) for v in venues]}
    return (json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8")


def _gpkg(venues: Sequence[Venue]) -> bytes:
    import geopandas as gpd
    from shapely.geometry import Point

    rows = []
    for v in venues:
        d = v.as_dict()
        d["amenities"] = ";".join(v.amenities)
        d["category_name"] = CATEGORIES[v.category].name_zh
        rows.append(d)
    gdf = gpd.GeoDataFrame(rows, geometry=[Point(v.lon, v.lat) for v in venues], crs="EPSG:4326")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "venues.gpkg"
        gdf.to_file(path, layer="venues", driver="GPKG", engine="pyogrio")
        return path.read_bytes()


def export_bytes(venues: Sequence[Venue], fmt: str) -> bytes:
    """The register in ``fmt`` (one of FORMATS), as bytes."""
    writers = {"csv": _csv, "xlsx": _xlsx, "geojson": _geojson, "gpkg": _gpkg}
    if fmt not in writers:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return writers[fmt](sorted(venues, key=lambda v: v.id))


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent or ".")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file ordinary permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
