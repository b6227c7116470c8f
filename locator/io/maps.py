"""The standalone folium map of ``locator map``, and the district outlines every map draws.

:func:`build_map` renders the venues over the district outlines into one
self-contained HTML file: Leaflet inlined from ``node_modules/`` and the
markers and popups built by the same code as the web pages
(``static/js/common.js``, inlined), so the file opens offline and asks no CDN
for anything. Base maps and category styles live in :mod:`locator.tiles`; the
web map's compact venue layer in :mod:`locator.web.mapdata`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import shapely

from locator.categories import CATEGORIES
from locator.config import ROOT
from locator.districts import District
from locator.tiles import CATEGORY_STYLE, HAINAN_CENTER, HAINAN_ZOOM, tile_provider
from locator.venues import Venue

__all__ = ["COMMON_JS", "NODE_MODULES", "build_map", "common_js_inline", "district_outlines"]

NODE_MODULES = ROOT / "node_modules"
#: The pages' shared module; the standalone map inlines it (:func:`common_js_inline`).
COMMON_JS = ROOT / "static" / "js" / "common.js"


def district_outlines(districts: Iterable[District], tolerance: float = 0.004, ndigits: int = 4) -> dict[str, Any]:
    """District boundaries simplified for display (about 400 m), as GeoJSON,
    with each district's label point (a point inside it) for place search."""
    features = []
    for d in districts:
        geom = shapely.set_precision(d.geometry.simplify(tolerance, preserve_topology=True), 10**-ndigits)
        label = d.geometry.representative_point()
        features.append(
            {
                "type": "Feature",
                "id": d.adcode,
                "geometry": shapely.geometry.mapping(geom),
                "properties": {
                    "adcode": d.adcode,
                    "name_zh": d.name_zh,
                    "name_en": d.name_en,
                    "label": [round(label.x, 5), round(label.y, 5)],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


# --------------------------------------------------------------------------- folium


def _inline(kind: str, text: str) -> str:
    # "</" inside inlined text would end the element early.
    if kind == "script":
        text = re.sub(r"</(script)", lambda m: "<\\/" + m.group(1), text, flags=re.IGNORECASE)
    return f"<{kind}>{text}</{kind}>"


def build_map(
    venues: Sequence[Venue],
    districts: Sequence[District] = (),
    tiles: str = "osm",
    tiles_key: str = "",
    title: str = "海南职工服务阵地",
    node_modules: Path = NODE_MODULES,
) -> Any:
    """A self-contained folium map of ``venues`` over the district outlines.

    Leaflet and Leaflet.markercluster are inlined from ``node_modules`` (no CDN,
    no jQuery or Bootstrap); popups are built with ``textContent``, so names and
    addresses are never parsed as HTML. Returns the ``folium.Map``; call
    ``.get_root().render()`` or ``.save(path)``.
    """
    import folium
    from folium.plugins import FastMarkerCluster

    class _Map(folium.Map):
        default_js: list[tuple[str, str]] = []
        default_css: list[tuple[str, str]] = []

    class _Cluster(FastMarkerCluster):
        default_js: list[tuple[str, str]] = []
        default_css: list[tuple[str, str]] = []

    provider = tile_provider(tiles, tiles_key)
    fmap = _Map(
        location=HAINAN_CENTER,
        zoom_start=HAINAN_ZOOM,
        tiles=None,
        maxZoom=provider.max_zoom,
        minZoom=5,
        control_scale=True,
    )
    root: Any = fmap.get_root()
    for rel in (
        "leaflet/dist/leaflet.css",
        "leaflet.markercluster/dist/MarkerCluster.css",
        "leaflet.markercluster/dist/MarkerCluster.Default.css",
    ):
        root.header.add_child(folium.Element(_inline("style", (node_modules / rel).read_text("utf-8"))))
    for rel in ("leaflet/dist/leaflet.js", "leaflet.markercluster/dist/leaflet.markercluster.js"):
        root.header.add_child(folium.Element(_inline("script", (node_modules / rel).read_text("utf-8"))))
    root.header.add_child(folium.Element(_inline("style", _STANDALONE_CSS + _category_css())))
    root.header.add_child(folium.Element(_inline("script", common_js_inline())))
    root.title = title

    for i, url in enumerate(provider.to_json(tiles_key)["urls"]):
        folium.TileLayer(
            tiles=url,
            attr=provider.attribution,
            subdomains=provider.subdomains or "abc",
            max_zoom=provider.max_zoom,
            name=f"{provider.code}-{i}",
            control=False,
        ).add_to(fmap)

    shift = provider.crs == "gcj02"
    if districts:
        outlines = district_outlines(districts)
        if shift:
            outlines = _shift_geojson(outlines)
        folium.GeoJson(
            outlines,
            name="districts",
            style_function=lambda _f: {"color": "#334155", "weight": 1.2, "fillColor": "#e2e8f0", "fillOpacity": 0.35},
            control=False,
        ).add_to(fmap)

    data: list[list[Any]] = []
    for v in venues:
        lon, lat = v.lon, v.lat
        if shift:
            from locator.geo import wgs84_to_gcj02

            glon, glat = wgs84_to_gcj02(lon, lat)
            lon, lat = float(glon), float(glat)
        data.append(
            [round(lat, 6), round(lon, 6), v.category, v.name, v.address, CATEGORIES[v.category].name_zh, v.phone]
        )
    glyphs = json.dumps({c: s["zh"] for c, s in CATEGORY_STYLE.items()}, ensure_ascii=False)
    _Cluster(data, callback=_CALLBACK % glyphs, name="venues", control=False, chunkedLoading=True).add_to(fmap)

    shown = {v.category for v in venues}
    legend = "".join(
        f'<li><span class="lg-dot" style="background:{s["color"]}">{s["zh"]}</span>'
        f"{CATEGORIES[c].name_zh} {CATEGORIES[c].name_en}</li>"
        for c, s in CATEGORY_STYLE.items()
        if c in shown or not shown
    )
    root.html.add_child(
        folium.Element(f'<div class="lg"><strong>{_esc(title)}</strong> ({len(venues)})<ul>{legend}</ul></div>')
    )
    if venues:
        lats = [float(r[0]) for r in data]
        lons = [float(r[1]) for r in data]
        fmap.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]])
    return fmap


