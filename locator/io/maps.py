"""Map building, pure (no Flask): tile providers, the compact venue layer,
simplified district outlines, and the standalone folium map of ``locator map``.

The web page (``templates/map.html`` + ``static/js/map.js``) draws with Leaflet
directly and takes its data from :func:`compact_layer` and
:func:`district_outlines`; :func:`build_map` renders the same layers with
folium into one self-contained HTML file (Leaflet inlined from
``node_modules/``, so the file opens offline and asks no CDN for anything).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import shapely

from locator.categories import AMENITIES, CATEGORIES, CATEGORY_CODES
from locator.districts import District
from locator.hours import TZ, is_open
from locator.venues import Venue

__all__ = [
    "AMENITY_CODES",
    "CATEGORY_STYLE",
    "HAINAN_CENTER",
    "TILE_PROVIDERS",
    "TileProvider",
    "build_map",
    "compact_layer",
    "district_outlines",
    "hours_intervals",
    "tile_provider",
    "vendor_file",
]

#: Where the map opens (lat, lon) and at which zoom: the whole of Hainan Island.
HAINAN_CENTER = (19.2, 109.75)
HAINAN_ZOOM = 8
#: Hainan Island ((south, west), (north, east)): the page's first view fits it to the screen.
HAINAN_ISLAND_BOUNDS = ((18.15, 108.6), (20.17, 111.05))

AMENITY_CODES: tuple[str, ...] = tuple(AMENITIES)

#: Colour and one-character glyph per category (zh glyph, en glyph). Colours are
#: dark enough for white text at WCAG AA (contrast >= 4.5:1).
CATEGORY_STYLE: dict[str, dict[str, str]] = {
    "outdoor_station": {"color": "#c2410c", "zh": "站", "en": "R"},
    "workers_home": {"color": "#1d4ed8", "zh": "家", "en": "H"},
    "reading_room": {"color": "#047857", "zh": "书", "en": "B"},
    "service_center": {"color": "#b91c1c", "zh": "援", "en": "S"},
    "innovation_studio": {"color": "#7e22ce", "zh": "创", "en": "I"},
    "other": {"color": "#475569", "zh": "他", "en": "O"},
}
assert set(CATEGORY_STYLE) == set(CATEGORY_CODES)

from locator.config import ROOT  # noqa: E402

NODE_MODULES = ROOT / "node_modules"

#: Files the app serves from node_modules at /static/vendor/<name> (nothing else).
VENDOR_FILES: dict[str, str] = {
    "leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet.css": "leaflet/dist/leaflet.css",
    "images/layers.png": "leaflet/dist/images/layers.png",
    "images/layers-2x.png": "leaflet/dist/images/layers-2x.png",
    "images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
    "leaflet.markercluster.js": "leaflet.markercluster/dist/leaflet.markercluster.js",
    "MarkerCluster.css": "leaflet.markercluster/dist/MarkerCluster.css",
    "MarkerCluster.Default.css": "leaflet.markercluster/dist/MarkerCluster.Default.css",
    "geographiclib-geodesic.min.js": "geographiclib-geodesic/geographiclib-geodesic.min.js",
}


def vendor_file(name: str, node_modules: Path = NODE_MODULES) -> Path | None:
    """The node_modules file served as ``/static/vendor/<name>``, or None if not allowed."""
    rel = VENDOR_FILES.get(name)
    return node_modules / rel if rel else None


# --------------------------------------------------------------------------- tiles


@dataclass(frozen=True)
class TileProvider:
    """A base map: URL templates, attribution and the coordinate system of its tiles."""

    code: str
    urls: tuple[str, ...]
    attribution: str
    crs: str = "wgs84"  # the datum the tiles are drawn in: wgs84 or gcj02
    subdomains: str = "abc"
    max_zoom: int = 18
    needs_key: bool = False

    def to_json(self, key: str = "", lang: str = "zh") -> dict[str, Any]:
        urls = [u.replace("{key}", key).replace("{lang}", "eva" if lang == "en" else "cva") for u in self.urls]
        return {
            "code": self.code,
            "urls": urls,
            "attribution": self.attribution,
            "crs": self.crs,
            "subdomains": self.subdomains,
            "maxZoom": self.max_zoom,
        }


_TDT = "https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=%s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"  # noqa: E501

TILE_PROVIDERS: dict[str, TileProvider] = {
    p.code: p
    for p in (
        TileProvider(
            "osm",
            ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",),
            "© OpenStreetMap contributors",
            subdomains="",
            max_zoom=19,
        ),
        TileProvider(
            "tianditu",
            (_TDT % ("vec", "vec"), _TDT.replace("%s_w", "{lang}_w").replace("LAYER=%s", "LAYER={lang}")),
            "© 天地图 Tianditu (GS(2024)0568号)",
            subdomains="01234567",
            needs_key=True,
        ),
        TileProvider(
            "amap",
            ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",),
            "© 高德地图 AutoNavi (GS(2024)0650号)",
            crs="gcj02",
            subdomains="1234",
        ),
        TileProvider("none", (), "", subdomains=""),
    )
}


def tile_provider(code: str | None, key: str = "") -> TileProvider:
    """The provider named ``code``; ``none`` when it needs a key and has none.

    Raises ValueError for an unknown code, quoting it.
    """
    code = (code or "osm").strip().lower()
    if code not in TILE_PROVIDERS:
        raise ValueError(f"unknown tile provider {code!r}; expected one of {', '.join(TILE_PROVIDERS)}")
    provider = TILE_PROVIDERS[code]
    if provider.needs_key and not key:
        return TILE_PROVIDERS["none"]
    return provider


# --------------------------------------------------------------------------- layer data


def hours_intervals(expr: str, start: datetime, days: int = 8) -> list[list[int]] | None:
    """Open intervals of ``expr`` from ``start`` for ``days`` days, as [from, to]
    Unix minutes; None when the expression cannot be evaluated.

    The browser answers "open now?" from these without parsing opening_hours,
    so the answer stays right for a week while the data sits in the offline cache.
    """
    import opening_hours

    try:
        oh = opening_hours.OpeningHours(expr)
    except Exception:
        return None
    local = start.astimezone(TZ).replace(tzinfo=None, second=0, microsecond=0)
    end = local + timedelta(days=days)
    out: list[list[int]] = []
    try:
        for begin, finish, state, _comment in oh.intervals(local, end):
            if state == opening_hours.State.OPEN:
                b = int(begin.replace(tzinfo=TZ).timestamp() // 60)
                f = int(min(finish, end).replace(tzinfo=TZ).timestamp() // 60)
                out.append([b, f])
    except Exception:
        return None
    return out


def compact_layer(
    venues: Iterable[Venue],
    districts: Iterable[District] = (),
    now: datetime | None = None,
    version: int | str = 0,
) -> dict[str, Any]:
    """Every venue as one row of a compact array: the map's whole data in one
    small JSON (gzips to about a tenth of the equivalent GeoJSON).

    Row: ``[id, lon, lat, category index, name, address, amenity bits,
    hours index or -1, phone, district index or -1, open now (1/0/null)]``.
    Lon/lat are WGS-84 rounded to 5 decimals (about 1 m).
    """
    now = now or datetime.now(TZ)
    dlist = list(districts)
    dindex = {d.adcode: i for i, d in enumerate(dlist)}
    hours: list[str] = []
    hindex: dict[str, int] = {}
    rows: list[list[Any]] = []
    for v in sorted(venues, key=lambda v: v.id):
        bits = 0
        for a in v.amenities:
            if a in AMENITIES:
                bits |= 1 << AMENITY_CODES.index(a)
        h = -1
        if v.opening_hours:
            if v.opening_hours not in hindex:
                hindex[v.opening_hours] = len(hours)
                hours.append(v.opening_hours)
            h = hindex[v.opening_hours]
        state = is_open(v.opening_hours, now)
        rows.append(
            [
                v.id,
                round(v.lon, 5),
                round(v.lat, 5),
                CATEGORY_CODES.index(v.category),
                v.name,
                v.address,
                bits,
                h,
                v.phone,
                dindex.get(v.district_code, -1),
                None if state is None else int(state),
            ]
        )
    return {
        "version": version,
        "generated": int(now.timestamp()),
        "categories": list(CATEGORY_CODES),
        "amenities": list(AMENITY_CODES),
        "districts": [[d.adcode, d.name_zh, d.name_en] for d in dlist],
        "hours": [[expr, hours_intervals(expr, now)] for expr in hours],
        "venues": rows,
    }


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
    root.header.add_child(folium.Element(_inline("style", _STANDALONE_CSS)))
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
    styles = json.dumps({c: [s["color"], s["zh"]] for c, s in CATEGORY_STYLE.items()}, ensure_ascii=False)
    _Cluster(data, callback=_CALLBACK % styles, name="venues", control=False, chunkedLoading=True).add_to(fmap)

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
"""

# FastMarkerCluster callback: row = [lat, lon, category, name, address, category name, phone].
_CALLBACK = """(function () {
var STYLES = %s;
return function (row) {
  var s = STYLES[row[2]];
  var icon = L.divIcon({className: '', iconSize: [26, 26],
    html: '<span class="vm" style="background:' + s[0] + '">' + s[1] + '</span>'});
  var marker = L.marker(new L.LatLng(row[0], row[1]), {icon: icon, title: row[3]});
  var box = document.createElement('div');
  var b = document.createElement('strong'); b.textContent = row[3]; box.appendChild(b);
  [row[5], row[4], row[6]].forEach(function (t) {
    if (t) { var p = document.createElement('div'); p.textContent = t; box.appendChild(p); }
  });
  marker.bindPopup(box);
  return marker;
};
})()"""
