"""Deciding an import and carrying it out: the one code path of ``locator import`` and the admin upload page.

Reading a register file (``io.importer.read_register``) only reports; what to
do with the report is a chain of decisions — a datum mismatch refuses the
file, no valid row refuses it, edits made since an export refuse it unless
forced, a dry run or invalid rows write nothing — and each ends in an exit
status the README documents (:data:`OUTCOMES`). ``plan_import`` takes those
decisions and returns them as data (the lines to show, the conflicts, the
outcome, whether to write); ``apply_import`` writes a plan in one transaction
under a named actor. The command line prints a plan; the admin page renders
the same plan, so the two cannot drift.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from locator.errors import InvalidParameter, LocatorError
from locator.gazetteer import Gazetteer
from locator.io.conflicts import Conflict, find_conflicts
from locator.io.importer import ImportReport, read_register
from locator.storage import VenueStore, storage_full, store_errors
from locator.venues import Venue

if TYPE_CHECKING:  # only its districts and store are used: no need to load the index for the CLI's --help
    from locator.storage.register import Register

__all__ = ["IMPORT_MODES", "OUTCOMES", "ImportPlan", "ImportResult", "apply_import", "plan_import"]

IMPORT_MODES = ("merge", "replace")

#: The outcome of an import, as ``locator import`` exits with it.
OUTCOMES = {
    0: "written (or, with --dry-run, would be)",
    1: "invalid rows, a datum mismatch or conflicts: nothing written",
    2: "the file cannot be read, or bad usage",
    3: "an environment error (disk full, read-only, database unreachable): nothing written",
}


@dataclass
class ImportPlan:
    """What an import of one file would do, decided before anything is written."""

    #: How the file is named in every line and in the audit note (the path given, or an upload's own name).
    name: str
    mode: str
    report: ImportReport | None = None
    conflicts: list[Conflict] = field(default_factory=list)
    #: The report lines, the conflicts, then the verdict when nothing is to be written (``locator import``'s stdout).
    lines: list[str] = field(default_factory=list)
    #: A refusal in one line (``locator import``'s stderr): an unreadable file, a datum mismatch, the register down.
    error: str | None = None
    #: The exit status (:data:`OUTCOMES`): final unless ``write``, then the status once the write succeeds.
    outcome: int = 0
    #: True when ``apply_import`` is to write ``venues``.
    write: bool = False

    @property
    def venues(self) -> list[Venue]:
        return self.report.venues if self.report is not None else []


@dataclass(frozen=True)
class ImportResult:
    """What ``apply_import`` did: the line to show, the exit status, the new register version if written."""

    line: str
    outcome: int
    version: int | None = None

    @property
    def written(self) -> bool:
        return self.version is not None


def plan_import(
    path: str | Path,
    register: Register,
    crs: str | None,
    gazetteer: Gazetteer | None,
    mode: str = "merge",
    force: bool = False,
    dry_run: bool = False,
    skip_invalid: bool = False,
    name: str | None = None,
) -> ImportPlan:
    """Read ``path`` and decide the import; reads the register (for conflicts) but writes nothing.

    ``name`` replaces the path in every line: an uploaded file sits at a
    temporary path that means nothing to the admin (and should not show the
    server's layout), while the CLI names the file as the user typed it.
    """
    if mode not in IMPORT_MODES:
        raise InvalidParameter("mode", f"{mode!r} is not one of {', '.join(IMPORT_MODES)}")
    shown = str(path) if name is None else name
    plan = ImportPlan(name=shown, mode=mode)
    try:
        report = read_register(path, register.districts, crs, gazetteer)
    except LocatorError as exc:
        return _refuse(plan, _named(str(exc), path, shown), 2)
    plan.report = report
    if report.datum_mismatch:
        return _refuse(plan, _named(report.lines()[0], path, shown), 1)
    plan.lines = [_named(line, path, shown) for line in report.lines()]
    if not report.venues:
        plan.lines.append("nothing written: no valid rows")
        plan.outcome = 1 if report.rows else 2
        return plan
    try:
        plan.conflicts = find_conflicts(report.venues, report.exported_at, register.store, mode == "replace")
    except store_errors() as exc:
        return _refuse(plan, f"cannot read the register: {' '.join(str(exc).split())}", 3)
    plan.lines.extend(str(c) for c in plan.conflicts)
    if plan.conflicts and not force:
        ids = len({c.venue_id for c in plan.conflicts})
        plan.lines.append(
            f"nothing written: {len(plan.conflicts)} conflict(s) in {ids} venue(s) edited in the register since the "
            "export; pass --force to overwrite them"
        )
        plan.outcome = 1
        return plan
    plan.outcome = 0 if report.ok else 1
    if dry_run:
        plan.lines.append("dry run: nothing written")
    elif not report.ok and not skip_invalid:
        plan.lines.append("nothing written: fix the invalid rows, or pass --skip-invalid to write the valid ones")
    else:
        plan.write = True
    return plan


def apply_import(plan: ImportPlan, store: VenueStore, actor: str = "system", note: str | None = None) -> ImportResult:
    """Write a plan's venues in one transaction (the store keeps the previous register as a version).

    The store audits the write under ``actor`` with ``note`` (by default
    ``import <file name> (<mode>)``). An environment error writes nothing and
    comes back as outcome 3 with one line, never as a traceback.
    """
    if not plan.write:
        raise ValueError("this import plan writes nothing; check plan.write first")
    note = note if note is not None else f"import {os.path.basename(plan.name)} ({plan.mode})"
    environment: tuple[type[Exception], ...] = (OSError, *store_errors())  # the disk or the database, not the data
    try:
        if plan.mode == "replace":
            version = store.replace_all(plan.venues, note=note, actor=actor)
        else:
            version = store.merge(plan.venues, note=note, actor=actor)
    except environment as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        what = "the disk under the register is full" if storage_full(exc) else "the register could not be written"
        return ImportResult(f"nothing written: {what}: {reason}", 3)
    return ImportResult(
        f"wrote {len(plan.venues)} venues ({plan.mode}); register version {version}; "
        f"the previous register is kept (locator versions)",
        plan.outcome,
        version,
    )


def _refuse(plan: ImportPlan, error: str, outcome: int) -> ImportPlan:
    plan.error, plan.outcome = error, outcome
    return plan


def _named(line: str, path: str | Path, name: str) -> str:
    return line if name == str(path) else line.replace(str(path), name)
