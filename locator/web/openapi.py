"""The OpenAPI 3.0 document, assembled from the fragments the blueprint modules describe themselves with.

Each module that serves API routes has a ``get_oas()`` next to its handlers
(``locator.web.api``, ``ogc``, ``mapdata``, ``admin_api``, ``health``, and
``coverage_oas`` for ``coverage``), built from the constants the handlers
validate with. ``create_app`` hands them to :func:`init_app`, which merges
them once into the app's state; :func:`openapi_document` adds the server
address per request. ``tests/test_api.py`` checks that every route the app
serves appears, with every method.

The document is also the API's allow-list of query parameters: OGC API –
Features answers 400 to a parameter it does not know, so :func:`init_app`
reads each ``/api`` operation's query parameters out of the merged document
and refuses any other (:class:`UnknownParameterCheck`). The list each handler
accepts is the one its ``get_oas()`` publishes, so the two cannot drift: a
handler reading a parameter its fragment does not name answers 400 to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from flask import Flask, request

from locator.web import oas
from locator.web.catalog import OPENAPI_MIMETYPE
from locator.web.http import current_request
from locator.web.problems import ApiError
from locator.web.state import app_state

__all__ = [
    "OPENAPI_MIMETYPE",
    "QueryRules",
    "UnknownParameterCheck",
    "build_document",
    "init_app",
    "openapi_document",
    "query_rules",
]

QueryRules = dict[str, list[tuple[re.Pattern[str], dict[str, frozenset[str]]]]]
"""Per endpoint: the document's paths it serves (literal paths first), each with the query names per method."""

INFO: dict[str, Any] = {
    "title": "Hainan worker service venue locator API · 海南职工服务阵地查询",
    "version": "1.0.0",
    "description": (
        "Find Hainan's trade-union worker service venues. Distances are geodesics on the WGS-84 ellipsoid. "
        "Every error is application/problem+json (RFC 9457). Responses carry ETag and Cache-Control "
        "(send If-None-Match for a 304), X-Request-ID, and CORS `Access-Control-Allow-Origin: *`. "
        "Clients are rate-limited per address (429 with Retry-After). A parameter given twice, or one the "
        "operation does not list, is a 400; a parameter given blank (`k=`) is the same as one not given, "
        "except where its description says otherwise."
    ),
    "license": {"name": "MIT"},
}

TAGS: list[dict[str, str]] = [
    {"name": "venues", "description": "Nearest venues and the venue layer."},
    {
        "name": "ogc",
        "description": "OGC API – Features: Part 1 (Core, GeoJSON), Part 2 (CRS by reference), Part 3 (queryables, "
        "CQL2 filters).",
    },
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
    for path, item in paths.items():
        if path.startswith(oas.API):  # every /api operation refuses unknown parameters (init_app)
            for op in item.values():
                op["responses"].setdefault("400", oas.error("400"))
                op["responses"].setdefault("414", oas.error("414"))  # a query too long for the HTTP server
                op["responses"].setdefault("503", oas.error("503"))  # not ready, the read deadline, an outage
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
            "responses": oas.error_responses(),
        },
    }


_RULE_VAR = re.compile(r"<[^<>]+>")
_DOC_VAR = re.compile(r"\{[^{}]+\}")


