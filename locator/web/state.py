"""The app's state, in one object: ``app.extensions["locator"]``, an :class:`AppState`.

Everything a request may reuse lives here, never in module globals, so two
apps in one process (the tests make dozens) never see each other's data:
the settings, the register, the rate limiter, and the caches of derived data.
Derived data is held in :class:`Cached` slots, each a value and the key it
was computed at (for most, the register's data version): a slot recomputes
when the key changes, and only then. So one rule invalidates every cache,
and the process that writes sees its own edit on the next request
(``Register.refresh`` moves the version at once).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import Flask, current_app
from flask.globals import _cv_app

from locator.planning import CoverageAnalyzer
from locator.storage import Register
from locator.storage import Settings as RegisterSettings
from locator.web.ratelimit import ClientLimiter
from locator.web.settings import Settings

__all__ = ["KEY", "AppState", "Cached", "CoverageCache", "app_state", "get_register", "get_settings", "init_app"]

KEY = "locator"
T = TypeVar("T")


class Cached(Generic[T]):
    """One derived value and the key (usually a data version) it was computed at.

    ``get(key, compute)`` returns the held value while ``key`` is the one it
    was computed at, and otherwise computes, keeps and returns a new one.
    Computation runs under a lock, so concurrent requests build it once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[Hashable, T] | None = None

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value for ``key``; ``compute()`` is called only when ``key`` differs from the held one."""
        entry = self._entry
        if entry is not None and entry[0] == key:
            return entry[1]
        with self._lock:
            entry = self._entry
            if entry is None or entry[0] != key:
                entry = (key, compute())
                self._entry = entry
            return entry[1]

    @property
    def key(self) -> Hashable | None:
        """The key of the held value (None when nothing is held)."""
        return None if self._entry is None else self._entry[0]


@dataclass(eq=False)
class CoverageCache:
    """The coverage analyzer (built on first use, ``locator.web.coverage``) and the page's district outlines."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    analyzer: CoverageAnalyzer | None = None
    outlines: dict[str, Any] | None = None


@dataclass(eq=False)
class AppState:
    """Per-app state: configuration, data, and every cache derived from the data.

    Caches keyed by the data version: ``collections`` (``locator.web.ogc``),
    ``map_venues`` (``locator.web.mapdata``, also keyed by the five-minute
    ``open now`` window). Built once (the districts never change while the app
    runs): ``map_outlines`` and ``coverage`` (the analyzer, which itself
    caches its results by data version, and the page's outlines). ``feature_json`` maps
    ``(venue id, crs)`` to a venue's serialised feature and the record it came
    from, so an edit replaces exactly the edited venue's entry.
    """

    settings: Settings
    register: Register
    limiter: ClientLimiter | None = None
    frame_ancestors: str = "*"
    """The ``frame-ancestors`` source of embeddable views (``locator.web.security``)."""
    login_throttle: Any = None
    """Failed logins per name and client (``locator.web.auth.LoginThrottle``; typed loosely: auth imports this)."""
    deadline: Any = None
    """The request deadline's watchdog (``locator.web.deadline.Watchdog``), None when off; typed loosely likewise."""
    edge: Any = None
    """The WSGI layer every request passes (``locator.web.http.Edge``); typed loosely likewise."""
    collections: Cached[Any] = field(default_factory=Cached)
    map_venues: Cached[Any] = field(default_factory=Cached)
    map_outlines: Cached[Any] = field(default_factory=Cached)
    places: Cached[Any] = field(default_factory=Cached)  # the gazetteer (locator.web.places), read once
    coverage: CoverageCache = field(default_factory=lambda: CoverageCache())
    feature_json: dict[tuple[str, str], tuple[Any, str, str]] = field(default_factory=dict)
    openapi: dict[str, Any] = field(default_factory=dict)
    """The OpenAPI document, merged once at start-up (``locator.web.openapi``)."""

    @property
    def data_version(self) -> int:
        """The data version of the index this process serves (after a due refresh)."""
        return self.register.index.version

    def for_data(self, slot: Cached[T], compute: Callable[[], T]) -> T:
        """``slot``'s value for the register's current data version."""
        return slot.get(self.data_version, compute)


def init_app(app: Flask, settings: Settings) -> AppState:
    """Open the register (building its index once) and keep it, with ``settings``, in ``app.extensions``."""
    register = Register.open(RegisterSettings.from_mapping(app.config, app.instance_path))
    state = AppState(settings, register)
    app.extensions[KEY] = state
    return state


def app_state(app: Flask | None = None) -> AppState:
    """The app's :class:`AppState` (``current_app``'s by default).

    ``current_app`` is read from Flask's context variable (one C call, as
    ``locator.web.http.current_request`` reads the request) rather than through
    werkzeug's proxy; outside an app context, the proxy raises Flask's error.
    """
    if app is None:
        ctx = _cv_app.get(None)
        app = ctx.app if ctx is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    state: AppState = app.extensions[KEY]
    return state


def get_register(app: Flask | None = None) -> Register:
    """The app's register (``current_app``'s by default)."""
    return app_state(app).register


def get_settings(app: Flask | None = None) -> Settings:
    """The app's settings (``current_app``'s by default)."""
    return app_state(app).settings
