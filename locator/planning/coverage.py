"""Coverage analysis for planners: per-district table, gap areas, caching. Pure.

What is measured, per district, for a set of categories and a service radius:

- venues (by the register's ``district_code``) and venues per 10,000 residents
  (2020 census; some districts carry estimates, flagged in the row);
- the district's area, and the area within ``radius`` of a venue, in km².
  Every area and every buffer is computed in a Lambert Azimuthal Equal-Area
  projection centred on the district (``+proj=laea``), never in degrees.
  LAEA keeps areas exact; its distance distortion is below 0.01 % within
  100 km of the centre, and about 0.1 % at 450 km (the far reefs of Sansha).
  Buffers are 128-gons (``quad_segs=32``): their area is 0.04 % below the
  circle's. Venues of any district cover across the border: each district
  is intersected with the buffers of every venue within ``radius`` of it;
- the nearest-venue distance over the district: the median, 90th percentile
  and maximum over the centres of a regular grid of square cells
  (``cell_m``, at most 500 m) that lie inside the district. The nearest
  venue of each centre is chosen by straight-line (chord) distance between
  Earth-centred (ECEF) points with a k-d tree; its distance is then the exact
  WGS-84 geodesic (``pyproj.Geod``). Chord order equals geodesic order except
  for near-ties (relative differences of order 1e-6 over tens of km), which
  cannot move these statistics measurably;
- with a population grid (``locator.planning.population``), the people whose pixel centre
  lies in the district and within ``radius`` (geodesic) of a venue.

Nothing here holds module-level state. :class:`CoverageAnalyzer` is an object
the caller owns (the web app keeps one in ``app.extensions``); it caches
results by (data version, categories, radius, target, population grid, cell).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree
from shapely.errors import GEOSException
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from locator.categories import CATEGORY_CODES
from locator.districts import District
from locator.errors import InvalidParameter
from locator.geo import GEOD, ecef
from locator.planning.population import PopGrid
from locator.venues import Venue

__all__ = [
    "DEFAULT_CELL_M",
    "DEFAULT_RADIUS_M",
    "MAX_RADIUS_M",
    "MIN_RADIUS_M",
    "QUAD_SEGS",
    "CoverageAnalyzer",
    "CoverageResult",
    "DistrictFrame",
    "analyse",
    "build_frames",
    "district_crs",
    "grid_centres",
    "validate_categories",
    "validate_cell",
    "validate_radius",
    "validate_target",
]

FloatArray = npt.NDArray[np.float64]

MIN_RADIUS_M = 50.0
MAX_RADIUS_M = 20_000.0
DEFAULT_RADIUS_M = 1000.0
DEFAULT_CELL_M = 500.0
MIN_CELL_M = 10.0
QUAD_SEGS = 32

ROW_KEYS = (
    "adcode",
    "name_zh",
    "name_en",
    "population_2020",
    "population_estimated",
    "venues",
    "venues_per_10k",
    "area_km2",
    "covered_km2",
    "covered_pct",
    "dist_median_m",
    "dist_p90_m",
    "dist_max_m",
    "population_covered",
    "population_grid",
    "no_venues",
    "below_target",
)


# -- validation -------------------------------------------------------------
def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidParameter(name, f"must be a number, got {value!r}")
    f = float(value)
    if not math.isfinite(f):
        raise InvalidParameter(name, f"must be finite, got {value!r}")
    return f


def validate_radius(radius: object) -> float:
    """The service radius in metres, 50–20,000, or InvalidParameter('radius')."""
    r = _number("radius", radius)
    if not MIN_RADIUS_M <= r <= MAX_RADIUS_M:
        raise InvalidParameter("radius", f"must be from {MIN_RADIUS_M:g} to {MAX_RADIUS_M:g} metres, got {radius!r}")
    return r


def validate_cell(cell_m: object) -> float:
    """Grid cell side in metres, 10–500, or InvalidParameter('cell')."""
    c = _number("cell", cell_m)
    if not MIN_CELL_M <= c <= DEFAULT_CELL_M:
        raise InvalidParameter("cell", f"must be from {MIN_CELL_M:g} to {DEFAULT_CELL_M:g} metres, got {cell_m!r}")
    return c


def validate_target(target: object) -> float | None:
    """Venues per 10,000 residents below which a district is flagged; None: no target."""
    if target is None:
        return None
    t = _number("target", target)
    if t < 0:
        raise InvalidParameter(
            "target", f"must be a non-negative number of venues per 10,000 residents, got {target!r}"
        )
    return t


def validate_categories(categories: object) -> tuple[str, ...]:
    """Canonical category tuple (in ``CATEGORY_CODES`` order); None or empty means all."""
    if categories is None:
        return CATEGORY_CODES
    if isinstance(categories, str):
        categories = [c for c in categories.split(",") if c.strip()]
    if not isinstance(categories, Iterable):
        raise InvalidParameter("category", f"must be a category code or a list of them, got {categories!r}")
    cats = list(categories)
    for c in cats:
        if not isinstance(c, str) or c.strip() not in CATEGORY_CODES:
            raise InvalidParameter("category", f"unknown category {c!r}; expected one of {', '.join(CATEGORY_CODES)}")
    chosen = {c.strip() for c in cats}
    return tuple(c for c in CATEGORY_CODES if c in chosen) if chosen else CATEGORY_CODES


# -- projection and grids ---------------------------------------------------
def district_crs(geometry: BaseGeometry) -> CRS:
    """LAEA centred on the middle of the geometry's lon/lat bounding box."""
    w, s, e, n = geometry.bounds
    return CRS.from_proj4(
        f"+proj=laea +lat_0={(s + n) / 2:.4f} +lon_0={(w + e) / 2:.4f} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    )


def _transform(tr: Transformer, geom: BaseGeometry) -> BaseGeometry:
    def fn(coords: FloatArray) -> FloatArray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack((x, y))

    return shapely.transform(geom, fn)


def grid_centres(geom_m: BaseGeometry, cell_m: float) -> tuple[FloatArray, FloatArray]:
    """Centres ``((i+.5)c, (j+.5)c)`` of the grid cells whose centre lies in ``geom_m``.

    The grid is aligned on the projection's origin; each polygon part is
    gridded over its own bounding box, so far-flung islands stay cheap.
    """
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    parts = shapely.get_parts(geom_m)
    for part in parts:
        if part.is_empty:
            continue
        w, s, e, n = part.bounds
        i = np.arange(math.floor(w / cell_m), math.ceil(e / cell_m) + 1)
        j = np.arange(math.floor(s / cell_m), math.ceil(n / cell_m) + 1)
        gx, gy = (g.ravel() for g in np.meshgrid((i + 0.5) * cell_m, (j + 0.5) * cell_m))
        shapely.prepare(part)
        inside = shapely.contains_xy(part, gx, gy)
        xs.append(gx[inside])
        ys.append(gy[inside])
    if not xs:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys)


