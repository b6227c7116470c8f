"""The register as the app sees it: store + districts + an up-to-date index.

Pure (no Flask). One ``Register`` per app; the web layer keeps it in
``app.extensions["locator"]`` (see ``locator.web.state``), the CLI builds one
the same way.

The store is SQLite in the instance folder by default, or the shared PostGIS
register when ``DATABASE_URL`` (``LOCATOR_DATABASE_URL``) is a
``postgresql://`` URL. Every process keeps its own in-memory index and keeps
it fresh in the background (``locator.storage.freshness``): on PostGIS a
listener thread refreshes on each NOTIFY; a poller thread compares the data
version every ``INDEX_REFRESH_SECONDS`` on SQLite, and on PostGIS while the
listener is down. ``Register.index`` never touches the store, so a read never
waits on it (issue 13); a change of more than ``LARGE_CHANGE`` venues is built
into a new index aside and swapped in, so readers never see it half-applied.
The process that writes calls ``refresh()`` after its own commit and serves
its write at once. ``freshness()`` says how old the served data is and
whether the store answers (``/readyz``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locator.districts import Districts, load_districts
from locator.index import VenueIndex
from locator.storage.backend import open_store
from locator.storage.base import VenueStore
from locator.storage.freshness import ChangeListener, Poller
from locator.venues import load_venues

__all__ = ["LARGE_CHANGE", "Freshness", "Register", "Settings", "store_errors"]

LARGE_CHANGE = 200
"""A refresh naming more venues than this builds a new index aside and swaps it in, instead of upserting in place."""

STALE_AFTER_MIN_S = 1.5
"""Without a live listener, data not confirmed current for max(this, 3 poll intervals) counts as degraded."""


def store_errors() -> tuple[type[Exception], ...]:
    """The exceptions that mean the store did not answer or could not write (not bad data).

    SQLite's ``OperationalError`` (locked, read-only, disk full, I/O), and
    with psycopg installed its ``OperationalError`` and the pool's timeout. The
    web layer turns them into 503/507 problem+json.
    """
    errors: list[type[Exception]] = [sqlite3.OperationalError]
    try:
        import psycopg
        from psycopg_pool import PoolTimeout
    except ImportError:  # a SQLite-only install
        return tuple(errors)
    return (*errors, psycopg.OperationalError, PoolTimeout)


@dataclass(frozen=True)
class Freshness:
    """What this process serves and how sure it is that it is current (``/readyz``, ``X-Data-Age``).

    ``reachable`` is false when the store did not answer: the listener is down
    and the last poll failed, or nothing has confirmed the data for longer
    than the stale bound. ``data_age_s`` is the time since the index was last
    known to match the store; ``reason`` says why it is not reachable.
    """

    reachable: bool
    data_version: int
    data_age_s: float
    reason: str


@dataclass(frozen=True)
class Settings:
    database: Path
    districts_file: Path
    seed_venues: Path
    refresh_seconds: float = 0.5
    database_url: str | None = None
    pool_size: int = 4

    @classmethod
    def from_mapping(cls, cfg: Any, instance_path: str | Path) -> Settings:
        geodata = Path(cfg.get("GEODATA_DIR"))
        return cls(
            database=Path(cfg.get("DATABASE") or Path(instance_path) / "locator.sqlite3"),
            districts_file=Path(cfg.get("DISTRICTS_FILE") or geodata / "districts.geojson"),
            seed_venues=Path(cfg.get("SEED_VENUES") or geodata / "venues.geojson"),
            refresh_seconds=float(cfg.get("INDEX_REFRESH_SECONDS", 0.5)),
            database_url=cfg.get("DATABASE_URL") or None,
            pool_size=int(cfg.get("DATABASE_POOL_SIZE", 4)),
        )

    @property
    def target(self) -> str:
        """What ``open_store`` opens: the database URL if set, else the SQLite file."""
        return self.database_url or str(self.database)


class Register:
    """Venue store, districts and the one spatial index built from the store."""

    def __init__(
        self,
        store: VenueStore,
        districts: Districts,
        refresh_seconds: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if refresh_seconds < 0:
            raise ValueError(f"refresh interval must be >= 0 seconds, got {refresh_seconds!r}")
        self.store = store
        self.districts = districts
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()  # serialises refreshes; readers never take it
        self.listener: ChangeListener | None = None
        self.poller: Poller | None = None
        version, venues = store.snapshot_venues()  # the version and the venues from one view
        self._index = VenueIndex(venues, version=version)
        self._synced = clock()  # when the index was last known to match the store

    @classmethod
    def open(cls, settings: Settings, listen: bool = True) -> Register:
        """Open (and on first use, seed) the register named by ``settings``.

        ``listen`` starts the change listener where the store announces
        changes (PostGIS; the web app wants it, a one-shot CLI command does
        not).
        """
        districts = load_districts(settings.districts_file)
        store = open_store(settings.target, pool_size=settings.pool_size)
        if store.version() == 0:  # both back ends seed atomically, once, even when processes race
            store.seed_if_empty(load_venues(settings.seed_venues))
        reg = cls(store, districts, settings.refresh_seconds)
        if listen:
            reg.start_listener()
            reg.start_poller()
        return reg

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgis``."""
        return self.store.backend

    def start_listener(self) -> None:
        """Refresh on every change the store announces (PostGIS NOTIFY), polling as a fallback.

        Does nothing on a store that announces nothing (SQLite): the poller
        (``start_poller``) compares the version instead.
        """
        where = self.store.listen_on()
        if where is None or self.listener is not None:
            return
        url, channel = where
        poll = min(self.refresh_seconds, 1.0) if self.refresh_seconds > 0 else 0.5
        self.listener = ChangeListener(url, channel, self.refresh, poll_seconds=poll)
        self.listener.start()

    def start_poller(self) -> None:
        """Compare the data version every ``refresh_seconds`` on a daemon thread (PostGIS: while the listener is down).

        The thread holds the register weakly: it ends once the register is
        closed or collected (the tests build dozens of apps in one process).
        """
        if self.poller is not None:
            return
        ref = weakref.ref(self)

        def poll() -> None:
            reg = ref()
            if reg is None:
                raise LookupError("register collected")
            reg.refresh()

        def skip() -> bool:
            reg = ref()
            if reg is None:
                poller.stop()
                return True
            if reg.listener is not None and reg.listener.healthy:
                poller.ok = None  # a failure seen while the listener was down is history once it is back
                return True
            return False

        poller = Poller(poll, self.refresh_seconds, skip=skip, name="locator-poll")
        self.poller = poller.start()

    @property
    def index(self) -> VenueIndex:
        """The index as last refreshed: never touches the store, so a read never waits on it."""
        return self._index

    @property
    def stale_after(self) -> float:
        """Seconds without confirmation after which the data counts as possibly stale (degraded)."""
        return max(STALE_AFTER_MIN_S, 3 * self.refresh_seconds)

    def freshness(self) -> Freshness:
        """How old the served data is, and whether the store answers (see :class:`Freshness`)."""
        index = self._index
        age = max(0.0, self._clock() - self._synced)
        listening = self.listener is not None and self.listener.healthy
        reason = ""
        if not listening:
            poller = self.poller
            if poller is not None and poller.ok is False:
                reason = f"the register did not answer: {poller.last_error}"
            elif poller is not None and age > self.stale_after:
                reason = f"the register has not confirmed the data for {age:.1f} s"
            elif self.listener is not None and poller is None:
                reason = "the register's change listener is down"
        return Freshness(not reason, index.version, round(age, 3), reason)

    def refresh(self) -> bool:
        """Catch up with the store; returns whether anything changed.

        Runs on the listener or poller thread, or after this process's own
        write. Up to ``LARGE_CHANGE`` venues are upserted into the live index;
        a larger change (or a replaced register) is built into a new index
        aside and swapped in with one assignment, so readers see the old or
        the new data and never wait for the build.
        """
        with self._lock:
            index = self._index
            current, changed = self.store.changes_since(index.version)
            if current == index.version:
                self._synced = self._clock()
                return False
            if changed is None or len(changed) > LARGE_CHANGE:
                current, venues = self.store.snapshot_venues()
                self._index = VenueIndex(venues, version=current)
                self._synced = self._clock()
                return True
            found = self.store.get_many(changed)
            for venue_id in changed:
                venue = found.get(venue_id)
                if venue is None:
                    index.remove(venue_id)
                else:
                    index.upsert(venue)
            index.version = current
            self._synced = self._clock()
            return True

    def close(self) -> None:
        """Stop the background threads and close the store."""
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        if self.poller is not None:
            self.poller.stop()
            self.poller = None
        self.store.close()
