"""Admin credentials on disk: the users file, hashed passwords, token digests, the secret key.

Both the web app (which checks them) and ``locator admin`` (which writes
them) need these, and the two must not import each other, so they live here.
Nothing is stored in clear:

- users: ``{name: werkzeug password hash}`` (salted, slow);
- API bearer tokens: ``{sha256 hex digest of the token: name}``; the token
  itself is shown once, when made;
- the session secret key, made once per instance folder when the configured
  one is the development default (:data:`DEFAULT_SECRET`).

The file is ``ADMIN_USERS_FILE`` or ``<instance>/admin_users.json``, written
atomically with mode 0600. No Flask here: callers pass the configuration and
the instance folder.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from locator.config import SECRET_KEY as DEFAULT_SECRET
from locator.io.render import write_atomic

__all__ = [
    "DEFAULT_SECRET",
    "USERS_FILE",
    "check_password",
    "new_token",
    "read_credentials",
    "secret_key",
    "set_password",
    "token_digest",
    "token_name",
    "users_file",
]

USERS_FILE = "admin_users.json"
SECRET_FILE = "secret_key"


@functools.cache
def _dummy_hash() -> str:
    """A hash to check against for unknown users (made on first need: hashing is deliberately slow)."""
    return generate_password_hash("x")


def users_file(config: Mapping[str, Any], instance: str | PathLike[str]) -> Path:
    """Where hashed credentials live: ``ADMIN_USERS_FILE``, else ``<instance>/admin_users.json``."""
    return Path(config.get("ADMIN_USERS_FILE") or Path(instance) / USERS_FILE)


def read_credentials(path: Path) -> dict[str, dict[str, str]]:
    """``{"users": {name: hash}, "tokens": {digest: name}}`` from ``path`` (empty when it does not exist)."""
    if not path.exists():
        return {"users": {}, "tokens": {}}
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {"users": dict(doc.get("users", {})), "tokens": dict(doc.get("tokens", {}))}


def _write(path: Path, doc: dict[str, dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(doc, ensure_ascii=False, indent=2).encode(), mode=0o600)


def set_password(path: Path, name: str, password: str) -> None:
    """Add or change an admin user (the password is stored as a salted hash)."""
    doc = read_credentials(path)
    doc["users"][name] = generate_password_hash(password)
    _write(path, doc)


def token_digest(token: str) -> str:
    """What is stored of a bearer token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(path: Path, name: str) -> str:
    """Make an API token for ``name``; only its digest is kept, so show it now."""
    token = secrets.token_urlsafe(32)
    doc = read_credentials(path)
    doc["tokens"][token_digest(token)] = name
    _write(path, doc)
    return token


def check_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; an unknown user (``None``) costs the same, then fails."""
    if stored_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(stored_hash, password)


def token_name(tokens: Mapping[str, str], token: str) -> str | None:
    """The user a bearer token belongs to, comparing digests in constant time; ``None`` if unknown."""
    digest = token_digest(token)
    for known, name in tokens.items():
        if hmac.compare_digest(known, digest):
            return name
    return None


def secret_key(instance: str | PathLike[str]) -> str:
    """The session secret kept in ``<instance>/secret_key``, made (mode 0600) on first use."""
    path = Path(instance) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, secrets.token_hex(32).encode(), mode=0o600)
    return path.read_text().strip()
