"""Blueprint for importing a register file from the admin pages: upload, read the report, confirm, write.

The page is ``locator import`` in a browser, on the same code path
(``locator.io.import_plan``): the upload is planned exactly as the command
plans a file, the page shows the plan's lines (the row report, the
conflicts, the verdict) and its outcome, which is the command's exit status.
Nothing is written on upload. When the plan would write, the file stays
server-side under a random token in the instance folder for
:data:`KEEP_SECONDS`, tied to the admin who uploaded it; "confirm and write"
posts only the token, the file is planned again (the register may have
changed meanwhile: new conflicts refuse it) and written under the admin's
name, audited as a CLI import is. Every other upload is deleted as soon as
its report is made, and a kept one once it is confirmed, cancelled or stale.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
import unicodedata
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from locator.io.import_plan import IMPORT_MODES, ImportPlan, ImportResult, apply_import, plan_import
from locator.web import auth
from locator.web.i18n import gettext
from locator.web.places import gazetteer
from locator.web.state import get_register, get_settings

__all__ = ["CRS_CHOICES", "KEEP_SECONDS", "bp"]

bp = Blueprint("admin_import", __name__, url_prefix="/admin")

#: How long an upload waits for its "confirm and write", seconds.
KEEP_SECONDS = 15 * 60
#: The form's datum choices; ``auto`` is the CLI without ``--crs`` (tested under all three, never shifted silently).
CRS_CHOICES = ("auto", "wgs84", "gcj02", "bd09")
#: The HTTP status of a page that shows an outcome (the CLI's exit status).
STATUS_OF_OUTCOME = {0: 200, 1: 422, 2: 400, 3: 503}
_TOKEN = re.compile(r"[A-Za-z0-9_-]{24}")
_UPLOADS = "imports"
_NAME_LIMIT = 120


def _uploads() -> Path:
    return Path(current_app.instance_path) / _UPLOADS


def _upload_name(filename: str) -> str:
    """The uploaded file's own name, safe as one path component; Chinese kept (it names the venues' source)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".").strip()
    if len(name) > _NAME_LIMIT:
        stem, dot, suffix = name.rpartition(".")
        name = stem[: _NAME_LIMIT - len(suffix) - 1] + dot + suffix if dot and len(suffix) <= 8 else name[:_NAME_LIMIT]
    return name or "upload"


def _purge(now: float) -> None:
    """Delete uploads nobody confirmed in time (and the leftovers of a crash)."""
    root = _uploads()
    if not root.is_dir():
        return
    for entry in root.iterdir():
        try:
            if now - entry.stat().st_mtime > KEEP_SECONDS:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        except OSError:  # another worker removed it first
            continue


def _discard(token: str) -> None:
    shutil.rmtree(_uploads() / token, ignore_errors=True)
    for meta in _uploads().glob(f"{token}.*json"):
        meta.unlink(missing_ok=True)


def _plan(path: Path, name: str, crs: str, mode: str, dry_run: bool) -> ImportPlan:
    return plan_import(
        path,
        get_register(),
        None if crs == "auto" else crs,
        gazetteer(),
        mode,
        dry_run=dry_run,
        name=name,
    )


def _ctx(**extra: Any) -> dict[str, Any]:
    limit = get_settings().max_content_length
    return {
        "user": auth.current_user(),
        "crs_choices": CRS_CHOICES,
        "modes": IMPORT_MODES,
        "limit_mb": None if limit is None else f"{limit / 1024 / 1024:g}",
        "form": {"crs": "auto", "mode": "merge", "dry_run": False},
        "keep_minutes": KEEP_SECONDS // 60,
        **extra,
    }


def _result_page(
    plan: ImportPlan, form: dict[str, Any], token: str | None = None, result: ImportResult | None = None
) -> ResponseReturnValue:
    outcome = result.outcome if result is not None else plan.outcome
    return render_template(
        "admin/import.html", **_ctx(plan=plan, form=form, token=token, result=result, outcome=outcome)
    ), STATUS_OF_OUTCOME[outcome]


