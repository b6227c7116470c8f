"""The storage seam: one protocol, the shared records, and the row codecs.

Both back ends (``locator.storage.sqlite`` and ``locator.storage.postgis``)
implement :class:`VenueStore` with the same meaning, and turn venues, reports,
audit entries and snapshots into rows and back through the functions here, so
the column list, the record shapes, the messages and the validation exist
once. A row read back becomes a :class:`~locator.venues.Venue` through its
constructor, so a bad value in either database (written by hand, or by an
older version) is refused with a message quoting it, never served.

The two drivers differ only in how they hand values over: SQLite keeps
timestamps and JSON as text, PostgreSQL as ``timestamptz`` and ``jsonb``
(``datetime`` and ``dict`` in Python). ``as_text`` and ``as_json`` accept
either, so one record builder serves both.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple, Protocol

from locator.errors import DataError
from locator.venues import VENUE_FIELDS, Venue

__all__ = [
    "AUDIT_COLUMNS",
    "COLUMNS",
    "COLUMN_LIST",
    "MAX_CHANGES",
    "REPORT_COLUMNS",
    "SNAPSHOT_COLUMNS",
    "AuditEntry",
    "Report",
    "Snapshot",
    "TooManyReports",
    "VenueStore",
    "as_json",
    "as_text",
    "audit_from_row",
    "before_note",
    "bulk_note",
    "changed_ids",
    "check_pending",
    "decode_snapshot",
    "decode_venue",
    "encode_snapshot",
    "encode_venue",
    "no_report",
    "no_snapshot",
    "report_from_row",
    "report_note",
    "snapshot_from_row",
    "too_many_reports",
    "utc_now",
]

#: The venue columns, in the order every row has them (the ``Venue`` fields).
COLUMNS: tuple[str, ...] = VENUE_FIELDS
#: The same, as SQL.
COLUMN_LIST = ", ".join(COLUMNS)
REPORT_COLUMNS = "id, venue_id, kind, message, proposal, created_at, status, decided_by, decided_at"
AUDIT_COLUMNS = "id, at, actor, action, venue_id, before, after, note"
SNAPSHOT_COLUMNS = "id, data_version, created_at, note, venue_count"
#: Past this many changed ids, ``changes_since`` says "reload everything".
MAX_CHANGES = 10_000

_AMENITIES = COLUMNS.index("amenities")
_fields = attrgetter(*COLUMNS)
# A row in COLUMNS order -> the values in the order Venue's constructor takes them.
_FIELD_ORDER = [f.name for f in fields(Venue)]
assert sorted(_FIELD_ORDER) == sorted(COLUMNS), "venues.VENUE_FIELDS and the Venue fields disagree"
_as_fields = itemgetter(*(COLUMNS.index(name) for name in _FIELD_ORDER))
_FIELD_AMENITIES = _FIELD_ORDER.index("amenities")
_FIELD_CONFIRMED = _FIELD_ORDER.index("last_confirmed")
_FIELD_CLOSED = _FIELD_ORDER.index("reported_closed")


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
    """What the rest of the app may ask of a venue register (every back end has all of it).

    ``tests/test_store.py`` checks that each back end has every member with
    this exact signature, and that every public method both back ends have is
    here (a back end's own extras, such as PostGIS's ``within_distance``, are
    not).
    """

    #: ``sqlite`` or ``postgis``.
    backend: str

    def version(self) -> int:
        """The data version; it grows with every committed write."""
        ...

    def venues(self, include_closed: bool = False) -> list[Venue]:
        """Every venue (active only, unless ``include_closed``), sorted by id (bytewise)."""
        ...

    def get(self, venue_id: str) -> Venue | None:
        """One venue by id, closed ones included."""
        ...

    def get_many(self, venue_ids: Iterable[str]) -> dict[str, Venue]:
        """The venues with these ids that exist (closed ones included), by id."""
        ...

    def count(self, include_closed: bool = False) -> int:
        """How many venues (active only, unless ``include_closed``)."""
        ...

    def snapshot_venues(self, include_closed: bool = False) -> tuple[int, list[Venue]]:
        """The version and the venues of one consistent view of the register."""
        ...

    def seed_if_empty(self, venues: Iterable[Venue]) -> bool:
        """Load ``venues`` if the register has never been written (atomic; once across processes)."""
        ...

    def changes_since(self, version: int) -> tuple[int, list[str] | None]:
        """The current version, and the ids changed after ``version``.

        ``None`` instead of a list means: too much changed, reload everything.
        """
        ...

    def replace_all(self, venues: Iterable[Venue], note: str = "", actor: str = "system") -> int:
        """Atomically replace the whole register, keeping the old one as a snapshot."""
        ...

    def merge(self, venues: Iterable[Venue], note: str = "", actor: str = "system") -> int:
        """Atomically insert or update many venues, keeping the old register as a snapshot."""
        ...

    def versions(self) -> list[Snapshot]:
        """The kept snapshots, newest first."""
        ...

    def rollback(self, snapshot_id: int, actor: str = "system") -> int:
        """Restore a snapshot (keeping the current state as another); returns the new version."""
        ...

    def put(self, venue: Venue) -> int:
        """Insert or update one venue (not audited); returns the new version."""
        ...

    def edit(self, venue: Venue, actor: str, action: str, note: str = "") -> int:
        """Insert or update one venue and record it in the audit log, atomically.

        An audited edit is a person who checked the venue: it is written
        :func:`~locator.storage.confirmations.stamped` (confirmed now, no longer reported closed).
        """
        ...

    def audit_log(self, limit: int = 100, offset: int = 0, venue_id: str | None = None) -> list[AuditEntry]:
        """Audit entries, newest first."""
        ...

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
        ...

    def add_confirmation(
        self, venue_id: str, kind: str, client: str, max_per_hour: int, closed_taps: int, closed_days: int
    ) -> tuple[int, bool]:
        """Queue a public one-tap confirmation (a report of kind ``confirm_*``, under the same hourly limit).

        A ``confirm_closed`` that makes ``closed_taps`` distinct clients with
        pending ones in the last ``closed_days`` days marks the venue
        ``reported_closed`` (a new data version). Returns the report's id and
        whether the venue is now marked.
        """
        ...

    def reports(self, status: str | None = "pending") -> list[Report]:
        """Reports with that status (all when None), oldest first."""
        ...

    def get_report(self, report_id: int) -> Report | None:
        """One report by id."""
        ...

    def decide_report(self, report_id: int, accept: bool, actor: str, venue: Venue | None = None) -> Report:
        """Accept (applying ``venue`` through the audited path) or reject a report, atomically.

        Deciding a public confirmation also does :func:`~locator.storage.confirmations.confirmation_change`.
        """
        ...

    def listen_on(self) -> tuple[str, str] | None:
        """The (database URL, channel) on which every commit is announced, or None.

        None means the back end announces nothing and readers poll
        ``version`` instead (SQLite).
        """
        ...

    def close(self) -> None:
        """Release the connections (this handle only)."""
        ...


# -- venues ----------------------------------------------------------------------------


def encode_venue(venue: Venue, amenities: Callable[[tuple[str, ...]], Any] = list) -> tuple[Any, ...]:
    """A venue as a row in :data:`COLUMNS` order.

    Parameters
    ----------
    venue
        A validated venue.
    amenities
        How the back end keeps the amenities list (PostgreSQL: a ``list`` for
        ``text[]``; SQLite: JSON text).
    """
    row = list(_fields(venue))
    row[_AMENITIES] = amenities(venue.amenities)
    return tuple(row)


def decode_venue(row: Sequence[Any], amenities: Callable[[Any], Iterable[str]] = tuple) -> Venue:
    """The venue in a row in :data:`COLUMNS` order, validated like any other.

    Raises
    ------
    DataError
        When a value breaks a ``Venue`` rule; the message quotes it.
    """
    args = list(_as_fields(row))
    args[_FIELD_AMENITIES] = tuple(amenities(args[_FIELD_AMENITIES]))
    args[_FIELD_CONFIRMED] = as_text(args[_FIELD_CONFIRMED])
    args[_FIELD_CLOSED] = bool(args[_FIELD_CLOSED])  # SQLite keeps 0/1
    return Venue(*args)  # positional: at 200,000 rows, keyword dicts cost a second


# -- values as either driver returns them --------------------------------------------------


def utc_now() -> datetime:
    """Now, in UTC, to the second (what both back ends record)."""
    return datetime.now(UTC).replace(microsecond=0)


def as_text(at: str | datetime | None) -> str | None:
    """A timestamp as the text both back ends report: ISO 8601, UTC, whole seconds."""
    if at is None or isinstance(at, str):
        return at
    return at.astimezone(UTC).replace(microsecond=0).isoformat()


def as_json(value: Any) -> Any:
    """A JSON value from its text (SQLite) or as decoded already (``jsonb``); None stays None."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


