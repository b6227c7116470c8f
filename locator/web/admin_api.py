"""Blueprint ``/api/v1/admin``: the register's editing API, behind bearer tokens.

Thin, as the pages (``locator.web.admin``): validation lives in
``locator.editing``, writes go through the store's audited path, and nothing
is erased (closing is a soft delete). It takes no cookies, so CSRF does not
apply (``admin.init_app`` exempts it). Also home of what both editing
blueprints share: :func:`venue_or_404` and :func:`serve_own_writes`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from locator.categories import AMENITIES, CATEGORY_CODES
from locator.editing import MAX_TEXT, venue_from_fields
from locator.errors import InvalidParameter, NotFound
from locator.venues import STATUSES, Venue, venue_to_feature
from locator.web import auth, oas
from locator.web.api import export_ok, export_response
from locator.web.problems import ApiError
from locator.web.state import get_register

__all__ = ["AUDIT_LIMIT", "api_bp", "get_oas", "serve_own_writes", "venue_etag", "venue_or_404"]

api_bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")

AUDIT_LIMIT = 100
"""How many of the latest audit entries ``/api/v1/admin/audit`` returns."""


def serve_own_writes(response: Response) -> Response:
    """After a write, this process brings its index up to date at once (others follow by NOTIFY or poll)."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400:
        get_register().refresh()
    return response


api_bp.after_request(serve_own_writes)


def venue_or_404(reg: Any, venue_id: str) -> Venue:
    """The venue (closed ones included), or a 404: an HTML page or problem+json, by path."""
    venue: Venue | None = reg.store.get(venue_id)
    if venue is None:
        raise NotFound(f"no venue {venue_id!r}")
    return venue


