"""Authentication for the admin pages and the admin API.

Credentials are stored hashed, never in clear:
- users: ``ADMIN_USERS`` in config ({name: werkzeug password hash}) and
  ``<instance>/admin_users.json`` (written by ``locator admin add-user``);
- API bearer tokens: ``ADMIN_TOKENS`` in config ({sha256 hex of the token: name})
  and the same JSON file (``locator admin new-token``), shown once when made.
Pages use a signed session cookie with CSRF protection (Flask-WTF) on every
form; the API takes ``Authorization: Bearer <token>`` and no cookies.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, redirect, request, session, url_for

from locator.io.accounts import DEFAULT_SECRET, check_password, read_credentials, secret_key, token_name
from locator.web.problems import ApiError
from locator.web.state import get_settings

__all__ = ["api_auth_required", "init_app", "init_secret_key", "login_required"]

F = TypeVar("F", bound=Callable[..., Any])


def init_secret_key(app: Flask) -> None:
    """Give the app a real secret key: configured, or made once in the instance folder.

    Runs before the settings are read (``create_app``), so that they, the
    session cookies and the report hashes all use the same key.
    """
    if app.config.get("SECRET_KEY") in (None, "", DEFAULT_SECRET):
        app.config["SECRET_KEY"] = secret_key(app.instance_path)


def init_app(app: Flask) -> None:
    """A real secret key, and session cookies the page's scripts cannot read."""
    init_secret_key(app)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")


def check_user(name: str, password: str) -> bool:
    settings = get_settings()
    users = {**settings.admin_users, **read_credentials(settings.admin_users_file)["users"]}
    return check_password(users.get(name), password)


def token_user(token: str) -> str | None:
    settings = get_settings()
    return token_name({**settings.admin_tokens, **read_credentials(settings.admin_users_file)["tokens"]}, token)


def current_user() -> str | None:
    user = session.get("admin_user")
    return user if isinstance(user, str) else None


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
