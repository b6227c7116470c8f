"""Documented configuration defaults.

Precedence, lowest first: these defaults; ``config.py`` in the instance
folder; ``LOCATOR_*`` environment variables (``LOCATOR_DATABASE=/x.sqlite3``;
values are parsed as JSON where they can be, e.g. ``LOCATOR_INDEX_REFRESH_SECONDS=0.5``);
then the ``test_config`` given to ``create_app``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The project checkout: ``geodata/``, ``static/`` and ``templates/`` live here."""

#: Secret for signing sessions. Set a real one in production
#: (``LOCATOR_SECRET_KEY`` or the instance ``config.py``).
SECRET_KEY = "dev-only-not-secret"

#: The venue register: a SQLite file path. ``None`` means
#: ``<instance folder>/locator.sqlite3``, created and seeded on first start.
DATABASE: str | None = None

#: Folder holding ``districts.geojson`` and ``venues.geojson``.
GEODATA_DIR = str(ROOT / "geodata")

#: GeoJSON used to seed an empty register. ``None`` means ``GEODATA_DIR/venues.geojson``
#: (the generated demonstration data).
SEED_VENUES: str | None = None

#: District boundaries. ``None`` means ``GEODATA_DIR/districts.geojson``.
DISTRICTS_FILE: str | None = None

#: How often (seconds) a process checks the register's data version and
#: brings its in-memory index up to date. 0 checks on every request.
INDEX_REFRESH_SECONDS = 1.0

#: Largest request body accepted, in bytes (larger: 413).
MAX_CONTENT_LENGTH = 1 * 1024 * 1024
