"""The OGC API – Features documents: landing page, conformance, collections. Pure.

Links are absolute, built from ``base`` (the API root URL, e.g.
``http://host/api/v1``). District features carry ``District.properties()``
plus their venue counts per category, computed once per data version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import shapely
from shapely.geometry import mapping

from locator.categories import CATEGORIES, CATEGORY_CODES
from locator.districts import Districts
from locator.errors import InvalidParameter
from locator.filters import FILTER_LANGS, Filter, Queryable, parse_filter
from locator.geo import from_wgs84, to_wgs84
from locator.queryables import VENUE_QUERYABLES, parse_properties, parse_sortby
from locator.search import counts_by_district
from locator.venues import Venue

__all__ = [
    "COLLECTIONS",
    "CONFORMANCE",
    "CRS84",
    "CRS_ALIASES",
    "SUPPORTED_CRS",
    "Crs",
    "bbox_in_crs84",
    "crs_param",
    "geometry_in",
    "lat_first_text",
    "DISTRICT_PROPERTIES",
    "DISTRICT_QUERYABLES",
    "QUERYABLES",
    "QUERYABLES_REL",
    "SCHEMA_JSON",
    "VENUE_PROPERTIES",
    "Box",
    "ItemQuery",
    "Summary",
    "apply_query",
    "bbox_parts",
    "item_query",
    "select_properties",
    "collection_info",
    "filter_district_features",
    "landing_page",
    "summarise",
    "to_crs84",
]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_PART3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf"
CONFORMANCE: tuple[str, ...] = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    # Part 3: queryables and filters; the CQL2 classes are what locator.filters compiles
    f"{_PART3}/queryables",
    f"{_PART3}/filter",
    f"{_PART3}/features-filter",
    f"{_CQL2}/cql2-text",
    f"{_CQL2}/cql2-json",
    f"{_CQL2}/basic-cql2",
    f"{_CQL2}/advanced-comparison-operators",
    f"{_CQL2}/case-insensitive-comparison",
    f"{_CQL2}/basic-spatial-functions",
    f"{_CQL2}/array-functions",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
)


@dataclass(frozen=True)
class Crs:
    """A coordinate reference system the API answers in: its URI, its datum (``locator.geo``) and axis order."""

    uri: str
    datum: str  # "wgs84", "gcj02" or "bd09"
    lat_first: bool


#: Part 2: what ``crs`` and ``bbox-crs`` take. The register is stored in CRS84 (WGS-84, longitude first).
#: EPSG:4326 and EPSG:4490 (CGCS2000, China's national datum) put latitude first, as EPSG defines them;
#: CGCS2000 and WGS-84 agree to within centimetres, far below the venues' accuracy, so no shift is applied.
#: GCJ-02 (Amap, Tencent) and BD-09 (Baidu) have no EPSG code: they go under the project's own URIs.
SUPPORTED_CRS: dict[str, Crs] = {
    c.uri: c
    for c in (
        Crs(CRS84, "wgs84", False),
        Crs("http://www.opengis.net/def/crs/EPSG/0/4326", "wgs84", True),
        Crs("http://www.opengis.net/def/crs/EPSG/0/4490", "wgs84", True),
        Crs("urn:x-hainan-venue-locator:def:crs:gcj02", "gcj02", False),
        Crs("urn:x-hainan-venue-locator:def:crs:bd09", "bd09", False),
    )
}
CRS_ALIASES: dict[str, str] = {
    "wgs84": CRS84,
    "gcj02": "urn:x-hainan-venue-locator:def:crs:gcj02",
    "bd09": "urn:x-hainan-venue-locator:def:crs:bd09",
}
"""The project's short names (``/nearest``'s ``crs``), accepted for ``crs`` and ``bbox-crs`` too."""


def crs_param(value: str | None, name: str) -> Crs:
    """The CRS a ``crs`` or ``bbox-crs`` value names (CRS84 when absent); InvalidParameter otherwise."""
    if value is None:
        return SUPPORTED_CRS[CRS84]
    crs = SUPPORTED_CRS.get(CRS_ALIASES.get(value, value))
    if crs is None:
        raise InvalidParameter(
            name, f"unsupported crs {value[:80]!r}; expected one of {', '.join([*SUPPORTED_CRS, *CRS_ALIASES])}"
        )
    return crs


def lat_first_text(text: str) -> str:
    """A bbox given latitude first (``south,west,north,east``, 4 or 6 numbers) in CRS84's order."""
    parts = text.split(",")
    order = {4: (1, 0, 3, 2), 6: (1, 0, 2, 4, 3, 5)}.get(len(parts))
    return ",".join(parts[i] for i in order) if order else text


