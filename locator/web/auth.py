"""Authentication for the admin pages and the admin API.

Credentials are stored hashed, never in clear:
- users: ``ADMIN_USERS`` in config ({name: werkzeug password hash}) and
  ``<instance>/admin_users.json`` (written by ``locator admin add-user``);
- API bearer tokens: ``ADMIN_TOKENS`` in config ({sha256 hex of the token: name})
  and the same JSON file (``locator admin new-token``), shown once when made.
Pages use a signed session cookie with CSRF protection (Flask-WTF) on every
form; the API takes ``Authorization: Bearer <token>`` and no cookies.

The cookie is ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` whenever the
request came over HTTPS (behind a proxy: once ``PROXY_FIX_X_FOR`` trusts its
``X-Forwarded-Proto``). It carries the user's session generation
(``locator.io.accounts``), checked on every request, so logout, a new password
or removing the user ends the session even where the cookie was copied.

Logins are throttled (:class:`LoginThrottle`): after ``LOGIN_FAILURES``
failures in ``LOGIN_WINDOW`` seconds for one user name, or from one client,
the form answers 429 with ``Retry-After`` until the oldest failure ages out.
Each failure is logged on the ``locator.auth`` logger.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Request, Response

from locator.io.accounts import (
    DEFAULT_SECRET,
    bump_generation,
    check_password,
    read_credentials,
    secret_key,
    session_generation,
    token_name,
)
from locator.web.problems import ApiError
from locator.web.state import app_state, get_settings

__all__ = [
    "AUTH_LOGGER",
    "LOGIN_FAILURES",
    "LOGIN_WINDOW",
    "LoginThrottle",
    "api_auth_required",
    "end_sessions",
    "init_app",
    "init_secret_key",
    "log_in",
    "login_failed",
    "login_required",
    "login_retry_after",
    "login_throttle",
]

F = TypeVar("F", bound=Callable[..., Any])

AUTH_LOGGER = "locator.auth"
LOGIN_FAILURES = 10
"""Failed logins allowed per user name, and per client, in :data:`LOGIN_WINDOW`."""
LOGIN_WINDOW = 15 * 60
"""Seconds a failed login counts against its name and client."""


class LoginThrottle:
    """Failed logins per key (a user name, a client address) over a sliding window. Thread-safe, per process.

    Each gunicorn worker counts on its own, so the allowance is this times the
    workers: still hours per password guessed instead of ten guesses a second.
    """

    def __init__(
        self, limit: int = LOGIN_FAILURES, window: float = LOGIN_WINDOW, clock: Callable[[], float] = time.time
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, *keys: str) -> int | None:
        """Seconds until any of ``keys`` may try again, or None when none is blocked."""
        now = self.clock()
        waits = []
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.limit:
                    waits.append(max(1, int(times[0] + self.window - now + 0.999)))
        return max(waits) if waits else None

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) > 100_000:  # bounded: forget keys with nothing recent
                self._failures = {k: t for k, t in self._failures.items() if self._recent(k, now)}
            for key in keys:
                times = self._recent(key, now)
                times.append(now)
                self._failures[key] = times

    def forget(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


def login_throttle(app: Flask | None = None) -> LoginThrottle:
    """The app's login throttle (tests replace it with one on a stepped clock)."""
    throttle: LoginThrottle = app_state(app).login_throttle
    return throttle


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, ``Secure`` whenever this request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:  # type: ignore[override]
        # Without a cookie the session is empty: skip building the signing serializer (~25 µs a request).
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified and not session.accessed:
            return  # nothing to write, delete or vary on: skip reading the cookie settings
        super().save_session(app, session, response)


def init_secret_key(app: Flask) -> None:
    """Give the app a real secret key: configured, or made once in the instance folder.

    Runs before the settings are read (``create_app``), so that they, the
    session cookies and the report hashes all use the same key.
    """
    if app.config.get("SECRET_KEY") in (None, "", DEFAULT_SECRET):
        app.config["SECRET_KEY"] = secret_key(app.instance_path)


def init_app(app: Flask) -> None:
    """A real secret key; session cookies scripts cannot read, not sent cross-site, Secure over HTTPS."""
    init_secret_key(app)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:  # Flask defines the key (None): setdefault did nothing
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.session_interface = _SessionInterface()
    app_state(app).login_throttle = LoginThrottle()


def _credentials() -> tuple[dict[str, str], dict[str, Any]]:
    settings = get_settings()
    doc = read_credentials(settings.admin_users_file)
    return {**settings.admin_users, **doc["users"]}, doc


def check_user(name: str, password: str) -> bool:
    """Whether the password is right; an unknown name costs one hash check of the same method, then fails."""
    users, _ = _credentials()
    return check_password(users.get(name), password, like=next(iter(users.values()), None))


def _client_key() -> str:
    return "client:" + (request.remote_addr or "-")


def login_retry_after(name: str) -> int | None:
    """Seconds the login form must wait for this name or client, or None."""
    return login_throttle().retry_after("user:" + name, _client_key())


def login_failed(name: str) -> None:
    """Count and log a failed login (the name is cut to 64 characters; the password never logged)."""
    login_throttle().failed("user:" + name, _client_key())
    entry = {"event": "login_failed", "user": name[:64], "client": request.remote_addr}
    logging.getLogger(AUTH_LOGGER).warning(json.dumps(entry, ensure_ascii=False))


def log_in(name: str) -> None:
    """Start a session for ``name`` at its current session generation."""
    _, doc = _credentials()
    login_throttle().forget("user:" + name)
    session.clear()
    session["admin_user"] = name
    session["admin_gen"] = session_generation(doc, name)


def end_sessions() -> None:
    """Log out: end this user's sessions everywhere (the cookie may have been copied) and this one."""
    user = current_user()
    if user is not None:
        bump_generation(get_settings().admin_users_file, user)
    session.clear()


def token_user(token: str) -> str | None:
    """The user of a bearer token, if the token is known and (for the file's tokens) its user still exists."""
    settings = get_settings()
    users, doc = _credentials()
    name = token_name(doc["tokens"], token)
    if name is not None:
        return name if name in users else None
    return token_name(settings.admin_tokens, token)


def current_user() -> str | None:
    """The logged-in user: the session's name, if that user still exists and the session's generation is current."""
    user = session.get("admin_user")
    if not isinstance(user, str):
        return None
    users, doc = _credentials()
    if user not in users or session.get("admin_gen") != session_generation(doc, user):
        return None
    return user


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if request.method in ("GET", "HEAD"):
                return redirect(url_for("admin.login", next=request.full_path))
            raise ApiError(401, "Unauthorized", "log in at /admin/login first")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def api_auth_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401, "Unauthorized", "send Authorization: Bearer <token> (make one with 'locator admin new-token')"
            )
        user = token_user(token.strip())
        if user is None:
            raise ApiError(401, "Unauthorized", "the bearer token is not valid")
        request.environ["locator.admin_user"] = user
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