def venue_etag(venue: Venue) -> str:
    """A venue's version: a hash of every field, so any change by anyone gives a new one.

    The API sends it as the ``ETag`` and requires it back in ``If-Match``; the
    edit form carries it in a hidden field. A write made from a stale copy is
    refused instead of silently undoing someone else's change.
    """
    text = json.dumps(venue.as_dict(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


_CODINGS = ("zstd", "br", "gzip", "deflate")
"""The content codings ``locator.web.http`` may compress a venue with (its ETag then ends ``:<coding>``)."""


def _require_current(venue: Venue) -> None:
    """428 without ``If-Match``, 412 when it names another version of the venue."""
    if "If-Match" not in request.headers:
        raise ApiError(
            428,
            "Precondition Required",
            "send If-Match with the venue's ETag (GET it first), so that no one else's change is overwritten",
            [{"name": "If-Match", "reason": "is required"}],
        )
    current = venue_etag(venue)
    # a compressed GET's ETag carries its coding (Flask-Compress: "…:br"); it names the same version
    if not any(tag in request.if_match for tag in (current, *(f"{current}:{c}" for c in _CODINGS))):
        raise ApiError(
            412,
            "Precondition Failed",
            f"the venue changed since it was read (If-Match {request.headers['If-Match'][:100]!r}, "
            f'now "{venue_etag(venue)}"); GET it again and reapply the change',
            [{"name": "If-Match", "reason": "is not the venue's current ETag"}],
        )


def _venue_response(venue: Venue, status: int = 200) -> Response:
    response = jsonify(venue_to_feature(venue))
    response.status_code = status
    response.set_etag(venue_etag(venue))
    response.headers["Cache-Control"] = "no-store"
    return response


# -- the admin API (bearer tokens) ---------------------------------------------
def _json_fields() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser goes: as malformed as any other bad body
        body = None
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "Bad Request",
            "the body must be a JSON object of venue fields",
            [{"name": "body", "reason": "must be a JSON object"}],
        )
    return body


def _stored(reg: Any, venue: Venue) -> Venue:
    """The venue as the store wrote it (an edit also stamps ``last_confirmed``), so its ETag is the stored one."""
    return reg.store.get(venue.id) or venue


def _user() -> str:
    return str(request.environ.get("locator.admin_user", "?"))


@api_bp.post("/venues")
@auth.api_auth_required
def api_create() -> tuple[Response, int]:
    reg = get_register()
    venue = venue_from_fields(_json_fields(), reg.districts)
    reg.store.edit(venue, _user(), "create", "api")
    return _venue_response(_stored(reg, venue), 201), 201


@api_bp.get("/venues/<venue_id>")
@auth.api_auth_required
def api_get(venue_id: str) -> Response:
    return _venue_response(venue_or_404(get_register(), venue_id))


@api_bp.route("/venues/<venue_id>", methods=["PATCH", "PUT"])
@auth.api_auth_required
def api_update(venue_id: str) -> Response:
    reg = get_register()
    venue = venue_or_404(reg, venue_id)
    _require_current(venue)
    fields = _json_fields()
    if "id" in fields and fields["id"] != venue_id:
        raise InvalidParameter("id", f"cannot change a venue's id (got {fields['id']!r})")
    updated = venue_from_fields(fields, reg.districts, venue)
    if updated != venue:
        moved = (updated.lon, updated.lat) != (venue.lon, venue.lat)
        reg.store.edit(updated, _user(), "move" if moved else "update", "api")
        updated = _stored(reg, updated)
    return _venue_response(updated)


@api_bp.delete("/venues/<venue_id>")
@auth.api_auth_required
def api_close(venue_id: str) -> Response:
    """Close a venue: a soft delete; the record and its history stay."""
    reg = get_register()
    venue = venue_or_404(reg, venue_id)
    _require_current(venue)
    if venue.status != "closed":
        venue = Venue(**{**venue.as_dict(), "amenities": venue.amenities, "status": "closed"})
        reg.store.edit(venue, _user(), "close", "api")
        venue = _stored(reg, venue)
    return _venue_response(venue)


@api_bp.get("/export")
@auth.api_auth_required
def api_export() -> Response:
    """The whole register, closed venues included, in ``format`` (csv, xlsx, geojson, gpkg)."""
    version, venues = get_register().store.snapshot_venues(include_closed=True)  # closed ones too: from the store
    return export_response(venues, request.args.get("format", "csv"), version)  # an empty format= is refused


@api_bp.get("/audit")
@auth.api_auth_required
def api_audit() -> Response:
    entries = get_register().store.audit_log(limit=AUDIT_LIMIT, venue_id=request.args.get("venue"))
    return jsonify([e._asdict() for e in entries])


def _op(
    method: str,
    summary: str,
    description: str,
    params: list[str],
    success: dict[str, Any],
    body: bool = False,
    status: str = "200",
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"admin_{method}_{summary.lower().replace(' ', '_')}",
        "summary": summary,
        "description": description + " Needs `Authorization: Bearer <token>` (`locator admin new-token NAME`).",
        "tags": ["admin"],
        "security": [{"bearerAuth": []}],
        "parameters": [oas.ref(p) for p in params],
        "responses": {status: success, "400": oas.error("400"), "401": oas.error("401"), "404": oas.error("404")},
    }
    if method in ("patch", "put", "delete"):
        op["parameters"].append(oas.ref("ifMatch"))
        op["responses"]["412"] = oas.error("412")
        op["responses"]["428"] = oas.error("428")
    if body:
        schema = "NewVenue" if method == "post" else "VenueFields"
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    return {method: op}


def get_oas() -> oas.Fragment:
    """This blueprint's part of the OpenAPI document (``locator.web.openapi``)."""
    api = f"{oas.API}/admin"
    venue = oas.ok("The venue.", "application/json", "Venue")
    paths = {
        f"{api}/venues": _op(
            "post",
            "Create venue",
            "Add a venue; recorded in the audit log.",
            [],
            oas.ok("The new venue.", "application/json", "Venue"),
            body=True,
            status="201",
        ),
        f"{api}/venues/{{venueId}}": {
            **_op("get", "Get venue", "One venue, closed ones included.", ["venueId"], venue),
            **_op(
                "patch",
                "Update venue",
                "Change or move a venue; recorded in the audit log.",
                ["venueId"],
                venue,
                body=True,
            ),
            **_op("put", "Replace venue", "As PATCH.", ["venueId"], venue, body=True),
            **_op(
                "delete",
                "Close venue",
                "Close a venue: a soft delete, the record and its history stay.",
                ["venueId"],
                oas.ok("The closed venue.", "application/json", "Venue"),
            ),
        },
        f"{api}/export": _op(
            "get", "Export register", "The whole register, closed venues included.", ["format"], export_ok()
        ),
        f"{api}/audit": _op(
            "get",
            "Audit log",
            f"The latest {AUDIT_LIMIT} changes, newest first: who, when, action, before and after.",
            ["auditVenue"],
            {
                "description": "Audit entries.",
                "content": {"application/json": {"schema": {"type": "array", "items": AUDIT_ENTRY_SCHEMA}}},
            },
        ),
    }
    parameters = {
        "venueId": oas.param(
            "venueId", "A venue id.", {"type": "string", "minLength": 1, "example": "460105-IS-001"}, where="path"
        ),
        "auditVenue": oas.param(
            "venue", "Only the changes to this venue (its id).", {"type": "string", "example": "460105-IS-001"}
        ),
        "ifMatch": oas.param(
            "If-Match",
            "The venue's ETag from a GET (required: 428 without it, 412 when the venue has changed since).",
            {"type": "string"},
            where="header",
            required=True,
        ),
    }
    return oas.fragment(paths, parameters, {"VenueFields": VENUE_FIELDS_SCHEMA, "NewVenue": NEW_VENUE_SCHEMA})


_CODE = f"({'|'.join(AMENITIES)})"
_AMENITY_TEXT = rf"^\s*{_CODE}?\s*([,;]\s*{_CODE}?\s*)*$"
"""Amenity codes as text (the edit form's way, also taken here), separated by commas or semicolons."""
_NUMBER_TEXT = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)\s*$"
"""A decimal number as text (the edit form's way, also taken here)."""