def bbox_in_crs84(bbox: Box, crs: Crs) -> Box:
    """A bbox (already in CRS84's axis order) from ``crs``'s datum to WGS-84: its corners shifted."""
    if crs.datum == "wgs84":
        return bbox
    west, south, east, north = bbox
    lons, lats = to_wgs84(np.array([west, east]), np.array([south, north]), crs.datum)
    return (float(lons[0]), float(lats[0]), float(lons[1]), float(lats[1]))  # type: ignore[index]


def _coords_in(coords: Any, crs: Crs) -> Any:
    if coords and isinstance(coords[0], (int, float)):  # one position
        return _coords_in([coords], crs)[0]
    if coords and isinstance(coords[0], list) and coords[0] and isinstance(coords[0][0], (int, float)):
        arr = np.asarray(coords, dtype=float)
        lon, lat = from_wgs84(arr[:, 0], arr[:, 1], crs.datum) if crs.datum != "wgs84" else (arr[:, 0], arr[:, 1])
        return np.column_stack([lat, lon] if crs.lat_first else [lon, lat]).round(6).tolist()
    return [_coords_in(c, crs) for c in coords]


def geometry_in(feature: dict[str, Any], crs: Crs) -> dict[str, Any]:
    """``feature`` with its geometry (and bbox) in ``crs``; a new dict, ``feature`` is untouched."""
    if crs.uri == CRS84:
        return feature
    geom = feature["geometry"]
    out = {**feature, "geometry": {"type": geom["type"], "coordinates": _coords_in(geom["coordinates"], crs)}}
    if "bbox" in feature:
        w, s, e, n = feature["bbox"]
        out["bbox"] = [c for corner in _coords_in([[w, s], [e, n]], crs) for c in corner]
    return out


QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
SCHEMA_JSON = "application/schema+json"

#: What the districts collection can be filtered and sorted on: its features' flat properties. No geometry:
#: the CQL2 compiler's spatial predicates work on points (locator.filters), and districts are polygons.
DISTRICT_QUERYABLES: tuple[Queryable, ...] = (
    Queryable("adcode", "string", "District adcode"),
    Queryable("name_zh", "string", "Name (Chinese)"),
    Queryable("name_en", "string", "Name (English)"),
    Queryable("parent_zh", "string", "Prefecture (Chinese)"),
    Queryable("seat_zh", "string", "Seat of government (Chinese)"),
    Queryable("population_2020", "integer", "Population, 2020 census"),
    Queryable("population_estimated", "boolean", "Population estimated"),
    Queryable("urbanisation_pct_2020", "number", "Urbanisation, 2020 (%)"),
    Queryable("venue_total", "integer", "Venues in the district"),
)
QUERYABLES: dict[str, tuple[Queryable, ...]] = {"venues": VENUE_QUERYABLES, "districts": DISTRICT_QUERYABLES}
"""Each collection's queryables (``…/queryables``, ``filter``, ``sortby``)."""

VENUE_PROPERTIES: tuple[str, ...] = (
    "name",
    "category",
    "category_name",
    "district_code",
    "district_name",
    "address",
    "opening_hours",
    "open_now",
    "amenities",
    "phone",
    "location_precision",
    "last_confirmed",
    "reported_closed",
)
"""A venue feature's properties (``locator.web.api.venue_feature``), which ``properties`` may select."""
DISTRICT_PROPERTIES: tuple[str, ...] = (
    "adcode",
    "name_zh",
    "name_en",
    "parent_zh",
    "population_2020",
    "population_estimated",
    "population_note",
    "urbanisation_pct_2020",
    "seat_zh",
    "venue_counts",
    "venue_total",
)
"""A district feature's properties (``District.properties()`` and the venue counts)."""
COLLECTIONS: dict[str, dict[str, str]] = {
    "venues": {
        "title": "Worker service venues · 职工服务阵地",
        "description": (
            "Hainan's trade-union worker service venues as points (WGS-84). Filters: bbox, category, "
            "district_code (adcode), amenities, q (name or address substring), and CQL2 `filter` on the "
            "queryables; `sortby`, `properties`, `crs`. Categories: "
            + ", ".join(f"{c.code} ({c.name_zh})" for c in CATEGORIES.values())
            + "."
        ),
    },
    "districts": {
        "title": "Districts · 市县区",
        "description": (
            "Hainan's county-level districts as polygons (WGS-84), with 2020 population and venue counts "
            "per category (venue_counts) and in total (venue_total)."
        ),
    },
}
OPENAPI_MIMETYPE = "application/vnd.oai.openapi+json;version=3.0"
T = TypeVar("T")


