"""Keeping every process's index fresh when the register changes elsewhere.

Pure (no Flask). Two mechanisms, one per back end:

- ``Poller`` (SQLite, and PostGIS while its listener is down): a daemon
  thread compares the register's data version every
  ``INDEX_REFRESH_SECONDS``; a change is served at most about that long after
  it committed. It runs beside the requests, never on their path, so a slow
  or unreachable store never makes a read wait (issue 13).
- ``ChangeListener`` (PostGIS): a daemon thread holding one connection that
  ``LISTEN``s on the register's channel. Every write transaction
  ``NOTIFY``s at commit, so the listener calls ``Register.refresh`` within
  milliseconds, on every host. It also refreshes every ``poll_seconds`` when
  no notification arrives (a notification can be lost when its connection
  drops), and once after each (re)connect.

Either way the refresh itself is incremental: ``changes_since`` names the
venues that changed, and only those are upserted into or removed from the
rtree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["MIN_POLL_SECONDS", "ChangeListener", "Poller"]

MIN_POLL_SECONDS = 0.2
"""The poller's shortest interval: ``INDEX_REFRESH_SECONDS = 0`` (the tests: dozens of apps) polls this often."""

log = logging.getLogger("locator.storage.freshness")


class Poller:
    """A daemon thread that calls ``on_poll`` every ``interval`` seconds unless ``skip()`` says not to.

    ``skip`` lets the PostGIS register poll only while its listener is down.
    A failing ``on_poll`` is logged and retried on the next tick; the thread
    never dies of it. ``ok`` is whether the last call succeeded (``None``
    before the first), ``last_error`` its message when it did not. ``after``
    runs on the same thread after every tick, polled or skipped (the
    register's local snapshot), its failures logged.
    """

    def __init__(
        self,
        on_poll: Callable[[], Any],
        interval: float,
        skip: Callable[[], bool] = lambda: False,
        name: str = "locator-poll",
        after: Callable[[], Any] | None = None,
    ) -> None:
        if interval < 0:
            raise ValueError(f"poll interval must be >= 0 seconds, got {interval!r}")
        self.on_poll = on_poll
        self.interval = max(MIN_POLL_SECONDS, float(interval))
        self.skip = skip
        self.after = after
        self.ok: bool | None = None
        self.last_error = ""
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> Poller:
        self._thread.start()
        return self

    def stop(self, wait: float = 0.0) -> None:
        self._stop.set()
        if wait:
            self._thread.join(wait)

    def poll_once(self) -> bool:
        """One call of ``on_poll``; returns (and records) whether it succeeded."""
        self.polls += 1
        try:
            self.on_poll()
        except Exception as exc:  # an unreachable store: keep serving from memory, try again next tick
            if self.ok is not False:
                log.warning("register poll failed (%s); serving the last good data", exc)
            self.ok, self.last_error = False, f"{type(exc).__name__}: {exc}"[:300]
            return False
        self.ok, self.last_error = True, ""
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if not self.skip():
                self.poll_once()
            if self.after is not None and not self._stop.is_set():
                try:
                    self.after()
                except Exception:  # housekeeping (the local snapshot) must not end the polling
                    log.exception("the poller's housekeeping failed")


class ChangeListener:
    """A thread that LISTENs on a PostgreSQL channel and calls ``on_change`` promptly.

    ``on_change`` runs on the listener thread after each notification (bursts
    coalesce: one call covers every change committed so far), after every
    ``poll_seconds`` without one, and after each (re)connection. Errors in it
    are logged, never fatal. ``healthy`` is true while the LISTEN connection
    is up; while it is not, callers should fall back to polling.
    """

    def __init__(
        self,
        url: str,
        channel: str,
        on_change: Callable[[], Any],
        poll_seconds: float = 1.0,
        connect: Callable[..., Any] | None = None,
    ) -> None:
        if not channel.isidentifier():
            raise ValueError(f"channel must be a plain identifier, got {channel!r}")
        self.url = url
        self.channel = channel
        self.on_change = on_change
        self.poll_seconds = max(0.05, float(poll_seconds))
        self._connect = connect
        self._stop = threading.Event()
        self._up = threading.Event()
        self.notifications = 0
        self._thread = threading.Thread(target=self._run, name=f"locator-listen-{channel}", daemon=True)

    @property
    def healthy(self) -> bool:
        return self._up.is_set() and self._thread.is_alive()

    def start(self, wait: float = 5.0) -> ChangeListener:
        """Start the thread; wait up to ``wait`` seconds for its first LISTEN."""
        self._thread.start()
        self._up.wait(wait)
        return self

    def stop(self, wait: float = 0.0) -> None:
        self._stop.set()
        if wait:
            self._thread.join(wait)

    def _call(self) -> None:
        try:
            self.on_change()
        except Exception:  # a refresh failing (database restart…) must not kill the thread
            log.exception("refresh after a register change failed")

    def _run(self) -> None:
        if self._connect is None:
            import psycopg

            self._connect = psycopg.connect
        backoff = 0.2
        while not self._stop.is_set():
            try:
                with self._connect(self.url, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {self.channel}")
                    self._up.set()
                    backoff = 0.2
                    self._call()  # catch up with anything committed before the LISTEN
                    while not self._stop.is_set():
                        got = sum(1 for _ in conn.notifies(timeout=self.poll_seconds, stop_after=1))
                        self.notifications += got
                        if self._stop.is_set():
                            break
                        self._call()
            except Exception as exc:
                if self._stop.is_set():
                    break
                log.warning("register listener lost its connection (%s); retrying in %.1f s", exc, backoff)
            finally:
                self._up.clear()
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)
