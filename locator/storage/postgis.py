"""The venue register in PostgreSQL/PostGIS, shared by many app processes.

``PostGISStore`` implements :class:`~locator.storage.base.VenueStore`, with
the same meaning as ``SQLiteStore``: snapshots, the audit log, public reports
and their hourly limit, and the change log behind ``changes_since``. Each
write is one transaction that

- bumps the single-row ``register_state.version`` first (the row lock queues
  concurrent writers, so versions commit in order),
- records the changed venue ids for that version in ``changes``, and
- sends ``NOTIFY locator_changes, '<version>'``, delivered at commit, which
  every app process LISTENs for (``listen_on``, ``locator.storage.freshness``).

Venues are kept with plain ``lon``/``lat`` columns (the in-memory index needs
floats) and a generated ``geography(Point, 4326)`` column under a GiST index
for server-side queries (``within_distance``). The schema comes from
``migrations/postgis``, applied on open. Rows, records and their validation
are the shared ones in ``locator.storage.base``. psycopg 3 and its pool.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

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
from locator.storage.migrations import migrate_postgis
from locator.venues import Venue, validate_unique

__all__ = ["CHANNEL", "PostGISStore", "row_venue", "venue_row"]

#: The NOTIFY channel every write transaction signals, with the new version as payload.
CHANNEL = "locator_changes"

_DWITHIN = "ST_DWithin(geog, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)"
_ORDER = ' ORDER BY id COLLATE "C"'  # bytewise, as SQLite sorts


def venue_row(venue: Venue) -> tuple[Any, ...]:
    """A venue as a PostGIS row, ready for COPY (amenities as a list for ``text[]``)."""
    return encode_venue(venue, list)


def row_venue(row: tuple[Any, ...]) -> Venue:
    """The venue in a PostGIS row, validated."""
    return decode_venue(row, tuple)


def _dump(venue: Venue | None) -> Jsonb | None:
    return None if venue is None else Jsonb(venue.as_dict())


class PostGISStore:
    """A venue register in PostgreSQL with PostGIS, through a psycopg connection pool."""

    backend = "postgis"

    def __init__(self, url: str, min_size: int = 1, max_size: int = 4, timeout: float = 30.0) -> None:
        self.url = url
        try:
            with psycopg.connect(url, connect_timeout=10) as conn:
                migrate_postgis(conn)
        except psycopg.Error as exc:
            raise DataError(f"cannot open the register {_redact(url)!r}: {_first_line(exc)}") from None
        self._pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs={"connect_timeout": 10},
            open=True,
            name="locator",
        )

    # -- connections -------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction on a pooled connection: committed on success, rolled back on any error."""
        with self._pool.connection() as conn:
            yield conn

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        rows = self._all(sql, args)
        return rows[0] if rows else None

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """A read (never a write: it may run twice); retried once when its pooled connection was broken.

        A connection the server dropped (a restart) fails on first use; the
        pool discards it when it comes back, so the retry gets another or a
        fresh one instead of answering 500 (issue 13).
        """
        try:
            with self._tx() as conn:
                return conn.execute(sql, args).fetchall()
        except psycopg.OperationalError:
            with self._tx() as conn:
                return conn.execute(sql, args).fetchall()

    def _bump(self, conn: psycopg.Connection[Any]) -> int:
        """Take the register's write lock and return the version this transaction will commit."""
        row = conn.execute("UPDATE register_state SET version = version + 1 RETURNING version").fetchone()
        assert row is not None
        return int(row[0])

    def _changed(self, conn: psycopg.Connection[Any], version: int, ids: list[str] | None) -> int:
        with conn.cursor() as cur:
            if ids is None:
                cur.execute("INSERT INTO changes (version, venue_id) VALUES (%s, NULL)", (version,))
            else:
                cur.executemany("INSERT INTO changes (version, venue_id) VALUES (%s, %s)", [(version, i) for i in ids])
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(version)))
        return version

    # -- reading -------------------------------------------------------------
    def version(self) -> int:
        row = self._one("SELECT version FROM register_state")
        assert row is not None
        return int(row[0])

    def count(self, include_closed: bool = False) -> int:
        row = self._one("SELECT count(*) FROM venues" + ("" if include_closed else " WHERE status='active'"))
        assert row is not None
        return int(row[0])

    def venues(self, include_closed: bool = False) -> list[Venue]:
        sql = f"SELECT {COLUMN_LIST} FROM venues" + ("" if include_closed else " WHERE status='active'")
        with self._tx() as conn, conn.cursor(binary=True) as cur:
            cur.execute(sql + _ORDER)
            return [row_venue(r) for r in cur]

    def snapshot_venues(self, include_closed: bool = False) -> tuple[int, list[Venue]]:
        sql = f"SELECT {COLUMN_LIST} FROM venues" + ("" if include_closed else " WHERE status='active'")
        with self._pool.connection() as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            try:
                with conn.transaction(), conn.cursor(binary=True) as cur:
                    row = cur.execute("SELECT version FROM register_state").fetchone()
                    assert row is not None
                    cur.execute(sql + _ORDER)
                    return int(row[0]), [row_venue(r) for r in cur]
            finally:
                conn.isolation_level = None

    def get(self, venue_id: str) -> Venue | None:
        row = self._one(f"SELECT {COLUMN_LIST} FROM venues WHERE id=%s", (venue_id,))
        return row_venue(row) if row else None

    def get_many(self, venue_ids: Iterable[str]) -> dict[str, Venue]:
        with self._tx() as conn, conn.cursor(binary=True) as cur:
            cur.execute(f"SELECT {COLUMN_LIST} FROM venues WHERE id = ANY(%s)", (list(venue_ids),))
            return {v.id: v for v in map(row_venue, cur)}

    def changes_since(self, version: int) -> tuple[int, list[str] | None]:
        # One statement, so one view: the version and its change log agree.
        row = self._one(
            "SELECT (SELECT version FROM register_state),"
            " array(SELECT venue_id FROM changes WHERE version > %s ORDER BY version LIMIT %s)",
            (version, MAX_CHANGES + 1),
        )
        assert row is not None
        return changed_ids(version, int(row[0]), row[1])

    # -- bulk writes ---------------------------------------------------------
    def _insert(self, conn: psycopg.Connection[Any], venues: Iterable[Venue]) -> None:
        with conn.cursor() as cur, cur.copy(f"COPY venues ({COLUMN_LIST}) FROM STDIN") as copy:
            for v in venues:
                copy.write_row(venue_row(v))

    def _upsert(self, conn: psycopg.Connection[Any], venues: list[Venue]) -> None:
        sets = ", ".join(f"{f}=EXCLUDED.{f}" for f in COLUMNS[1:])
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO venues ({COLUMN_LIST}) VALUES ({','.join(['%s'] * len(COLUMNS))})"
                f" ON CONFLICT (id) DO UPDATE SET {sets}",
                [venue_row(v) for v in venues],
            )

    def _snapshot(self, conn: psycopg.Connection[Any], version: int, note: str) -> None:
        """Keep the register as it is now; ``version`` is its data version (before this write)."""
        with conn.cursor(binary=True) as cur:
            cur.execute(f"SELECT {COLUMN_LIST} FROM venues" + _ORDER)
            venues = [row_venue(r) for r in cur]
        if not venues:
            return
        conn.execute(
            "INSERT INTO snapshots (data_version, created_at, note, venue_count, payload) VALUES (%s, %s, %s, %s, %s)",
            (version, utc_now(), note, len(venues), encode_snapshot(venues)),
        )

    def _replace(self, conn: psycopg.Connection[Any], items: list[Venue], note: str, actor: str) -> int:
        version = self._bump(conn)
        items = carry_freshness(items, conn.execute(FRESHNESS_SQL).fetchall())
        self._snapshot(conn, version - 1, before_note(note, "replace"))
        conn.execute("DELETE FROM venues")
        self._insert(conn, items)
        self._audit(conn, actor, "replace", None, None, None, bulk_note(note, "replace", len(items)))
        return self._changed(conn, version, None)

    def replace_all(self, venues: Iterable[Venue], note: str = "", actor: str = "system") -> int:
        items = list(venues)
        validate_unique(items)
        with self._tx() as conn:
            return self._replace(conn, items, note, actor)

    def merge(self, venues: Iterable[Venue], note: str = "", actor: str = "system") -> int:
        items = list(venues)
        validate_unique(items)
        with self._tx() as conn:
            version = self._bump(conn)
            items = carry_freshness(items, conn.execute(FRESHNESS_SQL).fetchall())
            self._snapshot(conn, version - 1, before_note(note, "merge"))
            self._upsert(conn, items)
            self._audit(conn, actor, "merge", None, None, None, bulk_note(note, "merge", len(items)))
            return self._changed(conn, version, [v.id for v in items] if len(items) <= MAX_CHANGES else None)

    def versions(self) -> list[Snapshot]:
        return [snapshot_from_row(r) for r in self._all(f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots ORDER BY id DESC")]

    def rollback(self, snapshot_id: int, actor: str = "system") -> int:
        with self._tx() as conn:
            row = conn.execute("SELECT payload FROM snapshots WHERE id=%s", (snapshot_id,)).fetchone()
            if row is None:
                kept = conn.execute("SELECT id FROM snapshots ORDER BY id DESC").fetchall()
                raise no_snapshot(snapshot_id, (r[0] for r in kept))
            return self._replace(conn, decode_snapshot(row[0]), f"rollback to version {snapshot_id}", actor)

    def seed_if_empty(self, venues: Iterable[Venue]) -> bool:
        """Load ``venues`` if the register has never been written; atomic.

        Safe when several processes on several hosts start at once: the
        version row's lock lets exactly one seed.
        """
        items = list(venues)
        validate_unique(items)
        with self._tx() as conn:
            row = conn.execute("SELECT version FROM register_state FOR UPDATE").fetchone()
            assert row is not None
            if int(row[0]) > 0:
                return False
            version = self._bump(conn)
            self._insert(conn, items)
            self._changed(conn, version, None)
            return True

    def put(self, venue: Venue) -> int:
        with self._tx() as conn:
            version = self._bump(conn)
            self._upsert(conn, [venue])
            return self._changed(conn, version, [venue.id])

    # -- audited edits, audit log, public reports ----------------------------
    def _audit(
        self,
        conn: psycopg.Connection[Any],
        actor: str,
        action: str,
        venue_id: str | None,
        before: Venue | None,
        after: Venue | None,
        note: str = "",
    ) -> None:
        conn.execute(
            "INSERT INTO audit (at, actor, action, venue_id, before, after, note) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (utc_now(), actor, action, venue_id, _dump(before), _dump(after), note),
        )

    @staticmethod
    def _venue(conn: psycopg.Connection[Any], venue_id: str) -> Venue | None:
        row = conn.execute(f"SELECT {COLUMN_LIST} FROM venues WHERE id=%s", (venue_id,)).fetchone()
        return row_venue(row) if row else None

    def _edit(
        self, conn: psycopg.Connection[Any], venue: Venue, actor: str, action: str, note: str, stamp: bool = True
    ) -> int:
        venue = stamped(venue) if stamp else venue
        version = self._bump(conn)
        before = self._venue(conn, venue.id)
        self._upsert(conn, [venue])
        self._audit(conn, actor, action, venue.id, before, venue, note)
        return self._changed(conn, version, [venue.id])

    def edit(self, venue: Venue, actor: str, action: str, note: str = "") -> int:
        with self._tx() as conn:
            return self._edit(conn, venue, actor, action, note)

    def audit_log(self, limit: int = 100, offset: int = 0, venue_id: str | None = None) -> list[AuditEntry]:
        where, args = ("", ()) if venue_id is None else (" WHERE venue_id=%s", (venue_id,))
        rows = self._all(
            f"SELECT {AUDIT_COLUMNS} FROM audit{where} ORDER BY id DESC LIMIT %s OFFSET %s", (*args, limit, offset)
        )
        return [audit_from_row(r) for r in rows]

    def add_report(
        self, venue_id: str, kind: str, message: str, proposal: dict[str, Any], client: str, max_per_hour: int
    ) -> int:
        with self._tx() as conn:
            return self._queue(conn, venue_id, kind, message, proposal, client, max_per_hour)

    def _queue(
        self,
        conn: psycopg.Connection[Any],
        venue_id: str,
        kind: str,
        message: str,
        proposal: Any,
        client: str,
        limit: int,
    ) -> int:
        """Queue a report (or a confirmation) within the client's hourly ``limit``, in the caller's transaction."""
        # Serialise one client's reports (on any host) so the hourly count cannot be raced past.
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 8))", ("report:" + client,))
        now = utc_now()
        row = conn.execute(
            "SELECT count(*) FROM reports WHERE client=%s AND created_at >= %s - interval '1 hour'", (client, now)
        ).fetchone()
        if row is not None and row[0] >= limit:
            raise too_many_reports(limit)
        row = conn.execute(
            "INSERT INTO reports (venue_id, kind, message, proposal, created_at, client)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (venue_id, kind, message, Jsonb(proposal), now, client),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def add_confirmation(
        self, venue_id: str, kind: str, client: str, max_per_hour: int, closed_taps: int, closed_days: int
    ) -> tuple[int, bool]:
        with self._tx() as conn:
            report_id = self._queue(conn, venue_id, kind, "", {}, client, max_per_hour)
            if kind != CONFIRM_CLOSED:
                return report_id, False
            row = conn.execute(
                "SELECT count(DISTINCT client) FROM reports WHERE venue_id=%s AND kind=%s AND status='pending'"
                " AND created_at >= now() - make_interval(days => %s)",
                (venue_id, CONFIRM_CLOSED, closed_days),
            ).fetchone()
            if row is None or row[0] < closed_taps:
                return report_id, False
            marked = conn.execute(
                "UPDATE venues SET reported_closed = true WHERE id=%s AND NOT reported_closed", (venue_id,)
            )
            if marked.rowcount:
                self._changed(conn, self._bump(conn), [venue_id])
            return report_id, True

    def get_report(self, report_id: int) -> Report | None:
        row = self._one(f"SELECT {REPORT_COLUMNS} FROM reports WHERE id=%s", (report_id,))
        return report_from_row(row) if row else None

    def reports(self, status: str | None = "pending") -> list[Report]:
        where, args = (" WHERE status=%s", (status,)) if status else ("", ())
        return [report_from_row(r) for r in self._all(f"SELECT {REPORT_COLUMNS} FROM reports{where} ORDER BY id", args)]

    def decide_report(self, report_id: int, accept: bool, actor: str, venue: Venue | None = None) -> Report:
        with self._tx() as conn:
            row = conn.execute(f"SELECT {REPORT_COLUMNS} FROM reports WHERE id=%s FOR UPDATE", (report_id,)).fetchone()
            report = check_pending(report_from_row(row) if row else None, report_id)
            if accept and venue is not None:
                self._edit(conn, venue, actor, f"report-{report.kind}", report_note(report))
            elif change := confirmation_change(report, accept, self._venue(conn, report.venue_id)):
                self._edit(conn, change, actor, f"review-{report.kind}", report_note(report), stamp=False)
            row = conn.execute(
                f"UPDATE reports SET status=%s, decided_by=%s, decided_at=%s WHERE id=%s RETURNING {REPORT_COLUMNS}",
                ("accepted" if accept else "rejected", actor, utc_now(), report_id),
            ).fetchone()
        assert row is not None
        return report_from_row(row)

    def listen_on(self) -> tuple[str, str] | None:
        """This database and :data:`CHANNEL`: every write ``NOTIFY``s there at commit."""
        return self.url, CHANNEL

    # -- server-side spatial queries (GiST on geography) ---------------------
    def within_distance(self, lon: float, lat: float, metres: float, include_closed: bool = False) -> list[str]:
        """Ids of venues within ``metres`` (geodesic, WGS-84 spheroid) of a point, by ``ST_DWithin``.

        Runs in the database on the GiST index; the app's own queries use the
        exact in-memory index instead. Sorted by id.
        """
        sql = f"SELECT id FROM venues WHERE {_DWITHIN}" + ("" if include_closed else " AND status='active'") + _ORDER
        return [r[0] for r in self._all(sql, (lon, lat, metres))]

    def explain_within_distance(self, lon: float, lat: float, metres: float) -> str:
        """The query plan of ``within_distance`` (to check it uses the GiST index)."""
        with self._tx() as conn:
            conn.execute("SET LOCAL enable_seqscan = off")  # tiny tables would otherwise be scanned
            rows = conn.execute(f"EXPLAIN SELECT id FROM venues WHERE {_DWITHIN}", (lon, lat, metres)).fetchall()
        return "\n".join(r[0] for r in rows)

    def close(self) -> None:
        self._pool.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
