"""The register as the app sees it: store + districts + an up-to-date index.

Pure (no Flask). One ``Register`` per app; the web layer keeps it in
``app.extensions["locator"]`` (see ``locator.extension``), the CLI builds one
the same way.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .districts import Districts, load_districts
from .index import VenueIndex
from .store import SQLiteStore, VenueStore, open_store
from .venues import load_venues

__all__ = ["Register", "Settings"]


@dataclass(frozen=True)
class Settings:
    database: Path
    districts_file: Path
    seed_venues: Path
    refresh_seconds: float = 1.0

    @classmethod
    def from_mapping(cls, cfg: Any, instance_path: str | Path) -> Settings:
        geodata = Path(cfg.get("GEODATA_DIR"))
        return cls(
            database=Path(cfg.get("DATABASE") or Path(instance_path) / "locator.sqlite3"),
            districts_file=Path(cfg.get("DISTRICTS_FILE") or geodata / "districts.geojson"),
            seed_venues=Path(cfg.get("SEED_VENUES") or geodata / "venues.geojson"),
            refresh_seconds=float(cfg.get("INDEX_REFRESH_SECONDS", 1.0)),
        )


class Register:
    """Venue store, districts and the one spatial index built from the store."""

    def __init__(self, store: VenueStore, districts: Districts, refresh_seconds: float = 1.0) -> None:
        self.store = store
        self.districts = districts
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        version = store.version()
        self._index = VenueIndex(store.venues(), version=version)
        self._checked = time.monotonic()

    @classmethod
    def open(cls, settings: Settings) -> Register:
        """Open (and on first use, seed) the register named by ``settings``."""
        districts = load_districts(settings.districts_file)
        store = open_store(settings.database)
        if isinstance(store, SQLiteStore) and store.version() == 0:
            store.seed_if_empty(load_venues(settings.seed_venues))
        return cls(store, districts, settings.refresh_seconds)

    @property
    def index(self) -> VenueIndex:
        """The index, first brought up to date if the refresh interval has passed."""
        if time.monotonic() - self._checked >= self.refresh_seconds:
            self.refresh()
        return self._index

    def refresh(self) -> bool:
        """Catch up with the store; returns whether anything changed."""
        with self._lock:
            self._checked = time.monotonic()
            index = self._index
            current, changed = self.store.changes_since(index.version)
            if current == index.version:
                return False
            if changed is None:
                self._index = VenueIndex(self.store.venues(), version=current)
                return True
            for venue_id in changed:
                venue = self.store.get(venue_id)
                if venue is None:
                    index.remove(venue_id)
                else:
                    index.upsert(venue)
            index.version = current
            return True
