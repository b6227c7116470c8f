"""OGC API – Features Part 3 in the core: queryables, CQL2 filters, ``sortby`` and ``properties``. Pure.

GIS clients (QGIS through GDAL's OAPIF driver, OWSLib) push a layer's filter
to the server as CQL2; without it they download every venue and filter
locally. ``parse_filter`` reads CQL2 text or JSON with pygeofilter (the
parser pygeoapi uses) and compiles the tree into plain Python closures over
a record (a mapping of property values, ``geometry`` being ``(lon, lat)``).

Why our own compiler rather than pygeofilter's evaluators: its native
evaluator builds Python source and ``eval``s it, and its SQL evaluator puts
literal values into the SQL text; both are wrong for input from the open
internet. The compiler here checks every property against the collection's
queryables and every literal against the property's type *before* anything
runs, and supports exactly: comparisons, ``LIKE`` (with ``casei``/``lower``),
``IN``, ``BETWEEN``, ``IS NULL``, ``AND``/``OR``/``NOT``, the spatial
predicates ``S_INTERSECTS``/``S_WITHIN``/``S_DISJOINT`` on the point
geometry, and the array predicates (``A_CONTAINS``… in CQL2 JSON) on
``amenities``. Anything else is a 400 that says what is supported.

Filters run against the in-memory register on both back ends: reads never
wait on the database (see ARCHITECTURE.md), so PostGIS is not asked.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from pygeofilter import ast, values
from shapely.geometry import shape

from locator.errors import InvalidParameter

__all__ = ["FILTER_LANGS", "MAX_FILTER_CHARS", "Filter", "Queryable", "parse_filter", "queryables_schema"]

FILTER_LANGS = ("cql2-text", "cql2-json")
#: A filter is bounded before it is parsed: this many characters, then this many tree nodes.
MAX_FILTER_CHARS = 4096
MAX_FILTER_NODES = 200

Record = Mapping[str, Any]
Getter = Callable[[Record], Any]
Test = Callable[[Record], bool]
Transform = Callable[[Any], Any]
"""Coordinates (an ``(n, 2)`` numpy array) to CRS84's (``shapely.transform``)."""


@dataclass(frozen=True)
class Queryable:
    """A property a client may filter and sort on: its JSON Schema type and, if closed, its values."""

    name: str
    type: str  # "string", "integer", "number", "boolean", "array" (of strings) or "geometry" (a point)
    title: str
    enum: tuple[Any, ...] | None = None

    def schema(self) -> dict[str, Any]:
        if self.type == "geometry":
            return {"title": self.title, "format": "geometry-point", "x-ogc-role": "primary-geometry"}
        out: dict[str, Any] = {"title": self.title, "type": self.type}
        if self.type == "array":
            out["items"] = {"type": "string", **({"enum": list(self.enum)} if self.enum else {})}
        elif self.enum:
            out["enum"] = list(self.enum)
        return out