def _query_names(doc: Mapping[str, Any], op: Mapping[str, Any]) -> frozenset[str]:
    components = doc["components"]["parameters"]
    found = (components[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in op.get("parameters", ()))
    return frozenset(p["name"] for p in found if p["in"] == "query")


def query_rules(doc: Mapping[str, Any], rules: Iterable[tuple[str, str]]) -> QueryRules:
    """For each ``(endpoint, rule)`` under ``/api``: the document's paths that rule serves, and their query names.

    A Flask rule such as ``/api/v1/collections/<cid>/items`` may serve a
    templated path and literal ones (``…/collections/venues/items``) that
    differ in parameters; a request is checked against the first that matches
    its path, literal paths first. Raises ValueError for a rule no path
    describes.
    """
    out: QueryRules = {}
    for endpoint, rule in rules:
        if not rule.startswith(oas.API + "/") and rule != oas.API:
            continue
        skeleton = _RULE_VAR.sub("{}", rule)
        found = [p for p in doc["paths"] if _DOC_VAR.sub("{}", p) == skeleton]
        found += [p for p in doc["paths"] if p not in found and _matches(rule, p)]
        if not found:
            raise ValueError(f"the OpenAPI document does not describe the route {rule!r}")
        found.sort(key=lambda p: p.count("{"))
        out[endpoint] = [
            (
                re.compile("[^/]+".join(re.escape(part) for part in _DOC_VAR.split(path))),
                {method.upper(): _query_names(doc, op) for method, op in doc["paths"][path].items()},
            )
            for path in found
        ]
    return out


def _matches(rule: str, path: str) -> bool:
    """Whether the literal ``path`` is one the Flask ``rule``'s variables can take."""
    pattern = "[^/]+".join(re.escape(part) for part in _RULE_VAR.split(rule))
    return "{" not in path and re.fullmatch(pattern, path) is not None


def _unknown(allowed: frozenset[str]) -> ApiError:
    """The 400 naming every query parameter of this request that ``allowed`` does not list."""
    unknown = [name for name in request.args if name not in allowed]
    takes = f"only {', '.join(sorted(allowed))}" if allowed else "no query parameters"
    return ApiError(
        400,
        "Invalid parameter",
        "; ".join(f"{n[:40]}: unknown parameter" for n in unknown) + f" (this operation takes {takes})",
        [{"name": n[:100], "reason": f"unknown parameter; this operation takes {takes}"} for n in unknown],
    )


class UnknownParameterCheck:
    """The ``before_request`` hook: 400 naming every query parameter its operation does not document.

    Built once from :func:`query_rules`: an endpoint that serves one path
    keeps only its allow-list per method, so a request costs a dict lookup and
    a subset test; only endpoints serving several paths match the path.
    """

    def __init__(self, rules: QueryRules) -> None:
        self.single = {endpoint: cands[0][1] for endpoint, cands in rules.items() if len(cands) == 1}
        self.several = {endpoint: cands for endpoint, cands in rules.items() if len(cands) > 1}

    def allowed(self, endpoint: str, method: str, path: str) -> frozenset[str] | None:
        """The query names the operation takes; None when it is not checked (OPTIONS, a 405, no such path)."""
        by_method = self.single.get(endpoint)
        if by_method is None:
            for pattern, allowed_by_method in self.several.get(endpoint, ()):
                if pattern.fullmatch(path):
                    by_method = allowed_by_method
                    break
            else:
                return None
        return by_method.get(method)

    def __call__(self) -> None:
        req = current_request()
        environ = req.environ
        rule = req.url_rule
        if rule is None or not environ.get("QUERY_STRING"):
            return
        endpoint = rule.endpoint
        method = environ["REQUEST_METHOD"].upper()  # as werkzeug reads it
        method = "GET" if method == "HEAD" else method
        by_method = self.single.get(endpoint)  # the usual case: one path, no pattern to match
        if by_method is not None:
            allowed = by_method.get(method)
        elif endpoint in self.several:
            allowed = self.allowed(endpoint, method, req.path)
        else:
            return
        if allowed is not None and not allowed.issuperset(req.args.keys()):
            raise _unknown(allowed)


def init_app(app: Flask, sources: Sequence[Callable[[], oas.Fragment]]) -> None:
    """Merge the fragments of ``sources`` (each a module's ``get_oas``) into the app's document, once.

    Also installs the check that refuses query parameters the document does
    not name for the operation (OGC API – Features /req/core/query-param-unknown).
    """
    state = app_state(app)
    doc = oas.name_districts(build_document(source() for source in sources), state.register.districts.codes)
    state.openapi = doc
    rules = query_rules(doc, ((r.endpoint, r.rule) for r in app.url_map.iter_rules()))
    app.before_request(UnknownParameterCheck(rules))


def openapi_document(root: str) -> dict[str, Any]:
    """The app's document as published, for ``root`` (the app's public address, ``locator.web.urls``).

    The server is the API's root (``…/api/v1``) and the paths are relative to
    it, as OGC API – Features lays them out: GDAL's OAPIF driver, opened on
    ``…/api/v1``, looks the items operation up as
    ``/collections/venues/items`` and pushes a filter down only when it finds
    it there. The few paths outside the API (the probes) carry their own
    ``servers``: the app's root.
    """
    doc = app_state().openapi
    paths: dict[str, Any] = {}
    for path, item in doc["paths"].items():
        if path == oas.API or path.startswith(oas.API + "/"):
            paths[path[len(oas.API) :] or "/"] = item
        else:
            paths[path] = {"servers": [{"url": root or "/"}], **item}
    return {**doc, "servers": [{"url": root + oas.API}], "paths": paths}