@dataclass(frozen=True)
class Summary:
    """What the collections need about one data version."""

    version: int
    venue_extent: tuple[float, float, float, float]
    district_extent: tuple[float, float, float, float]
    district_features: list[dict[str, Any]]


def _round_coords(geom: Any) -> Any:
    if isinstance(geom, (list, tuple)):
        if geom and isinstance(geom[0], float):
            return [round(c, 6) for c in geom]
        return [_round_coords(g) for g in geom]
    return geom


def summarise(venues: Sequence[Venue], districts: Districts, version: int) -> Summary:
    """Extents and district features (with venue counts) for these venues."""
    counts = counts_by_district(venues)
    features = []
    for d in districts:
        per_cat = counts.get(d.adcode, dict.fromkeys(CATEGORY_CODES, 0))
        geom = mapping(d.geometry)
        features.append(
            {
                "type": "Feature",
                "id": d.adcode,
                "geometry": {"type": geom["type"], "coordinates": _round_coords(geom["coordinates"])},
                "properties": {**d.properties(), "venue_counts": per_cat, "venue_total": sum(per_cat.values())},
                "bbox": [round(b, 6) for b in d.geometry.bounds],
            }
        )
    if venues:
        lons = [v.lon for v in venues]
        lats = [v.lat for v in venues]
        venue_extent = (min(lons), min(lats), max(lons), max(lats))
    else:
        venue_extent = (108.3, 3.3, 117.9, 20.3)
    bounds = shapely.total_bounds([d.geometry for d in districts])
    district_extent = tuple(round(float(b), 6) for b in bounds)
    return Summary(version, venue_extent, district_extent, features)  # type: ignore[arg-type]


Box = tuple[float, float, float, float]
"""``(west, south, east, north)`` in degrees."""


def bbox_parts(bbox: Box) -> list[Box]:
    """``bbox`` as boxes that do not cross the antimeridian: itself, or (when west > east) its two halves."""
    west, south, east, north = bbox
    if west <= east:
        return [bbox]
    return [(west, south, 180.0, north), (-180.0, south, east, north)]


def filter_district_features(features: Iterable[dict[str, Any]], bbox: Box | None) -> list[dict[str, Any]]:
    """The district features whose bounding boxes meet ``bbox`` (all when None; west > east crosses 180°)."""
    if bbox is None:
        return list(features)
    boxes = bbox_parts(bbox)
    return [
        f
        for f in features
        if any(
            f["bbox"][0] <= east and f["bbox"][2] >= west and f["bbox"][1] <= north and f["bbox"][3] >= south
            for west, south, east, north in boxes
        )
    ]


def landing_page(base: str) -> dict[str, Any]:
    return {
        "title": "Hainan worker service venue locator · 海南职工服务阵地查询",
        "description": (
            "Nearest-venue search and OGC API – Features access to Hainan's trade-union worker service "
            "venues (demonstration data) and districts."
        ),
        "links": [
            {"rel": "self", "type": "application/json", "title": "This document", "href": f"{base}/"},
            {
                "rel": "service-desc",
                "type": OPENAPI_MIMETYPE,
                "title": "The API definition (OpenAPI 3)",
                "href": f"{base}/openapi.json",
            },
            {"rel": "service-doc", "type": "text/html", "title": "The API documentation", "href": f"{base}/docs"},
            {
                "rel": "conformance",
                "type": "application/json",
                "title": "Conformance classes",
                "href": f"{base}/conformance",
            },
            {"rel": "data", "type": "application/json", "title": "Collections", "href": f"{base}/collections"},
        ],
    }


