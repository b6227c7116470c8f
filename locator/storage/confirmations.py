"""Freshness in the register: what confirms a venue, what marks it "reported closed", and what keeps both.

Issue 16: a venue's ``last_confirmed`` is set by an audited edit (:func:`stamped`) and by an accepted
"open" confirmation from the public; several pending "closed" taps mark it ``reported_closed`` until an
admin reviews one (:func:`confirmation_change`); imports and rollbacks keep both (:func:`carry_freshness`).
Both back ends apply these the same way; the SQL that counts the taps is each back end's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from locator.editing import CONFIRMATION_KINDS
from locator.storage.base import Report, as_text, utc_now
from locator.venues import Venue

__all__ = ["CONFIRM_CLOSED", "CONFIRM_OPEN", "FRESHNESS_SQL", "carry_freshness", "confirmation_change", "stamped"]

#: The public's one-tap confirmations (``/confirm/<id>``): kinds of report, queued like the others.
CONFIRM_OPEN, CONFIRM_CLOSED = "confirm_open", "confirm_closed"
assert {CONFIRM_OPEN, CONFIRM_CLOSED} <= set(CONFIRMATION_KINDS)
#: The venues whose freshness a bulk write must keep (see :func:`carry_freshness`).
FRESHNESS_SQL = (
    "SELECT id, last_confirmed, reported_closed FROM venues WHERE last_confirmed IS NOT NULL OR reported_closed"
)


def stamped(venue: Venue) -> Venue:
    """The venue as an audited edit writes it: checked by a person just now, so confirmed and not flagged."""
    return replace(venue, last_confirmed=utc_now().isoformat(), reported_closed=False)


def carry_freshness(venues: list[Venue], stored: Iterable[Sequence[Any]]) -> list[Venue]:
    """Bulk writes (an import, a rollback) keep what people confirmed.

    A file knows nothing of confirmations: a venue coming in without
    ``last_confirmed`` takes the stored venue's freshness. ``stored`` is the
    rows of :data:`FRESHNESS_SQL`.
    """
    kept = {row[0]: (as_text(row[1]), bool(row[2])) for row in stored}
    if not kept:
        return venues
    out = []
    for v in venues:
        old = kept.get(v.id)
        if old is not None and v.last_confirmed is None and not v.reported_closed:
            v = replace(v, last_confirmed=old[0], reported_closed=old[1])
        out.append(v)
    return out


def confirmation_change(report: Report, accept: bool, venue: Venue | None) -> Venue | None:
    """What deciding a public confirmation does to its venue; None: nothing.

    Accepting "open" confirms the venue as of the tap (not of the decision:
    that is when someone saw it open), unless it was confirmed later. Any
    decision on "closed" is an admin's review, so the "reported closed" mark
    comes off (an admin who agrees then closes or edits the venue).
    """
    if venue is None or report.kind not in CONFIRMATION_KINDS:
        return None
    if accept and report.kind == CONFIRM_OPEN:
        at = max(t for t in (venue.last_confirmed, report.created_at) if t)
        return replace(venue, last_confirmed=at, reported_closed=False)
    if report.kind == CONFIRM_CLOSED and venue.reported_closed:
        return replace(venue, reported_closed=False)
    return None
