"""Blueprint ``/api/v1/map``: the compact layers the map page draws.

``/api/v1/map/venues`` is every active venue in one compact JSON (see
:func:`compact_layer`): about 85 KB gzipped where the GeoJSON of
``/api/v1/venues`` is several times that. ``/api/v1/map/districts`` is the
district outlines simplified for display, so the map stays usable with no
tiles at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, json, request

from locator.categories import AMENITIES, CATEGORY_CODES
from locator.districts import District
from locator.hours import TZ, is_open
from locator.io import maps
from locator.venues import Venue
from locator.web import oas
from locator.web.state import app_state

__all__ = ["AMENITY_CODES", "bp", "compact_layer", "hours_intervals"]

AMENITY_CODES: tuple[str, ...] = tuple(AMENITIES)

bp = Blueprint("mapdata", __name__, url_prefix="/api/v1/map")


# -- the layer, pure --------------------------------------------------------------
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
    hours index or -1, phone, district index or -1, open now (1/0/null),
    town-level position (1 when the venue was placed at its town's centre from its address, else 0),
    last confirmed (the UTC date-time, or null), reported closed (1/0)]``.
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
                int(v.location_precision == "town"),
                v.last_confirmed,
                int(v.reported_closed),
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


# -- the endpoints ---------------------------------------------------------------


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
        layer = compact_layer(index.venues(), reg.districts, now=now, version=index.version)
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
