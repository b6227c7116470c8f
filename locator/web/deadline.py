"""A hard per-request deadline: a read still running after ``REQUEST_DEADLINE_SECONDS`` gets 503 problem+json.

Budgets (``planning/budget.py``, the parameter limits) refuse a costly
request before it starts; this is the backstop for what an estimate misses.
No request may keep a worker busy longer than the deadline (issue 13): the
client gets ``503 Service Unavailable`` as problem+json with ``Retry-After``,
the worker thread is freed for the next request, and the process lives on
(never gunicorn's kill, an HTML page or a 500).

How it interrupts. ``locator serve`` runs gthread workers
(``web/worker.py``): requests run in threads, and a POSIX signal
(``SIGALRM``/``setitimer``) is only ever handled in a process's main thread,
so it cannot stop a request. Instead one watchdog thread per process
(started lazily, so it exists in each forked worker) wakes a few times a
second and, for every request past its deadline, raises
:class:`DeadlineExceeded` inside that request's thread with CPython's
``PyThreadState_SetAsyncExc``. The exception is delivered at the thread's
next Python bytecode, so it is safe with C extensions: a call into shapely,
pyproj, the rtree or HiGHS is never torn in the middle (they keep their
state consistent, and the GIL-holding call simply finishes first); the
exception then unwinds through ordinary ``with``/``finally`` blocks, which
release locks and return pooled connections. It is held back while the
thread is importing a module (a lazy import's first run): an exception there
would leave the module table broken for the life of the process, so it lands
at the first sweep after the import. A single C call that runs long
still delays the answer until it returns, which is why the siting exact
solve keeps its own HiGHS time limit, and gunicorn's ``--timeout`` (30 s)
stays the last resort.

What it covers. Only reads (GET, HEAD, OPTIONS) are armed. A write
interrupted between its commit and the refresh of this process's index would
answer 503 for a change that was made; writes are bounded by the store
instead (SQLite's busy timeout, the pool's timeout, the outage guard of
``web/health.py``). The deadline is armed before the app, by the WSGI layer
of ``locator.web.http`` (:meth:`Watchdog.arm_request`), and disarmed as the
first ``after_request`` hook (:func:`disarm_first`, the app factory's last
step), so it never fires while
the response is being finished (headers, compression, the access log): a
deadline that fires there, or a second one fired because the first was
swallowed by a broad ``except``, still becomes the same 503 (the 500 handler
below recognises it).
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import InternalServerError

from locator.web import forks
from locator.web.problems import problem
from locator.web.state import app_state

__all__ = ["RETRY_AFTER_S", "DeadlineExceeded", "Watchdog", "disarm_first", "init_app", "watchdog_of"]

RETRY_AFTER_S = 30
"""What ``Retry-After`` asks of a client whose request ran out of time (a lighter request may pass at once)."""
REFIRE_S = 1.0
"""A request still running this long after its exception was raised gets it again (a broad ``except`` ate it)."""
_ARMED = frozenset({"GET", "HEAD", "OPTIONS"})


class DeadlineExceeded(Exception):
    """Raised inside a request's thread when it has run past the deadline."""


def _raise_in(ident: int, exc: type[BaseException] | None) -> int:
    """Schedule ``exc`` in the thread ``ident`` (None clears a pending one); returns how many threads were hit."""
    obj = ctypes.py_object(exc) if exc is not None else ctypes.c_void_p(0)  # NULL clears
    return int(ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), obj))


_IMPORT_MACHINERY = frozenset({"<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>"})


def _importing(ident: int) -> bool:
    """Whether the thread ``ident`` is inside an import (a module's first run, from the import machinery).

    An exception raised there leaves the process's module table half-built for
    good: the module is dropped, its submodules stay, and the next import of it
    no longer binds them (``rasterio.errors`` gone: every later use fails).
    """
    frame = sys._current_frames().get(ident)
    while frame is not None:
        if frame.f_code.co_filename in _IMPORT_MACHINERY:
            return True
        frame = frame.f_back
    return False


@dataclass(slots=True)
class _Entry:
    ident: int
    due: float
    fired: int = 0
    handled: bool = False


