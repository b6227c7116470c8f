"""Admin credentials on disk: the users file, hashed passwords, token digests, the secret key.

Both the web app (which checks them) and ``locator admin`` (which writes
them) need these, and the two must not import each other, so they live here.
Nothing is stored in clear:

- users: ``{name: werkzeug password hash}`` (salted, slow);
- API bearer tokens: ``{sha256 hex digest of the token: name}``; the token
  itself is shown once, when made;
- session generations: ``{name: n}``. A session cookie carries the
  generation it was made at and is honoured only while it is current, so
  logging out, a new password or removing the user ends every session of
  that user, copied cookies included (signed cookies cannot be recalled);
- the session secret key, made once per instance folder when the configured
  one is the development default (:data:`DEFAULT_SECRET`).

The file is ``ADMIN_USERS_FILE`` or ``<instance>/admin_users.json``, written
atomically with mode 0600. No Flask here: callers pass the configuration and
the instance folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from locator.config import SECRET_KEY as DEFAULT_SECRET
from locator.io.render import write_atomic

__all__ = [
    "DEFAULT_SECRET",
    "USERS_FILE",
    "UnknownUser",
    "bump_generation",
    "check_password",
    "new_token",
    "read_credentials",
    "remove_user",
    "revoke_tokens",
    "secret_key",
    "session_generation",
    "set_password",
    "token_digest",
    "token_name",
    "users_file",
]


class UnknownUser(LookupError):
    """No admin user of that name (tokens are made only for existing users)."""


USERS_FILE = "admin_users.json"
SECRET_FILE = "secret_key"


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash to check unknown users against, made with ``method`` (on first need: hashing is slow)."""
    return generate_password_hash(secrets.token_hex(8), method=method)


def _method(stored_hash: str) -> str:
    """The method and cost part of a werkzeug hash (``scrypt:32768:8:1``): what the check's time depends on."""
    return stored_hash.split("$", 1)[0]


def users_file(config: Mapping[str, Any], instance: str | PathLike[str]) -> Path:
    """Where hashed credentials live: ``ADMIN_USERS_FILE``, else ``<instance>/admin_users.json``."""
    return Path(config.get("ADMIN_USERS_FILE") or Path(instance) / USERS_FILE)


def read_credentials(path: Path) -> dict[str, Any]:
    """``{"users": {name: hash}, "tokens": {digest: name}, "sessions": {name: n}}`` from ``path`` (empty if absent)."""
    if not path.exists():
        return {"users": {}, "tokens": {}, "sessions": {}}
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {
        "users": dict(doc.get("users", {})),
        "tokens": dict(doc.get("tokens", {})),
        "sessions": dict(doc.get("sessions", {})),
    }


@contextlib.contextmanager
def _editing(path: Path) -> Iterator[dict[str, Any]]:
    """Read, change and write the file under an exclusive lock, so two writers (CLI, web logout) lose nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        doc = read_credentials(path)
        yield doc
        write_atomic(path, json.dumps(doc, ensure_ascii=False, indent=2).encode(), mode=0o600)
    finally:
        os.close(lock)


def session_generation(doc: Mapping[str, Any], name: str) -> int:
    """The current session generation of ``name`` in a credentials document (0 when never bumped)."""
    value = doc.get("sessions", {}).get(name, 0)
    return value if isinstance(value, int) else 0


def bump_generation(path: Path, name: str) -> int:
    """End every session of ``name`` (logout, new password, removal); returns the new generation."""
    with _editing(path) as doc:
        doc["sessions"][name] = session_generation(doc, name) + 1
        return int(doc["sessions"][name])


def set_password(path: Path, name: str, password: str) -> None:
    """Add or change an admin user (the password is stored as a salted hash); ends the user's sessions."""
    with _editing(path) as doc:
        doc["users"][name] = generate_password_hash(password)
        doc["sessions"][name] = session_generation(doc, name) + 1


def remove_user(path: Path, name: str) -> int:
    """Remove an admin user of the file, its tokens and its sessions; returns how many tokens went.

    Raises :class:`UnknownUser` when the file has no such user.
    """
    with _editing(path) as doc:
        if name not in doc["users"]:
            raise UnknownUser(name)
        del doc["users"][name]
        gone = [d for d, n in doc["tokens"].items() if n == name]
        for digest in gone:
            del doc["tokens"][digest]
        doc["sessions"][name] = session_generation(doc, name) + 1  # kept: an old cookie stays dead if re-added
        return len(gone)


def revoke_tokens(path: Path, name: str) -> int:
    """Revoke every API token of ``name`` in the file; returns how many there were."""
    with _editing(path) as doc:
        gone = [d for d, n in doc["tokens"].items() if n == name]
        for digest in gone:
            del doc["tokens"][digest]
        return len(gone)


def token_digest(token: str) -> str:
    """What is stored of a bearer token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(path: Path, name: str, known_users: Mapping[str, str] | None = None) -> str:
    """Make an API token for an existing user ``name``; only its digest is kept, so show it now.

    ``known_users`` adds users defined elsewhere (``ADMIN_USERS``); raises
    :class:`UnknownUser` when ``name`` is in neither.
    """
    token = secrets.token_urlsafe(32)
    with _editing(path) as doc:
        if name not in doc["users"] and name not in (known_users or {}):
            raise UnknownUser(name)
        doc["tokens"][token_digest(token)] = name
    return token


def check_password(stored_hash: str | None, password: str, like: str | None = None) -> bool:
    """Whether ``password`` matches ``stored_hash``; an unknown user (``None``) costs the same, then fails.

    The unknown user's check runs on a dummy hash made with the method and
    cost of ``like`` (a known user's hash), else werkzeug's default, so that
    timing does not tell names that exist from names that do not.
    """
    if stored_hash is None:
        check_password_hash(_dummy_hash(_method(like) if like else _method(_default_hash())), password)
        return False
    return check_password_hash(stored_hash, password)


@functools.cache
def _default_hash() -> str:
    return generate_password_hash(secrets.token_hex(8))


def token_name(tokens: Mapping[str, str], token: str) -> str | None:
    """The user a bearer token belongs to, comparing digests in constant time; ``None`` if unknown."""
    digest = token_digest(token)
    for known, name in tokens.items():
        if hmac.compare_digest(known, digest):
            return name
    return None


def secret_key(instance: str | PathLike[str]) -> str:
    """The session secret kept in ``<instance>/secret_key``, made (mode 0600) once, on first use.

    Several workers may start at once: the key is written to a private
    temporary file and linked into place, which fails for all but the first
    (``link`` is exclusive, as ``O_EXCL``), so every process reads the same
    complete key, never a half-written one.
    """
    path = Path(instance) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_hex(32).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            tmp.unlink()
    return path.read_text().strip()
