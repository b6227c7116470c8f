"""Blueprint for editing the register: the ``/admin`` pages (the API is ``locator.web.admin_api``).

Both are thin: validation lives in ``locator.editing``, writes go through the
store's audited path, and nothing is erased (closing is a soft delete).
Pages need a login (session cookie, CSRF-protected forms); the API needs a
bearer token and takes no cookies.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect

from locator.categories import AMENITIES, CATEGORIES
from locator.editing import CONFIRMATION_KINDS, REPORT_KINDS, apply_report, venue_from_fields
from locator.errors import InvalidParameter, LocatorError
from locator.venues import Venue
from locator.web import auth
from locator.web.admin_api import api_bp, serve_own_writes, venue_etag, venue_or_404
from locator.web.http import current_request
from locator.web.i18n import gettext
from locator.web.problems import problem
from locator.web.state import get_register

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE = 50


def init_app(app: Flask) -> None:
    """Sessions with a real secret, CSRF on every form, and the two blueprints."""
    auth.init_app(app)
    # Flask-WTF's own hook looks up its exemptions on every request, GETs included; ours asks only of writes
    # (what it checks is unchanged: the methods in WTF_CSRF_METHODS, exemptions applied).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf = CSRFProtect(app)
    csrf.exempt(api_bp)  # bearer tokens, no cookies: nothing for a forged form to ride on
    unsafe = frozenset(app.config.get("WTF_CSRF_METHODS") or ("POST", "PUT", "PATCH", "DELETE"))

    @app.before_request
    def _csrf_on_writes() -> None:
        if current_request().environ["REQUEST_METHOD"].upper() in unsafe and app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect(apply_exemptions=True)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Response:
        return problem(
            403, "Forbidden", f"the form's CSRF token is missing or wrong ({exc.description}); reload the page"
        )

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)


bp.after_request(serve_own_writes)


def _ctx(**extra: Any) -> dict[str, Any]:
    return {
        "user": auth.current_user(),
        "categories": CATEGORIES,
        "amenities": AMENITIES,
        "report_kinds": {**REPORT_KINDS, **CONFIRMATION_KINDS},
        "confirmation_kinds": CONFIRMATION_KINDS,
        **extra,
    }


# -- login -------------------------------------------------------------------
def _next_page() -> str:
    """Where to go after logging in: ``next=`` if it is a plain path of this site's admin area."""
    target = request.args.get("next", "")
    if target.startswith("/admin") and target.isprintable() and "\\" not in target and " " not in target:
        return target
    return url_for("admin.venues")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    status = 200
    headers: dict[str, str] = {}
    if request.method == "POST":
        name = request.form.get("username", "")[:200]
        wait = auth.login_retry_after(name)
        if wait is not None:
            error, status = gettext("登录失败次数过多，请 %(s)s 秒后再试", s=wait), 429
            headers["Retry-After"] = str(wait)
        elif auth.check_user(name, request.form.get("password", "")):
            auth.log_in(name)
            return redirect(_next_page())
        else:
            auth.login_failed(name)
            error, status = gettext("用户名或密码不对"), 401
    return render_template("admin/login.html", **_ctx(error=error)), status, headers


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    auth.end_sessions()
    return redirect(url_for("admin.login"))