def common_js_inline(path: Path = COMMON_JS) -> str:
    """``static/js/common.js`` as a classic script defining ``LocatorCommon``.

    The module has no imports and only ``export function`` declarations (its
    header says so), so dropping the keyword and returning the exported names
    gives the same functions without a module loader: folium's marker
    callback runs in a classic script, before any module would.
    """
    text = path.read_text("utf-8")
    names = re.findall(r"^export function (\w+)", text, flags=re.MULTILINE)
    body = re.sub(r"^export (?=function |const |var )", "", text, flags=re.MULTILINE)
    exported = ", ".join(f"{n}: {n}" for n in names)
    return f"var LocatorCommon = (function () {{\n'use strict';\n{body}\nreturn {{{exported}}};\n}})();"


def _category_css() -> str:
    return "".join(f".vm-{c}{{background:{s['color']}}}" for c, s in CATEGORY_STYLE.items())


def _esc(text: str) -> str:
    from html import escape

    return escape(text, quote=True)


def _shift_geojson(fc: dict[str, Any]) -> dict[str, Any]:
    from locator.geo import wgs84_to_gcj02

    def shift(geom: Any) -> Any:
        return shapely.transform(geom, lambda xy: _gcj_xy(xy, wgs84_to_gcj02))

    out = []
    for f in fc["features"]:
        g = shift(shapely.geometry.shape(f["geometry"]))
        out.append({**f, "geometry": shapely.geometry.mapping(g)})
    return {**fc, "features": out}


def _gcj_xy(xy: Any, fn: Any) -> Any:
    import numpy as np

    lon, lat = fn(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


_STANDALONE_CSS = """
html,body{margin:0;height:100%}
.lg{position:absolute;z-index:1000;right:10px;bottom:24px;background:#fff;padding:8px 12px;border-radius:6px;
font:14px/1.5 system-ui,sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:60%}
.lg ul{list-style:none;margin:4px 0 0;padding:0}
.lg-dot,.vm{display:inline-block;width:22px;height:22px;border-radius:50%;color:#fff;text-align:center;
line-height:22px;font-size:13px;margin-right:6px;border:2px solid #fff;box-shadow:0 0 2px rgba(0,0,0,.6)}
.leaflet-marker-icon.vm{box-sizing:border-box;margin-right:0}
"""

# FastMarkerCluster callback: row = [lat, lon, category, name, address, category name, phone].
# The marker and its popup are the web pages' (common.js: venueIcon, textBox; all text by textContent).
_CALLBACK = """(function () {
var GLYPHS = %s;
return function (row) {
  var icon = LocatorCommon.venueIcon(L, row[2], GLYPHS[row[2]], 26);
  var marker = L.marker(new L.LatLng(row[0], row[1]), {icon: icon, title: row[3]});
  marker.bindPopup(LocatorCommon.textBox(row[3], [row[5], row[4], row[6]]));
  return marker;
};
})()"""
