"""Versioned schema migrations for the PostGIS register.

Each ``NNNN_name.sql`` file in this folder is one migration, applied once, in
order, each in its own transaction, and recorded in ``schema_migrations``.
Every migration transaction first takes a transaction-level advisory lock, so
when several app processes start at once against an empty database, one
applies the migrations and the others wait, then find them applied.

Never edit a migration that has shipped; add the next number instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LOCK_KEY", "Migration", "applied", "migrate", "migrations"]

HERE = Path(__file__).resolve().parent
#: Key of the advisory lock held while a migration runs (any fixed bigint).
LOCK_KEY = 0x10CA702


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(folder: Path = HERE) -> list[Migration]:
    """The migrations shipped in ``folder``, in version order."""
    out = []
    for path in sorted(folder.glob("*.sql")):
        m = re.fullmatch(r"(\d{4})_([a-z0-9_]+)\.sql", path.name)
        if m is None:
            raise ValueError(f"migration file name must look like 0001_name.sql, got {path.name!r}")
        out.append(Migration(int(m.group(1)), m.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in out]
    if versions != list(range(1, len(out) + 1)):
        raise ValueError(f"migrations must be numbered 1, 2, 3… without gaps, got {versions!r}")
    return out


_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"""


def applied(conn: Any) -> list[int]:
    """Versions already applied (empty before the first migration)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute(_TABLE)
        return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def migrate(conn: Any, folder: Path = HERE) -> list[int]:
    """Apply the missing migrations on a psycopg connection; returns the versions applied now."""
    done = set(applied(conn))
    ran = []
    for mig in migrations(folder):
        if mig.version in done:
            continue
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            # Another process may have applied it while we waited for the lock.
            if conn.execute("SELECT 1 FROM schema_migrations WHERE version=%s", (mig.version,)).fetchone():
                continue
            conn.execute(mig.sql)
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (mig.version, mig.name))
        ran.append(mig.version)
    return ran
