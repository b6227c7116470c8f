"""Projections, district frames, grids and the nearest-venue lookup. Pure.

Every area and every buffer in planning is computed in a Lambert Azimuthal
Equal-Area projection (``+proj=laea``), never in degrees: :func:`district_crs`
centres one on a district, :data:`HAINAN_ISLAND_CRS` is shared by the island's
districts so that siting grids of neighbours share a lattice. LAEA keeps areas
exact; its distance distortion is below 0.01 % within 100 km of the centre, and
about 0.1 % at 450 km (the far reefs of Sansha). Buffers are 128-gons
(``quad_segs=32``): their area is 0.04 % below the circle's.

The analysis (:mod:`locator.planning.analysis`) and siting
(:mod:`locator.planning.siting`) both build on these, which is why they live
here, public, rather than in either.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from locator.districts import District
from locator.geo import GEOD, ecef
from locator.planning.population import PopGrid
from locator.planning.validation import DEFAULT_CELL_M, Region, validate_cell

__all__ = [
    "HAINAN_ISLAND_CRS",
    "QUAD_SEGS",
    "DistrictFrame",
    "DistrictPixels",
    "FloatArray",
    "NearestVenue",
    "box_mask",
    "build_frame",
    "build_frames",
    "ccw",
    "district_area_m2",
    "district_crs",
    "district_pixels",
    "grid_centres",
    "on_hainan_island",
    "region_districts",
    "snap",
    "split_pixels",
    "transform",
    "transformers",
]

FloatArray = npt.NDArray[np.float64]
QUAD_SEGS = 32


# -- projection and grids ---------------------------------------------------
def district_crs(geometry: BaseGeometry) -> CRS:
    """LAEA centred on the middle of the geometry's lon/lat bounding box."""
    w, s, e, n = geometry.bounds
    return CRS.from_proj4(
        f"+proj=laea +lat_0={(s + n) / 2:.4f} +lon_0={(w + e) / 2:.4f} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    )


def transformers(crs: CRS) -> tuple[Transformer, Transformer]:
    """WGS-84 lon/lat → ``crs`` metres, and back (``always_xy``).

    For a LAEA on the WGS-84 ellipsoid (every CRS made here) the two are built
    from the very pipeline ``Transformer.from_crs`` would choose (unit
    conversion, then ``+proj=laea``), which is about 60 times quicker: ``from_crs``
    searches PROJ's database for candidate operations (15–20 ms a call, the
    largest single cost of a cold coverage table); the coordinates are the same
    to the bit. Any other CRS goes through ``from_crs``.
    """
    params = dict(t.lstrip("+").partition("=")[::2] for t in crs.srs.split())  # the proj4 string it was made from
    if params.get("proj") == "laea" and params.get("ellps") == "WGS84" and params.get("units", "m") == "m":
        step = " ".join(f"+{k}={params[k]}" for k in ("proj", "lat_0", "lon_0", "x_0", "y_0", "ellps") if k in params)
        unit = "+proj=unitconvert +xy_in=deg +xy_out=rad"
        fwd = Transformer.from_pipeline(f"+proj=pipeline +step {unit} +step {step}")
        inv = Transformer.from_pipeline(
            f"+proj=pipeline +step +inv {step} +step +proj=unitconvert +xy_in=rad +xy_out=deg"
        )
        return fwd, inv
    return (
        Transformer.from_crs("EPSG:4326", crs, always_xy=True),
        Transformer.from_crs(crs, "EPSG:4326", always_xy=True),
    )


def transform(tr: Transformer, geom: BaseGeometry) -> BaseGeometry:
    """``geom`` with every coordinate passed through ``tr`` (vectorised)."""

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
        return transform(self.to_lonlat, geom_m)


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
    to_m, to_ll = transformers(crs)
    geom_m = shapely.make_valid(transform(to_m, district.geometry))
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
    parts = split_pixels([f.district for f in frames], grid)
    return [DistrictPixels(grid.lon[i], grid.lat[i], grid.population[i]) for i in parts]


def split_pixels(districts: Sequence[District], grid: PopGrid) -> list[npt.NDArray[np.int64]]:
    """Each district's pixel indices (centre in its lon/lat polygon), a pixel in two of them going to the first.

    A pixel on a border two polygons share counts once, for the first district in
    ``districts`` order. The point-in-polygon tests are :meth:`PopGrid.inside`'s, memoised.
    """
    taken = np.zeros(len(grid), dtype=bool)
    out = []
    for d in districts:
        inside = grid.inside(d.geometry)
        inside = inside[~taken[inside]]
        taken[inside] = True
        out.append(inside)
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

    def people(
        self, lon: FloatArray, lat: FloatArray, weights: FloatArray, r: float, qs: tuple[float, ...]
    ) -> tuple[float, tuple[float | None, ...]]:
        """The weight within ``r`` (geodesic) of a venue, and :meth:`weighted_percentiles`, from one tree query.

        The same figures as ``weights[distance(lon, lat, upper=r) <= r].sum()`` and
        :meth:`weighted_percentiles`, which each query the tree over every pixel:
        here the one unbounded query serves both (a chord above ``r`` cannot be a
        geodesic within it, so only pixels with a chord within ``r`` get a geodesic).
        """
        w = np.asarray(weights, dtype=np.float64)
        if self.tree is None or len(lon) == 0:
            return 0.0, tuple(None for _ in qs)
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        chord, idx = self.tree.query(ecef(lon, lat), k=1)
        near = np.flatnonzero(chord <= r * (1 + 1e-9) + 1e-6)
        covered = 0.0
        if len(near):
            _, _, d = GEOD.inv(lon[near], lat[near], self.lon[idx[near]], self.lat[idx[near]])
            covered = float(w[near[d <= r]].sum())
        return covered, self.percentiles_from(lon, lat, w, chord, idx, qs)

    def weighted_percentiles(
        self, lon: FloatArray, lat: FloatArray, weights: FloatArray, qs: tuple[float, ...]
    ) -> tuple[float | None, ...]:
        """Distances within which ``q`` % of the weight lies ("half of the people live within X m").

        Pixels are ranked by chord to their nearest venue (the k-d tree's own
        answer, cheap for half a million pixels); the pixel at each percentile
        then gets its exact geodesic distance, so the figure is geodesic metres
        without a geodesic computation per pixel. ``None`` without venues or weight.
        """
        if self.tree is None or len(lon) == 0 or float(np.sum(weights)) <= 0:
            return tuple(None for _ in qs)
        chord, idx = self.tree.query(ecef(lon, lat), k=1)
        return self.percentiles_from(lon, lat, weights, chord, idx, qs)

    def percentiles_from(
        self,
        lon: FloatArray,
        lat: FloatArray,
        weights: FloatArray,
        chord: FloatArray,
        idx: npt.NDArray[np.intp],
        qs: tuple[float, ...],
    ) -> tuple[float | None, ...]:
        """:meth:`weighted_percentiles` given the tree's answer (``chord``, ``idx``) for every point."""
        total = float(np.sum(weights))
        if total <= 0:
            return tuple(None for _ in qs)
        order = np.argsort(chord, kind="stable")
        cum = np.cumsum(np.asarray(weights, dtype=np.float64)[order])
        out: list[float | None] = []
        for q in qs:
            i = order[min(int(np.searchsorted(cum, total * q / 100.0, side="left")), len(order) - 1)]
            _, _, d = GEOD.inv(float(lon[i]), float(lat[i]), float(self.lon[idx[i]]), float(self.lat[idx[i]]))
            out.append(float(d))
        return tuple(out)


def district_area_m2(d: District) -> float:
    """A district's area in m² (its own equal-area projection), without gridding it."""
    tr, _ = transformers(district_crs(d.geometry))
    return float(transform(tr, d.geometry).area)


def in_bbox(d: District, box: tuple[float, float, float, float]) -> bool:
    """Whether the district's bounding box meets ``box`` (w, s, e, n)."""
    w, s, e, n = d.geometry.bounds
    return not (e < box[0] or w > box[2] or n < box[1] or s > box[3])


def region_districts(
    districts: Sequence[District], region: Region
) -> tuple[list[District], tuple[float, float, float, float] | None]:
    """The districts a validated region holds, and its bbox (None unless a bbox was given)."""
    box = region if isinstance(region, tuple) else None
    if isinstance(region, str):
        return [d for d in districts if d.adcode == region], box
    if box is not None:
        return [d for d in districts if in_bbox(d, box)], box
    return list(districts), box


def box_mask(lon: FloatArray, lat: FloatArray, box: tuple[float, float, float, float] | None) -> npt.NDArray[np.bool_]:
    """Which points lie in ``box`` (all of them when ``box`` is None)."""
    if box is None:
        return np.ones(len(lon), dtype=bool)
    return (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])


def snap(geom: BaseGeometry, precision: float) -> BaseGeometry:
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


def ccw(geom: BaseGeometry) -> BaseGeometry:
    """Exterior rings counter-clockwise, holes clockwise, as RFC 7946 (section 3.1.6) asks of GeoJSON."""
    if geom.geom_type == "Polygon":
        return orient(geom, 1.0)
    if geom.geom_type == "MultiPolygon":
        return shapely.MultiPolygon([orient(p, 1.0) for p in geom.geoms])
    return geom
