"""Building blocks of the OpenAPI 3.0 document. Pure.

Each blueprint module describes its own endpoints next to its handlers, in a
``get_oas()`` that returns a :data:`Fragment` (paths, and the parameters and
schemas they reference), built with these helpers from the code's own
constants (``params.MAX_Q``, ``api.MAX_NEAREST_K``…), so the document cannot
drift from what the code accepts. ``locator.web.openapi`` merges the
fragments. What several modules share lives here: the parameters that
``locator.params`` parses for more than one endpoint, the problem schema and
the error responses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from locator.categories import AMENITIES, CATEGORY_CODES
from locator.geo import CRS_NAMES
from locator.io.exporter import FORMATS
from locator.params import MAX_Q

__all__ = [
    "API",
    "COMMON_PARAMETERS",
    "DISTRICT_PARAMETERS",
    "CSV",
    "ERROR_RESPONSES",
    "PROBLEM",
    "Fragment",
    "error",
    "error_responses",
    "fragment",
    "name_districts",
    "list_param",
    "ok",
    "operation",
    "param",
    "ref",
]

API = "/api/v1"
"""The API's path prefix."""

Fragment = dict[str, dict[str, Any]]
"""``{"paths": {...}, "parameters": {...}, "schemas": {...}}``: one module's part of the document."""

CSV = "One code or a comma-separated list"


def fragment(
    paths: dict[str, Any], parameters: dict[str, Any] | None = None, schemas: dict[str, Any] | None = None
) -> Fragment:
    """A module's part of the document: its paths and the components they reference."""
    return {"paths": paths, "parameters": parameters or {}, "schemas": schemas or {}}


def param(
    name: str, description: str, schema: dict[str, Any], required: bool = False, where: str = "query"
) -> dict[str, Any]:
    """A parameter object; query parameters other than arrays are ``form``, unexploded."""
    out: dict[str, Any] = {"name": name, "in": where, "description": description, "schema": schema}
    if required or where == "path":
        out["required"] = True
    if where == "query" and schema.get("type") != "array":
        out["style"] = "form"
        out["explode"] = False
    return out


def list_param(
    name: str,
    description: str,
    items: dict[str, Any],
    max_items: int | None = None,
    example: str | None = None,
    *,
    required_items: bool = False,
) -> dict[str, Any]:
    """A comma-separated list parameter (``form``, unexploded: the API refuses a parameter given twice).

    Each item at most once (``uniqueItems``), as ``locator.params`` checks; an empty list
    (``category=``) is the same as none, as for every parameter (``params.one``). With
    ``required_items`` (``sortby``, ``properties``: ``locator.queryables`` parses them) an empty
    list is refused instead, and an item may come twice.
    """
    schema: dict[str, Any] = {"type": "array", "items": items}
    schema |= {"minItems": 1} if required_items else {"uniqueItems": True}
    if max_items is not None:
        schema["maxItems"] = max_items
    out: dict[str, Any] = {"name": name, "in": "query", "description": description, "style": "form"}
    out |= {"explode": False, "schema": schema}
    if example is not None:
        out["example"] = example
    return out


def ref(name: str) -> dict[str, str]:
    """A reference to ``#/components/parameters/<name>``."""
    return {"$ref": f"#/components/parameters/{name}"}


def error(status: str) -> dict[str, str]:
    """A reference to the shared error response for ``status``."""
    return {"$ref": f"#/components/responses/{status}"}


def ok(description: str, mimetype: str, schema: str | None = None) -> dict[str, Any]:
    """A success response of ``mimetype``, with a referenced schema or any object."""
    content: dict[str, Any] = (
        {"schema": {"$ref": f"#/components/schemas/{schema}"}} if schema else {"schema": {"type": "object"}}
    )
    return {"description": description, "content": {mimetype: content}}


def operation(
    summary: str,
    description: str,
    tag: str,
    params: list[str],
    success: dict[str, Any],
    errors: tuple[str, ...] = ("400", "429"),
    op_id: str | None = None,
) -> dict[str, Any]:
    """A path item with one public GET; every GET but the probes can answer 304."""
    responses: dict[str, Any] = {"200": success}
    if tag != "health":
        responses["304"] = {"description": "Not modified (the `If-None-Match` ETag still matches)."}
    for status in errors:
        responses[status] = error(status)
    return {
        "get": {
            "operationId": op_id or summary.lower().replace(" ", "_"),
            "summary": summary,
            "description": description,
            "tags": [tag],
            "parameters": [ref(p) for p in params],
            "responses": responses,
        }
    }


