"""What every map page shares: the base map of the request and the page configuration.

The worker map (``/``), the embed (``/embed``) and the coverage page
(``/coverage``) all start from :func:`base_page_config` and add their own keys,
so the tiles, the island's bounds and the translations their scripts read
(``static/js/common.js``) are built once. ``locator.web.security`` asks
:func:`request_tile_provider` which tile hosts the CSP must allow.
"""

from __future__ import annotations

from typing import Any

from flask import request

from locator import tiles
from locator.web.i18n import js_catalogue
from locator.web.state import get_settings

__all__ = ["base_page_config", "request_tile_provider", "tile_key", "tile_origins"]


def tile_key() -> str:
    """The Tianditu key of this app (``TIANDITU_KEY``), or ''."""
    return get_settings().tianditu_key


def request_tile_provider() -> tiles.TileProvider:
    """The base map of this request: ``?tiles=`` if it names one, else the app's ``TILES``.

    An unknown ``?tiles=`` falls back to ``TILES`` (the pages never fail over a base map).
    """
    default = get_settings().tiles
    try:
        return tiles.tile_provider(request.args.get("tiles") or default, tile_key())
    except ValueError:
        return tiles.tile_provider(default, tile_key())


def tile_origins() -> list[str]:
    """Origins of the tiles of this request's base map (the CSP's ``img-src``)."""
    return request_tile_provider().origins()


def base_page_config(lang: str) -> dict[str, Any]:
    """The keys every map page's script reads: language, first view, tiles, translations.

    Pages extend the returned dict (it is a fresh one each call).
    """
    return {
        "lang": lang,
        "center": tiles.HAINAN_CENTER,
        "zoom": tiles.HAINAN_ZOOM,
        "bounds": tiles.HAINAN_ISLAND_BOUNDS,
        "tiles": request_tile_provider().to_json(tile_key(), lang),
        "i18n": js_catalogue(),
    }
