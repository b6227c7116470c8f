"""Edits a stale file would overwrite: an export merged back after admins changed the register.

An export records the register's data version it was taken at (the
``登记版本`` column, ``register_version`` in GeoJSON). When such a file is
imported, every venue the register changed after that version (the store's
``changes_since``) whose values differ from the file's is a conflict: writing
the file would silently revert an edit. ``locator import`` lists each one
(venue id, field, file value, register value) and writes nothing unless
``--force``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from locator.storage.base import VenueStore
from locator.venues import VENUE_FIELDS, Venue

__all__ = ["Conflict", "find_conflicts"]


@dataclass(frozen=True)
class Conflict:
    venue_id: str
    field: str
    file_value: Any
    register_value: Any
    exported_at: int

    def __str__(self) -> str:
        return (
            f"conflict: venue {self.venue_id!r}: {self.field}: file {_short(self.file_value)}, "
            f"register {_short(self.register_value)} (changed since the export at version {self.exported_at})"
        )


def _short(value: Any, limit: int = 60) -> str:
    text = repr(list(value) if isinstance(value, tuple) else value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: The fields an import could overwrite. Not a venue's freshness (``last_confirmed``, ``reported_closed``):
#: a file does not carry it, and an import keeps the register's (``locator.storage.confirmations``).
_COMPARED = tuple(name for name in VENUE_FIELDS[1:] if name not in ("last_confirmed", "reported_closed"))


def find_conflicts(
    venues: list[Venue], exported_at: Mapping[str, int], store: VenueStore, replace: bool = False
) -> list[Conflict]:
    """The fields where ``venues`` would overwrite a register edit made after their export.

    ``exported_at`` maps a venue id to the register version its row was
    exported at; venues without one (a file not made by an export) are not
    checked. When the store cannot say which venues changed (a whole-register
    write since, or too many changes), every venue the file has is compared.
    With ``replace`` (the file becomes the register), a venue added to the
    register after the export, which the file therefore lacks, is a conflict
    too (field ``venue``, file value ``None``).
    """
    by_version: dict[int, list[Venue]] = {}
    for v in venues:
        if v.id in exported_at:
            by_version.setdefault(exported_at[v.id], []).append(v)
    out: list[Conflict] = []
    for version, group in sorted(by_version.items()):
        _, changed = store.changes_since(version)
        since = None if changed is None else set(changed)
        candidates = [v for v in group if since is None or v.id in since]
        current = store.get_many(v.id for v in candidates)
        for v in candidates:
            now = current.get(v.id)
            if now is None:
                continue
            for name in _COMPARED:
                mine, theirs = getattr(v, name), getattr(now, name)
                if mine != theirs:
                    out.append(Conflict(v.id, name, mine, theirs, version))
    if replace and by_version:
        oldest = min(by_version)
        _, changed = store.changes_since(oldest)
        in_file = {v.id for v in venues}
        if changed is not None:  # None: a whole-register write since; which venues are new is unknown
            added = store.get_many(i for i in changed if i not in in_file)
            out.extend(Conflict(i, "venue", None, v.name, oldest) for i, v in added.items())
    order = {name: i for i, name in enumerate(("venue", *VENUE_FIELDS[1:]))}
    return sorted(out, key=lambda c: (c.venue_id, order[c.field]))