#: Parameters parsed by ``locator.params`` for several endpoints (the venue API and OGC items).
COMMON_PARAMETERS: dict[str, dict[str, Any]] = {
    "category": list_param(
        "category",
        f"{CSV} of venue categories: {', '.join(CATEGORY_CODES)}.",
        {"type": "string", "enum": list(CATEGORY_CODES)},
        len(CATEGORY_CODES),
        "outdoor_station",
    ),
    "crs": param(
        "crs",
        "Datum of the input point and of the output geometries: WGS-84, GCJ-02 (Amap, Tencent) or BD-09 (Baidu).",
        {"type": "string", "enum": list(CRS_NAMES), "default": "wgs84"},
    ),
    "district": list_param(
        "district",
        f"{CSV} of district adcodes (see the districts collection).",
        {"type": "string", "pattern": "^[0-9]{6}$"},
        example="460106",
    ),  # the register's own adcodes are filled in as an enum at start-up: name_districts
    "amenity": list_param(
        "amenity",
        f"{CSV} of amenities; a venue must offer all of them: {', '.join(AMENITIES)}.",
        {"type": "string", "enum": list(AMENITIES)},
        len(AMENITIES),
        "drinking_water",
    ),
    "q": param(
        "q",
        f"Substring of the name or address, case-insensitive (Chinese works); at most {MAX_Q} characters. "
        "Blank is the same as absent.",
        {"type": "string", "maxLength": MAX_Q},
    ),
    "format": param(
        "format",
        "File format: csv (UTF-8 with BOM, Chinese headers, opens in Excel), xlsx, geojson or gpkg (QGIS). "
        "An export imports again unchanged with `locator import`.",
        {"type": "string", "enum": list(FORMATS), "default": FORMATS[0]},
    ),
}

DISTRICT_PARAMETERS = ("district", "district_code")
"""The list parameters whose items are the register's district adcodes (:func:`name_districts`)."""


def name_districts(doc: dict[str, Any], adcodes: Sequence[str]) -> dict[str, Any]:
    """``doc`` with the register's district ``adcodes`` as the enum of every district parameter.

    The districts come from the data (``GEODATA_DIR``), not from code, so the
    fragments describe a district as six digits and the app fills the real
    codes in once, at start-up (``locator.web.openapi.init_app``): a client or
    a fuzzer then knows exactly which codes the API accepts. ``region``
    (coverage) takes an adcode too, or a box, or ``province``.
    """
    params = doc["components"]["parameters"]
    codes = list(adcodes)
    for name in DISTRICT_PARAMETERS:
        if name in params:
            schema = params[name]["schema"]
            params[name]["schema"] = {**schema, "maxItems": len(codes), "items": {"type": "string", "enum": codes}}
    if "region" in params:  # anyOf: [the words for the whole province, a box]; the adcodes join the words
        schema = params["region"]["schema"]
        words, *rest = schema["anyOf"]
        params["region"]["schema"] = {**schema, "anyOf": [{**words, "enum": [*words["enum"], *codes]}, *rest]}
    return doc


PROBLEM: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "invalid_params": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "reason"],
                "properties": {"name": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}
"""The one error shape (``locator.web.problems``)."""

ERROR_RESPONSES: dict[str, str] = {
    "400": "Malformed or out-of-range input; `invalid_params` names each bad parameter.",
    "401": "No bearer token, or not a valid one.",
    "404": "No such collection, feature or path.",
    "405": "Method not allowed (the API is read-only); `Allow` lists the methods.",
    "412": "`If-Match` names an older version of the venue: GET it again and reapply the change.",
    "413": "Request body too large.",
    "414": "The request line (path and query) is longer than the HTTP server takes (gunicorn: 4,094 bytes; "
    "percent-encoded, a Chinese character is 9): answered by the server before the app, still as problem+json.",
    "422": "The request would cost more than a documented budget; `invalid_params` names the parameter and `limit`.",
    "428": "`If-Match` is required on this write (the venue's `ETag` from a GET).",
    "429": "Rate limited; `Retry-After` says when to try again.",
    "503": "Not ready (no data loaded yet), the register unreachable (writes and the admin's reads), or a read that "
    "passed the request deadline (`REQUEST_DEADLINE_SECONDS`); `Retry-After` says when to try again.",
}


def error_responses() -> dict[str, Any]:
    """``components.responses``: each error of :data:`ERROR_RESPONSES`, all problem+json (the server's own too)."""
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {status: {"description": text, "content": problem} for status, text in ERROR_RESPONSES.items()}