# -- venues ------------------------------------------------------------------
@bp.get("/")
@auth.login_required
def venues() -> str:
    reg = get_register()
    q = (request.args.get("q") or "").strip()[:100]
    status = request.args.get("status") or "active"
    items = reg.store.venues(include_closed=True)
    items = [
        v
        for v in items
        if (status == "all" or v.status == status) and (not q or q in v.name or q in v.address or q == v.id)
    ]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    shown = items[(page - 1) * PAGE : page * PAGE]
    return render_template(
        "admin/venues.html",
        **_ctx(
            venues=shown,
            total=len(items),
            page=page,
            pages=max(1, -(-len(items) // PAGE)),
            q=q,
            status=status,
            pending=len(reg.store.reports("pending")),
        ),
    )


def _form_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {
        k: request.form.get(k)
        for k in ("name", "category", "address", "lon", "lat", "operator", "phone", "opening_hours", "description")
    }
    fields["amenities"] = request.form.getlist("amenities")
    return fields


@bp.route("/venues/new", methods=["GET", "POST"])
@auth.login_required
def new_venue() -> Any:
    reg = get_register()
    error = None
    fields: dict[str, Any] = {"lon": "110.33", "lat": "20.03", "category": "outdoor_station", "amenities": []}
    if request.method == "POST":
        fields = _form_fields()
        try:
            venue = venue_from_fields(fields, reg.districts)
        except InvalidParameter as exc:
            error = str(exc)
        else:
            reg.store.edit(venue, auth.current_user() or "?", "create")
            flash(gettext("已新增 %(name)s", name=venue.name))
            return redirect(url_for("admin.edit_venue", venue_id=venue.id), code=303)
    return render_template("admin/edit.html", **_ctx(venue=None, fields=fields, error=error)), 400 if error else 200


@bp.route("/venues/<venue_id>", methods=["GET", "POST"])
@auth.login_required
def edit_venue(venue_id: str) -> Any:
    reg = get_register()
    venue = venue_or_404(reg, venue_id)
    error = None
    fields: dict[str, Any] = venue.as_dict()
    if request.method == "POST":
        fields = _form_fields()
        if request.form.get("version") != venue_etag(venue):
            return _stale(venue, fields)
        try:
            updated = venue_from_fields(fields, reg.districts, venue)
        except InvalidParameter as exc:
            error = str(exc)
        else:
            if updated != venue:
                moved = (updated.lon, updated.lat) != (venue.lon, venue.lat)
                reg.store.edit(updated, auth.current_user() or "?", "move" if moved else "update")
                flash(gettext("已保存"))
            return redirect(url_for("admin.edit_venue", venue_id=venue_id), code=303)
    history = reg.store.audit_log(limit=20, venue_id=venue_id)
    return render_template(
        "admin/edit.html", **_ctx(venue=venue, fields=fields, error=error, history=history, version=venue_etag(venue))
    ), 400 if error else 200


def _stale(venue: Venue, fields: dict[str, Any]) -> ResponseReturnValue:
    """409: the venue changed after this form was loaded; show both values of each field that differs.

    Saving would silently undo the other change, so nothing is saved. The form
    comes back with the submitted values and the current version: saving it
    again is a deliberate choice made with the other change in view.
    """
    current = venue.as_dict()

    def shown(value: Any) -> str:
        return ", ".join(value) if isinstance(value, (list, tuple)) else "" if value is None else str(value)

    conflicts = [
        (k, shown(current.get(k)), shown(v))
        for k, v in fields.items()
        if shown(current.get(k)) != shown(v) and not (k in ("lon", "lat") and _same_number(current.get(k), v))
    ]
    history = get_register().store.audit_log(limit=20, venue_id=venue.id)
    error = gettext("此阵地在您打开表单后已被修改；未保存。请核对下列差异后再保存。")
    ctx = _ctx(venue=venue, fields=fields, error=error, history=history, version=venue_etag(venue))
    return render_template("admin/edit.html", conflicts=conflicts, **ctx), 409


def _same_number(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


@bp.post("/venues/<venue_id>/status")
@auth.login_required
def set_status(venue_id: str) -> ResponseReturnValue:
    reg = get_register()
    venue = venue_or_404(reg, venue_id)
    status = request.form.get("status")
    if status not in ("active", "closed"):
        abort(400)
    if request.form.get("version") != venue_etag(venue):
        return _stale(venue, venue.as_dict())
    if venue.status != status:
        reg.store.edit(
            Venue(**{**venue.as_dict(), "amenities": venue.amenities, "status": status}),
            auth.current_user() or "?",
            "close" if status == "closed" else "reopen",
        )
        flash(gettext("已停用") if status == "closed" else gettext("已重新启用"))
    return redirect(url_for("admin.edit_venue", venue_id=venue_id), code=303)


# -- audit and moderation ------------------------------------------------------
@bp.get("/audit")
@auth.login_required
def audit() -> str:
    reg = get_register()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    venue_id = request.args.get("venue") or None
    entries = reg.store.audit_log(limit=PAGE, offset=(page - 1) * PAGE, venue_id=venue_id)
    return render_template("admin/audit.html", **_ctx(entries=entries, page=page, venue_id=venue_id))


@bp.get("/reports")
@auth.login_required
def reports() -> str:
    reg = get_register()
    status = request.args.get("status") or "pending"
    items = reg.store.reports(None if status == "all" else status)
    rows = []
    for r in items:
        venue = reg.store.get(r.venue_id)
        change, error = _report_change(reg, r, venue) if r.status == "pending" else (None, None)
        rows.append((r, venue, change, error))
    return render_template("admin/reports.html", **_ctx(rows=rows, status=status))


def _report_change(reg: Any, report: Any, venue: Venue | None) -> tuple[Venue | None, str | None]:
    """What accepting ``report`` would change, and why it cannot when it cannot.

    Any stored report must be shown and dismissable, even one written before
    its proposal was checked (a point at sea, NaN, a malformed proposal), so a
    bad one is an explanation on its card, never an error for the whole queue.
    """
    if venue is None:
        return None, None
    try:
        proposal = report.proposal if isinstance(report.proposal, dict) else {}
        return apply_report(venue, report.kind, proposal, reg.districts), None
    except (LocatorError, ValueError, TypeError, KeyError) as exc:
        return None, str(exc)


@bp.post("/reports/<int:report_id>")
@auth.login_required
def decide(report_id: int) -> ResponseReturnValue:
    reg = get_register()
    report = reg.store.get_report(report_id)
    if report is None:
        abort(404)
    accept = request.form.get("decision") == "accept"
    change, error = _report_change(reg, report, reg.store.get(report.venue_id)) if accept else (None, None)
    try:
        if error is not None:
            raise LocatorError(error)
        reg.store.decide_report(report_id, accept, auth.current_user() or "?", change)
    except LocatorError as exc:
        flash(str(exc))
    else:
        flash(gettext("已采纳 #%(id)s", id=report_id) if accept else gettext("已驳回 #%(id)s", id=report_id))
    return redirect(url_for("admin.reports"), code=303)
