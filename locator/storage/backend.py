"""Choosing the back end: the one place a register's URL or path is read.

A ``postgresql://`` (or ``postgres://``) URL is the shared PostGIS register;
a plain path or a ``sqlite:///`` URL is a SQLite file; any other scheme is
refused with a message naming it. ``Register.open`` and the CLI come here,
never to a back end's class directly.
"""

from __future__ import annotations

from pathlib import Path

from locator.errors import DataError
from locator.storage.base import VenueStore
from locator.storage.sqlite import SQLiteStore

__all__ = ["POSTGRES_SCHEMES", "check_target", "open_store"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(target: str | Path, *, pool_size: int = 4) -> VenueStore:
    """Open (creating or migrating its schema) the register named by a path or URL.

    Parameters
    ----------
    target
        A SQLite file path, a ``sqlite:///path`` URL, or a ``postgresql://``
        (``postgres://``) URL.
    pool_size
        PostGIS only: the most connections this handle's pool keeps open.

    Raises
    ------
    DataError
        On an unsupported URL scheme, or a register that cannot be opened
        (the message quotes the target, without its password).
    """
    text = check_target(target)
    if text.startswith(POSTGRES_SCHEMES):
        # Imported here so that a SQLite-only deployment never loads psycopg.
        from locator.storage.postgis import PostGISStore

        return PostGISStore(text, max_size=pool_size)
    return SQLiteStore(text.removeprefix("sqlite:///"))


def check_target(target: str | Path) -> str:
    """``target`` as text, or ``DataError`` on an unsupported URL scheme: a mistake, not an outage.

    ``Register.open`` checks this before trying the store, so a process that
    may start from its snapshot while the store is down still refuses a
    malformed setting at once.
    """
    text = str(target)
    if "://" in text and not text.startswith((*POSTGRES_SCHEMES, "sqlite:///")):
        scheme = text.split("://", 1)[0]
        raise DataError(f"unsupported database URL scheme {scheme!r}; use a SQLite path, sqlite:/// or postgresql://")
    return text
