"""``locator backup`` and ``locator restore``: a copy of the SQLite register outside its own file.

The register's versions (``locator versions``) live inside the same file, so
they are no backup. ``backup`` copies the live register with SQLite's online
backup API: consistent while the server keeps serving and writing, written
to a temporary file beside the target, checked, and renamed into place, so
the target is the old backup or the new one, never half of either.
``restore`` reads the venues of such a file and makes them the register in one
write (as ``locator import --mode replace`` does): every running process
rebuilds its index from it, and the register before the restore is kept as a
version (``locator rollback`` undoes it). PostGIS registers are backed up
with ``pg_dump`` (README, runbook); ``restore`` from a SQLite backup works on
either back end.

Exit status: 0 done; 2 the file is not a register backup; 3 an environment
error (disk full, read-only, register unreachable): nothing written.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import click

from locator.cli.common import CliError, open_register
from locator.errors import LocatorError
from locator.storage import open_store

__all__ = ["backup_command", "restore_command"]

PAGES_PER_STEP = 1024
"""Pages copied per step of the online backup: the server's writers wait at most one step at a time."""


def _sqlite_path(reg_target: object) -> Path:
    path = getattr(reg_target, "path", None)
    if path is None:
        raise CliError("the register is on PostGIS: back it up with pg_dump (see the README's runbook)", exit_code=2)
    return Path(path)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def backup_command(file: str) -> None:
    """Copy the SQLite register to FILE with SQLite's online backup API (safe while serving)."""
    reg = open_register()
    try:
        source = _sqlite_path(reg.store)
        target = Path(file)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(tmp)) as dst:
                src.backup(dst, pages=PAGES_PER_STEP)
                ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
                version = dst.execute("SELECT value FROM meta WHERE key='version'").fetchone()[0]
                count = dst.execute("SELECT count(*) FROM venues WHERE status='active'").fetchone()[0]
            if ok != "ok":
                raise CliError(f"the copy of {str(source)!r} failed its integrity check: {ok}", exit_code=3)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except (OSError, sqlite3.Error) as exc:
            raise CliError(f"nothing written: cannot back up to {file!r}: {exc}", exit_code=3) from None
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        reg.close()
    click.echo(f"backed up register version {version} ({count} active venues) to {file}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
def restore_command(file: str) -> None:
    """Make the venues of a backup FILE (from ``locator backup``) the register, in one undoable write."""
    try:
        with closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as con:
            ok = con.execute("PRAGMA quick_check").fetchone()[0]
            con.execute("SELECT value FROM meta WHERE key='version'").fetchone()
    except sqlite3.Error as exc:
        raise CliError(f"{file!r} is not a register backup: {exc}", exit_code=2) from None
    if ok != "ok":
        raise CliError(f"{file!r} is damaged: {ok}", exit_code=2)
    try:
        backup = open_store(file)
        venues = backup.venues(include_closed=True)
        backup.close()
    except (LocatorError, sqlite3.Error) as exc:
        raise CliError(f"{file!r} is not a register backup: {exc}", exit_code=2) from None
    reg = open_register()
    try:
        version = reg.store.replace_all(venues, note=f"restore {os.path.basename(file)}", actor="cli")
    except (OSError, sqlite3.OperationalError) as exc:
        raise CliError(f"nothing written: the register could not be written: {exc}", exit_code=3) from None
    finally:
        reg.close()
    click.echo(f"restored {len(venues)} venues from {file}; register version {version}; undo with locator rollback")
