"""Versioned schema migrations for both registers, applied when a store opens.

Each back end has a folder of ``NNNN_name.sql`` files (``sqlite/``,
``postgis/``), numbered 1, 2, 3… without gaps. Each migration is applied
once, in order, in its own transaction, together with the record that it ran,
so a crash leaves the schema at a whole version:

- SQLite records the version in the file header (``PRAGMA user_version``).
  Each migration runs under ``BEGIN IMMEDIATE`` (the file's write lock), and
  re-reads the version once it holds the lock, so concurrent openers apply it
  once. A register made before migrations existed has the 0001 schema and
  ``user_version`` 0; 0001 is written with ``IF NOT EXISTS`` throughout, so
  it is recognised, not rebuilt.
- PostgreSQL records the versions in ``schema_migrations``. Every migration
  transaction first takes a transaction-level advisory lock, so when several
  app processes start at once against an empty database, one applies the
  migrations and the others wait, then find them applied.

A register at a version newer than the code knows is refused: this code
cannot know what that schema means.

Never edit a migration that has shipped; add the next number instead.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locator.errors import DataError

__all__ = [
    "LOCK_KEY",
    "POSTGIS",
    "SQLITE",
    "Migration",
    "applied",
    "migrate_postgis",
    "migrate_sqlite",
    "migrations",
    "sqlite_statements",
]

HERE = Path(__file__).resolve().parent
#: The folders of each back end's migrations.
SQLITE = HERE / "sqlite"
POSTGIS = HERE / "postgis"
#: Key of the PostgreSQL advisory lock held while a migration runs (any fixed bigint).
LOCK_KEY = 0x10CA702


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(folder: Path) -> list[Migration]:
    """The migrations shipped in ``folder``, in version order.

    Raises
    ------
    ValueError
        On a file name that is not ``NNNN_name.sql``, or a gap in the numbers.
    """
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


def _too_new(found: int, known: int) -> DataError:
    return DataError(f"the register's schema is at version {found}, newer than this code knows ({known}); upgrade")


# -- SQLite ----------------------------------------------------------------------------------


def sqlite_statements(script: str) -> list[str]:
    """The statements of a SQL script, split where SQLite says each is complete.

    ``executescript`` would commit the open transaction first, so a migration
    runs statement by statement inside its own.
    """
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    rest = "\n".join(x for x in buf.splitlines() if not x.strip().startswith("--")).strip()
    if rest:
        raise ValueError(f"SQL script ends inside a statement: {rest[:60]!r}")
    return out


def migrate_sqlite(con: sqlite3.Connection, folder: Path = SQLITE) -> list[int]:
    """Apply the missing migrations on an autocommit SQLite connection; returns the versions applied now."""
    shipped = migrations(folder)
    current = int(con.execute("PRAGMA user_version").fetchone()[0])
    if current > len(shipped):
        raise _too_new(current, len(shipped))
    if current == len(shipped):  # the usual open: no write lock taken (the version only grows)
        return []
    ran = []
    for mig in shipped:
        con.execute("BEGIN IMMEDIATE")  # the write lock: other openers wait here
        try:
            current = int(con.execute("PRAGMA user_version").fetchone()[0])
            if current > len(shipped):
                raise _too_new(current, len(shipped))
            if current < mig.version:
                for statement in sqlite_statements(mig.sql):
                    con.execute(statement)
                con.execute(f"PRAGMA user_version = {mig.version:d}")
                ran.append(mig.version)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    return ran


# -- PostgreSQL --------------------------------------------------------------------------------

_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"""


def applied(conn: Any) -> list[int]:
    """Versions already applied on a psycopg connection (empty before the first migration)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute(_TABLE)
        return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def migrate_postgis(conn: Any, folder: Path = POSTGIS) -> list[int]:
    """Apply the missing migrations on a psycopg connection; returns the versions applied now."""
    shipped = migrations(folder)
    done = set(applied(conn))
    if done and max(done) > len(shipped):
        raise _too_new(max(done), len(shipped))
    ran = []
    for mig in shipped:
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
