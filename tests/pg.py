"""A PostgreSQL/PostGIS server for the tests: fixtures ``pg_server`` and ``pg_url``.

``pg_server`` (session) is, in order of preference:

1. the server named by ``LOCATOR_TEST_DATABASE_URL`` (a database the tests may
   create and drop other databases from, with PostGIS available), or
2. a throwaway cluster started here with Debian's ``initdb``/``pg_ctl`` in a
   temporary folder, listening on 127.0.0.1 only, on a free port, with fsync
   off; run as the ``postgres`` (or ``nobody``) user when the tests run as
   root, since PostgreSQL refuses to run as root.

Without PostgreSQL server binaries or without PostGIS the PostGIS tests are
skipped with a message naming the Debian package to install.

``pg_url`` (function) is a fresh database per test, cloned from a template
that already has PostGIS and the register's migrations.

Import the fixtures into a test module: ``from tests.pg import pg_server, pg_url``.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ENV = "LOCATOR_TEST_DATABASE_URL"
TEMPLATE = "locator_test_template"
INSTALL = "apt-get install postgresql-15 postgresql-15-postgis-3"


@dataclass
class PgServer:
    admin_url: str  # a database to run CREATE/DROP DATABASE from

    def url(self, dbname: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path="/" + dbname))


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _has_postgis(bindir: Path) -> bool:
    """Debian's layout; elsewhere, CREATE EXTENSION postgis decides (and skips with its error)."""
    if not str(bindir).startswith("/usr/lib/postgresql/"):
        return True
    return Path(f"/usr/share/postgresql/{bindir.parent.name}/extension/postgis.control").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user(argv: list[str], user: str | None) -> list[str]:
    return argv if user is None else ["runuser", "-u", user, "--", *argv]


def start_cluster() -> Iterator[PgServer]:
    bindir = _bindir()
    if bindir is None:
        pytest.skip(
            f"PostGIS tests skipped: no PostgreSQL server binaries (initdb) found; {INSTALL}, "
            f"or set {ENV}=postgresql://…"
        )
    if not _has_postgis(bindir):
        pytest.skip(
            f"PostGIS tests skipped: PostgreSQL is installed but PostGIS is not; "
            f"apt-get install postgresql-{bindir.parent.name}-postgis-3, or set {ENV}=postgresql://…"
        )
    user = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
            except KeyError:
                continue
            user = name
            break
        else:
            pytest.skip(
                "PostGIS tests skipped: running as root, and no unprivileged user "
                "(postgres, nobody) to run PostgreSQL as"
            )
    tmp = Path(tempfile.mkdtemp(prefix="locator-pg-"))
    data, sock = tmp / "data", tmp
    if user is not None:
        pw = pwd.getpwnam(user)
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
    port = _free_port()
    log = tmp / "server.log"
    try:
        subprocess.run(
            _as_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                user,
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_user(
                [str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "-t", "60", "start"], user
            ),
            check=True,
            capture_output=True,
            timeout=90,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.fail(f"could not start a throwaway PostgreSQL cluster: {exc}\n{detail.decode(errors='replace')}\n{text}")
    try:
        yield PgServer(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    finally:
        subprocess.run(
            _as_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], user),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(tmp, ignore_errors=True)


def _admin(server: PgServer, *statements: str) -> None:
    import psycopg

    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        import psycopg
        from psycopg import sql  # noqa: F401
    except ImportError:
        pytest.skip("PostGIS tests skipped: psycopg is not installed (pip install 'psycopg[binary]' psycopg-pool)")
    from locator.storage.migrations import migrate_postgis

    external = os.environ.get(ENV)
    gen = None
    if external:
        server = PgServer(external)
    else:
        gen = start_cluster()
        server = next(gen)
    try:
        _admin(server, f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)", f"CREATE DATABASE {TEMPLATE}")
        try:
            with psycopg.connect(server.url(TEMPLATE)) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                conn.commit()
                migrate_postgis(conn)
        except psycopg.Error as exc:
            if "postgis" in str(exc).lower():
                pytest.skip(
                    f"PostGIS tests skipped: the server has no PostGIS extension ({exc}); "
                    "apt-get install postgresql-15-postgis-3"
                )
            raise
        yield server
        _admin(server, f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
    finally:
        if gen is not None:
            next(gen, None)


_names = itertools.count()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, migrated PostGIS database for one test, dropped afterwards."""
    name = f"locator_test_{os.getpid()}_{next(_names)}"
    _admin(pg_server, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
    try:
        yield pg_server.url(name)
    finally:
        _admin(pg_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
