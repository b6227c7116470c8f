"""schemathesis hooks for tests/test_schemathesis.py: the rules OpenAPI 3.0's schemas cannot state.

Loaded by the ``st`` process (``SCHEMATHESIS_HOOKS=tests.schemathesis_hooks``). A JSON Schema
describes each parameter on its own, so a few rules the document states in prose cannot be in
it: a CQL2 ``filter`` must parse, a bbox has south ≤ north with its latitudes where ``bbox-crs``
puts them, a coverage ``region`` box has west < east and south < north, an admin venue's point
lies on Hainan's land with ``opening_hours`` in OpenStreetMap's syntax, and a write names the
venue's current ``ETag`` in ``If-Match`` (set as the request is sent). Only the requests
generated as *valid* are adjusted to keep them (every other part of them still varies); the
invalid ones are sent as generated, and must all be refused.
"""

from __future__ import annotations

import os
from typing import Any

import requests
import schemathesis

from locator.web.ogc_oas import DISTRICT_FILTER_EXAMPLE, FILTER_EXAMPLE

LAND = (110.33, 20.03)
"""A point on Hainan's land (Haikou)."""
HOURS = "Mo-Fr 09:00-17:00"
LAT_FIRST = ("EPSG/0/4326", "EPSG/0/4490")


def _positive(case: Any) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


def _bbox(values: Any, crs: str) -> Any:
    """``values`` (a list, or its text) as a bbox the API takes: latitudes halved into ±90, south ≤ north."""
    try:
        out = [float(v) for v in (values.split(",") if isinstance(values, str) else values)]
    except (TypeError, ValueError):
        return values
    if len(out) not in (4, 6):
        return values
    lat_first = any(code in crs for code in LAT_FIRST)
    six = len(out) == 6
    south, north = ((0, 3) if six else (0, 2)) if lat_first else ((1, 4) if six else (1, 3))
    out[south], out[north] = sorted((out[south] / 2, out[north] / 2))
    return ",".join(repr(v) for v in out) if isinstance(values, str) else out


def _region(text: str) -> str:
    """A ``west,south,east,north`` box with west < east and south < north (an adcode or a word as it is)."""
    parts = text.split(",")
    if len(parts) != 4:
        return text
    w, s, e, n = (float(p) for p in parts)
    w, e = sorted((w, e))
    s, n = sorted((s, n))
    if w == e or s == n:
        return "110.2,19.9,110.5,20.1"
    return f"{w!r},{s!r},{e!r},{n!r}"


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    """Not an invalid request with a blank parameter: blank is the same as absent (the document's preamble).

    OpenAPI 3.0 could only say so by wrapping every number's schema in ``anyOf`` with an empty
    string, which would hide ``limit``'s bounds from clients that read them (GDAL does).
    """
    return _positive(case) or not any(v == "" for v in (case.query or {}).values())


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    if not _positive(case):
        return case
    path = case.operation.path
    query = case.query
    if query:
        if "filter" in query:
            query["filter"] = DISTRICT_FILTER_EXAMPLE if "/districts/" in path else FILTER_EXAMPLE
            query.pop("filter-lang", None)  # the examples are CQL2 text, the default
        if "bbox" in query:
            query["bbox"] = _bbox(query["bbox"], str(query.get("bbox-crs", "")))
        if isinstance(query.get("region"), str):
            query["region"] = _region(query["region"])
    body = case.body
    if path.startswith("/admin/venues") and isinstance(body, dict):
        if "lon" in body or "lat" in body or case.method == "POST":
            body["lon"], body["lat"] = LAND
        if body.get("opening_hours"):
            body["opening_hours"] = HOURS
    return case


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    """A valid write names the venue's ETag as it is now, when it is sent (a replay comes later)."""
    if _positive(case) and "If-Match" in (case.headers or {}) and "venueId" in (case.path_parameters or {}):
        case.headers["If-Match"] = _current_etag(case)


def _current_etag(case: Any) -> str:
    """The venue's ``ETag`` now (a write must name it), or a made-up one when there is no such venue."""
    base = os.environ["LOCATOR_ST_BASE"]
    token = os.environ["LOCATOR_ST_TOKEN"]
    url = f"{base}/admin/venues/{requests.utils.quote(str(case.path_parameters['venueId']), safe='')}"
    r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return r.headers.get("ETag", '"none"')