def _coordinate(limit: int, example: float) -> dict[str, Any]:
    number = {"type": "number", "minimum": -limit, "maximum": limit}
    return {"anyOf": [number, {"type": "string", "pattern": _NUMBER_TEXT}], "example": example}


def _text(limit: int = MAX_TEXT) -> dict[str, Any]:
    return {"type": "string", "maxLength": limit, "nullable": True}


VENUE_FIELDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Venue fields (WGS-84 lon/lat; the point must lie on Hainan's land). On PATCH/PUT, absent "
    "or null fields keep their value; the district is the one the point lies in. Text is trimmed.",
    "properties": {
        "name": {**_text(), "minLength": 1, "pattern": r"\S"},
        "category": {"type": "string", "enum": [*CATEGORY_CODES, None], "nullable": True},
        "lon": {**_coordinate(180, 110.33), "nullable": True},
        "lat": {**_coordinate(90, 20.03), "nullable": True},
        "address": _text(),
        "operator": _text(),
        "phone": _text(40),
        "opening_hours": {
            **_text(),
            "description": "OpenStreetMap opening_hours syntax.",
            "example": "Mo-Fr 09:00-17:00",
        },
        "amenities": {
            "anyOf": [
                {"type": "array", "items": {"type": "string", "enum": list(AMENITIES)}},
                {"type": "string", "pattern": _AMENITY_TEXT, "description": "The codes separated by , or ;"},
            ],
            "nullable": True,
        },
        "description": _text(1000),
        "status": {"type": "string", "enum": [*STATUSES, None], "nullable": True},
    },
}
"""What ``locator.editing.venue_from_fields`` takes."""

NEW_VENUE_SCHEMA: dict[str, Any] = {
    **VENUE_FIELDS_SCHEMA,
    "description": "A new venue's fields (WGS-84 lon/lat; the point must lie on Hainan's land). Text is trimmed.",
    "required": ["name", "category", "lon", "lat"],
    "properties": {
        **VENUE_FIELDS_SCHEMA["properties"],
        "name": {**_text(), "minLength": 1, "pattern": r"\S", "nullable": False},
        "category": {"type": "string", "enum": list(CATEGORY_CODES)},
        "lon": _coordinate(180, 110.33),
        "lat": _coordinate(90, 20.03),
    },
}
"""What ``POST /api/v1/admin/venues`` takes: name, category and the point are required."""

AUDIT_ENTRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "at", "actor", "action", "venue_id", "before", "after", "note"],
    "properties": {
        "id": {"type": "integer"},
        "at": {"type": "string", "description": "When, ISO 8601 (UTC)."},
        "actor": {"type": "string"},
        "action": {"type": "string", "example": "update"},
        "venue_id": {"type": "string", "nullable": True},
        "before": {"type": "object", "nullable": True, "description": "The venue's fields before (null: created)."},
        "after": {"type": "object", "nullable": True, "description": "The venue's fields after."},
        "note": {"type": "string"},
    },
}
"""One entry of ``/api/v1/admin/audit`` (``locator.storage.AuditEntry``)."""
