"""The OGC API – Features part of the OpenAPI document, from ``locator.web.ogc``'s own limits. Pure.

It sits beside ``locator.web.ogc`` (as ``coverage_oas`` beside ``coverage``)
to keep each module short. The items operation is described once per
collection (``/collections/venues/items``, ``/collections/districts/items``):
the two take different parameters, and a client such as GDAL's OAPIF driver
looks the items operation up by the collection's own path, then pushes a
``-where`` on a property down when a query parameter bears the property's
name (``category``, ``district_code``, ``amenities``).

The document is also the allow-list of query parameters
(``locator.web.openapi``): what is described here is exactly what the
handlers accept.
"""

from __future__ import annotations

from typing import Any

from locator import params
from locator.filters import FILTER_LANGS, MAX_FILTER_CHARS
from locator.queryables import MAX_SORT_KEYS
from locator.web import catalog as colls
from locator.web import oas
from locator.web.api import GEOJSON
from locator.web.i18n import LANGUAGES
from locator.web.ogc import DEFAULT_LIMIT, LIMIT_CEILING, MAX_LIMIT
from locator.web.ogc_html import HTML

__all__ = ["ITEMS_SCHEMA", "LINK_SCHEMA", "get_oas"]

JSON = "application/json"

VENUE_ITEM_PARAMS = [
    "bbox",
    "limit",
    "offset",
    "category",
    "district_code",
    "district",
    "amenities",
    "amenity",
    "q",
    "open_now",
    "filter",
    "filter-lang",
    "filterCrs",
    "venueSortby",
    "venueProperties",
    "ogcCrs",
    "bboxCrs",
    "f",
]
"""What ``…/collections/venues/items`` takes (``ogc.items``)."""
DISTRICT_ITEM_PARAMS = [
    "bbox",
    "limit",
    "offset",
    "districtFilter",
    "filter-lang",
    "filterCrs",
    "districtSortby",
    "districtProperties",
    "ogcCrs",
    "bboxCrs",
    "f",
]
"""What ``…/collections/districts/items`` takes: no venue filters."""

FILTER_EXAMPLE = "category = 'outdoor_station' AND district_code = '460106'"
DISTRICT_FILTER_EXAMPLE = "population_2020 > 500000 AND venue_total >= 50"


def _filter(example: str) -> dict[str, Any]:
    """The ``filter`` parameter, with an ``example`` that names the collection's own queryables."""
    return oas.param(
        "filter",
        "A CQL2 filter on the collection's queryables (`…/queryables`): comparisons, LIKE, IN, BETWEEN, "
        "IS NULL, AND/OR/NOT, CASEI, S_INTERSECTS/S_WITHIN/S_DISJOINT on venue points, A_CONTAINS… on "
        f"amenities. At most {MAX_FILTER_CHARS} characters.",
        {"type": "string", "minLength": 1, "maxLength": MAX_FILTER_CHARS, "example": example},
    )


def _items(cid: str, names: list[str]) -> dict[str, Any]:
    title = "venues" if cid == "venues" else "districts"
    extra = (
        " The simple filters (category, district_code, amenities, q, open_now) and `filter` all apply together."
        if cid == "venues"
        else " District features carry venue counts per category."
    )
    return _html_too(
        oas.operation(
            f"Features: {title}",
            f"A page of the {title} collection's features, filtered by `bbox` and CQL2 `filter` (see its "
            f"queryables), ordered by `sortby`, cut down to `properties`.{extra}",
            "ogc",
            names,
            oas.ok(
                "A page of features with numberMatched, numberReturned and self/next/prev links.",
                GEOJSON,
                "ItemCollection",
            ),
            ("400", "429"),
            op_id=f"get{cid.capitalize()}Features",
        )
    )


def _sortby(cid: str) -> dict[str, Any]:
    names = [q.name for q in colls.QUERYABLES[cid] if q.type not in ("geometry", "array")]
    return oas.list_param(
        "sortby",
        f"Sort keys, most significant first: a queryable, `-` before it for descending; at most {MAX_SORT_KEYS}. "
        "Features without the value come last; ties keep the id order.",
        {"type": "string", "enum": [f"{sign}{n}" for n in names for sign in ("", "+", "-")]},
        MAX_SORT_KEYS,
        required_items=True,
    )


