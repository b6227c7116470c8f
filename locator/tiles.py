"""Base maps and category styles: what every map of the project draws with. Pure.

The web pages (``locator.web.pages``), the standalone folium file
(``locator.io.maps``) and the CLI all pick tiles here, so a provider's URL,
attribution and datum (``crs``) are written once. A provider whose tiles are
drawn in GCJ-02 (Amap) makes every page shift its WGS-84 data on the way to
the screen (``static/js/common.js``: ``displayShift``; ``locator.io.maps`` for
the folium file); nothing is ever stored shifted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from locator.categories import CATEGORY_CODES

__all__ = [
    "CATEGORY_STYLE",
    "HAINAN_CENTER",
    "HAINAN_ISLAND_BOUNDS",
    "HAINAN_ZOOM",
    "TILE_PROVIDERS",
    "TileProvider",
    "tile_origin",
    "tile_provider",
]

#: Where the map opens (lat, lon) and at which zoom: the whole of Hainan Island.
HAINAN_CENTER = (19.2, 109.75)
HAINAN_ZOOM = 8
#: Hainan Island ((south, west), (north, east)): the page's first view fits it to the screen.
HAINAN_ISLAND_BOUNDS = ((18.15, 108.6), (20.17, 111.05))

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
        """The provider as the pages' scripts read it (``common.js``: ``addTiles``)."""
        urls = [u.replace("{key}", key).replace("{lang}", "eva" if lang == "en" else "cva") for u in self.urls]
        return {
            "code": self.code,
            "urls": urls,
            "attribution": self.attribution,
            "crs": self.crs,
            "subdomains": self.subdomains,
            "maxZoom": self.max_zoom,
        }

    def origins(self) -> list[str]:
        """The origins its tiles come from (the CSP's ``img-src``), sorted."""
        return sorted({tile_origin(u) for u in self.urls})


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


def tile_origin(url: str) -> str:
    """The CSP source for a tile URL template: ``https://t{s}.x.cn/…`` -> ``https://*.x.cn``.

    A ``{s}`` subdomain placeholder becomes a wildcard, since the browser
    fetches from every subdomain.
    """
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    if host.startswith("t{s}."):
        return f"{scheme}://*.{host[5:]}"
    if "{s}" in host:
        return f"{scheme}://*.{host.split('.', 1)[1]}"
    return f"{scheme}://{host}"