def collection_info(base: str, cid: str, summary: Summary) -> dict[str, Any]:
    extent = summary.venue_extent if cid == "venues" else summary.district_extent
    url = f"{base}/collections/{cid}"
    return {
        "id": cid,
        "title": COLLECTIONS[cid]["title"],
        "description": COLLECTIONS[cid]["description"],
        "itemType": "feature",
        "crs": list(SUPPORTED_CRS),
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [list(extent)], "crs": CRS84}},
        "links": [
            {"rel": "self", "type": "application/json", "title": "This collection", "href": url},
            {"rel": "items", "type": "application/geo+json", "title": "Its features (GeoJSON)", "href": f"{url}/items"},
            {
                "rel": QUERYABLES_REL,
                "type": SCHEMA_JSON,
                "title": "What its features can be filtered and sorted on",
                "href": f"{url}/queryables",
            },
        ],
    }


@dataclass(frozen=True)
class ItemQuery:
    """The Part 3 parameters of one ``…/items`` request, checked: ``filter``, ``sortby``, ``properties``."""

    where: Filter | None = None
    sortby: tuple[tuple[str, bool], ...] = ()
    properties: tuple[str, ...] | None = None


def to_crs84(crs: Crs) -> Callable[[Any], Any] | None:
    """A map of ``crs``'s coordinates (an ``(n, 2)`` array) to CRS84's; None for CRS84 itself."""
    if crs.datum == "wgs84" and not crs.lat_first:
        return None

    def transform(xy: Any) -> Any:
        x, y = (xy[:, 1], xy[:, 0]) if crs.lat_first else (xy[:, 0], xy[:, 1])
        if crs.datum != "wgs84":
            x, y = to_wgs84(x, y, crs.datum)
        return np.column_stack([x, y])

    return transform


def item_query(
    cid: str,
    where: str | None,
    lang: str | None,
    sortby: str | None,
    properties: str | None,
    filter_crs: str | None = None,
) -> ItemQuery:
    """Parse a collection's ``filter``/``filter-lang``/``filter-crs``, ``sortby`` and ``properties``.

    Raises InvalidParameter. ``filter-crs`` (Part 3) takes what ``crs`` takes: the coordinates
    of the filter's geometries are read in it (latitude first for EPSG:4326 and 4490).
    """
    queryables = QUERYABLES[cid]
    crs = crs_param(filter_crs, "filter-crs")  # a 400 even without a filter
    if lang is not None and lang not in FILTER_LANGS:  # a 400 even without a filter
        raise InvalidParameter(
            "filter-lang", f"unknown filter language {lang[:30]!r}; expected one of {', '.join(FILTER_LANGS)}"
        )
    names = VENUE_PROPERTIES if cid == "venues" else DISTRICT_PROPERTIES
    if properties is not None and not properties.strip(", "):
        raise InvalidParameter("properties", f"must name at least one property of {', '.join(names)}")
    return ItemQuery(
        parse_filter(where, lang, queryables, to_crs84(crs)) if where is not None else None,
        parse_sortby(sortby, queryables) if sortby is not None else (),
        parse_properties(properties, [Queryable(n, "string", n) for n in names]) if properties is not None else None,
    )


def apply_query(items: Sequence[T], record: Callable[[T], Mapping[str, Any]], query: ItemQuery) -> list[T]:
    """``items`` that pass ``query.where``, ordered by ``query.sortby`` (stable; missing values last)."""
    if query.where is None and not query.sortby:
        return list(items)
    rows = [(item, record(item)) for item in items]
    if query.where is not None:
        where = query.where
        rows = [row for row in rows if where(row[1])]
    for name, descending in reversed(query.sortby):  # least significant key first: each sort is stable
        present = [row for row in rows if row[1].get(name) is not None]
        present.sort(key=lambda row: row[1][name], reverse=descending)
        rows = present + [row for row in rows if row[1].get(name) is None]
    return [item for item, _ in rows]


def select_properties(feature: dict[str, Any], names: tuple[str, ...] | None) -> dict[str, Any]:
    """``feature`` with only the properties ``names`` (all when None); a new dict, ``feature`` is untouched."""
    if names is None:
        return feature
    return {**feature, "properties": {k: v for k, v in feature["properties"].items() if k in names}}
