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

from flask import Blueprint, Response, json, request

from locator.hours import TZ
from locator.io import maps
from locator.web import oas
from locator.web.state import app_state

bp = Blueprint("mapdata", __name__, url_prefix="/api/v1/map")


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
    state = app_state()
    reg = state.register
    index = reg.index
    now = datetime.now(TZ)
    stamp = f"{index.version}-{len(index)}-{int(now.timestamp() // 300)}"

    def build() -> tuple[bytes, str]:
        layer = maps.compact_layer(index.venues(), reg.districts, now=now, version=index.version)
        body = json.dumps(layer, separators=(",", ":")).encode("utf-8")
        return body, hashlib.sha1(body).hexdigest()[:20]

    body, etag = state.map_venues.get(stamp, build)
    return _json(body, etag, 60)


@bp.get("/districts")
def districts() -> Response:
    """District outlines, simplified (about 22 KB gzipped)."""
    state = app_state()

    def build() -> tuple[bytes, str]:
        body = json.dumps(maps.district_outlines(state.register.districts), separators=(",", ":")).encode("utf-8")
        return body, hashlib.sha1(body).hexdigest()[:20]

    body, etag = state.map_outlines.get(None, build)  # the districts never change while the app runs
    return _json(body, etag, 3600)


def get_oas() -> oas.Fragment:
    """This blueprint's part of the OpenAPI document (``locator.web.openapi``)."""
    return oas.fragment(
        {
            f"{oas.API}/map/venues": oas.operation(
                "Map layer",
                "The worker map's compact venue layer: one array per venue (see the map's script), "
                "with opening times for the coming days so that `open now` works offline.",
                "map",
                [],
                oas.ok("The layer.", "application/json"),
                ("429",),
                op_id="mapVenues",
            ),
            f"{oas.API}/map/districts": oas.operation(
                "Map outlines",
                "Simplified district outlines for the map (drawn when tiles are unavailable).",
                "map",
                [],
                oas.ok("The outlines.", "application/json"),
                ("429",),
                op_id="mapDistricts",
            ),
        }
    )
