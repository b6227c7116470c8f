"""Blueprint for the public 「报告问题」 form on each venue, and the card's one-tap confirmations.

Reports go to a moderation queue (``/admin/reports``); nothing changes until
an admin accepts one. Spam defences: a CSRF token, a hidden honeypot field,
and a per-client hourly limit kept in the register (so it holds across
worker processes). Clients are counted by a keyed hash of their address;
the address itself is not stored.

A report written offline waits in the browser (static/js/report.js) and is
sent when the network is back. The token in the cached page may have expired
by then (Flask-WTF's time limit) or belong to another session, so the script
first asks ``/report/token`` for a fresh one. That keeps CSRF whole: the token
is bound to the caller's session cookie, and another site can send the
cookie but cannot read the answer (same-origin policy, no CORS), so a forged
post still arrives without a valid token and is refused.

A confirmation (开着 / 关着 / 设施有问题 on the map card) is a report of kind
``confirm_*``, under the same CSRF defence and hourly limit: the map page's
script fetches a token from ``/report/token`` on the first tap (so the cached,
cookie-free map page needs none) and sends it in ``X-CSRFToken``. Repeated
关着 taps mark the venue (``locator.config.CLOSED_TAPS``).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import generate_csrf

from locator.categories import AMENITIES, CATEGORIES
from locator.config import CLOSED_TAPS, CLOSED_TAPS_DAYS, CONFIRM_MAX_BODY
from locator.editing import CONFIRMATION_KINDS, REPORT_KINDS, apply_report, validate_report
from locator.errors import InvalidParameter
from locator.hours import TZ
from locator.storage import TooManyReports
from locator.web.problems import problem
from locator.web.state import get_register, get_settings

bp = Blueprint("reports", __name__)


def _client() -> str:
    addr = request.remote_addr or "?"
    key = get_settings().secret_key.encode()
    return hmac.new(key, addr.encode(), hashlib.sha256).hexdigest()[:32]


@bp.route("/report/<venue_id>", methods=["GET", "POST"])
def report(venue_id: str) -> Any:
    reg = get_register()
    venue = reg.index.get(venue_id)  # from memory (active venues only): opens while the store is down
    if venue is None:
        abort(404)
    error = None
    status = 200
    if request.method == "POST":
        if request.form.get("website"):  # the honeypot: people never see it, bots fill it
            return redirect(url_for("reports.thanks"), code=303)
        try:
            kind, message, proposal = validate_report(request.form)
            # A proposal that could not be applied (a point at sea, outside Hainan, NaN) is refused now,
            # with the reason on the form, not found later by the moderators.
            apply_report(venue, kind, proposal, reg.districts)
            reg.store.add_report(venue.id, kind, message, proposal, _client(), get_settings().reports_per_hour)
        except InvalidParameter as exc:
            error, status = str(exc), 400
        except TooManyReports:
            error, status = "too_many", 429
        else:
            return redirect(url_for("reports.thanks"), code=303)
    return render_template(
        "admin/report_form.html",
        venue=venue,
        kinds=REPORT_KINDS,
        amenities=AMENITIES,
        categories=CATEGORIES,
        error=error,
        form=request.form,
        generated=datetime.now(TZ).strftime("%Y-%m-%d %H:%M"),  # the offline banner's "data from"
    ), status


@bp.get("/report/thanks")
def thanks() -> str:
    return render_template("admin/report_thanks.html")


@bp.get("/report/token")
def token() -> Response:
    """A fresh CSRF token for a report queued offline, or the card's first confirmation tap (JSON, never cached)."""
    resp = jsonify(csrf_token=generate_csrf())
    resp.headers["Cache-Control"] = "no-store"
    return resp


#: What a tap may say (the form's ``kind``) -> the report kind it is queued as.
TAPS = {code.removeprefix("confirm_"): code for code in CONFIRMATION_KINDS}


@bp.post("/confirm/<venue_id>")
def confirm(venue_id: str) -> Response:
    """Queue one tap: 201 ``{"id", "reported_closed"}``; 429 past the client's hourly report limit.

    The CSRF token was checked before this runs (``CSRFProtect``, 403 without it).
    """
    if (request.content_length or 0) > CONFIRM_MAX_BODY:
        return problem(413, "Payload Too Large", f"a confirmation is at most {CONFIRM_MAX_BODY} bytes")
    reg = get_register()
    venue = reg.index.get(venue_id)  # from memory (active venues only); the write itself needs the store
    if venue is None:
        return problem(404, "Not Found", f"no venue {venue_id[:80]!r}")
    kind = request.form.get("kind", "")
    if kind not in TAPS:
        return problem(
            400,
            "Bad Request",
            f"kind: expected one of {', '.join(TAPS)}, got {kind[:40]!r}",
            [{"name": "kind", "reason": f"expected one of {', '.join(TAPS)}"}],
        )
    settings = get_settings()
    try:
        report_id, marked = reg.store.add_confirmation(
            venue.id, TAPS[kind], _client(), settings.reports_per_hour, CLOSED_TAPS, CLOSED_TAPS_DAYS
        )
    except TooManyReports as exc:
        return problem(429, "Too Many Requests", str(exc), headers={"Retry-After": "3600"})
    resp = jsonify(id=report_id, reported_closed=marked)
    resp.status_code = 201
    resp.headers["Cache-Control"] = "no-store"
    return resp