class Watchdog:
    """The requests of one process that are armed, and the thread that interrupts those past their deadline.

    ``clock`` and ``interrupt`` are injectable, so :meth:`sweep` is tested
    without waiting; in service the watchdog thread calls it every
    ``interval`` seconds (``thread=False``: none, the caller sweeps).
    """

    def __init__(
        self,
        limit_s: float,
        clock: Callable[[], float] = time.monotonic,
        interrupt: Callable[[int, type[BaseException] | None], int] = _raise_in,
        thread: bool = True,
        importing: Callable[[int], bool] = _importing,
    ) -> None:
        self.limit_s = limit_s
        self.interval = min(0.25, max(0.01, limit_s / 4))
        self._clock, self._interrupt, self._importing = clock, interrupt, importing
        self._lock = threading.Lock()
        self._armed: dict[int, _Entry] = {}
        self._started: int | None = None if thread else -1  # the fork generation the thread runs in; -1: none
        self.fired = 0
        """How many times this process interrupted a request (for tests and the fault bench)."""

    def arm(self, ident: int | None = None) -> None:
        """Start the clock of the calling thread's request (and the watchdog thread, once per process)."""
        ident = threading.get_ident() if ident is None else ident
        with self._lock:
            self._armed[ident] = _Entry(ident, self._clock() + self.limit_s)
            if self._started != forks.generation() and self._started != -1:  # first request in this process
                self._started = forks.generation()
                threading.Thread(target=self._run, name="request-deadline", daemon=True).start()

    def arm_request(self, environ: dict[str, Any]) -> bool:
        """Arm the calling thread for a request that may be interrupted (a read); returns whether it was armed."""
        if environ.get("REQUEST_METHOD") not in _ARMED:
            return False
        self.arm()
        return True

    def release(self) -> None:
        """Disarm the calling thread if it still is (its request ended without the ``after_request`` hooks)."""
        if threading.get_ident() in self._armed:
            self.disarm()

    def handled(self, ident: int | None = None) -> None:
        """The request's :class:`DeadlineExceeded` reached its handler: do not raise it again."""
        with self._lock:
            entry = self._armed.get(threading.get_ident() if ident is None else ident)
            if entry is not None:
                entry.handled = True

    def disarm(self, ident: int | None = None) -> None:
        """Stop the clock; an exception scheduled but not yet raised in the thread is withdrawn."""
        with self._lock:
            entry = self._armed.pop(threading.get_ident() if ident is None else ident, None)
            if entry is not None and entry.fired:
                self._interrupt(entry.ident, None)

    def sweep(self) -> list[int]:
        """Interrupt every armed request past its deadline; returns their thread idents."""
        now = self._clock()
        hit = []
        with self._lock:
            for entry in self._armed.values():
                if entry.handled or now < entry.due:
                    continue
                if self._importing(entry.ident):  # never inside an import: the next sweep, once it is done
                    continue
                if self._interrupt(entry.ident, DeadlineExceeded):
                    entry.fired += 1
                    self.fired += 1
                    hit.append(entry.ident)
                entry.due = now + REFIRE_S
        return hit

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            self.sweep()


def _deadline_response(limit_s: float) -> Response:
    return problem(
        503,
        "Service Unavailable",
        f"the request ran past the server's deadline of {limit_s:g} s and was stopped; "
        f"narrow it (a smaller region, fewer sites) or retry after {RETRY_AFTER_S} s",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def init_app(app: Flask, limit_s: float) -> None:
    """Arm every read for ``limit_s`` seconds (0 turns the deadline off)."""
    if limit_s <= 0:
        return
    watchdog = Watchdog(limit_s)
    app_state(app).deadline = watchdog

    # Armed before the app by the Edge (locator.web.http), which also releases a request that never
    # reached the after_request hooks; disarmed by the first of those (disarm_first).

    @app.errorhandler(DeadlineExceeded)
    def _exceeded(_exc: DeadlineExceeded) -> Response:
        watchdog.handled()
        current_app.logger.warning("request deadline (%g s) passed on %s %s", limit_s, request.method, request.path)
        return _deadline_response(limit_s)

    @app.errorhandler(InternalServerError)
    def _server_error(exc: InternalServerError) -> Response:
        """An exception outside the view (an after-request hook…): a deadline stays a 503; else the usual 500."""
        if isinstance(exc.original_exception, DeadlineExceeded):
            watchdog.handled()
            return _deadline_response(limit_s)
        return problem(500, exc.name, exc.description or exc.name)


def disarm_first(app: Flask) -> None:
    """Disarm in the first ``after_request`` hook: call once every other hook is registered.

    Flask runs the app's ``after_request`` hooks last registered first, after
    the blueprints' (which only the admin's writes have, never armed).
    """
    watchdog = watchdog_of(app)
    if watchdog is None:
        return

    def _disarm(response: Response) -> Response:
        watchdog.disarm()
        return response

    app.after_request(_disarm)


def watchdog_of(app: Flask) -> Watchdog | None:
    """The app's watchdog, or None with the deadline off."""
    watchdog: Watchdog | None = app_state(app).deadline
    return watchdog
