"""Blueprint for pages: the worker map at ``/``, its service worker at
``/sw.js``, and the front-end libraries at ``/static/vendor/<name>``
(an allowlist of files in ``node_modules/``; nothing built from npm is committed).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from locator.categories import AMENITIES, CATEGORIES
from locator.config import ROOT
from locator.io import maps
from locator.web.i18n import current_language, js_catalogue
from locator.web.state import get_settings

bp = Blueprint("views", __name__)


def _shell_version() -> str:
    """A hash of the app shell's files: a new release gets a new service-worker cache by itself."""
    h = hashlib.sha256()
    for rel in (
        "static/js/map.js",
        "static/css/map.css",
        "static/sw.js",
        "templates/map.html",
        "templates/_venue_panel.html",
        "package-lock.json",
    ):
        path = ROOT / rel
        h.update(path.read_bytes() if path.exists() else rel.encode())
    return h.hexdigest()[:12]


SHELL_VERSION = _shell_version()


def _provider() -> maps.TileProvider:
    settings = get_settings()
    code = request.args.get("tiles") or settings.tiles
    try:
        return maps.tile_provider(code, settings.tianditu_key)
    except ValueError:
        return maps.tile_provider(settings.tiles, settings.tianditu_key)


def _page_config(lang: str) -> dict[str, Any]:
    provider = _provider()
    return {
        "lang": lang,
        "center": maps.HAINAN_CENTER,
        "zoom": maps.HAINAN_ZOOM,
        "bounds": maps.HAINAN_ISLAND_BOUNDS,
        "tiles": provider.to_json(get_settings().tianditu_key, lang),
        "categories": {
            c: {"name": CATEGORIES[c].name_en if lang == "en" else CATEGORIES[c].name_zh, **s}
            for c, s in maps.CATEGORY_STYLE.items()
        },
        "categoryOrder": list(maps.CATEGORY_STYLE),
        "amenityOrder": list(AMENITIES),
        "amenities": {a.code: a.name_en if lang == "en" else a.name_zh for a in AMENITIES.values()},
        "urls": {
            "venues": url_for("mapdata.venues"),
            "districts": url_for("mapdata.districts"),
            "icons": url_for("static", filename="img/amenities.svg"),
            "sw": url_for("views.service_worker"),
        },
        "nearestDefault": "outdoor_station",
        "i18n": js_catalogue(),
    }


@bp.get("/")
def index() -> Response:
    """The worker map."""
    lang = current_language()
    html = render_template("map.html", lang=lang, page=_page_config(lang), shell_version=SHELL_VERSION)
    resp = Response(html, mimetype="text/html")  # security headers: locator.web.security
    resp.headers["Vary"] = "Cookie"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    if host.startswith("t{s}."):
        return f"{scheme}://*.{host[5:]}"
    if "{s}" in host:
        return f"{scheme}://*.{host.split('.', 1)[1]}"
    return f"{scheme}://{host}"


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, served from the root so its scope is the whole app."""
    text = (Path(current_app.static_folder or "") / "sw.js").read_text(encoding="utf-8")  # type: ignore[arg-type]
    resp = Response(text.replace("__SHELL_VERSION__", SHELL_VERSION), mimetype="text/javascript")
    resp.headers["Service-Worker-Allowed"] = "/"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/static/vendor/<path:name>")
def vendor(name: str) -> Response:
    """Leaflet and Leaflet.markercluster from node_modules (allowlisted files only).

    Sent as an ordinary (not pass-through) body with a JavaScript type the
    compressor knows, so the 150 KB of Leaflet travels as about 43 KB.
    """
    path = maps.vendor_file(name)
    if path is None or not path.is_file():
        abort(404)
    mimetype = _VENDOR_TYPES.get(path.suffix, "application/octet-stream")
    body = path.read_bytes()
    resp = Response(body, mimetype=mimetype)
    resp.set_etag(hashlib.sha1(body).hexdigest()[:20])
    resp.headers["Cache-Control"] = "public, max-age=604800"
    resp.make_conditional(request)
    return resp


_VENDOR_TYPES = {".js": "application/javascript", ".css": "text/css", ".png": "image/png"}
