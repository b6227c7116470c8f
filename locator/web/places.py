"""Blueprint ``/api/v1/places``: Hainan's places by name, for the map's start point.

The worker map's search box asks here first: a place name (三亚, 那大镇,
Nada) moves the start point of the nearest search, anything else filters the
venues by name. The gazetteer (``locator.gazetteer``, GeoNames CC-BY 4.0) is
read once per app into ``AppState.places``; a request only looks a name up.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, request

from locator import params
from locator.errors import InvalidParameter
from locator.gazetteer import Gazetteer, load_gazetteer
from locator.web import oas
from locator.web.api import json_response
from locator.web.state import app_state, get_register, get_settings

__all__ = ["MAX_PLACE_Q", "MAX_PLACES", "bp", "get_oas", "gazetteer"]

bp = Blueprint("places", __name__, url_prefix="/api/v1")

MAX_PLACE_Q = 40
"""Longest accepted ``q`` of ``/places`` (the longest Hainan place name is far shorter)."""
MAX_PLACES = 10
"""Most places ``/places`` returns."""


def gazetteer(app: Flask | None = None) -> Gazetteer:
    """The app's gazetteer (``GEODATA_DIR/places.json``), read on first use and kept for the app's life.

    The one place the web app reads it: the ``/places`` search and the coverage page's
    site names both come here.
    """
    path = get_settings(app).places_file
    return app_state(app).places.get(str(path), lambda: load_gazetteer(path))


@bp.get("/places")
def places() -> Response:
    """The places named ``q`` (Chinese with or without 市/镇…, pinyin, full-width), most populous first."""
    params.reject_repeats(request.args)
    q = params.one(request.args, "q")
    if q is None or not q.strip():
        raise InvalidParameter("q", "is required")
    if len(q) > MAX_PLACE_Q:
        raise InvalidParameter("q", f"must be at most {MAX_PLACE_Q} characters, got {len(q)}")
    districts = get_register().districts
    out: list[dict[str, Any]] = []
    for p in gazetteer().lookup(q.strip())[:MAX_PLACES]:
        d = districts.get(p.district_code)
        out.append(
            {
                "id": p.id,
                "name_zh": p.name_zh,
                "name_en": p.name_en,
                "kind": p.kind,
                "district_code": p.district_code,
                "district": d.name_zh if d else None,
                "lon": p.lon,
                "lat": p.lat,
            }
        )
    resp = json_response({"places": out})
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


PLACE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name_zh", "name_en", "kind", "district_code", "lon", "lat"],
    "properties": {
        "id": {"type": "string"},
        "name_zh": {"type": "string"},
        "name_en": {"type": "string"},
        "kind": {"type": "string", "enum": ["city", "district", "county", "town", "township", "subdistrict", "place"]},
        "district_code": {"type": "string"},
        "district": {"type": "string", "nullable": True, "description": "Chinese name of the district."},
        "lon": {"type": "number", "description": "WGS-84 longitude."},
        "lat": {"type": "number", "description": "WGS-84 latitude."},
    },
}


def get_oas() -> oas.Fragment:
    """This blueprint's part of the OpenAPI document (``locator.web.openapi``)."""
    paths = {
        f"{oas.API}/places": oas.operation(
            "Places",
            "Hainan's cities, districts, towns and townships named `q` (GeoNames, CC-BY 4.0), most populous "
            f"first, at most {MAX_PLACES}.",
            "places",
            ["place_q"],
            oas.ok(
                "The places.",
                "application/json",
                "PlaceList",
            ),
            op_id="places",
        )
    }
    parameters = {
        "place_q": oas.param(
            "q",
            f"A place name: Chinese with or without its suffix (那大, 那大镇), pinyin, full-width; at most "
            f"{MAX_PLACE_Q} characters, not blank.",
            {"type": "string", "minLength": 1, "maxLength": MAX_PLACE_Q, "pattern": r"\S", "example": "那大"},
            True,
        )
    }
    schemas = {
        "Place": PLACE_SCHEMA,
        "PlaceList": {
            "type": "object",
            "required": ["places"],
            "properties": {
                "places": {"type": "array", "maxItems": MAX_PLACES, "items": {"$ref": "#/components/schemas/Place"}}
            },
        },
    }
    return oas.fragment(paths, parameters, schemas)