# -- records -----------------------------------------------------------------------------


def report_from_row(row: Sequence[Any]) -> Report:
    """A :class:`Report` from a row in :data:`REPORT_COLUMNS` order."""
    i, vid, kind, msg, proposal, created, status, by, at = row
    return Report(int(i), vid, kind, msg, as_json(proposal), as_text(created) or "", status, by, as_text(at))


def audit_from_row(row: Sequence[Any]) -> AuditEntry:
    """An :class:`AuditEntry` from a row in :data:`AUDIT_COLUMNS` order."""
    i, at, actor, action, vid, before, after, note = row
    return AuditEntry(int(i), as_text(at) or "", actor, action, vid, as_json(before), as_json(after), note)


def snapshot_from_row(row: Sequence[Any]) -> Snapshot:
    """A :class:`Snapshot` from a row in :data:`SNAPSHOT_COLUMNS` order."""
    i, data_version, created, note, count = row
    return Snapshot(int(i), int(data_version), as_text(created) or "", note, int(count))


def encode_snapshot(venues: Iterable[Venue]) -> bytes:
    """A kept register: zlib-compressed JSON list of venue dicts (the same bytes on both back ends)."""
    return zlib.compress(json.dumps([v.as_dict() for v in venues], ensure_ascii=False).encode())