def queryables_schema(queryables: Sequence[Queryable], title: str, schema_id: str) -> dict[str, Any]:
    """The ``/queryables`` document (OGC API – Features Part 3: a JSON Schema 2020-12 object)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "type": "object",
        "title": title,
        "properties": {q.name: q.schema() for q in queryables},
        "additionalProperties": False,
    }


def _bad(reason: str) -> InvalidParameter:
    return InvalidParameter("filter", reason)


def _count(node: Any) -> int:
    if isinstance(node, ast.Node):
        return 1 + sum(_count(c) for c in node.get_sub_nodes())
    if isinstance(node, list):
        return sum(_count(c) for c in node)
    return 1


def _like(pattern: str, wildcard: str, single: str, escape: str, nocase: bool) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == wildcard else "." if ch == single else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if nocase else 0))


class _Compiler:
    def __init__(self, queryables: Mapping[str, Queryable], to_crs84: Transform | None = None) -> None:
        self.q = queryables
        self.to_crs84 = to_crs84

    # -- values -----------------------------------------------------------------------------
    def prop(self, node: ast.Attribute) -> Queryable:
        q = self.q.get(node.name)
        if q is None:
            raise _bad(f"unknown property {node.name!r}; queryables: {', '.join(self.q)}")
        return q

    def scalar(self, node: Any) -> tuple[Getter, str | None]:
        """A getter and the type it yields (``None`` for a literal whose type is its own)."""
        if isinstance(node, ast.Attribute):
            q = self.prop(node)
            if q.type in ("geometry", "array"):
                raise _bad(f"property {q.name!r} is a {q.type}; compare it with a spatial or array predicate")
            name = q.name
            return (lambda r: r.get(name)), q.type
        if isinstance(node, ast.Function):
            if node.name.lower() not in ("lower", "casei") or len(node.arguments) != 1:
                raise _bad(f"function {node.name!r} is not supported; supported: CASEI(x)")
            get, typ = self.scalar(node.arguments[0])
            if typ not in (None, "string"):
                raise _bad(f"CASEI takes text, not a {typ}")
            return (lambda r: None if (v := get(r)) is None else str(v).casefold()), "string"
        if isinstance(node, bool | int | float | str) or node is None:
            if isinstance(node, float) and not math.isfinite(node):
                raise _bad(f"{node!r} is not a number")
            value = node
            return (lambda r: value), None
        raise _bad(f"{type(node).__name__} is not supported here")

    @staticmethod
    def check(typ: str | None, literal: Any, where: str) -> None:
        if typ is None or literal is None:
            return
        ok = {
            "string": isinstance(literal, str),
            "integer": isinstance(literal, int) and not isinstance(literal, bool),
            "number": isinstance(literal, int | float) and not isinstance(literal, bool),
            "boolean": isinstance(literal, bool),
        }.get(typ, True)
        if not ok:
            raise _bad(f"{where}: {literal!r} is not a {typ}")

    def literal_of(self, node: Any) -> Any:
        return node if not isinstance(node, ast.Node | values.Envelope | values.Geometry) else None

    # -- predicates ---------------------------------------------------------------------------
    def test(self, node: Any) -> Test:
        if isinstance(node, ast.And):
            a, b = self.test(node.lhs), self.test(node.rhs)
            return lambda r: a(r) and b(r)
        if isinstance(node, ast.Or):
            a, b = self.test(node.lhs), self.test(node.rhs)
            return lambda r: a(r) or b(r)
        if isinstance(node, ast.Not):
            a = self.test(node.sub_node)
            return lambda r: not a(r)
        if isinstance(node, ast.Comparison):
            return self.comparison(node)
        if isinstance(node, ast.Like):
            return self.like(node)
        if isinstance(node, ast.In):
            get, typ = self.scalar(node.lhs)
            options = [self.literal_of(n) for n in node.sub_nodes]
            for o in options:
                self.check(typ, o, "IN")
            members, negate = frozenset(options), node.not_
            return lambda r: (v := get(r)) is not None and ((v in members) != negate)
        if isinstance(node, ast.Between):
            get, typ = self.scalar(node.lhs)
            low, high = self.literal_of(node.low), self.literal_of(node.high)
            for x in (low, high):
                if not isinstance(x, int | float) or isinstance(x, bool):
                    raise _bad(f"BETWEEN takes numbers, not {x!r}")
                self.check(typ, x, "BETWEEN")
            negate = node.not_
            return lambda r: (v := get(r)) is not None and ((low <= v <= high) != negate)
        if isinstance(node, ast.IsNull):
            if not isinstance(node.lhs, ast.Attribute):
                raise _bad("IS NULL takes a property")
            name, negate = self.prop(node.lhs).name, node.not_
            return lambda r: (r.get(name) in (None, "")) != negate
        if isinstance(node, ast.SpatialComparisonPredicate):
            return self.spatial(node)
        if isinstance(node, ast.ArrayPredicate):
            return self.array(node)
        if isinstance(node, bool):
            return lambda r: node
        raise _bad(
            f"{type(node).__name__} is not supported; supported: comparisons, LIKE, IN, BETWEEN, IS NULL, "
            "AND/OR/NOT, S_INTERSECTS/S_WITHIN/S_DISJOINT, A_CONTAINS/A_CONTAINEDBY/A_OVERLAPS/A_EQUALS"
        )

    def comparison(self, node: ast.Comparison) -> Test:
        (get_a, type_a), (get_b, type_b) = self.scalar(node.lhs), self.scalar(node.rhs)
        self.check(type_a, self.literal_of(node.rhs), f"property {getattr(node.lhs, 'name', '?')!r}")
        self.check(type_b, self.literal_of(node.lhs), f"property {getattr(node.rhs, 'name', '?')!r}")
        ops: dict[ast.ComparisonOp, Callable[[Any, Any], bool]] = {
            ast.ComparisonOp.EQ: lambda a, b: a == b,
            ast.ComparisonOp.NE: lambda a, b: a != b,
            ast.ComparisonOp.LT: lambda a, b: a < b,
            ast.ComparisonOp.LE: lambda a, b: a <= b,
            ast.ComparisonOp.GT: lambda a, b: a > b,
            ast.ComparisonOp.GE: lambda a, b: a >= b,
        }
        op = ops[node.op]

        def run(r: Record) -> bool:
            a, b = get_a(r), get_b(r)
            if a is None or b is None:
                return False  # CQL2: a comparison with a null is not true
            try:
                return op(a, b)
            except TypeError:
                return False

        return run

    def like(self, node: ast.Like) -> Test:
        get, typ = self.scalar(node.lhs)
        pattern, nocase = node.pattern, node.nocase
        if isinstance(pattern, ast.Function) and pattern.name.lower() in ("lower", "casei") and pattern.arguments:
            pattern, nocase = pattern.arguments[0], True
        if typ not in (None, "string") or not isinstance(pattern, str):
            raise _bad("LIKE compares text with a text pattern")
        # CQL2's wildcards are % and _ (pygeofilter's text parser says "." for the single character)
        rx = _like(pattern, "%", "_", node.escapechar or "\\", nocase)
        negate = node.not_
        return lambda r: (v := get(r)) is not None and (rx.fullmatch(str(v)) is not None) != negate

    def geometry(self, node: Any) -> Any:
        if isinstance(node, values.Geometry):
            geom = shape(node.geometry)
        elif isinstance(node, values.Envelope):
            # pygeofilter builds a CQL2 JSON {"bbox": [minx, miny, maxx, maxy]} as Envelope(*bbox),
            # so its fields x1, x2, y1, y2 hold minx, miny, maxx, maxy in that order
            geom = shapely.box(node.x1, node.x2, node.y1, node.y2)
        elif isinstance(node, ast.Function) and node.name.lower() == "bbox" and len(node.arguments) in (4, 6):
            a = node.arguments
            geom = shapely.box(a[0], a[1], a[2], a[3]) if len(a) == 4 else shapely.box(a[0], a[1], a[3], a[4])
        else:
            raise _bad(f"{type(node).__name__} is not a geometry; use POINT, POLYGON, … or BBOX(…)")
        if self.to_crs84 is not None:  # filter-crs: the literal's coordinates, as CRS84
            geom = shapely.transform(geom, self.to_crs84)
        if not geom.is_valid:
            raise _bad(f"the geometry {geom.wkt[:60]!r} is not valid")
        shapely.prepare(geom)
        return geom

    def spatial(self, node: ast.SpatialComparisonPredicate) -> Test:
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        if not isinstance(lhs, ast.Attribute) or self.prop(lhs).type != "geometry":
            raise _bad("a spatial predicate compares the geometry property with a geometry")
        geom, name = self.geometry(rhs), lhs.name
        op = node.op
        if op in (ast.SpatialComparisonOp.INTERSECTS, ast.SpatialComparisonOp.WITHIN):
            # for a point, "within" a polygon and "intersects" it differ only on the boundary
            strict = op is ast.SpatialComparisonOp.WITHIN
            return lambda r: (
                (p := r.get(name)) is not None
                and (shapely.contains_xy(geom, p[0], p[1]) if strict else shapely.intersects_xy(geom, p[0], p[1]))
            )
        if op is ast.SpatialComparisonOp.DISJOINT:
            return lambda r: (p := r.get(name)) is not None and not shapely.intersects_xy(geom, p[0], p[1])
        raise _bad(f"S_{op.name} is not supported on points; supported: S_INTERSECTS, S_WITHIN, S_DISJOINT")

    def array(self, node: ast.ArrayPredicate) -> Test:
        if not isinstance(node.lhs, ast.Attribute) or self.prop(node.lhs).type != "array":
            raise _bad("an array predicate compares an array property with a list")
        q = self.prop(node.lhs)
        items = node.rhs if isinstance(node.rhs, list) else None
        if items is None or not all(isinstance(x, str) for x in items):
            raise _bad(f"{type(node).__name__} takes a list of text values")
        if q.enum:
            unknown = [x for x in items if x not in q.enum]
            if unknown:
                raise _bad(f"{q.name} has no value {unknown[0]!r}; expected some of {', '.join(q.enum)}")
        want, name = frozenset(items), q.name
        tests: dict[ast.ArrayComparisonOp, Callable[[frozenset[str]], bool]] = {
            ast.ArrayComparisonOp.AEQUALS: lambda have: have == want,
            ast.ArrayComparisonOp.ACONTAINS: lambda have: want <= have,
            ast.ArrayComparisonOp.ACONTAINEDBY: lambda have: have <= want,
            ast.ArrayComparisonOp.AOVERLAPS: lambda have: bool(have & want),
        }
        t = tests[node.op]
        return lambda r: t(frozenset(r.get(name) or ()))


class Filter:
    """A compiled filter: call it with a record to know whether the record matches."""

    def __init__(self, text: str, lang: str, test: Test) -> None:
        self.text, self.lang, self._test = text, lang, test

    def __call__(self, record: Record) -> bool:
        return self._test(record)


def parse_filter(
    text: str, lang: str | None, queryables: Sequence[Queryable], to_crs84: Transform | None = None
) -> Filter:
    """Parse and check a ``filter`` (``filter-lang`` ``cql2-text``, the default, or ``cql2-json``).

    ``to_crs84`` maps the coordinates of the filter's geometries (an ``(n, 2)`` array, in the
    request's ``filter-crs``) to CRS84's; None when they are CRS84 already.

    Raises ``InvalidParameter("filter" or "filter-lang", reason)`` quoting what is wrong, before any
    record is looked at.
    """
    lang = lang or "cql2-text"
    if lang not in FILTER_LANGS:
        raise InvalidParameter(
            "filter-lang", f"unknown filter language {lang[:30]!r}; expected one of {', '.join(FILTER_LANGS)}"
        )
    if len(text) > MAX_FILTER_CHARS:
        raise _bad(f"the filter has {len(text):,} characters; at most {MAX_FILTER_CHARS:,}")
    if not text.strip():
        raise _bad("the filter is empty")
    try:
        if lang == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse as parse_json

            tree = parse_json(json.loads(text))
        else:
            from pygeofilter.parsers.cql2_text import parse as parse_text

            tree = parse_text(text)
    except InvalidParameter:
        raise
    except Exception as exc:  # lark and pygeofilter raise many kinds on bad input
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise _bad(f"{text[:80]!r} is not valid {lang}: {first}") from None
    if _count(tree) > MAX_FILTER_NODES:
        raise _bad(f"the filter has more than {MAX_FILTER_NODES} terms")
    test = _Compiler({q.name: q for q in queryables}, to_crs84).test(tree)
    return Filter(text, lang, test)
