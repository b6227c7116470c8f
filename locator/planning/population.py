"""Population grids for coverage analysis: a GeoTIFF (e.g. WorldPop) or a CSV. Pure.

A grid is held as points: the centre of each populated pixel (WGS-84 lon/lat)
and the number of people it holds. Pixels that are nodata, NaN, zero or
negative are dropped. A raster in another CRS is read in its own CRS and its
pixel centres are transformed to lon/lat; the population is never resampled,
only summed, so totals are kept exactly.

A CSV grid has a header with ``lon``, ``lat`` and ``population`` columns
(``lng``/``x``, ``y`` and ``pop`` are accepted too), WGS-84 degrees.
"""

from __future__ import annotations

import csv
import hashlib
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from locator.errors import DataError

__all__ = ["PopGrid", "aggregate_to_cells", "lex_key", "load_csv", "load_geotiff", "load_popgrid"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_LON = ("lon", "lng", "longitude", "x")
_LAT = ("lat", "latitude", "y")
_POP = ("population", "pop", "value")

#: Most polygons whose pixel split :meth:`PopGrid.inside` keeps (the 26 districts, with room for edits).
MEMO_SIZE = 256


@dataclass(frozen=True, eq=False)
class PopGrid:
    """Populated pixel centres (WGS-84) and their population.

    ``id`` identifies the content (path, size and modification time, or a
    hash of the arrays) and is part of the coverage cache key.
    """

    lon: FloatArray
    lat: FloatArray
    population: FloatArray
    source: str = ""
    id: str = field(default="")
    #: True when the grid says it is modelled (GeoTIFF tag ``MODELLED=yes``, as the shipped one does).
    modelled: bool = False
    #: What the grid is, from its own tags (``DESCRIPTION``, ``SOURCES``), for ``summary.population_source``.
    description: str = ""
    #: :meth:`inside`'s memo: pixel indices per polygon (by its WKB digest).
    memo: dict[bytes, Any] = field(default_factory=dict, repr=False)
    memo_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not (len(self.lon) == len(self.lat) == len(self.population)):
            raise DataError("population grid: lon, lat and population must have the same length")
        if not self.id:
            h = hashlib.sha1()
            for a in (self.lon, self.lat, self.population):
                h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
            object.__setattr__(self, "id", "sha1:" + h.hexdigest()[:16])

    @property
    def total(self) -> float:
        return float(self.population.sum())

    def __len__(self) -> int:
        return len(self.population)

    def inside(self, geometry: BaseGeometry) -> IntArray:
        """Indices (ascending) of the pixels whose centre lies inside ``geometry`` (WGS-84 lon/lat).

        Memoised per polygon (keyed by a digest of its WKB, so an edited polygon
        is a new key): the coverage table, the siting problem and the siting
        re-measure all split the grid by district, and the point-in-polygon test
        over half a million pixels is the costly part of it. At most
        :data:`MEMO_SIZE` polygons are kept.
        """
        key = hashlib.sha1(shapely.to_wkb(geometry)).digest()
        with self.memo_lock:
            hit = self.memo.get(key)
        if hit is not None:
            return np.asarray(hit, dtype=np.int64)
        w, s, e, n = geometry.bounds
        box = np.flatnonzero((self.lon >= w) & (self.lon <= e) & (self.lat >= s) & (self.lat <= n))
        idx = box[shapely.contains_xy(geometry, self.lon[box], self.lat[box])] if len(box) else box
        idx = np.asarray(idx, dtype=np.int64)
        idx.setflags(write=False)
        with self.memo_lock:
            if len(self.memo) >= MEMO_SIZE:
                self.memo.clear()
            self.memo[key] = idx
        return idx

    @classmethod
    def from_arrays(
        cls, lon: object, lat: object, population: object, source: str = "arrays", grid_id: str = ""
    ) -> PopGrid:
        lo = np.asarray(lon, dtype=np.float64).ravel()
        la = np.asarray(lat, dtype=np.float64).ravel()
        p = np.asarray(population, dtype=np.float64).ravel()
        if not (len(lo) == len(la) == len(p)):
            raise DataError(f"population grid {source!r}: lon, lat and population differ in length")
        keep = np.isfinite(lo) & np.isfinite(la) & np.isfinite(p) & (p > 0)
        lo, la, p = lo[keep], la[keep], p[keep]
        if len(lo) and (np.abs(lo).max() > 180 or np.abs(la).max() > 90):
            raise DataError(f"population grid {source!r}: coordinates are not WGS-84 lon/lat degrees")
        return cls(lo, la, p, source, grid_id)


def _stamp(p: Path) -> str:
    st = p.stat()
    return f"{p.resolve()}:{st.st_size}:{st.st_mtime_ns}"


def load_popgrid(path: str | Path) -> PopGrid:
    """Load a population grid, GeoTIFF (``.tif``/``.tiff``) or CSV (``.csv``), by suffix."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".tif", ".tiff"):
        return load_geotiff(p)
    if suffix == ".csv":
        return load_csv(p)
    raise DataError(f"population grid {str(p)!r}: expected a .tif/.tiff GeoTIFF or a .csv file")


def load_geotiff(path: str | Path, band: int = 1) -> PopGrid:
    """Read one band of a population GeoTIFF; pixel centres become the points."""
    import rasterio
    from pyproj import CRS, Transformer
    from rasterio.errors import RasterioError

    p = Path(path)
    try:
        with rasterio.open(p) as src:
            data = src.read(band, masked=True).astype(np.float64)
            transform = src.transform
            crs = src.crs
            tags = src.tags()
    except (OSError, RasterioError) as exc:
        raise DataError(f"cannot read population grid {str(p)!r}: {exc}") from None
    values = np.ma.filled(data, np.nan)
    rows, cols = np.nonzero(np.isfinite(values) & (values > 0))
    pop = values[rows, cols]
    xs, ys = transform @ (cols + 0.5, rows + 0.5)
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    if crs is None:
        raise DataError(f"population grid {str(p)!r} has no CRS")
    if not CRS.from_user_input(crs).equals(CRS.from_epsg(4326), ignore_axis_order=True):
        tr = Transformer.from_crs(CRS.from_user_input(crs), "EPSG:4326", always_xy=True)
        xs, ys = tr.transform(xs, ys)
    grid = PopGrid.from_arrays(xs, ys, pop, source=str(p), grid_id=_stamp(p))
    modelled = str(tags.get("MODELLED", "")).lower() in ("yes", "true", "1")
    description = "; ".join(str(tags[k]) for k in ("DESCRIPTION", "SOURCES") if tags.get(k))
    return PopGrid(grid.lon, grid.lat, grid.population, str(p), _stamp(p), modelled, description)


def load_csv(path: str | Path) -> PopGrid:
    """Read a CSV grid with ``lon,lat,population`` columns (header required)."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip().lower() for h in next(reader, [])]
            cols = []
            for names, what in ((_LON, "lon"), (_LAT, "lat"), (_POP, "population")):
                found = [header.index(n) for n in names if n in header]
                if not found:
                    raise DataError(f"population grid {str(p)!r}: no {what!r} column in header {header!r}")
                cols.append(found[0])
            lon, lat, pop = [], [], []
            for lineno, row in enumerate(reader, start=2):
                if not row or not "".join(row).strip():
                    continue
                try:
                    vals = [float(row[c]) for c in cols]
                except (ValueError, IndexError):
                    raise DataError(f"population grid {str(p)!r}, line {lineno}: bad row {row!r}") from None
                if not all(math.isfinite(v) for v in vals):
                    raise DataError(f"population grid {str(p)!r}, line {lineno}: non-finite value in {row!r}")
                lon.append(vals[0])
                lat.append(vals[1])
                pop.append(vals[2])
    except OSError as exc:
        raise DataError(f"cannot read population grid {str(p)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"population grid {str(p)!r} is not UTF-8 text: {exc.reason}") from None
    return PopGrid.from_arrays(lon, lat, pop, source=str(p), grid_id=_stamp(p))


def aggregate_to_cells(
    x: FloatArray, y: FloatArray, weight: FloatArray, cell_m: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """Sum weights into square cells of side ``cell_m`` aligned on the origin.

    ``x``, ``y`` are projected metres. Returns the cell column and row indices
    (``floor(x / cell_m)``) of every non-empty cell and its summed weight;
    a cell's centre is ``((i + 0.5) * cell_m, (j + 0.5) * cell_m)``.
    """
    if len(x) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), np.zeros(0)
    i = np.floor(np.asarray(x) / cell_m).astype(np.int64)
    j = np.floor(np.asarray(y) / cell_m).astype(np.int64)
    _, first, inverse = np.unique(lex_key(i, j), return_index=True, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=np.asarray(weight, dtype=np.float64), minlength=len(first))
    return i[first], j[first], np.asarray(sums, dtype=np.float64)


def lex_key(*cols: IntArray) -> IntArray:
    """One int64 per row of integer columns, ordered as the rows are lexicographically.

    ``np.unique(lex_key(a, b))`` orders, groups and finds first occurrences as
    ``np.unique(np.column_stack((a, b)), axis=0)`` does, some ten times faster (a
    sort of plain integers instead of row records). Each column is offset by its
    minimum and scaled by the spans of the columns after it; grids of 20 m cells
    over thousands of kilometres stay far below 2⁶³.
    """
    n = len(cols[0]) if cols else 0
    key = np.zeros(n, dtype=np.int64)
    if n == 0:
        return key
    span_total = 1
    for c in cols:
        lo, hi = int(c.min()), int(c.max())
        span = hi - lo + 1
        span_total *= span
        if span_total >= 2**62:
            raise OverflowError(f"lex_key: columns span {span_total:,} values, too many for int64")
        key = key * span + (np.asarray(c, dtype=np.int64) - lo)
    return key
