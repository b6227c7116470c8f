"""The OGC API – Features documents: landing page, conformance, collections. Pure.

Links are absolute, built from ``base`` (the API root URL, e.g.
``http://host/api/v1``). District features carry ``District.properties()``
plus their venue counts per category, computed once per data version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import mapping

from locator.categories import CATEGORIES, CATEGORY_CODES
from locator.districts import Districts
from locator.search import counts_by_district
from locator.venues import Venue

__all__ = [
    "COLLECTIONS",
    "CONFORMANCE",
    "CRS84",
    "Box",
    "Summary",
    "bbox_parts",
    "collection_info",
    "filter_district_features",
    "landing_page",
    "summarise",
]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE: tuple[str, ...] = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
)
COLLECTIONS: dict[str, dict[str, str]] = {
    "venues": {
        "title": "Worker service venues · 职工服务阵地",
        "description": (
            "Hainan's trade-union worker service venues as points (WGS-84). Filters: bbox, category, "
            "district (adcode), amenity, q (name or address substring). Categories: "
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
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [list(extent)], "crs": CRS84}},
        "links": [
            {"rel": "self", "type": "application/json", "title": "This collection", "href": url},
            {"rel": "items", "type": "application/geo+json", "title": "Its features (GeoJSON)", "href": f"{url}/items"},
        ],
    }
