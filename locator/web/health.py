"""Blueprint for liveness and readiness probes (``/healthz``, ``/readyz``), and the outage guard for writes.

``/readyz`` answers from memory, never from the store (issue 13): ``ready``
when the register is reachable, ``degraded`` when it is not (reads keep
answering from the last good index; both 200, so a balancer keeps the
instance), ``not_ready`` (503) only when this process has no data at all
(it started while the store was down and found no local snapshot: it keeps
running and trying, and every other request gets 503 meanwhile).
While the register is unreachable every write is refused at once with 503
problem+json and ``Retry-After``, before it can wait on a connection pool;
a store error that still escapes a write is turned into 503 (507 when the
disk is full), never a 500.
"""

from __future__ import annotations

import errno
import os

from flask import Blueprint, Response, current_app, request

from locator.storage import storage_full, store_errors
from locator.web import oas
from locator.web.http import current_app_and_request
from locator.web.problems import problem
from locator.web.state import KEY, get_register

__all__ = ["RETRY_AFTER_S", "bp", "get_oas"]

bp = Blueprint("health", __name__)

RETRY_AFTER_S = 5
"""What ``Retry-After`` asks of a writer while the register is unreachable."""

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NO_STORE_WRITES = frozenset({"admin.login", "admin.logout"})  # credentials live in a file, not the register
_STORE_READERS = frozenset({"admin", "admin_api", "admin_import"})
"""Blueprints whose reads go to the store itself (the admin's current rows, audit, exports), not to memory:
while it is unreachable they are refused at once instead of waiting on a connection (rule 5)."""


def _unavailable(detail: str) -> Response:
    return problem(503, "Service Unavailable", detail, headers={"Retry-After": str(RETRY_AFTER_S)})


@bp.before_app_request
def _refuse_writes_while_unreachable() -> Response | None:
    app, req = current_app_and_request()  # one context lookup, not one a use
    endpoint = req.endpoint or ""
    safe = req.environ["REQUEST_METHOD"] in _SAFE_METHODS
    blueprint = endpoint.rpartition(".")[0]
    if safe and (blueprint == "health" or endpoint == "static"):  # the common case first, cheaply (every request)
        return None
    state = app.extensions.get(KEY)
    if safe and blueprint not in _STORE_READERS and state is not None and state.register.loaded:
        return None
    if endpoint in _NO_STORE_WRITES or state is None:
        return None
    fresh = state.register.freshness()
    if fresh.reachable:
        return None
    if not fresh.loaded:
        return _unavailable(f"no data to serve yet ({fresh.reason}); retry after {RETRY_AFTER_S} s")
    return _unavailable(
        f"the register is unreachable ({fresh.reason}); reads are served from data version "
        f"{fresh.data_version}, writes are refused until it is back: retry after {RETRY_AFTER_S} s"
    )


def _store_failed(exc: Exception) -> Response:
    text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    if storage_full(exc):
        return problem(507, "Insufficient Storage", f"the register's disk is full ({text}); nothing was written")
    return _unavailable(f"the register did not answer ({text}); retry after {RETRY_AFTER_S} s")


for _error in store_errors():
    bp.app_errorhandler(_error)(_store_failed)


@bp.app_errorhandler(OSError)
def _environment_failed(exc: OSError) -> Response:
    """Disk full: 507; a read-only file system: 503; any other OSError stays the generic 500 problem."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        return _store_failed(exc)
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return problem(500, "Internal Server Error", "The server met an unexpected error; it has been logged.")


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, object], int]:
    """Whether this process serves, how old its data is, and why not ``ready``: from memory only.

    ``pid`` tells apart the worker processes behind one address; ``listening``
    is whether a PostGIS change listener is up (``null`` on SQLite, which polls).
    """
    if KEY not in current_app.extensions:
        body: dict[str, object] = {"status": "not_ready", "data_version": None, "data_age_s": None}
        return {**body, "reason": "the register is not open"}, 503
    reg = get_register()
    fresh = reg.freshness()
    listener = reg.listener
    return {
        "status": "not_ready" if not fresh.loaded else "ready" if fresh.reachable else "degraded",
        "data_version": fresh.data_version if fresh.loaded else None,
        "data_age_s": fresh.data_age_s if fresh.loaded else None,
        "reason": fresh.reason or None,
        "venues": len(reg.index),
        "backend": reg.backend,
        "pid": os.getpid(),
        "listening": None if listener is None else listener.healthy,
    }, 200 if fresh.loaded else 503


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
                "Always JSON, from memory: `status` is `ready` (200), `degraded` (200: the register is "
                "unreachable, reads are served from the last good data, writes get 503) or `not_ready` (503); "
                "with `data_version`, `data_age_s` (seconds since the data was last confirmed current) and "
                "`reason`. Not rate-limited.",
                "health",
                [],
                oas.ok("Ready or degraded.", probe),
                ("503",),
                op_id="readyz",
            ),
        }
    )
