"""The venue register in PostgreSQL/PostGIS, shared by many app processes.

``PostGISStore`` implements the same interface, with the same meaning, as
``SQLiteStore`` (``locator/store.py``): snapshots, the audit log, public
reports and their hourly limit, and the change log behind ``changes_since``.
Each write is one transaction that

- bumps the single-row ``register_state.version`` first (the row lock queues
  concurrent writers, so versions commit in order),
- records the changed venue ids for that version in ``changes``, and
- sends ``NOTIFY locator_changes, '<version>'``, delivered at commit, which
  every app process LISTENs for (``locator.storage.freshness``).

Venues are kept with plain ``lon``/``lat`` columns (the in-memory index needs
floats) and a generated ``geography(Point, 4326)`` column under a GiST index
for server-side queries (``within_distance``). The schema comes from the
versioned migrations in ``locator/migrations``. psycopg 3 and its pool.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from locator.errors import DataError
from locator.storage.migrations import migrate
from locator.storage.sqlite import AuditEntry, Report, Snapshot, TooManyReports
from locator.venues import Venue, validate_unique

__all__ = ["CHANNEL", "PostGISStore"]

#: The NOTIFY channel every write transaction signals, with the new version as payload.
CHANNEL = "locator_changes"
#: Past this many changed ids, ``changes_since`` says "reload everything" (as SQLite).
_MAX_CHANGES = 10_000

_COLUMNS = (
    "id, name, category, district_code, address, lon, lat, operator, phone, "
    "opening_hours, amenities, description, source, status"
)
_FIELDS = tuple(c.strip() for c in _COLUMNS.split(","))
_DWITHIN = "ST_DWithin(geog, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)"
_REPORT_COLS = "id, venue_id, kind, message, proposal, created_at, status, decided_by, decided_at"


def _row_to_venue(row: tuple[Any, ...]) -> Venue:
    """A venue from a row that was validated on its way into the register.

    Skips ``Venue.__post_init__``: re-validating every row costs seconds at
    200,000 venues, and the rows were built from validated ``Venue`` objects.
    """
    v = object.__new__(Venue)
    for name, value in zip(_FIELDS, row, strict=True):
        object.__setattr__(v, name, tuple(value) if name == "amenities" else value)
    return v


def _venue_row(v: Venue) -> tuple[Any, ...]:
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
        list(v.amenities),
        v.description,
        v.source,
        v.status,
    )


def _iso(at: datetime | None) -> str | None:
    """The same text SQLite keeps: ISO 8601, UTC, whole seconds."""
    return None if at is None else at.astimezone(UTC).replace(microsecond=0).isoformat()


def _report(row: tuple[Any, ...]) -> Report:
    i, vid, kind, msg, prop, created, status, by, at = row
    return Report(int(i), vid, kind, msg, prop, _iso(created) or "", status, by, _iso(at))


class PostGISStore:
    """A venue register in PostgreSQL with PostGIS, through a psycopg connection pool."""

    backend = "postgis"

    def __init__(self, url: str, min_size: int = 1, max_size: int = 4, timeout: float = 30.0) -> None:
        self.url = url
        try:
            with psycopg.connect(url, connect_timeout=10) as conn:
                migrate(conn)
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

    # -- the interface -----------------------------------------------------
    def version(self) -> int:
        with self._tx() as conn:
            row = conn.execute("SELECT version FROM register_state").fetchone()
        assert row is not None
        return int(row[0])

    def count(self, include_closed: bool = False) -> int:
        sql = "SELECT count(*) FROM venues" + ("" if include_closed else " WHERE status='active'")
        with self._tx() as conn:
            row = conn.execute(sql).fetchone()
        assert row is not None
        return int(row[0])

    def venues(self, include_closed: bool = False) -> list[Venue]:
        sql = f"SELECT {_COLUMNS} FROM venues" + ("" if include_closed else " WHERE status='active'")
        with self._tx() as conn, conn.cursor(binary=True) as cur:
            cur.execute(sql + ' ORDER BY id COLLATE "C"')
            return [_row_to_venue(r) for r in cur]

    def snapshot_venues(self, include_closed: bool = False) -> tuple[int, list[Venue]]:
        """The version and the venues of one consistent view of the register."""
        sql = f"SELECT {_COLUMNS} FROM venues" + ("" if include_closed else " WHERE status='active'")
        with self._pool.connection() as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            try:
                with conn.transaction(), conn.cursor(binary=True) as cur:
                    row = cur.execute("SELECT version FROM register_state").fetchone()
                    assert row is not None
                    cur.execute(sql + ' ORDER BY id COLLATE "C"')
                    return int(row[0]), [_row_to_venue(r) for r in cur]
            finally:
                conn.isolation_level = None

    def get(self, venue_id: str) -> Venue | None:
        with self._tx() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM venues WHERE id=%s", (venue_id,)).fetchone()
        return _row_to_venue(row) if row else None

    def get_many(self, venue_ids: Iterable[str]) -> dict[str, Venue]:
        """The venues with these ids that exist (closed ones included), in one query."""
        with self._tx() as conn, conn.cursor(binary=True) as cur:
            cur.execute(f"SELECT {_COLUMNS} FROM venues WHERE id = ANY(%s)", (list(venue_ids),))
            return {v.id: v for v in map(_row_to_venue, cur)}

    def changes_since(self, version: int) -> tuple[int, list[str] | None]:
        # One statement, so one view: the version and its change log agree.
        with self._tx() as conn:
            row = conn.execute(
                "SELECT (SELECT version FROM register_state),"
                " array(SELECT venue_id FROM changes WHERE version > %s ORDER BY version LIMIT %s)",
                (version, _MAX_CHANGES + 1),
            ).fetchone()
        assert row is not None
        current, ids = int(row[0]), row[1]
        if current == version:
            return current, []
        if version <= 0 or any(i is None for i in ids) or len(ids) > _MAX_CHANGES:
            return current, None
        return current, sorted(set(ids))

    def _insert(self, conn: psycopg.Connection[Any], venues: Iterable[Venue]) -> int:
        n = 0
        with conn.cursor() as cur, cur.copy(f"COPY venues ({_COLUMNS}) FROM STDIN") as copy:
            for v in venues:
                copy.write_row(_venue_row(v))
                n += 1
        return n

    def _upsert(self, conn: psycopg.Connection[Any], venues: list[Venue]) -> None:
        sets = ", ".join(f"{f}=EXCLUDED.{f}" for f in _FIELDS[1:])
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO venues ({_COLUMNS}) VALUES ({','.join(['%s'] * 14)})"
                f" ON CONFLICT (id) DO UPDATE SET {sets}",
                [_venue_row(v) for v in venues],
            )

    def _snapshot(self, conn: psycopg.Connection[Any], version: int, note: str) -> None:
        """Keep the register as it is now; ``version`` is its data version (before this write)."""
        with conn.cursor(binary=True) as cur:
            cur.execute(f'SELECT {_COLUMNS} FROM venues ORDER BY id COLLATE "C"')
            rows = [_row_to_venue(r).as_dict() for r in cur]
        if not rows:
            return
        payload = zlib.compress(json.dumps(rows, ensure_ascii=False).encode())
        conn.execute(
            "INSERT INTO snapshots (data_version, created_at, note, venue_count, payload) VALUES (%s, %s, %s, %s, %s)",
            (version, self._now(), note, len(rows), payload),
        )

    def _replace(self, conn: psycopg.Connection[Any], items: list[Venue], note: str, actor: str) -> int:
        version = self._bump(conn)
        self._snapshot(conn, version - 1, f"before: {note}" if note else "before replace")
        conn.execute("DELETE FROM venues")
        self._insert(conn, items)
        self._audit(conn, actor, "replace", None, None, None, f"{note or 'replace'}: {len(items)} venues")
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
            self._snapshot(conn, version - 1, f"before: {note}" if note else "before merge")
            self._upsert(conn, items)
            self._audit(conn, actor, "merge", None, None, None, f"{note or 'merge'}: {len(items)} venues")
            return self._changed(conn, version, [v.id for v in items] if len(items) <= _MAX_CHANGES else None)

    # -- audited edits, audit log, public reports ----------------------------
    @staticmethod
    def _now() -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

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
        def dump(v: Venue | None) -> Jsonb | None:
            return None if v is None else Jsonb(v.as_dict())

        conn.execute(
            "INSERT INTO audit (at, actor, action, venue_id, before, after, note) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (self._now(), actor, action, venue_id, dump(before), dump(after), note),
        )

    def _edit(self, conn: psycopg.Connection[Any], venue: Venue, actor: str, action: str, note: str) -> int:
        version = self._bump(conn)
        row = conn.execute(f"SELECT {_COLUMNS} FROM venues WHERE id=%s", (venue.id,)).fetchone()
        before = _row_to_venue(row) if row else None
        self._upsert(conn, [venue])
        self._audit(conn, actor, action, venue.id, before, venue, note)
        return self._changed(conn, version, [venue.id])

    def edit(self, venue: Venue, actor: str, action: str, note: str = "") -> int:
        with self._tx() as conn:
            return self._edit(conn, venue, actor, action, note)

    def audit_log(self, limit: int = 100, offset: int = 0, venue_id: str | None = None) -> list[AuditEntry]:
        sql = "SELECT id, at, actor, action, venue_id, before, after, note FROM audit"
        args: tuple[Any, ...] = ()
        if venue_id is not None:
            sql += " WHERE venue_id=%s"
            args = (venue_id,)
        with self._tx() as conn:
            rows = conn.execute(sql + " ORDER BY id DESC LIMIT %s OFFSET %s", (*args, limit, offset)).fetchall()
        return [
            AuditEntry(int(i), _iso(at) or "", actor, action, vid, b, a, note)
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
        with self._tx() as conn:
            # Serialise one client's reports (on any host) so the hourly count cannot be raced past.
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 8))", ("report:" + client,))
            now = self._now()
            row = conn.execute(
                "SELECT count(*) FROM reports WHERE client=%s AND created_at >= %s - interval '1 hour'", (client, now)
            ).fetchone()
            assert row is not None
            if row[0] >= max_per_hour:
                raise TooManyReports(f"too many reports from this client: at most {max_per_hour} an hour")
            row = conn.execute(
                "INSERT INTO reports (venue_id, kind, message, proposal, created_at, client)"
                " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (venue_id, kind, message, Jsonb(proposal), now, client),
            ).fetchone()
            assert row is not None
            return int(row[0])

    def get_report(self, report_id: int) -> Report | None:
        with self._tx() as conn:
            row = conn.execute(f"SELECT {_REPORT_COLS} FROM reports WHERE id=%s", (report_id,)).fetchone()
        return _report(row) if row else None

    def reports(self, status: str | None = "pending") -> list[Report]:
        sql = f"SELECT {_REPORT_COLS} FROM reports"
        with self._tx() as conn:
            rows = conn.execute(
                sql + (" WHERE status=%s ORDER BY id" if status else " ORDER BY id"), (status,) if status else ()
            ).fetchall()
        return [_report(r) for r in rows]

    def decide_report(self, report_id: int, accept: bool, actor: str, venue: Venue | None = None) -> Report:
        with self._tx() as conn:
            row = conn.execute(f"SELECT {_REPORT_COLS} FROM reports WHERE id=%s FOR UPDATE", (report_id,)).fetchone()
            if row is None:
                raise DataError(f"no report {report_id!r}")
            report = _report(row)
            if report.status != "pending":
                raise DataError(f"report {report_id} was already {report.status}")
            if accept and venue is not None:
                self._edit(conn, venue, actor, f"report-{report.kind}", f"report #{report_id}: {report.message}"[:500])
            row = conn.execute(
                f"UPDATE reports SET status=%s, decided_by=%s, decided_at=%s WHERE id=%s RETURNING {_REPORT_COLS}",
                ("accepted" if accept else "rejected", actor, self._now(), report_id),
            ).fetchone()
        assert row is not None
        return _report(row)

    def versions(self) -> list[Snapshot]:
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT id, data_version, created_at, note, venue_count FROM snapshots ORDER BY id DESC"
            ).fetchall()
        return [Snapshot(int(i), int(dv), _iso(at) or "", note, int(n)) for i, dv, at, note, n in rows]

    def rollback(self, snapshot_id: int, actor: str = "system") -> int:
        with self._tx() as conn:
            row = conn.execute("SELECT payload FROM snapshots WHERE id=%s", (snapshot_id,)).fetchone()
            if row is None:
                ids = conn.execute("SELECT id FROM snapshots ORDER BY id DESC").fetchall()
                known = ", ".join(str(r[0]) for r in ids) or "none"
                raise DataError(f"no register version {snapshot_id!r} (kept versions: {known})")
            venues = [
                Venue(**{**d, "amenities": tuple(d["amenities"])}) for d in json.loads(zlib.decompress(row[0]).decode())
            ]
            return self._replace(conn, venues, f"rollback to version {snapshot_id}", actor)

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

    # -- server-side spatial queries (GiST on geography) ---------------------
    def within_distance(self, lon: float, lat: float, metres: float, include_closed: bool = False) -> list[str]:
        """Ids of venues within ``metres`` (geodesic, WGS-84 spheroid) of a point, by ``ST_DWithin``.

        Runs in the database on the GiST index; the app's own queries use the
        exact in-memory index instead. Sorted by id.
        """
        sql = (
            f"SELECT id FROM venues WHERE {_DWITHIN}"
            + ("" if include_closed else " AND status='active'")
            + ' ORDER BY id COLLATE "C"'
        )
        with self._tx() as conn:
            return [r[0] for r in conn.execute(sql, (lon, lat, metres))]

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
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
