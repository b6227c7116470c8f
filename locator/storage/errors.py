"""Which exceptions mean the store's environment failed, not the data: the one home of ``store_errors``.

Both ways in need the same answer. The web layer turns these exceptions into
503 problem+json (507 when :func:`storage_full`), the command line into one
line and exit status 3 (``locator import``, ``locator.io.import_plan``), and
neither ever shows a traceback for them. What is *not* here stays a bug or a
data error: an integrity error, a malformed row, a programming error.
"""

from __future__ import annotations

import errno
import sqlite3

__all__ = ["RegisterUnavailable", "store_errors", "store_failed", "storage_full"]

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_DISK_FULL_SQLSTATE = "53100"  # PostgreSQL's disk_full


class RegisterUnavailable(ConnectionError):
    """The store has not answered since this process started: it serves a snapshot (or nothing) meanwhile."""


def store_errors() -> tuple[type[Exception], ...]:
    """The exceptions that mean the store did not answer or could not write (not bad data).

    :class:`RegisterUnavailable`, SQLite's ``OperationalError`` (locked, read-only, disk full, I/O); with
    psycopg installed its ``OperationalError`` (connection lost, disk full,
    too many connections…), the pool's timeout, and a read-only transaction
    (a standby). ``OSError`` is not listed: file-system errors outside the
    store (an upload, a temporary file) are the caller's to classify.
    """
    errors: list[type[Exception]] = [sqlite3.OperationalError, RegisterUnavailable]
    try:
        import psycopg
        from psycopg.errors import ReadOnlySqlTransaction
        from psycopg_pool import PoolTimeout
    except ImportError:  # a SQLite-only install
        return tuple(errors)
    return (*errors, psycopg.OperationalError, PoolTimeout, ReadOnlySqlTransaction)


def store_failed(exc: BaseException) -> bool:
    """Whether ``exc``, or the error it was raised from, is one of :func:`store_errors` or an ``OSError``.

    Opening a register wraps the driver's error in a ``DataError`` that names
    the register (``raise … from None`` keeps it as ``__context__``): this looks
    through that wrapping, so "the database is down" is told apart from "this
    file is not a register".
    """
    environment: tuple[type[Exception], ...] = (OSError, *store_errors())
    return isinstance(exc, environment) or isinstance(exc.__context__, environment)


def storage_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or quota) under the store is full: SQLite, PostgreSQL or the OS."""
    if getattr(exc, "errno", None) in _FULL_ERRNOS:
        return True
    if getattr(exc, "sqlstate", None) == _DISK_FULL_SQLSTATE:
        return True
    text = str(exc)
    return "disk is full" in text or "No space left on device" in text