@dataclass(eq=False)
class DistrictFrame:
    """One district in its own equal-area projection, with a grid of cell centres."""

    district: District
    crs: CRS
    to_m: Transformer
    to_lonlat: Transformer
    geom_m: BaseGeometry
    area_km2: float
    cell_m: float
    cell_x: FloatArray
    cell_y: FloatArray
    cell_lon: FloatArray
    cell_lat: FloatArray

    def project(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        x, y = self.to_m.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.asarray(x), np.asarray(y)

    def unproject(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        lon, lat = self.to_lonlat.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.asarray(lon), np.asarray(lat)

    def to_wgs84(self, geom_m: BaseGeometry) -> BaseGeometry:
        return _transform(self.to_lonlat, geom_m)


#: One LAEA for the districts on Hainan Island (scale error < 0.02 % within 150 km
#: of its centre), so that siting grids of neighbouring districts share a lattice.
HAINAN_ISLAND_CRS = CRS.from_proj4("+proj=laea +lat_0=19.2 +lon_0=109.8 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs")


def on_hainan_island(district: District) -> bool:
    """Whether the district lies within 2.5° of the island's centre (all but Sansha's)."""
    w, s, e, n = district.geometry.bounds
    return w > 108.0 and e < 111.5 and s > 17.9 and n < 20.5


def build_frame(district: District, cell_m: float = DEFAULT_CELL_M, crs: CRS | None = None) -> DistrictFrame:
    """Project ``district`` (its own LAEA unless ``crs`` is given) and grid it."""
    crs = crs or district_crs(district.geometry)
    to_m = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    geom_m = shapely.make_valid(_transform(to_m, district.geometry))
    shapely.prepare(geom_m)
    cx, cy = grid_centres(geom_m, cell_m)
    lon, lat = to_ll.transform(cx, cy)
    # keep only centres that are inside the lon/lat polygon as well (edges are
    # straight in degrees, slightly curved in the projection: millimetres)
    ok = shapely.contains_xy(district.geometry, lon, lat) if len(cx) else np.zeros(0, dtype=bool)
    return DistrictFrame(
        district,
        crs,
        to_m,
        to_ll,
        geom_m,
        geom_m.area / 1e6,
        cell_m,
        cx[ok],
        cy[ok],
        np.asarray(lon)[ok],
        np.asarray(lat)[ok],
    )


def build_frames(districts: Sequence[District], cell_m: float = DEFAULT_CELL_M) -> list[DistrictFrame]:
    """A :class:`DistrictFrame` per district, in the given order."""
    cell_m = validate_cell(cell_m)
    return [build_frame(d, cell_m) for d in districts]


@dataclass(eq=False)
class DistrictPixels:
    """The population pixels whose centre lies in one district."""

    lon: FloatArray
    lat: FloatArray
    population: FloatArray


def district_pixels(frames: Sequence[DistrictFrame], grid: PopGrid) -> list[DistrictPixels]:
    """Split a population grid by district (pixel centre in the lon/lat polygon)."""
    out = []
    taken = np.zeros(len(grid), dtype=bool)
    for f in frames:
        w, s, e, n = f.district.geometry.bounds
        box = np.flatnonzero(~taken & (grid.lon >= w) & (grid.lon <= e) & (grid.lat >= s) & (grid.lat <= n))
        inside = box[shapely.contains_xy(f.district.geometry, grid.lon[box], grid.lat[box])] if len(box) else box
        taken[inside] = True  # a pixel on a shared border counts once
        out.append(DistrictPixels(grid.lon[inside], grid.lat[inside], grid.population[inside]))
    return out


# -- nearest venue ------------------------------------------------------------
class NearestVenue:
    """Nearest venue by chord (k-d tree on ECEF), distance as exact geodesic."""

    def __init__(self, lon: FloatArray, lat: FloatArray) -> None:
        self.lon = np.asarray(lon, dtype=float)
        self.lat = np.asarray(lat, dtype=float)
        self.tree = cKDTree(ecef(self.lon, self.lat)) if len(self.lon) else None

    def distance(self, lon: FloatArray, lat: FloatArray, upper: float = math.inf) -> FloatArray:
        """Geodesic metres to the nearest venue; ``inf`` where none is within ``upper`` (chord)."""
        out = np.full(len(lon), np.inf)
        if self.tree is None or len(lon) == 0:
            return out
        _, idx = self.tree.query(ecef(lon, lat), k=1, distance_upper_bound=upper * (1 + 1e-9) + 1e-6)
        found = idx < len(self.lon)
        if found.any():
            j = idx[found]
            _, _, d = GEOD.inv(np.asarray(lon)[found], np.asarray(lat)[found], self.lon[j], self.lat[j])
            out[found] = d
        return out


# -- the analysis -------------------------------------------------------------
@dataclass(eq=False)
class CoverageResult:
    """Per-district coverage rows, a province summary, and gap geometries.

    ``rows`` are dicts with the keys in ``ROW_KEYS``; districts without a venue
    of the chosen categories come first, then those below the target, each
    group by adcode. Areas are km², distances metres, percentages 0–100.
    """

    categories: tuple[str, ...]
    radius_m: float
    target_per_10k: float | None
    cell_m: float
    data_version: int | None
    population_grid: str | None
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    frames: list[DistrictFrame] = field(repr=False)
    covered_m: dict[str, BaseGeometry] = field(repr=False)
    seconds: float = 0.0
    _gaps: dict[str, Any] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def params(self) -> dict[str, Any]:
        return {
            "categories": list(self.categories),
            "radius_m": self.radius_m,
            "target_per_10k": self.target_per_10k,
            "cell_m": self.cell_m,
            "data_version": self.data_version,
            "population_grid": self.population_grid,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: parameters, summary and district rows."""
        return {"params": self.params(), "summary": self.summary, "districts": self.rows}

    def gaps_geojson(self, precision: float = 1e-6) -> dict[str, Any]:
        """Parts of each district out of reach, as a WGS-84 GeoJSON FeatureCollection.

        One feature per district (sorted by adcode); ``geometry`` is null where
        everything is covered. Coordinates are snapped to ``precision`` degrees
        (1e-6° ≈ 0.1 m) with a validity-preserving snap. Computed on first use.
        """
        with self._lock:
            if self._gaps is None:
                feats = []
                for f in sorted(self.frames, key=lambda f: f.district.adcode):
                    d = f.district
                    cov = self.covered_m.get(d.adcode)
                    gap_m = f.geom_m if cov is None or cov.is_empty else shapely.difference(f.geom_m, cov)
                    gap_km2 = gap_m.area / 1e6
                    geom = None
                    if not gap_m.is_empty and gap_km2 > 0:
                        g = _snap(f.to_wgs84(gap_m), precision)
                        geom = None if g.is_empty else mapping(g)
                    feats.append(
                        {
                            "type": "Feature",
                            "id": d.adcode,
                            "geometry": geom,
                            "properties": {
                                "adcode": d.adcode,
                                "name_zh": d.name_zh,
                                "name_en": d.name_en,
                                "gap_km2": round(gap_km2, 3),
                                "gap_pct": round(100 * gap_km2 / f.area_km2, 2) if f.area_km2 else 0.0,
                            },
                        }
                    )
                self._gaps = {"type": "FeatureCollection", "params": self.params(), "features": feats}
            return self._gaps


def _snap(geom: BaseGeometry, precision: float) -> BaseGeometry:
    """Snap to a grid keeping the polygon valid.

    GEOS's validity-preserving snap can raise a TopologyException on some
    unions of large discs (seen at a 20 km radius); then snap point-wise and
    repair with ``make_valid``, keeping only the polygonal parts.
    """
    try:
        return shapely.set_precision(geom, precision)
    except GEOSException:
        g = shapely.make_valid(shapely.set_precision(geom, precision, mode="pointwise"))
        return shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")])


def _round(x: float | None, nd: int) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


def analyse(
    districts: Sequence[District],
    venues: Sequence[Venue],
    categories: object = None,
    radius_m: object = DEFAULT_RADIUS_M,
    *,
    target_per_10k: object = None,
    popgrid: PopGrid | None = None,
    cell_m: object = DEFAULT_CELL_M,
    frames: Sequence[DistrictFrame] | None = None,
    pixels: Sequence[DistrictPixels] | None = None,
    data_version: int | None = None,
) -> CoverageResult:
    """Coverage of ``districts`` by the active ``venues`` of ``categories`` within ``radius_m``.

    Parameters
    ----------
    districts, venues
        The districts (WGS-84 polygons) and the venues; closed venues are ignored.
    categories
        Category codes (iterable or comma-separated string); None means all.
    radius_m
        Service radius in metres, 50–20,000 (default 1,000, about a 15-minute walk).
    target_per_10k
        Flag districts with fewer venues per 10,000 residents than this; None: no flag.
    popgrid
        Optional population grid; fills ``population_covered``.
    cell_m
        Grid cell side for the distance statistics, at most 500 m.
    frames, pixels
        Precomputed :func:`build_frames` / :func:`district_pixels` (for caching).

    Raises
    ------
    InvalidParameter
        naming 'category', 'radius', 'target' or 'cell', quoting the value.
    """
    t0 = time.perf_counter()
    cats = validate_categories(categories)
    r = validate_radius(radius_m)
    target = validate_target(target_per_10k)
    cell = validate_cell(cell_m)
    if frames is None:
        frames = build_frames(districts, cell)
    if popgrid is not None and pixels is None:
        pixels = district_pixels(frames, popgrid)
    chosen = [v for v in venues if v.category in cats and v.status == "active"]
    vlon = np.array([v.lon for v in chosen], dtype=float)
    vlat = np.array([v.lat for v in chosen], dtype=float)
    counts: dict[str, int] = {}
    for v in chosen:
        counts[v.district_code] = counts.get(v.district_code, 0) + 1
    nearest = NearestVenue(vlon, vlat)

    rows: list[dict[str, Any]] = []
    covered_m: dict[str, BaseGeometry] = {}
    for k, f in enumerate(frames):
        d = f.district
        n = counts.get(d.adcode, 0)
        covered = shapely.Polygon()
        if len(chosen):
            vx, vy = f.project(vlon, vlat)
            pts = shapely.points(vx, vy)
            near = shapely.dwithin(f.geom_m, pts, r)
            if near.any():
                discs = shapely.buffer(pts[near], r, quad_segs=QUAD_SEGS)
                covered = shapely.intersection(shapely.union_all(discs), f.geom_m)
        covered_m[d.adcode] = covered
        cov_km2 = covered.area / 1e6
        dist = nearest.distance(f.cell_lon, f.cell_lat) if len(f.cell_lon) else np.zeros(0)
        finite = dist[np.isfinite(dist)]
        pop_cov: float | None = None
        pop_grid: float | None = None
        if pixels is not None:
            px = pixels[k]
            pop_grid = float(px.population.sum())
            if len(px.population):
                dd = nearest.distance(px.lon, px.lat, upper=r)
                pop_cov = float(px.population[dd <= r].sum())
            else:
                pop_cov = 0.0
        per10k = n / d.population_2020 * 10_000 if d.population_2020 > 0 else None
        rows.append(
            {
                "adcode": d.adcode,
                "name_zh": d.name_zh,
                "name_en": d.name_en,
                "population_2020": d.population_2020,
                "population_estimated": d.population_estimated,
                "venues": n,
                "venues_per_10k": _round(per10k, 3),
                "area_km2": round(f.area_km2, 3),
                "covered_km2": round(cov_km2, 3),
                "covered_pct": round(100 * cov_km2 / f.area_km2, 3) if f.area_km2 else 0.0,
                "dist_median_m": _round(float(np.median(finite)), 1) if len(finite) else None,
                "dist_p90_m": _round(float(np.percentile(finite, 90)), 1) if len(finite) else None,
                "dist_max_m": _round(float(finite.max()), 1) if len(finite) else None,
                "population_covered": None if pop_cov is None else round(pop_cov, 1),
                "population_grid": None if pop_grid is None else round(pop_grid, 1),
                "no_venues": n == 0,
                "below_target": bool(target is not None and per10k is not None and per10k < target),
            }
        )
    rows.sort(key=lambda row: (not row["no_venues"], not row["below_target"], row["adcode"]))

    area = sum(f.area_km2 for f in frames)
    cov = sum(g.area for g in covered_m.values()) / 1e6
    pop = sum(d.population_2020 for d in (f.district for f in frames))
    summary: dict[str, Any] = {
        "districts": len(frames),
        "venues": sum(counts.get(f.district.adcode, 0) for f in frames),
        "venues_outside_districts": len(chosen) - sum(counts.get(f.district.adcode, 0) for f in frames),
        "population_2020": pop,
        "venues_per_10k": _round(sum(counts.get(f.district.adcode, 0) for f in frames) / pop * 10_000, 3)
        if pop
        else None,
        "area_km2": round(area, 3),
        "covered_km2": round(cov, 3),
        "covered_pct": round(100 * cov / area, 3) if area else 0.0,
        "districts_without_venues": [
            {"adcode": row["adcode"], "name_zh": row["name_zh"], "name_en": row["name_en"]}
            for row in rows
            if row["no_venues"]
        ],
        "districts_below_target": [
            {
                "adcode": row["adcode"],
                "name_zh": row["name_zh"],
                "name_en": row["name_en"],
                "venues_per_10k": row["venues_per_10k"],
            }
            for row in rows
            if row["below_target"]
        ],
        "population_covered": None,
        "population_grid": None,
        "population_covered_pct": None,
    }
    if pixels is not None:
        pc = sum(row["population_covered"] or 0.0 for row in rows)
        pg = sum(float(p.population.sum()) for p in pixels)
        summary.update(
            population_covered=round(pc, 1),
            population_grid=round(pg, 1),
            population_covered_pct=round(100 * pc / pg, 2) if pg else None,
        )
    return CoverageResult(
        categories=cats,
        radius_m=r,
        target_per_10k=target,
        cell_m=cell,
        data_version=data_version,
        population_grid=None if popgrid is None else popgrid.source or popgrid.id,
        rows=rows,
        summary=summary,
        frames=list(frames),
        covered_m=covered_m,
        seconds=time.perf_counter() - t0,
    )


# -- the cache the caller owns ----------------------------------------------
class CoverageAnalyzer:
    """Coverage and siting over a register, cached by data version.

    ``districts`` are fixed for the analyzer's life; ``index`` is a callable
    returning the current :class:`~locator.index.VenueIndex` (whose
    ``version`` is the data version) — e.g. ``lambda: register.index``.
    Thread-safe; keeps the ``maxsize`` most recent results.
    """

    def __init__(
        self,
        districts: Sequence[District],
        index: Callable[[], Any],
        *,
        popgrid: PopGrid | None = None,
        target_per_10k: float | None = None,
        maxsize: int = 32,
    ) -> None:
        self.districts = list(districts)
        self._index = index
        self.popgrid = popgrid
        self.target_per_10k = validate_target(target_per_10k)
        self.maxsize = maxsize
        self._lock = threading.RLock()
        self._results: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._frames: dict[float, list[DistrictFrame]] = {}
        self._pixels: dict[tuple[float, str], list[DistrictPixels]] = {}

    @classmethod
    def from_register(cls, register: Any, **kwargs: Any) -> CoverageAnalyzer:
        """An analyzer over a :class:`~locator.storage.register.Register`."""
        return cls(register.districts, lambda: register.index, **kwargs)

    # cached building blocks (independent of the venues)
    def frames(self, cell_m: float = DEFAULT_CELL_M) -> list[DistrictFrame]:
        cell = validate_cell(cell_m)
        with self._lock:
            if cell not in self._frames:
                self._frames[cell] = build_frames(self.districts, cell)
            return self._frames[cell]

    def pixels(self, cell_m: float = DEFAULT_CELL_M) -> list[DistrictPixels] | None:
        if self.popgrid is None:
            return None
        key = (validate_cell(cell_m), self.popgrid.id)
        with self._lock:
            if key not in self._pixels:
                self._pixels[key] = district_pixels(self.frames(cell_m), self.popgrid)
            return self._pixels[key]

    def _cached(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        value = build()
        with self._lock:
            self._results[key] = value
            self._results.move_to_end(key)
            while len(self._results) > self.maxsize:
                self._results.popitem(last=False)
        return value

    def current(self) -> tuple[int, list[Venue]]:
        idx = self._index()
        return int(getattr(idx, "version", 0)), idx.venues()

    def table(
        self,
        categories: object = None,
        radius_m: object = DEFAULT_RADIUS_M,
        *,
        target_per_10k: object = "default",
        cell_m: object = DEFAULT_CELL_M,
    ) -> CoverageResult:
        """The :func:`analyse` result for the current data, cached."""
        cats = validate_categories(categories)
        r = validate_radius(radius_m)
        target = self.target_per_10k if target_per_10k == "default" else validate_target(target_per_10k)
        cell = validate_cell(cell_m)
        idx = self._index()
        version = int(getattr(idx, "version", 0))
        grid_id = None if self.popgrid is None else self.popgrid.id
        key = ("table", version, cats, r, target, grid_id, cell)

        def build() -> CoverageResult:
            return analyse(
                self.districts,
                idx.venues(),
                cats,
                r,
                target_per_10k=target,
                popgrid=self.popgrid,
                cell_m=cell,
                frames=self.frames(cell),
                pixels=self.pixels(cell),
                data_version=version,
            )

        result: CoverageResult = self._cached(key, build)
        return result

    def gaps(self, categories: object = None, radius_m: object = DEFAULT_RADIUS_M) -> dict[str, Any]:
        """Gap areas as a WGS-84 GeoJSON FeatureCollection (cached with the table)."""
        return self.table(categories, radius_m).gaps_geojson()

    def suggest(
        self,
        categories: object = None,
        radius_m: object = DEFAULT_RADIUS_M,
        n: object = 10,
        *,
        region: object = None,
        exact: bool = False,
        time_limit: float = 30.0,
    ) -> Any:
        """Greedy siting (and optionally the exact MILP check); see :func:`locator.planning.siting.suggest`."""
        from locator.planning.siting import suggest, validate_n, validate_region

        cats = validate_categories(categories)
        r = validate_radius(radius_m)
        nn = validate_n(n)
        reg = validate_region(region, self.districts)
        idx = self._index()
        version = int(getattr(idx, "version", 0))
        grid_id = None if self.popgrid is None else self.popgrid.id
        key = ("suggest", version, cats, r, nn, reg, bool(exact), float(time_limit), grid_id)
        return self._cached(
            key,
            lambda: suggest(
                self.districts,
                idx.venues(),
                cats,
                r,
                nn,
                region=reg,
                popgrid=self.popgrid,
                exact=exact,
                time_limit=time_limit,
                data_version=version,
            ),
        )
