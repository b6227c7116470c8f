"""The venue register in one SQLite file: the embedded default.

``SQLiteStore`` implements :class:`~locator.storage.base.VenueStore`: one
SQLite file in the instance folder, in WAL mode, each write in one
transaction (``BEGIN IMMEDIATE``, so writers queue on the file lock). Every
write bumps an integer data version in ``meta`` and records which venues
changed, so an index can catch up incrementally (``changes_since``). SQLite
announces nothing; readers poll ``version`` (``locator.storage.freshness``).

The schema comes from ``migrations/sqlite``, applied on open. Rows, records
and their validation are the shared ones in ``locator.storage.base``; this
module holds only SQLite's SQL, its connections and how it keeps amenities
(JSON text).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from locator.errors import DataError
from locator.storage.base import (
    AUDIT_COLUMNS,
    COLUMN_LIST,
    COLUMNS,
    MAX_CHANGES,
    REPORT_COLUMNS,
    SNAPSHOT_COLUMNS,
    AuditEntry,
    Report,
    Snapshot,
    audit_from_row,
    before_note,
    bulk_note,
    changed_ids,
    check_pending,
    decode_snapshot,
    decode_venue,
    encode_snapshot,
    encode_venue,
    no_snapshot,
    report_from_row,
    report_note,
    snapshot_from_row,
    too_many_reports,
    utc_now,
)
from locator.storage.confirmations import CONFIRM_CLOSED, FRESHNESS_SQL, carry_freshness, confirmation_change, stamped
from locator.storage.migrations import migrate_sqlite
from locator.venues import Venue, validate_unique

__all__ = ["SQLiteStore", "row_venue", "venue_row"]

#: Several ids may share one version in ``changes``: ``seq`` is the version times this stride.
STRIDE = 1_000_000
_PLACEHOLDERS = ",".join("?" * len(COLUMNS))


def venue_row(venue: Venue) -> tuple[Any, ...]:
    """A venue as a SQLite row (amenities as JSON text)."""
    return encode_venue(venue, lambda amenities: json.dumps(list(amenities)))


def row_venue(row: tuple[Any, ...]) -> Venue:
    """The venue in a SQLite row, validated."""
    return decode_venue(row, json.loads)


def _dump(venue: Venue | None) -> str | None:
    return None if venue is None else json.dumps(venue.as_dict(), ensure_ascii=False)


def _now() -> str:
    return utc_now().isoformat()


class SQLiteStore:
    """A venue register in one SQLite file (WAL mode)."""

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._pid = os.getpid()
        self._inherited: list[threading.local] = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if str(path) != ":memory:":
                # A new register is private (0600; SQLite gives its -wal and -shm the same mode):
                # it holds the audit log and the reports' client hashes. An existing file keeps its mode.
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            migrate_sqlite(self._con())
        except sqlite3.DatabaseError as exc:
            raise DataError(f"cannot open the register {str(self.path)!r}: {exc}") from None

    # -- connections -------------------------------------------------------
    def _con(self) -> sqlite3.Connection:
        if self._pid != os.getpid():  # forked: never use (nor close) the parent's connection; keep it referenced
            self._inherited.append(self._local)
            self._local, self._pid = threading.local(), os.getpid()
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

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: everything read in it comes from one view."""
        con = self._con()
        con.execute("BEGIN")
        try:
            yield con
        finally:
            con.execute("COMMIT")

    @staticmethod
    def _version(con: sqlite3.Connection) -> int:
        return int(con.execute("SELECT value FROM meta WHERE key='version'").fetchone()[0])

    def _bump(self, con: sqlite3.Connection, ids: list[str] | None) -> int:
        version = self._version(con) + 1
        con.execute("UPDATE meta SET value=? WHERE key='version'", (str(version),))
        if ids is None:
            con.execute("INSERT INTO changes (seq, venue_id) VALUES (?, NULL)", (version * STRIDE,))
        else:
            con.executemany(
                "INSERT INTO changes (seq, venue_id) VALUES (?, ?)",
                [(version * STRIDE + i, vid) for i, vid in enumerate(ids)],
            )
        return version

    # -- reading -------------------------------------------------------------
    def version(self) -> int:
        return self._version(self._con())

    def count(self, include_closed: bool = False) -> int:
        sql = "SELECT count(*) FROM venues" + ("" if include_closed else " WHERE status='active'")
        return int(self._con().execute(sql).fetchone()[0])

    def venues(self, include_closed: bool = False) -> list[Venue]:
        sql = f"SELECT {COLUMN_LIST} FROM venues" + ("" if include_closed else " WHERE status='active'")
        return [row_venue(r) for r in self._con().execute(sql + " ORDER BY id")]

    def get(self, venue_id: str) -> Venue | None:
        return self._get(self._con(), venue_id)

    @staticmethod
    def _get(con: sqlite3.Connection, venue_id: str) -> Venue | None:
        row = con.execute(f"SELECT {COLUMN_LIST} FROM venues WHERE id=?", (venue_id,)).fetchone()
        return row_venue(row) if row else None

    def get_many(self, venue_ids: Iterable[str]) -> dict[str, Venue]:
        ids = list(dict.fromkeys(venue_ids))
        out: dict[str, Venue] = {}
        con = self._con()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = con.execute(f"SELECT {COLUMN_LIST} FROM venues WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            out.update((v.id, v) for v in map(row_venue, rows))
        return out

    def snapshot_venues(self, include_closed: bool = False) -> tuple[int, list[Venue]]:
        with self._read() as con:
            return self._version(con), self.venues(include_closed)

    def changes_since(self, version: int) -> tuple[int, list[str] | None]:
        with self._read() as con:
            current = self._version(con)
            if current == version:
                return current, []
            rows = con.execute(
                "SELECT venue_id FROM changes WHERE seq >= ? ORDER BY seq LIMIT ?",
                ((version + 1) * STRIDE if version > 0 else 0, MAX_CHANGES + 1),
            ).fetchall()
        return changed_ids(version, current, [r[0] for r in rows])

    # -- bulk writes ---------------------------------------------------------
    def _upsert(self, con: sqlite3.Connection, venues: Iterable[Venue], replace: bool = True) -> None:
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        con.executemany(f"{verb} INTO venues ({COLUMN_LIST}) VALUES ({_PLACEHOLDERS})", map(venue_row, venues))

    def _snapshot(self, con: sqlite3.Connection, note: str) -> None:
        rows = con.execute(f"SELECT {COLUMN_LIST} FROM venues ORDER BY id").fetchall()
        if not rows:
            return
        con.execute(
            "INSERT INTO snapshots (data_version, created_at, note, venue_count, payload) VALUES (?, ?, ?, ?, ?)",
            (self._version(con), _now(), note, len(rows), encode_snapshot(map(row_venue, rows))),
        )

    def replace_all(self, venues: Iterable[Venue], note: str = "", actor: str = "system") -> int:
        items = list(venues)
        validate_unique(items)
        with self._write() as con:
            items = carry_freshness(items, con.execute(FRESHNESS_SQL))
            self._snapshot(con, before_note(note, "replace"))
            con.execute("DELETE FROM venues")
            self._upsert(con, items, replace=False)
            self._audit(con, actor, "replace", None, None, None, bulk_note(note, "replace", len(items)))
            return self._bump(con, None)

    def merge(self, venues: Iterable[Venue], note: str = "", actor: str = "system") -> int:
        items = list(venues)
        validate_unique(items)
        with self._write() as con:
            items = carry_freshness(items, con.execute(FRESHNESS_SQL))
            self._snapshot(con, before_note(note, "merge"))
            self._upsert(con, items)
            self._audit(con, actor, "merge", None, None, None, bulk_note(note, "merge", len(items)))
            return self._bump(con, [v.id for v in items] if len(items) <= MAX_CHANGES else None)

    def versions(self) -> list[Snapshot]:
        rows = self._con().execute(f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots ORDER BY id DESC")
        return [snapshot_from_row(r) for r in rows]

    def rollback(self, snapshot_id: int, actor: str = "system") -> int:
        row = self._con().execute("SELECT payload FROM snapshots WHERE id=?", (snapshot_id,)).fetchone()
        if row is None:
            raise no_snapshot(snapshot_id, (s.id for s in self.versions()))
        return self.replace_all(decode_snapshot(row[0]), note=f"rollback to version {snapshot_id}", actor=actor)

    def seed_if_empty(self, venues: Iterable[Venue]) -> bool:
        """Load ``venues`` if the register has never been written; atomic.

        Safe when several worker processes start at once: only one seeds.
        """
        items = list(venues)
        validate_unique(items)
        with self._write() as con:
            if self._version(con) > 0:
                return False
            self._upsert(con, items, replace=False)
            self._bump(con, None)
            return True

    def put(self, venue: Venue) -> int:
        with self._write() as con:
            self._upsert(con, [venue])
            return self._bump(con, [venue.id])

    # -- audited edits, audit log, public reports ----------------------------
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
        con.execute(
            "INSERT INTO audit (at, actor, action, venue_id, before, after, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (_now(), actor, action, venue_id, _dump(before), _dump(after), note),
        )

    def _edit(
        self, con: sqlite3.Connection, venue: Venue, actor: str, action: str, note: str, stamp: bool = True
    ) -> int:
        venue = stamped(venue) if stamp else venue
        row = con.execute(f"SELECT {COLUMN_LIST} FROM venues WHERE id=?", (venue.id,)).fetchone()
        self._upsert(con, [venue])
        self._audit(con, actor, action, venue.id, row_venue(row) if row else None, venue, note)
        return self._bump(con, [venue.id])

    def edit(self, venue: Venue, actor: str, action: str, note: str = "") -> int:
        with self._write() as con:
            return self._edit(con, venue, actor, action, note)

    def audit_log(self, limit: int = 100, offset: int = 0, venue_id: str | None = None) -> list[AuditEntry]:
        where, args = ("", ()) if venue_id is None else (" WHERE venue_id=?", (venue_id,))
        rows = self._con().execute(
            f"SELECT {AUDIT_COLUMNS} FROM audit{where} ORDER BY id DESC LIMIT ? OFFSET ?", (*args, limit, offset)
        )
        return [audit_from_row(r) for r in rows]

    def add_report(
        self, venue_id: str, kind: str, message: str, proposal: dict[str, Any], client: str, max_per_hour: int
    ) -> int:
        with self._write() as con:
            return self._queue(con, venue_id, kind, message, proposal, client, max_per_hour)

    def _queue(
        self, con: sqlite3.Connection, venue_id: str, kind: str, message: str, proposal: Any, client: str, limit: int
    ) -> int:
        """Queue a report (or a confirmation) within the client's hourly ``limit``, in the caller's transaction."""
        now = utc_now()
        since = (now - timedelta(hours=1)).isoformat()
        recent = con.execute("SELECT count(*) FROM reports WHERE client=? AND created_at>=?", (client, since))
        if recent.fetchone()[0] >= limit:
            raise too_many_reports(limit)
        cur = con.execute(
            "INSERT INTO reports (venue_id, kind, message, proposal, created_at, client) VALUES (?, ?, ?, ?, ?, ?)",
            (venue_id, kind, message, json.dumps(proposal, ensure_ascii=False), now.isoformat(), client),
        )
        return int(cur.lastrowid or 0)

    def add_confirmation(
        self, venue_id: str, kind: str, client: str, max_per_hour: int, closed_taps: int, closed_days: int
    ) -> tuple[int, bool]:
        with self._write() as con:
            report_id = self._queue(con, venue_id, kind, "", {}, client, max_per_hour)
            if kind != CONFIRM_CLOSED:
                return report_id, False
            since = (utc_now() - timedelta(days=closed_days)).isoformat()
            (clients,) = con.execute(
                "SELECT count(DISTINCT client) FROM reports"
                " WHERE venue_id=? AND kind=? AND status='pending' AND created_at>=?",
                (venue_id, CONFIRM_CLOSED, since),
            ).fetchone()
            if clients < closed_taps:
                return report_id, False
            marked = con.execute("UPDATE venues SET reported_closed=1 WHERE id=? AND reported_closed=0", (venue_id,))
            if marked.rowcount:
                self._bump(con, [venue_id])
            return report_id, True

    def get_report(self, report_id: int) -> Report | None:
        row = self._con().execute(f"SELECT {REPORT_COLUMNS} FROM reports WHERE id=?", (report_id,)).fetchone()
        return report_from_row(row) if row else None

    def reports(self, status: str | None = "pending") -> list[Report]:
        where, args = (" WHERE status=?", (status,)) if status else ("", ())
        rows = self._con().execute(f"SELECT {REPORT_COLUMNS} FROM reports{where} ORDER BY id", args)
        return [report_from_row(r) for r in rows]

    def decide_report(self, report_id: int, accept: bool, actor: str, venue: Venue | None = None) -> Report:
        with self._write() as con:
            row = con.execute(f"SELECT {REPORT_COLUMNS} FROM reports WHERE id=?", (report_id,)).fetchone()
            report = check_pending(report_from_row(row) if row else None, report_id)
            if accept and venue is not None:
                self._edit(con, venue, actor, f"report-{report.kind}", report_note(report))
            elif change := confirmation_change(report, accept, self._get(con, report.venue_id)):
                self._edit(con, change, actor, f"review-{report.kind}", report_note(report), stamp=False)
            con.execute(
                "UPDATE reports SET status=?, decided_by=?, decided_at=? WHERE id=?",
                ("accepted" if accept else "rejected", actor, _now(), report_id),
            )
            row = con.execute(f"SELECT {REPORT_COLUMNS} FROM reports WHERE id=?", (report_id,)).fetchone()
        return report_from_row(row)

    def listen_on(self) -> tuple[str, str] | None:
        """None: SQLite announces nothing; readers poll ``version``."""
        return None

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None
