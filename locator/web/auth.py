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
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, redirect, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from locator import config
from locator.io.render import write_atomic
from locator.web.problems import ApiError
from locator.web.state import get_settings

__all__ = [
    "api_auth_required",
    "init_app",
    "init_secret_key",
    "login_required",
    "new_token",
    "set_password",
    "users_file",
]

F = TypeVar("F", bound=Callable[..., Any])
USERS_FILE = "admin_users.json"
DEFAULT_SECRET = config.SECRET_KEY
"""The documented development key (``locator.config``): replaced at start-up."""


def init_secret_key(app: Flask) -> None:
    """Give the app a real secret key: configured, or made once in the instance folder.

    Runs before the settings are read (``create_app``), so that they, the
    session cookies and the report hashes all use the same key.
    """
    if app.config.get("SECRET_KEY") in (None, "", DEFAULT_SECRET):
        path = Path(app.instance_path) / "secret_key"
        if not path.exists():
            write_atomic(path, secrets.token_hex(32).encode())
            path.chmod(0o600)
        app.config["SECRET_KEY"] = path.read_text().strip()


def init_app(app: Flask) -> None:
    """A real secret key, and session cookies the page's scripts cannot read."""
    init_secret_key(app)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")


def users_file(app: Flask) -> Path:
    """Where hashed credentials live: ``ADMIN_USERS_FILE``, else the instance folder."""
    return get_settings(app).admin_users_file


def _load(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {"users": {}, "tokens": {}}
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {"users": dict(doc.get("users", {})), "tokens": dict(doc.get("tokens", {}))}


def _save(path: Path, doc: dict[str, dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(doc, ensure_ascii=False, indent=2).encode())
    path.chmod(0o600)


def set_password(path: Path, name: str, password: str) -> None:
    """Add or change an admin user (the password is stored as a salted hash)."""
    doc = _load(path)
    doc["users"][name] = generate_password_hash(password)
    _save(path, doc)


def new_token(path: Path, name: str) -> str:
    """Make an API token for ``name``; only its SHA-256 is kept, so show it now."""
    token = secrets.token_urlsafe(32)
    doc = _load(path)
    doc["tokens"][hashlib.sha256(token.encode()).hexdigest()] = name
    _save(path, doc)
    return token


def check_user(name: str, password: str) -> bool:
    settings = get_settings()
    users = {**settings.admin_users, **_load(settings.admin_users_file)["users"]}
    stored = users.get(name)
    if stored is None:
        check_password_hash(generate_password_hash("x"), password)  # same cost either way
        return False
    return check_password_hash(stored, password)


def token_user(token: str) -> str | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    settings = get_settings()
    tokens = {**settings.admin_tokens, **_load(settings.admin_users_file)["tokens"]}
    for known, name in tokens.items():
        if hmac.compare_digest(known, digest):
            return name
    return None


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
