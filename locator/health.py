"""Blueprint for liveness and readiness probes: ``/healthz`` and ``/readyz``."""

from __future__ import annotations

from flask import Blueprint

from .extension import get_register

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> dict[str, object]:
    """The index is loaded; says which data version this process serves."""
    reg = get_register()
    return {"status": "ready", "venues": len(reg.index), "data_version": reg.index.version}
