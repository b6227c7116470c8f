"""Blueprint for pages: the worker map at ``/``, its service worker at
``/sw.js``, and the front-end libraries at ``/static/vendor/<name>``
(an allowlist of files in ``node_modules/``; nothing built from npm is committed).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from locator.categories import AMENITIES, CATEGORIES
from locator.config import ROOT
from locator.io import maps
from locator.tiles import CATEGORY_STYLE
from locator.web.i18n import current_language, label
from locator.web.pages import base_page_config

bp = Blueprint("views", __name__)

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


def vendor_file(name: str, node_modules: Path = maps.NODE_MODULES) -> Path | None:
    """The node_modules file served as ``/static/vendor/<name>``, or None if not allowed."""
    rel = VENDOR_FILES.get(name)
    return node_modules / rel if rel else None


def _shell_version() -> str:
    """A hash of the app shell's files: a new release gets a new service-worker cache by itself."""
    h = hashlib.sha256()
    shell = sorted([*ROOT.glob("static/js/*.js"), *ROOT.glob("static/css/*.css"), *ROOT.glob("templates/*.html")]) + [
        ROOT / "static/sw.js",
        ROOT / "package-lock.json",
    ]
    for path in shell:
        rel = str(path.relative_to(ROOT))
        h.update(path.read_bytes() if path.exists() else rel.encode())
    return h.hexdigest()[:12]


SHELL_VERSION = _shell_version()


def page_config(lang: str) -> dict[str, Any]:
    """The worker map's configuration (``#cfg``): the base config plus categories, amenities, URLs."""
    cfg = base_page_config(lang)
    cfg.update(
        {
            "categories": {c: {"name": label(CATEGORIES[c], lang), **s} for c, s in CATEGORY_STYLE.items()},
            "categoryOrder": list(CATEGORY_STYLE),
            "amenityOrder": list(AMENITIES),
            "amenities": {a.code: label(a, lang) for a in AMENITIES.values()},
            "urls": {
                "venues": url_for("mapdata.venues"),
                "districts": url_for("mapdata.districts"),
                "icons": url_for("static", filename="img/amenities.svg"),
                "sw": url_for("views.service_worker"),
                "places": url_for("places.places"),
                "report": url_for("reports.report", venue_id="__ID__"),
                "confirm": url_for("reports.confirm", venue_id="__ID__"),
                "confirmToken": url_for("reports.token"),
            },
            "nearestDefault": "outdoor_station",
        }
    )
    return cfg


@bp.get("/")
def index() -> Response:
    """The worker map."""
    lang = current_language()
    html = render_template("map.html", lang=lang, page=page_config(lang), shell_version=SHELL_VERSION)
    resp = Response(html, mimetype="text/html")  # security headers: locator.web.security
    resp.headers["Vary"] = "Cookie"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, served from the root so its scope is the whole app."""
    text = (Path(current_app.static_folder or "") / "sw.js").read_text(encoding="utf-8")  # type: ignore[arg-type]
    resp = Response(text.replace("__SHELL_VERSION__", SHELL_VERSION), mimetype="text/javascript")
    resp.headers["Service-Worker-Allowed"] = "/"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


#: The installed app's colours: the header's (templates/map.html theme-color) and the page's.
THEME_COLOUR, BACKGROUND_COLOUR = "#9a3412", "#ffffff"


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest: with the service worker, what makes the map installable as an app.

    Chinese first (the workers' language): the name, the description and ``lang``.
    """
    body = {
        "id": "/",
        "name": "海南职工服务阵地地图",
        "short_name": "职工服务阵地",
        "description": "查找离您最近的户外劳动者服务站和职工服务阵地",
        "lang": "zh-CN",
        "dir": "ltr",
        "start_url": url_for("views.index"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "categories": ["navigation", "utilities"],
        "icons": [
            {"src": url_for("static", filename=f"img/icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png"}
            for n in ICON_SIZES
        ]
        + [{"src": url_for("static", filename="img/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    resp = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


#: The PNG icons the manifest lists (rendered once from icon.svg by deploy/build_icons.py).
ICON_SIZES = (192, 512)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The icon browsers ask for by themselves (no more 404 in the console of every page)."""
    return _file_response(ROOT / "static" / "img" / "favicon.ico", "image/vnd.microsoft.icon")


@bp.get("/apple-touch-icon.png")
def apple_touch_icon() -> Response:
    """iOS asks the site root for this when a page is added to the home screen."""
    return _file_response(ROOT / "static" / "img" / "apple-touch-icon.png", "image/png")


def _file_response(path: Path, mimetype: str) -> Response:
    """A file that changes only with a release: an ETag of its bytes, cached for a week."""
    body = path.read_bytes()
    resp = Response(body, mimetype=mimetype)
    resp.set_etag(hashlib.sha1(body).hexdigest()[:20])
    resp.headers["Cache-Control"] = "public, max-age=604800"
    resp.make_conditional(request)
    return resp


@bp.get("/static/vendor/<path:name>")
def vendor(name: str) -> Response:
    """Leaflet and Leaflet.markercluster from node_modules (allowlisted files only).

    Sent as an ordinary (not pass-through) body with a JavaScript type the
    compressor knows, so the 150 KB of Leaflet travels as about 43 KB.
    """
    path = vendor_file(name)
    if path is None or not path.is_file():
        abort(404)
    return _file_response(path, _VENDOR_TYPES.get(path.suffix, "application/octet-stream"))


_VENDOR_TYPES = {".js": "application/javascript", ".css": "text/css", ".png": "image/png"}