@bp.get("/import")
@auth.login_required
def form() -> ResponseReturnValue:
    return render_template("admin/import.html", **_ctx())


@bp.post("/import")
@auth.login_required
def upload() -> ResponseReturnValue:
    """Plan the uploaded file and show the plan; keep the file only when the plan would write it."""
    crs, mode = request.form.get("crs", "auto"), request.form.get("mode", "merge")
    dry_run = request.form.get("dry_run") == "1"
    form = {"crs": crs, "mode": mode, "dry_run": dry_run}
    file = request.files.get("file")
    error = None
    if crs not in CRS_CHOICES:
        error = gettext("坐标系 %(v)s 不是可选项之一：%(ok)s", v=repr(crs), ok=", ".join(CRS_CHOICES))
    elif mode not in IMPORT_MODES:
        error = gettext("导入方式 %(v)s 不是可选项之一：%(ok)s", v=repr(mode), ok=", ".join(IMPORT_MODES))
    elif file is None or not file.filename:
        error = gettext("请选择要导入的文件。")
    if error is not None or file is None:
        return render_template("admin/import.html", **_ctx(form=form, error=error)), 400
    now = time.time()
    _purge(now)
    token = secrets.token_urlsafe(18)  # 24 characters of [A-Za-z0-9_-]
    name = _upload_name(file.filename or "")
    folder = _uploads() / token
    keep = False
    try:
        try:
            folder.mkdir(parents=True)
            path = folder / name
            file.save(path)
        except OSError as exc:  # the instance folder is full or read-only: the CLI's exit 3
            reason = " ".join(str(exc.strerror or exc).split())
            plan = ImportPlan(name=name, mode=mode, error=f"the upload could not be stored: {reason}", outcome=3)
            return _result_page(plan, form)
        plan = _plan(path, name, crs, mode, dry_run)
        if plan.write:
            meta = {"user": auth.current_user(), "name": name, "crs": crs, "mode": mode, "at": now}
            (_uploads() / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            keep = True
    finally:
        if not keep:
            _discard(token)
    return _result_page(plan, form, token=token if keep else None)


@bp.post("/import/confirm")
@auth.login_required
def confirm() -> ResponseReturnValue:
    """Write a kept upload: plan it again (the register may have moved on) and write it as the admin."""
    token = request.form.get("token", "")
    user = auth.current_user()
    _purge(time.time())
    meta = _claim(token, user) if _TOKEN.fullmatch(token) else None
    if meta is None:
        error = gettext("这次上传已过期或不存在（保留 %(m)s 分钟），请重新上传。", m=KEEP_SECONDS // 60)
        return render_template("admin/import.html", **_ctx(error=error)), 410
    form = {"crs": meta["crs"], "mode": meta["mode"], "dry_run": False}
    try:
        if request.form.get("action") == "cancel":
            return redirect(url_for("admin_import.form"), code=303)
        plan = _plan(_uploads() / token / meta["name"], meta["name"], meta["crs"], meta["mode"], False)
        result = None
        if plan.error is None and plan.write:
            result = apply_import(plan, get_register().store, actor=user or "?")
            if result.written:
                get_register().refresh()  # this process serves its own write at once
        return _result_page(plan, form, result=result)
    finally:
        _discard(token)


def _claim(token: str, user: str | None) -> dict[str, Any] | None:
    """The kept upload's record, taken by this request alone (a double click writes once), or None."""
    meta_path = _uploads() / f"{token}.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("user") != user:  # someone else's upload: as if it did not exist, and left for its owner
        return None
    taken = meta_path.with_name(f"{token}.{secrets.token_hex(4)}.taken.json")
    try:
        os.rename(meta_path, taken)
    except OSError:  # another request claimed it first
        return None
    if time.time() - float(meta.get("at", 0)) > KEEP_SECONDS:
        _discard(token)
        return None
    return dict(meta)
