"""A local copy of the last good register, so a process can start while the store is down (issue 13).

Pure (no Flask). Each serving process writes the venues it serves, with their
data version, to one file per store: beside the register file for SQLite,
``<SNAPSHOT_DIR>/register-<hash of the URL>.jsonl.gz`` for PostGIS
(:func:`snapshot_path`). It is written from the background poller after a
successful catch-up, at most every ``SNAPSHOT_SECONDS``, never on a
request's path; a process that cannot reach the store at start-up serves
from it, degraded, until the store answers.

The file is gzip (its CRC and length catch a torn or truncated file) holding
JSON lines: a header (format, data version, count, when written), then one
venue per line; the store's URL is not kept (the file's name is its hash).
Writing goes to a temporary file in the same folder, is flushed and
``fsync``-ed, then ``os.replace``-d over the old one and the folder
``fsync``-ed: a reader sees the old file or the new one, never half of one. Venues are encoded one at a time so that a
large register does not hold the interpreter's lock in one long call.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locator.errors import DataError
from locator.venues import VENUE_FIELDS, Venue

__all__ = [
    "FORMAT",
    "LoadedSnapshot",
    "SnapshotKeeper",
    "read_header",
    "read_snapshot",
    "snapshot_path",
    "write_snapshot",
]

FORMAT = "locator-register-snapshot/1"

log = logging.getLogger("locator.storage.snapshot")


@dataclass(frozen=True)
class LoadedSnapshot:
    """A snapshot read back: the venues, their data version, and when they were written (epoch seconds)."""

    path: Path
    data_version: int
    saved_at: float
    venues: list[Venue]

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - self.saved_at)


def snapshot_path(target: str, folder: str | Path) -> Path:
    """Where the snapshot of the register named by ``target`` (a SQLite path or a database URL) lives."""
    if "://" not in target or target.startswith("sqlite:///"):
        db = Path(target.removeprefix("sqlite:///"))
        return db.with_name(db.name + ".snapshot.jsonl.gz")
    key = hashlib.sha256(target.encode()).hexdigest()[:16]
    return Path(folder) / f"register-{key}.jsonl.gz"


def _row(venue: Venue) -> dict[str, Any]:
    row = {name: getattr(venue, name) for name in VENUE_FIELDS}
    row["amenities"] = list(venue.amenities)
    return row


def write_snapshot(path: Path, data_version: int, venues: Sequence[Venue]) -> Path:
    """Write ``venues`` at ``data_version`` to ``path`` atomically (temporary file, fsync, rename); returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {
        "format": FORMAT,
        "data_version": data_version,
        "count": len(venues),
        "saved_at": time.time(),
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
                gz.write(json.dumps(header).encode() + b"\n")
                dumps = json.JSONEncoder(ensure_ascii=False).encode
                for venue in venues:
                    gz.write(dumps(_row(venue)).encode() + b"\n")
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o600)  # venues only, but the register's folder may be private
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path


def read_header(path: Path) -> dict[str, Any]:
    """The snapshot's header line only (raises ``DataError`` on a file that is not one)."""
    try:
        with gzip.open(path, "rb") as gz:
            header = json.loads(gz.readline())
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        raise DataError(f"snapshot {str(path)!r} is unreadable: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise DataError(f"snapshot {str(path)!r} is not a {FORMAT} file")
    return header


def read_snapshot(path: Path) -> LoadedSnapshot:
    """The venues of a snapshot, validated; ``DataError`` on a missing, torn or foreign file."""
    read_header(path)
    try:
        with gzip.open(path, "rb") as gz:
            header = json.loads(gz.readline())
            venues = []
            for line in gz:
                row = json.loads(line)
                row["amenities"] = tuple(row["amenities"])
                venues.append(Venue(**row))
    except (
        OSError,
        EOFError,
        ValueError,
        TypeError,
        KeyError,
        zlib.error,
    ) as exc:  # gzip checks its CRC and length at the end
        raise DataError(f"snapshot {str(path)!r} is damaged: {exc}") from None
    if len(venues) != header.get("count"):
        raise DataError(f"snapshot {str(path)!r} holds {len(venues)} venues, its header says {header.get('count')}")
    return LoadedSnapshot(path, int(header["data_version"]), float(header["saved_at"]), venues)


class SnapshotKeeper:
    """When one serving process rewrites its register's snapshot: debounced, shared, never on a request.

    ``save`` writes when the version served differs from the one last written
    and ``interval`` seconds have passed since the last write (``force``: at
    once; a negative interval: never). A file that another process of the
    same store (a sibling worker) already wrote at this version counts as
    written, so an instance's workers write one file once per change.
    """

    def __init__(self, path: Path, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.interval = interval
        self._clock = clock
        self.saved_version = -1  # the data version the file holds, as far as this process knows (-1: unknown)
        self.saved_at = clock()  # when this process last wrote it or found it current
        self._child: int | None = None  # a writer forked by ``save(aside=True)`` not yet reaped

    def version_on_disk(self) -> int:
        """The data version of the file on disk (-1: none, or unreadable)."""
        try:
            return int(read_header(self.path)["data_version"])
        except (DataError, KeyError, TypeError, ValueError):
            return -1

    def save(
        self, version: int, venues: Callable[[], Sequence[Venue]], force: bool = False, aside: bool = False
    ) -> Path | None:
        """Write ``venues()`` at ``version`` if due; returns the file written (``None``: not due, or it failed).

        ``aside`` writes from a forked child and returns at once: in CPython
        reading an object writes its reference count, so a process that read
        every venue would dirty the pages it shares copy-on-write (a
        pre-forking master's with its workers, and back). The fork happens
        on the calling thread while it holds the interpreter's lock, so the
        child sees a consistent heap; it only encodes and writes, and exits
        without returning. The next call reaps it (or finds gunicorn's
        master did). A failure (disk full) is logged; the next due call
        tries again.
        """
        if self.interval < 0 or self._writing() or version == self.saved_version:
            return None
        if not force and self._clock() - self.saved_at < self.interval:
            return None
        self.saved_at = self._clock()
        if self.version_on_disk() == version:
            self.saved_version = version
            return None
        if aside:
            pid = os.fork()
            if pid == 0:  # pragma: no cover (the child never returns; test_preload checks its file)
                code = 1
                try:
                    code = 0 if self._write(version, venues()) else 1
                finally:
                    os._exit(code)
            self._child, self.saved_version = pid, version
            return self.path
        return self.path if self._write(version, venues()) else None

    def _writing(self) -> bool:
        """Whether a forked writer still runs; once it has ended, whether it wrote (else: write again)."""
        if self._child is None:
            return False
        try:
            pid, _ = os.waitpid(self._child, os.WNOHANG)
        except ChildProcessError:  # reaped by someone else (gunicorn's master reaps every child)
            pid = self._child
        if pid == 0:
            return True
        self._child = None
        if self.version_on_disk() != self.saved_version:
            self.saved_version = -1
        return False

    def _write(self, version: int, venues: Sequence[Venue]) -> bool:
        try:
            write_snapshot(self.path, version, venues)
        except OSError as exc:
            log.warning("could not write the local snapshot %s: %s", self.path, exc)
            return False
        self.saved_version = version
        return True
