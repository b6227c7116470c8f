"""Blueprint for liveness and readiness probes: ``/healthz`` and ``/readyz``."""

from __future__ import annotations

import os

from flask import Blueprint

from locator.web import oas
from locator.web.state import get_register

__all__ = ["bp", "get_oas"]

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> dict[str, object]:
    """The index is loaded; says which data version this process serves, from which back end.

    ``pid`` tells apart the worker processes behind one address; ``listening``
    is whether a PostGIS change listener is up (``null`` on SQLite, which polls).
    """
    reg = get_register()
    index = reg.index
    listener = reg.listener
    return {
        "status": "ready",
        "venues": len(index),
        "data_version": index.version,
        "backend": reg.backend,
        "pid": os.getpid(),
        "listening": None if listener is None else listener.healthy,
    }


def get_oas() -> oas.Fragment:
    """This blueprint's part of the OpenAPI document (``locator.web.openapi``)."""
    probe = "application/json"
    return oas.fragment(
        {
            "/healthz": oas.operation(
                "Liveness",
                "The process is alive. Not rate-limited.",
                "health",
                [],
                oas.ok("Alive.", probe),
                (),
                op_id="healthz",
            ),
            "/readyz": oas.operation(
                "Readiness",
                "The index is loaded; says which data version is served. Not rate-limited.",
                "health",
                [],
                oas.ok("Ready.", probe),
                (),
                op_id="readyz",
            ),
        }
    )
