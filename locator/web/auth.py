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

from flask import Flask, current_app, redirect, request, session, url_for

from locator.io.accounts import DEFAULT_SECRET, check_password, read_credentials, secret_key, token_name, users_file
from locator.web.problems import ApiError

__all__ = ["api_auth_required", "init_app", "login_required"]

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    """Give the app a real secret key: configured, or made once in the instance folder."""
    if app.config.get("SECRET_KEY") in (None, "", DEFAULT_SECRET):
        app.config["SECRET_KEY"] = secret_key(app.instance_path)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")


def check_user(name: str, password: str) -> bool:
    users = {**current_app.config.get("ADMIN_USERS", {}), **_credentials()["users"]}
    return check_password(users.get(name), password)


def token_user(token: str) -> str | None:
    tokens = {**current_app.config.get("ADMIN_TOKENS", {}), **_credentials()["tokens"]}
    return token_name(tokens, token)


def _credentials() -> dict[str, dict[str, str]]:
    return read_credentials(users_file(current_app.config, current_app.instance_path))


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
