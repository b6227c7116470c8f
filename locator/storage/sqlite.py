"""The venue register behind one narrow interface.

``SQLiteStore`` is the embedded default: one SQLite file in the instance
folder, in WAL mode, each write in one transaction. Every write bumps an
integer data version and records which venues changed, so an index can catch
up incrementally (``changes_since``). A PostGIS store can implement the same
``VenueStore`` protocol later.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from locator.errors import DataError
from locator.venues import Venue, validate_unique

__all__ = ["AuditEntry", "Report", "SQLiteStore", "Snapshot", "TooManyReports", "VenueStore", "open_store"]


class TooManyReports(DataError):
    """One client sent more problem reports than the hourly limit."""


class AuditEntry(NamedTuple):
    """One change to the register: who, when, what, before and after."""

    id: int
    at: str
    actor: str
    action: str
    venue_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str


class Report(NamedTuple):
    """A member of the public's report of a problem with a venue."""

    id: int
    venue_id: str
    kind: str
    message: str
    proposal: dict[str, Any]
    created_at: str
    status: str  # pending, accepted, rejected
    decided_by: str | None
    decided_at: str | None


class Snapshot(NamedTuple):
    """A kept earlier state of the register (see ``versions`` and ``rollback``)."""

    id: int
    data_version: int
    created_at: str
    note: str
    venue_count: int


