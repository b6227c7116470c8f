"""Environment errors (issue 13, item 6): a full disk is one line and exit 3 (CLI), 507 (API), nothing lost.

The disk is real: a small tmpfs mounted for the test (root only; skipped
elsewhere), holding a copy of the seeded register, then filled to within a
few pages by a filler file. SQLite then fails the write with "database or
disk is full", exactly as on a full server. After each refusal the filler is
removed and the register is checked: same data version, same venues,
``PRAGMA integrity_check`` ok. The classification of errors
(``locator.storage.store_errors``, ``storage_full``) is checked for each
back end's own kind of "full", and an unreachable database is exit 3 for
every command while a file that is not a register stays exit 1.
"""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from locator import create_app
from locator.cli import main
from locator.storage import open_store, storage_full, store_errors

from .conftest import feature, write_collection

TOKEN = "disk-full-token"
LEFT_FREE = 48 * 1024  # bytes left: enough to open the register (its -shm and -wal), not to write 3,000 venues


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


@pytest.fixture
def tiny_disk(tmp_path: Path, register_template: Path) -> Iterator[Path]:
    """A tmpfs holding a copy of the seeded register, with room for the register and a little more."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    size = register_template.stat().st_size + 4 * 1024 * 1024
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        src, dst = sqlite3.connect(register_template), sqlite3.connect(mnt / "register.sqlite3")
        with dst:
            src.backup(dst)  # with its write-ahead log, if the template kept one
        src.close()
        dst.close()
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mnt: Path) -> Path:
    """Fill the disk to within ``LEFT_FREE`` bytes."""
    filler = mnt / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, _free(mnt) - LEFT_FREE))
    return filler


def register_state(db: Path) -> tuple[int, int, str]:
    """The register's data version, venue count and ``PRAGMA integrity_check`` (also ``bench/faults.py``'s)."""
    store = open_store(str(db))
    try:
        version, count = store.version(), store.count()
    finally:
        store.close()
    con = sqlite3.connect(db)
    try:
        ok = con.execute("pragma integrity_check").fetchone()[0]
    finally:
        con.close()
    return version, count, ok


def _big_file(tmp_path: Path, n: int = 3000) -> Path:
    feats = [
        feature(f"full-{i}", name=f"满盘测试站{i}", lon=110.30 + (i % 60) * 1e-3, lat=19.97 + (i // 60) * 1e-3)
        for i in range(n)
    ]
    return write_collection(tmp_path / "big.geojson", feats)


def test_locator_import_on_a_full_disk_is_one_line_exit_3_and_the_register_intact(tiny_disk, tmp_path, monkeypatch):
    db = tiny_disk / "register.sqlite3"
    monkeypatch.setenv("LOCATOR_DATABASE", str(db))
    src = _big_file(tmp_path)
    before = register_state(db)
    filler = _fill(tiny_disk)
    result = CliRunner().invoke(main, ["import", str(src), "--crs", "wgs84"], catch_exceptions=False)
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 3, result.output
    assert len(errors) == 1 and "nothing written" in errors[0] and "full" in errors[0], errors
    assert "Traceback" not in result.output
    filler.unlink()
    assert register_state(db) == before and before[2] == "ok"


def test_the_admin_api_answers_507_on_a_full_disk_and_writes_nothing(tiny_disk):
    db = tiny_disk / "register.sqlite3"
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(db),
            "ACCESS_LOG": False,
            "INDEX_REFRESH_SECONDS": 3600,
            "ADMIN_TOKENS": {hashlib.sha256(TOKEN.encode()).hexdigest(): "bot"},
        }
    )
    client = app.test_client()
    before = register_state(db)
    filler = _fill(tiny_disk)
    body = {"name": "满盘测试站", "category": "outdoor_station", "lon": 110.33, "lat": 20.03, "note": "x" * 2000}
    statuses = []
    for _ in range(40):  # one small write may still fit in the last pages: keep writing until the disk says no
        r = client.post("/api/v1/admin/venues", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
        statuses.append(r.status_code)
        if r.status_code != 201:
            break
    assert r.status_code == 507 and r.mimetype == "application/problem+json", r.get_data(as_text=True)
    assert "full" in r.get_json()["detail"]
    written = statuses.count(201)
    filler.unlink()
    version, count, ok = register_state(db)
    assert ok == "ok" and (version, count) == (before[0] + written, before[1] + written)  # each write whole or not


@pytest.mark.parametrize(
    "exc, full",
    [
        (sqlite3.OperationalError("database or disk is full"), True),
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), True),
        (sqlite3.OperationalError("database is locked"), False),
        (OSError(errno.EROFS, "Read-only file system"), False),
    ],
)
def test_storage_full_tells_a_full_disk_from_other_failures(exc, full):
    assert storage_full(exc) is full


def test_postgres_disk_full_and_a_lost_connection_are_store_errors_integrity_is_not():
    psycopg = pytest.importorskip("psycopg")
    disk_full = psycopg.errors.DiskFull("could not extend file: No space left on device")
    assert isinstance(disk_full, store_errors()) and storage_full(disk_full)
    assert isinstance(psycopg.OperationalError("server closed the connection"), store_errors())
    assert not isinstance(psycopg.errors.UniqueViolation("duplicate key"), store_errors())
    assert not isinstance(sqlite3.IntegrityError("UNIQUE constraint failed"), store_errors())


@pytest.mark.parametrize("command", [["versions"], ["export", "--format", "csv"]])
def test_an_unreachable_database_is_one_line_and_exit_3_for_every_command(monkeypatch, command):
    pytest.importorskip("psycopg")
    monkeypatch.setenv("LOCATOR_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/locator")  # port 1: refused at once
    result = CliRunner().invoke(main, command, catch_exceptions=False)
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 3 and len(errors) == 1 and "cannot open the register" in errors[0], result.output


def test_a_file_that_is_not_a_register_stays_exit_1_not_an_environment_error(tmp_path, monkeypatch):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database, just some bytes " * 40)
    monkeypatch.setenv("LOCATOR_DATABASE", str(bad))
    result = CliRunner().invoke(main, ["versions"], catch_exceptions=False)
    assert result.exit_code == 1 and "not a database" in result.stderr
