"""What opening a register takes, and what it reports: settings, freshness, and the errors of an outage.

Pure (no Flask). ``Settings`` is read once from the configuration (the web
app and the CLI layer the same sources); ``Freshness`` is what
``Register.freshness()`` answers (``/readyz``, ``X-Data-Age``). Which
exceptions mean the store did not answer lives in ``errors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locator.storage.backend import open_store
from locator.storage.base import VenueStore
from locator.storage.errors import RegisterUnavailable
from locator.storage.snapshot import snapshot_path
from locator.venues import load_venues

__all__ = ["Freshness", "RegisterUnavailable", "Settings"]


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
    loaded: bool = True
    """False when this process has no data at all (no store at start-up and no snapshot): ``not_ready``."""


@dataclass(frozen=True)
class Settings:
    database: Path
    districts_file: Path
    seed_venues: Path
    refresh_seconds: float = 0.5
    database_url: str | None = None
    pool_size: int = 4
    snapshot_dir: Path | None = None
    """Where a PostGIS register's local snapshot lives (``SNAPSHOT_DIR``, default ``<instance>/snapshots``)."""
    snapshot_seconds: float = 60.0

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
            snapshot_dir=Path(cfg.get("SNAPSHOT_DIR") or Path(instance_path) / "snapshots"),
            snapshot_seconds=float(cfg.get("SNAPSHOT_SECONDS", 60.0)),
        )

    @property
    def target(self) -> str:
        """What ``open_store`` opens: the database URL if set, else the SQLite file."""
        return self.database_url or str(self.database)

    @property
    def snapshot_file(self) -> Path:
        """Where a serving process keeps its local snapshot of this register."""
        return snapshot_path(self.target, self.snapshot_dir or self.database.parent / "snapshots")

    def open_store(self) -> VenueStore:
        """Open the store (seeding an empty register once: both back ends seed atomically, even when processes race)."""
        store = open_store(self.target, pool_size=self.pool_size)
        try:
            if store.version() == 0:
                store.seed_if_empty(load_venues(self.seed_venues))
        except BaseException:
            store.close()
            raise
        return store