def _properties(names: tuple[str, ...]) -> dict[str, Any]:
    return oas.list_param(
        "properties",
        "The feature properties to return (the geometry and id always come).",
        {"type": "string", "enum": list(names)},
        required_items=True,
    )


def _html_too(path_item: dict[str, Any]) -> dict[str, Any]:
    """``path_item`` whose 200 can also be HTML (``f=html`` or ``Accept: text/html``), in ``lang``."""
    op = path_item["get"]
    op["parameters"] = [*op["parameters"], oas.ref("lang")]
    op["responses"]["200"]["content"][HTML] = {"schema": {"type": "string"}}
    op["description"] += " `f=html` (or `Accept: text/html`) gives a page for people, in Chinese or `lang=en`."
    return path_item


def get_oas() -> oas.Fragment:
    """This blueprint's part of the OpenAPI document (``locator.web.openapi``)."""
    col = ["collectionId"]
    crs_values = [*colls.SUPPORTED_CRS, *colls.CRS_ALIASES]
    paths = {
        f"{oas.API}/": _html_too(
            oas.operation(
                "Landing page",
                "Links to the API definition, its documentation, conformance and collections.",
                "ogc",
                ["f"],
                oas.ok("The landing page.", JSON),
                op_id="getLandingPage",
            )
        ),
        f"{oas.API}/conformance": _html_too(
            oas.operation(
                "Conformance",
                "The OGC conformance classes this API implements.",
                "ogc",
                ["f"],
                oas.ok("Conformance classes.", JSON),
                op_id="getConformanceDeclaration",
            )
        ),
        f"{oas.API}/collections": _html_too(
            oas.operation(
                "Collections",
                "The feature collections: venues and districts.",
                "ogc",
                ["f"],
                oas.ok("The collections.", JSON),
                op_id="getCollections",
            )
        ),
        f"{oas.API}/collections/{{collectionId}}": _html_too(
            oas.operation(
                "Collection",
                "One collection's description and extent.",
                "ogc",
                [*col, "f"],
                oas.ok("The collection.", JSON),
                ("400", "404", "429"),
                op_id="describeCollection",
            )
        ),
        f"{oas.API}/collections/{{collectionId}}/queryables": oas.operation(
            "Queryables",
            "What the collection's features can be filtered (`filter`) and sorted (`sortby`) on: a JSON Schema.",
            "ogc",
            [*col, "fJson"],
            oas.ok("The queryables.", colls.SCHEMA_JSON),
            ("400", "404", "429"),
            op_id="getQueryables",
        ),
        f"{oas.API}/collections/venues/items": _items("venues", VENUE_ITEM_PARAMS),
        f"{oas.API}/collections/districts/items": _items("districts", DISTRICT_ITEM_PARAMS),
        f"{oas.API}/collections/{{collectionId}}/items/{{featureId}}": _html_too(
            oas.operation(
                "Collection item",
                "One feature by id (a venue id, or a district adcode).",
                "ogc",
                [*col, "featureId", "ogcCrs", "f"],
                oas.ok("The feature.", GEOJSON),
                ("400", "404", "429"),
                op_id="getFeature",
            )
        ),
        f"{oas.API}/openapi.json": oas.operation(
            "OpenAPI document",
            "This document.",
            "meta",
            [],
            oas.ok("The API definition.", colls.OPENAPI_MIMETYPE),
            ("429",),
            op_id="getOpenAPI",
        ),
        f"{oas.API}/docs": oas.operation(
            "Documentation",
            "This API for people, as an HTML page (works offline).",
            "meta",
            [],
            {"description": "HTML.", "content": {"text/html": {}}},
            ("429",),
            op_id="getDocs",
        ),
    }
    parameters = {
        "bbox": {
            "name": "bbox",
            "in": "query",
            "description": (
                "west,south,east,north in WGS-84 degrees (CRS84: longitudes from -180 to 180, latitudes from -90 "
                "to 90, south ≤ north); in `bbox-crs` EPSG:4326 or 4490, south,west,north,east. 6 numbers "
                "(with a lowest and a highest height after the corners' latitudes; the heights are ignored) are "
                "accepted too. West greater than east is a box across the antimeridian. Blank is the same as absent."
            ),
            "required": False,
            "style": "form",
            "explode": False,
            "schema": {
                "type": "array",
                "oneOf": [{"maxItems": 0}, {"minItems": 4, "maxItems": 4}, {"minItems": 6, "maxItems": 6}],
                "items": {"type": "number", "minimum": -180, "maximum": 180},
            },
            "example": "110.25,19.95,110.45,20.08",
        },
        "limit": oas.param(
            "limit",
            f"Page size; a limit above {MAX_LIMIT} is answered with {MAX_LIMIT} features.",
            {"type": "integer", "minimum": 1, "maximum": LIMIT_CEILING, "default": DEFAULT_LIMIT},
        ),
        "offset": oas.param(
            "offset",
            "How many matches to skip (see the next/prev links).",
            {"type": "integer", "minimum": 0, "maximum": params.MAX_OFFSET, "default": 0},
        ),
        "f": oas.param(
            "f",
            "Output format: JSON (GeoJSON for features), or an HTML page for people.",
            {"type": "string", "enum": ["json", "geojson", "html"]},
        ),
        "fJson": oas.param("f", "Output format; only JSON is served.", {"type": "string", "enum": ["json"]}),
        "lang": oas.param(
            "lang",
            "Language of the HTML page: Chinese (default) or English.",
            {"type": "string", "enum": list(LANGUAGES)},
        ),
        "collectionId": oas.param(
            "collectionId", "The collection.", {"type": "string", "enum": list(colls.COLLECTIONS)}, where="path"
        ),
        "featureId": oas.param(
            "featureId",
            "A venue id, or a district adcode.",
            {"type": "string", "minLength": 1, "example": "460105-IS-001"},
            where="path",
        ),
        "district_code": {**oas.COMMON_PARAMETERS["district"], "name": "district_code"},
        "amenities": {**oas.COMMON_PARAMETERS["amenity"], "name": "amenities"},
        "filter": _filter(FILTER_EXAMPLE),
        "districtFilter": _filter(DISTRICT_FILTER_EXAMPLE),
        "filter-lang": oas.param(
            "filter-lang",
            "The language of `filter`.",
            {"type": "string", "enum": list(FILTER_LANGS), "default": FILTER_LANGS[0]},
        ),
        "ogcCrs": oas.param(
            "crs",
            "The CRS of the answer's geometries (Part 2; `Content-Crs` says which): CRS84 (longitude first), "
            "EPSG:4326 and EPSG:4490 (CGCS2000; latitude first), GCJ-02 or BD-09 (the project's URIs; "
            "`wgs84`, `gcj02`, `bd09` work too). Stored in CRS84.",
            {"type": "string", "enum": crs_values, "default": colls.CRS84},
        ),
        "filterCrs": oas.param(
            "filter-crs",
            "The CRS of the coordinates in `filter`'s geometries (Part 3), as `crs`: CRS84 (the default; "
            "longitude first), EPSG:4326 or 4490 (latitude first), GCJ-02 or BD-09 (shifted to WGS-84).",
            {"type": "string", "enum": crs_values, "default": colls.CRS84},
        ),
        "bboxCrs": oas.param(
            "bbox-crs",
            "The CRS of `bbox` (Part 2), as `crs`; with EPSG:4326 or 4490 give south,west,north,east.",
            {"type": "string", "enum": crs_values, "default": colls.CRS84},
        ),
        "venueSortby": _sortby("venues"),
        "districtSortby": _sortby("districts"),
        "venueProperties": _properties(colls.VENUE_PROPERTIES),
        "districtProperties": _properties(colls.DISTRICT_PROPERTIES),
    }
    return oas.fragment(paths, parameters, {"ItemCollection": ITEMS_SCHEMA, "Link": LINK_SCHEMA})


ITEMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "features", "numberMatched", "numberReturned", "links"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"type": "object"}},
        "numberMatched": {"type": "integer", "minimum": 0},
        "numberReturned": {"type": "integer", "minimum": 0},
        "timeStamp": {"type": "string", "format": "date-time"},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
    },
}
"""A page of ``…/items``."""

LINK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "title": {"type": "string"},
    },
}