def decode_snapshot(payload: bytes) -> list[Venue]:
    """The venues of a kept register, validated."""
    return [Venue(**{**d, "amenities": tuple(d["amenities"])}) for d in json.loads(zlib.decompress(payload).decode())]


# -- the rules both back ends keep ---------------------------------------------------------


def changed_ids(version: int, current: int, ids: Sequence[str | None]) -> tuple[int, list[str] | None]:
    """``changes_since``'s answer from the change log rows after ``version``.

    None (reload everything) from scratch, after a whole-register change, or
    past :data:`MAX_CHANGES` ids.
    """
    if current == version:
        return current, []
    if version <= 0 or any(i is None for i in ids) or len(ids) > MAX_CHANGES:
        return current, None
    return current, sorted({i for i in ids if i is not None})


def before_note(note: str, action: str) -> str:
    """The note on the snapshot a bulk write keeps."""
    return f"before: {note}" if note else f"before {action}"


def bulk_note(note: str, action: str, count: int) -> str:
    """The audit note of a bulk write."""
    return f"{note or action}: {count} venues"


def report_note(report: Report) -> str:
    """The audit note of a venue change made by accepting a report."""
    return f"report #{report.id}: {report.message}"[:500]


def check_pending(report: Report | None, report_id: int) -> Report:
    """The report, if it exists and is still pending; else DataError."""
    if report is None:
        raise no_report(report_id)
    if report.status != "pending":
        raise DataError(f"report {report_id} was already {report.status}")
    return report


def no_report(report_id: int) -> DataError:
    return DataError(f"no report {report_id!r}")


def no_snapshot(snapshot_id: int, kept: Iterable[int]) -> DataError:
    known = ", ".join(str(i) for i in kept) or "none"
    return DataError(f"no register version {snapshot_id!r} (kept versions: {known})")


def too_many_reports(max_per_hour: int) -> TooManyReports:
    return TooManyReports(f"too many reports from this client: at most {max_per_hour} an hour")
