"""The OpenAPI 3.0 document, assembled from the fragments the blueprint modules describe themselves with.

Each module that serves API routes has a ``get_oas()`` next to its handlers
(``locator.web.api``, ``ogc``, ``mapdata``, ``admin_api``, ``health``, and
``coverage_oas`` for ``coverage``), built from the constants the handlers
validate with. ``create_app`` hands them to :func:`init_app`, which merges
them once into the app's state; :func:`openapi_document` adds the server
address per request. ``tests/test_api.py`` checks that every route the app
serves appears, with every method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import Flask

from locator.web import oas
from locator.web.catalog import OPENAPI_MIMETYPE
from locator.web.state import app_state

__all__ = ["OPENAPI_MIMETYPE", "build_document", "init_app", "openapi_document"]

INFO: dict[str, Any] = {
    "title": "Hainan worker service venue locator API · 海南职工服务阵地查询",
    "version": "1.0.0",
    "description": (
        "Find Hainan's trade-union worker service venues. Distances are geodesics on the WGS-84 ellipsoid. "
        "Every error is application/problem+json (RFC 9457). Responses carry ETag and Cache-Control "
        "(send If-None-Match for a 304), X-Request-ID, and CORS `Access-Control-Allow-Origin: *`. "
        "Clients are rate-limited per address (429 with Retry-After). A parameter given twice is a 400."
    ),
    "license": {"name": "MIT"},
}

TAGS: list[dict[str, str]] = [
    {"name": "venues", "description": "Nearest venues and the venue layer."},
    {"name": "ogc", "description": "OGC API – Features Part 1: Core."},
    {"name": "meta", "description": "This API's own description."},
    {"name": "map", "description": "Data for the worker map."},
    {"name": "coverage", "description": "Coverage analysis for planners."},
    {"name": "admin", "description": "Editing the register (bearer token)."},
    {"name": "health", "description": "Probes."},
]


def _merge(into: dict[str, Any], part: dict[str, Any], what: str) -> None:
    """Add ``part`` to ``into``; the same name twice must mean the same thing."""
    for name, value in part.items():
        if name in into and into[name] != value:
            raise ValueError(f"two OpenAPI fragments define {what} {name!r} differently")
        into[name] = value


def build_document(fragments: Iterable[oas.Fragment]) -> dict[str, Any]:
    """The document from ``fragments`` (paths in their order), without ``servers`` filled in.

    Raises ValueError when two fragments describe one path, parameter or
    schema differently, naming it.
    """
    paths: dict[str, Any] = {}
    parameters: dict[str, Any] = dict(oas.COMMON_PARAMETERS)
    schemas: dict[str, Any] = {"Problem": oas.PROBLEM}
    for part in fragments:
        _merge(paths, part["paths"], "the path")
        _merge(parameters, part["parameters"], "the parameter")
        _merge(schemas, part["schemas"], "the schema")
    used = {r["$ref"].rsplit("/", 1)[1] for item in paths.values() for op in item.values() for r in op["parameters"]}
    missing = sorted(used - set(parameters))
    if missing:
        raise ValueError(f"the OpenAPI paths use parameters no fragment defines: {', '.join(missing)}")
    return {
        "openapi": "3.0.3",
        "info": INFO,
        "servers": [],
        "tags": TAGS,
        "paths": paths,
        "components": {
            "parameters": parameters,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
            "responses": {
                status: {
                    "description": text,
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
                for status, text in oas.ERROR_RESPONSES.items()
            },
        },
    }


def init_app(app: Flask, sources: Sequence[Callable[[], oas.Fragment]]) -> None:
    """Merge the fragments of ``sources`` (each a module's ``get_oas``) into the app's document, once."""
    app_state(app).openapi = build_document(source() for source in sources)


def openapi_document(root: str) -> dict[str, Any]:
    """The app's document with ``root`` (the app's public address, ``locator.web.urls``) as its server."""
    return {**app_state().openapi, "servers": [{"url": root or "/"}]}