class VenueStore(Protocol):
    """What the rest of the app may ask of a venue register."""

    def version(self) -> int:
        """The data version; it grows with every committed write."""

    def venues(self, include_closed: bool = False) -> list[Venue]:
        """Every venue (active only, unless ``include_closed``), sorted by id."""

    def get(self, venue_id: str) -> Venue | None:
        """One venue by id, closed ones included."""

    def get_many(self, venue_ids: Iterable[str]) -> dict[str, Venue]:
        """The venues with these ids that exist (closed ones included), by id."""

    def count(self, include_closed: bool = False) -> int:
        """How many venues (active only, unless ``include_closed``)."""

    def snapshot_venues(self, include_closed: bool = False) -> tuple[int, list[Venue]]:
        """The version and the venues of one consistent view of the register."""

    def seed_if_empty(self, venues: Iterable[Venue]) -> bool:
        """Load ``venues`` if the register has never been written (atomic; once across processes)."""

    def changes_since(self, version: int) -> tuple[int, list[str] | None]:
        """The current version, and the ids changed after ``version``.

        ``None`` instead of a list means: too much changed, reload everything.
        """

    def replace_all(self, venues: Iterable[Venue], note: str = "") -> int:
        """Atomically replace the whole register, keeping the old one as a snapshot."""

    def merge(self, venues: Iterable[Venue], note: str = "") -> int:
        """Atomically insert or update many venues, keeping the old register as a snapshot."""

    def versions(self) -> list[Snapshot]:
        """The kept snapshots, newest first."""

    def rollback(self, snapshot_id: int) -> int:
        """Restore a snapshot (keeping the current state as another); returns the new version."""

    def put(self, venue: Venue) -> int:
        """Insert or update one venue; returns the new version."""

    def edit(self, venue: Venue, actor: str, action: str, note: str = "") -> int:
        """Insert or update one venue and record it in the audit log, atomically."""

    def audit_log(self, limit: int = 100, offset: int = 0, venue_id: str | None = None) -> list[AuditEntry]:
        """Audit entries, newest first."""

    def add_report(
        self,
        venue_id: str,
        kind: str,
        message: str,
        proposal: dict[str, Any],
        client: str,
        max_per_hour: int,
    ) -> int:
        """Queue a public problem report; raises TooManyReports past the client's hourly limit."""

    def reports(self, status: str | None = "pending") -> list[Report]:
        """Reports with that status (all when None), oldest first."""

    def get_report(self, report_id: int) -> Report | None:
        """One report by id."""

    def decide_report(self, report_id: int, accept: bool, actor: str, venue: Venue | None = None) -> Report:
        """Accept (applying ``venue`` through the audited path) or reject a report, atomically."""

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS venues (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    district_code TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    operator TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    opening_hours TEXT,
    amenities TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active'
);
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY,
    data_version INTEGER NOT NULL,  -- the register's version when it was kept
    created_at TEXT NOT NULL,
    note TEXT NOT NULL,
    venue_count INTEGER NOT NULL,
    payload BLOB NOT NULL           -- zlib-compressed JSON list of venue dicts
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    venue_id TEXT,
    before TEXT,
    after TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_venue ON audit (venue_id);
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY,
    venue_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    proposal TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    client TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    decided_by TEXT,
    decided_at TEXT
);
CREATE INDEX IF NOT EXISTS reports_client ON reports (client, created_at);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY,
    venue_id TEXT          -- NULL: everything changed
);
"""

_COLUMNS = (
    "id, name, category, district_code, address, lon, lat, operator, phone, "
    "opening_hours, amenities, description, source, status"
)


def _row_to_venue(row: tuple) -> Venue:  # type: ignore[type-arg]
    (vid, name, cat, dist, addr, lon, lat, op, phone, hours, amen, desc, src, status) = row
    return Venue(
        id=vid,
        name=name,
        category=cat,
        district_code=dist,
        address=addr,
        lon=lon,
        lat=lat,
        operator=op,
        phone=phone,
        opening_hours=hours,
        amenities=tuple(json.loads(amen)),
        description=desc,
        source=src,
        status=status,
    )


def _venue_row(v: Venue) -> tuple:  # type: ignore[type-arg]
    return (
        v.id,
        v.name,
        v.category,
        v.district_code,
        v.address,
        v.lon,
        v.lat,
        v.operator,
        v.phone,
        v.opening_hours,
        json.dumps(list(v.amenities)),
        v.description,
        v.source,
        v.status,
    )


class SQLiteStore:
    """A venue register in one SQLite file (WAL mode)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con().executescript(_SCHEMA)  # idempotent; executescript commits by itself
            with self._write() as con:
                con.execute("INSERT OR IGNORE INTO meta VALUES ('version', '0')")
        except sqlite3.DatabaseError as exc:
            raise DataError(f"cannot open the register {str(self.path)!r}: {exc}") from None

    # -- connections -------------------------------------------------------
    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("PRAGMA foreign_keys=ON")
            self._local.con = con
        return con

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back whole on any error."""
        con = self._con()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        else:
            con.execute("COMMIT")

    def _bump(self, con: sqlite3.Connection, ids: list[str] | None) -> int:
        version = int(con.execute("SELECT value FROM meta WHERE key='version'").fetchone()[0]) + 1
        con.execute("UPDATE meta SET value=? WHERE key='version'", (str(version),))
        if ids is None:
            con.execute("INSERT INTO changes (seq, venue_id) VALUES (?, NULL)", (version * 1_000_000,))
        else:
            # Several ids may share one version: seq is the version times a stride.
            con.executemany(
                "INSERT INTO changes (seq, venue_id) VALUES (?, ?)",
                [(version * 1_000_000 + i, vid) for i, vid in enumerate(ids)],
            )
        return version

    # -- the interface -----------------------------------------------------
    def version(self) -> int:
        return int(self._con().execute("SELECT value FROM meta WHERE key='version'").fetchone()[0])

    def count(self, include_closed: bool = False) -> int:
        sql = "SELECT count(*) FROM venues" + ("" if include_closed else " WHERE status='active'")
        return int(self._con().execute(sql).fetchone()[0])

    def venues(self, include_closed: bool = False) -> list[Venue]:
        sql = f"SELECT {_COLUMNS} FROM venues"
        if not include_closed:
            sql += " WHERE status='active'"
        return [_row_to_venue(r) for r in self._con().execute(sql + " ORDER BY id")]

    def get(self, venue_id: str) -> Venue | None:
        row = self._con().execute(f"SELECT {_COLUMNS} FROM venues WHERE id=?", (venue_id,)).fetchone()
        return _row_to_venue(row) if row else None

    def get_many(self, venue_ids: Iterable[str]) -> dict[str, Venue]:
        ids = list(dict.fromkeys(venue_ids))
        out: dict[str, Venue] = {}
        con = self._con()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = con.execute(f"SELECT {_COLUMNS} FROM venues WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            out.update((v.id, v) for v in map(_row_to_venue, rows))
        return out

    def snapshot_venues(self, include_closed: bool = False) -> tuple[int, list[Venue]]:
        con = self._con()
        con.execute("BEGIN")  # one read transaction: the version and the rows agree
        try:
            version = int(con.execute("SELECT value FROM meta WHERE key='version'").fetchone()[0])
            return version, self.venues(include_closed)
        finally:
            con.execute("COMMIT")

    def changes_since(self, version: int) -> tuple[int, list[str] | None]:
        con = self._con()
        con.execute("BEGIN")
        try:
            current = int(con.execute("SELECT value FROM meta WHERE key='version'").fetchone()[0])
            if current == version:
                return current, []
            rows = con.execute(
                "SELECT venue_id FROM changes WHERE seq >= ? ORDER BY seq",
                ((version + 1) * 1_000_000 if version > 0 else 0,),
            ).fetchall()
        finally:
            con.execute("COMMIT")
        if version <= 0 or any(r[0] is None for r in rows) or len(rows) > 10_000:
            return current, None
        return current, sorted({r[0] for r in rows})

    def _insert(self, con: sqlite3.Connection, venues: Iterable[Venue], replace: bool = False) -> None:
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        con.executemany(f"{verb} INTO venues ({_COLUMNS}) VALUES ({','.join('?' * 14)})", map(_venue_row, venues))

    def _snapshot(self, con: sqlite3.Connection, note: str) -> None:
        rows = con.execute(f"SELECT {_COLUMNS} FROM venues ORDER BY id").fetchall()
        if not rows:
            return
        payload = zlib.compress(json.dumps([_row_to_venue(r).as_dict() for r in rows], ensure_ascii=False).encode())
        version = int(con.execute("SELECT value FROM meta WHERE key='version'").fetchone()[0])
        now = datetime.now(UTC).isoformat(timespec="seconds")
        con.execute(
            "INSERT INTO snapshots (data_version, created_at, note, venue_count, payload) VALUES (?, ?, ?, ?, ?)",
            (version, now, note, len(rows), payload),
        )

    def replace_all(self, venues: Iterable[Venue], note: str = "", actor: str = "system") -> int:
        items = list(venues)
        validate_unique(items)
        with self._write() as con:
            self._snapshot(con, f"before: {note}" if note else "before replace")
            con.execute("DELETE FROM venues")
            self._insert(con, items)
            self._audit(con, actor, "replace", None, None, None, f"{note or 'replace'}: {len(items)} venues")
            return self._bump(con, None)

    def merge(self, venues: Iterable[Venue], note: str = "", actor: str = "system") -> int:
        items = list(venues)
        validate_unique(items)
        with self._write() as con:
            self._snapshot(con, f"before: {note}" if note else "before merge")
            self._insert(con, items, replace=True)
            self._audit(con, actor, "merge", None, None, None, f"{note or 'merge'}: {len(items)} venues")
            return self._bump(con, [v.id for v in items] if len(items) <= 10_000 else None)

    # -- audited edits, audit log, public reports ----------------------------
    @staticmethod
    def _now() -> str:
        return datetime.now(UTC).isoformat(timespec="seconds")

    def _audit(
        self,
        con: sqlite3.Connection,
        actor: str,
        action: str,
        venue_id: str | None,
        before: Venue | None,
        after: Venue | None,
        note: str = "",
    ) -> None:
        dump = lambda v: None if v is None else json.dumps(v.as_dict(), ensure_ascii=False)  # noqa: E731
        con.execute(
            "INSERT INTO audit (at, actor, action, venue_id, before, after, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self._now(), actor, action, venue_id, dump(before), dump(after), note),
        )

    def _edit(self, con: sqlite3.Connection, venue: Venue, actor: str, action: str, note: str) -> int:
        row = con.execute(f"SELECT {_COLUMNS} FROM venues WHERE id=?", (venue.id,)).fetchone()
        before = _row_to_venue(row) if row else None
        self._insert(con, [venue], replace=True)
        self._audit(con, actor, action, venue.id, before, venue, note)
        return self._bump(con, [venue.id])

    def edit(self, venue: Venue, actor: str, action: str, note: str = "") -> int:
        with self._write() as con:
            return self._edit(con, venue, actor, action, note)

    def audit_log(self, limit: int = 100, offset: int = 0, venue_id: str | None = None) -> list[AuditEntry]:
        sql = "SELECT id, at, actor, action, venue_id, before, after, note FROM audit"
        args: tuple = ()  # type: ignore[type-arg]
        if venue_id is not None:
            sql += " WHERE venue_id=?"
            args = (venue_id,)
        rows = self._con().execute(sql + " ORDER BY id DESC LIMIT ? OFFSET ?", (*args, limit, offset))
        return [
            AuditEntry(i, at, actor, action, vid, json.loads(b) if b else None, json.loads(a) if a else None, note)
            for i, at, actor, action, vid, b, a, note in rows
        ]

    def add_report(
        self,
        venue_id: str,
        kind: str,
        message: str,
        proposal: dict[str, Any],
        client: str,
        max_per_hour: int,
    ) -> int:
        with self._write() as con:
            since = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
            recent = con.execute(
                "SELECT count(*) FROM reports WHERE client=? AND created_at>=?", (client, since)
            ).fetchone()[0]
            if recent >= max_per_hour:
                raise TooManyReports(f"too many reports from this client: at most {max_per_hour} an hour")
            cur = con.execute(
                "INSERT INTO reports (venue_id, kind, message, proposal, created_at, client) VALUES (?, ?, ?, ?, ?, ?)",
                (venue_id, kind, message, json.dumps(proposal, ensure_ascii=False), self._now(), client),
            )
            return int(cur.lastrowid or 0)

    _REPORT_COLS = "id, venue_id, kind, message, proposal, created_at, status, decided_by, decided_at"

    def _report(self, row: tuple) -> Report:  # type: ignore[type-arg]
        i, vid, kind, msg, prop, created, status, by, at = row
        return Report(i, vid, kind, msg, json.loads(prop), created, status, by, at)

    def get_report(self, report_id: int) -> Report | None:
        row = self._con().execute(f"SELECT {self._REPORT_COLS} FROM reports WHERE id=?", (report_id,)).fetchone()
        return self._report(row) if row else None

    def reports(self, status: str | None = "pending") -> list[Report]:
        sql = f"SELECT {self._REPORT_COLS} FROM reports"
        rows = self._con().execute(
            sql + (" WHERE status=? ORDER BY id" if status else " ORDER BY id"), (status,) if status else ()
        )
        return [self._report(r) for r in rows]

    def decide_report(self, report_id: int, accept: bool, actor: str, venue: Venue | None = None) -> Report:
        with self._write() as con:
            row = con.execute(f"SELECT {self._REPORT_COLS} FROM reports WHERE id=?", (report_id,)).fetchone()
            if row is None:
                raise DataError(f"no report {report_id!r}")
            report = self._report(row)
            if report.status != "pending":
                raise DataError(f"report {report_id} was already {report.status}")
            status = "accepted" if accept else "rejected"
            if accept and venue is not None:
                self._edit(con, venue, actor, f"report-{report.kind}", f"report #{report_id}: {report.message}"[:500])
            con.execute(
                "UPDATE reports SET status=?, decided_by=?, decided_at=? WHERE id=?",
                (status, actor, self._now(), report_id),
            )
        out = self.get_report(report_id)
        assert out is not None
        return out

    def versions(self) -> list[Snapshot]:
        rows = self._con().execute(
            "SELECT id, data_version, created_at, note, venue_count FROM snapshots ORDER BY id DESC"
        )
        return [Snapshot(*r) for r in rows]

    def rollback(self, snapshot_id: int, actor: str = "system") -> int:
        row = self._con().execute("SELECT payload FROM snapshots WHERE id=?", (snapshot_id,)).fetchone()
        if row is None:
            known = ", ".join(str(s.id) for s in self.versions()) or "none"
            raise DataError(f"no register version {snapshot_id!r} (kept versions: {known})")
        venues = [
            Venue(**{**d, "amenities": tuple(d["amenities"])}) for d in json.loads(zlib.decompress(row[0]).decode())
        ]
        return self.replace_all(venues, note=f"rollback to version {snapshot_id}", actor=actor)

    def seed_if_empty(self, venues: Iterable[Venue]) -> bool:
        """Load ``venues`` if the register has never been written; atomic.

        Safe when several worker processes start at once: only one seeds.
        """
        items = list(venues)
        validate_unique(items)
        with self._write() as con:
            if int(con.execute("SELECT value FROM meta WHERE key='version'").fetchone()[0]) > 0:
                return False
            self._insert(con, items)
            self._bump(con, None)
            return True

    def put(self, venue: Venue) -> int:
        with self._write() as con:
            con.execute(f"INSERT OR REPLACE INTO venues ({_COLUMNS}) VALUES ({','.join('?' * 14)})", _venue_row(venue))
            return self._bump(con, [venue.id])

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None


if TYPE_CHECKING:
    from locator.storage.postgis import PostGISStore


def open_store(url_or_path: str | Path) -> SQLiteStore | PostGISStore:
    """Open the register named by a path, a ``sqlite:///`` URL or a ``postgresql://`` URL.

    A ``postgresql://`` (or ``postgres://``) URL opens the shared PostGIS
    register (``locator.storage.postgis``); anything else is a SQLite file.
    """
    text = str(url_or_path)
    if text.startswith(("postgresql://", "postgres://")):
        from locator.storage.postgis import PostGISStore

        return PostGISStore(text)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") :]
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        raise DataError(f"unsupported database URL scheme {scheme!r}; use a SQLite path, sqlite:/// or postgresql://")
    return SQLiteStore(text)
