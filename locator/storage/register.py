"""The register as the app sees it: store + districts + an up-to-date index.

Pure (no Flask). One ``Register`` per app; the web layer keeps it in
``app.extensions["locator"]`` (see ``locator.web.state``), the CLI builds one
the same way.

The store is SQLite in the instance folder by default, or the shared PostGIS
register when ``DATABASE_URL`` (``LOCATOR_DATABASE_URL``) is a
``postgresql://`` URL. Every process keeps its own in-memory index and keeps
it fresh incrementally (``locator.storage.freshness``): on PostGIS a listener thread
refreshes on each NOTIFY; on SQLite the request path compares the data
version at most every ``INDEX_REFRESH_SECONDS``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locator.districts import Districts, load_districts
from locator.index import VenueIndex
from locator.storage.backend import open_store
from locator.storage.base import VenueStore
from locator.storage.freshness import ChangeListener, Throttle
from locator.venues import load_venues

__all__ = ["Register", "Settings"]


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

    def __init__(self, store: VenueStore, districts: Districts, refresh_seconds: float = 0.5) -> None:
        self.store = store
        self.districts = districts
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._throttle = Throttle(refresh_seconds)
        self.listener: ChangeListener | None = None
        version, venues = store.snapshot_venues()  # the version and the venues from one view
        self._index = VenueIndex(venues, version=version)

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
        return reg

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgis``."""
        return self.store.backend

    def start_listener(self) -> None:
        """Refresh on every change the store announces (PostGIS NOTIFY), polling as a fallback.

        Does nothing on a store that announces nothing (SQLite): the request
        path polls the version instead.
        """
        where = self.store.listen_on()
        if where is None or self.listener is not None:
            return
        url, channel = where
        poll = min(self.refresh_seconds, 1.0) if self.refresh_seconds > 0 else 0.5
        self.listener = ChangeListener(url, channel, self.refresh, poll_seconds=poll)
        self.listener.start()

    @property
    def index(self) -> VenueIndex:
        """The index; without a live listener, first brought up to date if the interval has passed."""
        if (self.listener is None or not self.listener.healthy) and self._throttle.due():
            self.refresh()
        return self._index

    def refresh(self) -> bool:
        """Catch up with the store; returns whether anything changed."""
        with self._lock:
            self._throttle.mark()
            index = self._index
            current, changed = self.store.changes_since(index.version)
            if current == index.version:
                return False
            if changed is None:
                current, venues = self.store.snapshot_venues()
                self._index = VenueIndex(venues, version=current)
                return True
            found = self.store.get_many(changed)
            for venue_id in changed:
                venue = found.get(venue_id)
                if venue is None:
                    index.remove(venue_id)
                else:
                    index.upsert(venue)
            index.version = current
            return True

    def close(self) -> None:
        """Stop the listener and close the store."""
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        self.store.close()
