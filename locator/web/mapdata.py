"""Blueprint ``/api/v1/map``: the compact layers the map page draws.

``/api/v1/map/venues`` is every active venue in one compact JSON (see
``maps.compact_layer``): about 85 KB gzipped where the GeoJSON of
``/api/v1/venues`` is several times that. ``/api/v1/map/districts`` is the
district outlines simplified for display, so the map stays usable with no
tiles at all.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Blueprint, Flask, Response, current_app, json, request

from locator.hours import TZ
from locator.io import maps
from locator.web.state import get_register

bp = Blueprint("mapdata", __name__, url_prefix="/api/v1/map")

_CACHE_KEY = "locator.web.mapdata"


def _cache(app: Flask) -> dict[str, object]:
    return app.extensions.setdefault(_CACHE_KEY, {})  # type: ignore[no-any-return]


def _json(body: bytes, etag: str, max_age: int) -> Response:
    resp = Response(body, mimetype="application/json")
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = f"public, max-age={max_age}, must-revalidate"
    resp.make_conditional(request)
    return resp


@bp.get("/venues")
def venues() -> Response:
    """The venue layer; rebuilt when the register changes or every 5 minutes
    (``open now`` moves with the clock)."""
    reg = get_register()
    index = reg.index
    now = datetime.now(TZ)
    stamp = f"{index.version}-{len(index)}-{int(now.timestamp() // 300)}"
    cache = _cache(current_app._get_current_object())  # type: ignore[attr-defined]
    hit = cache.get("venues")
    if not (isinstance(hit, tuple) and hit[0] == stamp):
        layer = maps.compact_layer(index.venues(), reg.districts, now=now, version=index.version)
        body = json.dumps(layer, separators=(",", ":")).encode("utf-8")
        hit = (stamp, body, hashlib.sha1(body).hexdigest()[:20])
        cache["venues"] = hit
    return _json(hit[1], hit[2], 60)


@bp.get("/districts")
def districts() -> Response:
    """District outlines, simplified (about 22 KB gzipped)."""
    cache = _cache(current_app._get_current_object())  # type: ignore[attr-defined]
    hit = cache.get("districts")
    if not isinstance(hit, tuple):
        body = json.dumps(maps.district_outlines(get_register().districts), separators=(",", ":")).encode("utf-8")
        hit = (body, hashlib.sha1(body).hexdigest()[:20])
        cache["districts"] = hit
    return _json(hit[0], hit[1], 3600)
