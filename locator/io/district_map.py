"""A district's coverage map as SVG paths, for the printable one-page report. Pure.

The report (``/coverage/district/<adcode>``) must print on one A4 page without
tiles or script, so its map is drawn here as plain SVG: the district's outline,
the gaps (the land beyond the radius of every venue), the venues and the
suggested sites. Coordinates are WGS-84; the drawing is an equirectangular
projection scaled by cos(latitude) at the district's centre, which over one
district (< 100 km) distorts shapes by well under 1 %. Geometry is simplified to
about a third of a pixel, so a district's path stays a few kilobytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

__all__ = ["SvgMap", "district_svg"]


@dataclass(frozen=True)
class SvgMap:
    """What the template draws: a view box, path data and points (x, y, label) in its units."""

    width: float
    height: float
    outline: str
    gaps: str
    venues: tuple[tuple[float, float], ...]
    sites: tuple[tuple[float, float, str], ...]


def _rings(geom: BaseGeometry) -> Iterable[Sequence[tuple[float, float]]]:
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        yield poly.exterior.coords
        for hole in poly.interiors:
            yield hole.coords


def district_svg(
    outline: BaseGeometry,
    gaps: dict[str, Any] | None,
    venues: Iterable[tuple[float, float]],
    sites: Iterable[tuple[float, float, str]],
    width: float = 640.0,
) -> SvgMap:
    """The district ``outline`` (WGS-84), its ``gaps`` geometry (GeoJSON), venue and site positions, as SVG."""
    w, s, e, n = outline.bounds
    k = math.cos(math.radians((s + n) / 2))
    span_x, span_y = max((e - w) * k, 1e-6), max(n - s, 1e-6)
    scale = width / span_x
    height = round(span_y * scale, 1)

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return round((lon - w) * k * scale, 1), round((n - lat) * scale, 1)

    tol = 0.3 / scale

    def path(geom: BaseGeometry) -> str:
        g = shapely.simplify(geom, tol, preserve_topology=True)
        parts = []
        for ring in _rings(g):
            pts = [xy(x, y) for x, y in ring]
            parts.append("M" + "L".join(f"{x:g} {y:g}" for x, y in pts) + "Z")
        return "".join(parts)

    inside = [(lon, lat) for lon, lat in venues if w <= lon <= e and s <= lat <= n]
    return SvgMap(
        width=width,
        height=height,
        outline=path(outline),
        gaps="" if not gaps else path(shape(gaps)),
        venues=tuple(xy(lon, lat) for lon, lat in inside),
        sites=tuple((*xy(lon, lat), label) for lon, lat, label in sites),
    )
