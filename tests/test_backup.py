"""``locator backup`` / ``locator restore``: an online copy of the SQLite register, and back (issue 13)."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from click.testing import CliRunner

from locator.cli import main
from locator.storage import open_store
from locator.venues import Venue


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCATOR_DATABASE", str(tmp_path / "live.sqlite3"))
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_backup_then_restore_brings_the_venues_back_and_is_undoable(cli, tmp_path):
    backup = tmp_path / "copy.sqlite3"
    r = cli("backup", str(backup))
    assert r.exit_code == 0 and "register version 1 (2621 active venues)" in r.output, r.output
    live = open_store(tmp_path / "live.sqlite3")
    keep = live.venues()[:5]
    live.replace_all(keep, note="an accident")
    gone = live.venues()
    assert len(gone) == 5
    r = cli("restore", str(backup))
    assert r.exit_code == 0 and "restored 2621 venues" in r.output, r.output
    assert live.count() == 2621 and live.version() == 3  # one write: every process rebuilds its index
    assert live.versions()[0].venue_count == 5  # the register before the restore is kept, for rollback
    live.close()


def test_restore_refuses_a_file_that_is_not_a_backup(cli, tmp_path):
    bogus = tmp_path / "bogus.sqlite3"
    bogus.write_bytes(b"not a database" * 200)
    r = cli("restore", str(bogus))
    assert r.exit_code == 2 and "is not a register backup" in r.output and len(r.output.strip().splitlines()) == 1


def test_a_full_disk_during_backup_is_one_line_exit_3_and_leaves_the_old_backup(cli, tmp_path, monkeypatch):
    backup = tmp_path / "copy.sqlite3"
    assert cli("backup", str(backup)).exit_code == 0
    before = backup.read_bytes()
    open_store(tmp_path / "live.sqlite3").edit(
        Venue(**{**open_store(tmp_path / "live.sqlite3").venues()[0].as_dict(), "name": "改名"}), "t", "update"
    )

    def full(*a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("locator.cli.backup.os.replace", full)
    r = cli("backup", str(backup))
    assert r.exit_code == 3 and "No space left on device" in r.output and len(r.output.strip().splitlines()) == 1
    assert backup.read_bytes() == before and not list(tmp_path.glob(".copy.sqlite3.*.tmp"))  # nothing half-written
    with sqlite3.connect(backup) as con:
        assert con.execute("SELECT value FROM meta WHERE key='version'").fetchone()[0] == "1"
