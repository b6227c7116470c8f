"""Documented configuration defaults, and the one function that layers them.

Precedence, lowest first: these defaults; ``config.py`` in the instance
folder; ``LOCATOR_*`` environment variables (``LOCATOR_DATABASE=/x.sqlite3``;
values are parsed as JSON where they can be, e.g. ``LOCATOR_INDEX_REFRESH_SECONDS=0.5``);
then the ``test_config`` given to ``create_app``. :func:`load_config` does
this layering for the web app and the command line alike, so ``locator``
commands see exactly the configuration the server does.

The web app reads these once, at start-up, into one typed, checked
``locator.web.settings.Settings`` (a bad value stops start-up with a message
quoting it); changing ``app.config`` afterwards has no effect.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Config
from flask.sansio.scaffold import find_package

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

#: District boundaries. The default is ``geodata/districts_land.geojson``: Amap's
#: boundaries clipped to the shoreline (GSHHG, plus reclaimed land; 三沙's two
#: districts unclipped), so that areas, coverage shares and sites are on land
#: (see geodata/README.md). ``None`` means ``GEODATA_DIR/districts.geojson``,
#: Amap's unclipped boundaries, which reach into the sea. When ``GEODATA_DIR`` is
#: set elsewhere and this is left at its default, it follows: ``<GEODATA_DIR>/districts_land.geojson``.
DISTRICTS_FILE: str | None = str(ROOT / "geodata" / "districts_land.geojson")

#: How often (seconds) a process checks the register's data version and
#: brings its in-memory index up to date (incrementally). 0 checks on every
#: request. With SQLite this bounds how late another process serves an edit;
#: with PostGIS, processes hear of edits through LISTEN/NOTIFY within
#: milliseconds and this is only the fallback poll. The process that writes
#: refreshes at once.
INDEX_REFRESH_SECONDS = 0.5

#: ``max-age`` (seconds) of static files; pages link the app's own scripts and styles
#: with a content hash (``?v=…``), and revalidation is cheap (ETag), so an hour is safe.
SEND_FILE_MAX_AGE_DEFAULT = 3600

#: Largest request body accepted, in bytes (larger: 413).
MAX_CONTENT_LENGTH = 1 * 1024 * 1024

#: The hard deadline of a read (GET/HEAD), seconds: a request still running
#: after it is stopped and answered 503 problem+json with ``Retry-After``, so no
#: request keeps a worker busy longer (``locator/web/deadline.py``). Budgets
#: refuse costly requests before they start; this is the backstop. ``0`` turns
#: it off. Keep it under gunicorn's ``--timeout`` (30 s) and nginx's
#: ``proxy_read_timeout``.
REQUEST_DEADLINE_SECONDS = 10.0

# -- HTTP behaviour (locator/web/http.py) -----------------------------------------

#: How many reverse proxies in front of the app to trust (werkzeug's ``ProxyFix``):
#: with ``N`` > 0 the client's address is taken from the ``N``-th last entry of
#: ``X-Forwarded-For`` and the scheme from ``X-Forwarded-Proto``, so the rate
#: limits, the report limit, the access log and ``Secure`` cookies see the real
#: client. ``0`` (the default, for ``make serve`` facing clients directly) trusts
#: no such header: a client could otherwise claim any address. ``deploy/`` sets 1
#: (``LOCATOR_PROXY_FIX_X_FOR=1``), for its nginx.
PROXY_FIX_X_FOR = 0

#: Per-client rate limit (``limits``/flask-limiter syntax; ``;``-separate several, e.g.
#: ``"100 per second;6000 per minute"``). Clients are told apart by remote
#: address: behind a reverse proxy, set ``PROXY_FIX_X_FOR``.
#: With the default in-memory storage each worker process counts on its own,
#: so a client's real allowance is this times the number of workers.
RATELIMIT_DEFAULT = "6000 per minute"

#: Where the counters live: ``lazy-memory://`` (per process; ``locator/web/ratelimit.py``:
#: ``memory://`` without its expiry timer thread, which costs more than a nearest
#: query under load), ``memory://``, or e.g. ``redis://host:6379`` to share them
#: between workers and machines.
RATELIMIT_STORAGE_URI = "lazy-memory://"

#: ``fixed-window`` (cheapest), ``moving-window`` or ``sliding-window-counter``.
RATELIMIT_STRATEGY = "fixed-window"

#: Turn rate limiting off altogether (``LOCATOR_RATELIMIT_ENABLED=false``).
RATELIMIT_ENABLED = True

#: ``max-age`` (seconds) of ``Cache-Control: public`` on successful data responses.
#: Short, because ``open_now`` changes with the clock.
CACHE_MAX_AGE = 60

#: Write one JSON line per request to stderr (logger ``locator.access``).
ACCESS_LOG = True

#: Compress JSON, GeoJSON and HTML responses at least this many bytes long
#: (brotli when the client accepts it, else gzip).
COMPRESS_MIN_SIZE = 1024
COMPRESS_ALGORITHM = ["br", "gzip"]

#: Base map of the worker map (``/``): ``osm`` (OpenStreetMap, WGS-84),
#: ``tianditu`` (天地图, CGCS2000 ≈ WGS-84; needs ``TIANDITU_KEY``, else no tiles),
#: ``amap`` (高德, GCJ-02: markers and outlines are shifted to match), or
#: ``none`` (no tiles: district outlines and venues only). ``?tiles=`` overrides it per page.
TILES = "osm"

#: 天地图 Tianditu browser key (``tk``), from https://console.tianditu.gov.cn/.
TIANDITU_KEY = ""

#: Population grid for coverage analysis (``locator coverage``, /coverage):
#: a GeoTIFF such as WorldPop (people per pixel) or a CSV with
#: ``lon,lat,population`` columns (WGS-84). The default is the shipped
#: MODELLED surface (``geodata/population_250m.tif``: each district's 2020
#: census total allocated to its GeoNames settlements; see geodata/README.md),
#: and every figure from it says ``modelled`` (``summary.population_source``).
#: ``None`` (``LOCATOR_POPULATION_GRID=null``): coverage by area only. Left at its
#: default, it follows ``GEODATA_DIR`` as ``DISTRICTS_FILE`` does.
POPULATION_GRID: str | None = str(ROOT / "geodata" / "population_250m.tif")

#: The older single target: when set, districts with fewer venues of the chosen
#: categories per 10,000 residents (2020 census) than this are flagged
#: ``below_target`` whatever the category, replacing every ``per_10k`` of
#: ``COVERAGE_TARGETS``. ``None`` (the default): the per-category targets decide.
COVERAGE_TARGET_PER_10K: float | None = None

#: Coverage targets per category code (``locator.planning.targets`` has the rules):
#: ``covered_pct`` at ``radius_m`` — at least this share (0–100) of a district's
#: residents within ``radius_m`` of a venue, checked only at that radius, for that
#: one category, never for the offshore districts (三沙); ``per_10k`` — at least
#: this many venues per 10,000 residents. A district missing either is flagged.
#:
#: - ``outdoor_station``: the ACFTU's standard for outdoor-worker rest stations is
#:   a 15-minute walking circle (about 1 km) in towns; it publishes no share. We
#:   ask that at least 5 % of a district's residents (1 in 20) live within 1 km: a
#:   first-stage floor, about half the province's current share (8.5 % on the
#:   demonstration register, modelled population), so the flag names the
#:   districts that lag well behind rather than all 26.
#: - the other categories: no published density or walking standard, so the
#:   target is the province's own published count per 10,000 residents
#:   (``locator.categories.PUBLISHED_COUNTS`` over the 2020 census total,
#:   10,081,232), rounded to two decimals: a flagged district has fewer than the
#:   provincial average.
COVERAGE_TARGETS: dict[str, dict[str, float]] = {
    "outdoor_station": {"covered_pct": 5.0, "radius_m": 1000.0},
    "workers_home": {"per_10k": 0.65},  # 656 published
    "reading_room": {"per_10k": 1.26},  # 1,268
    "service_center": {"per_10k": 0.10},  # 103
    "innovation_studio": {"per_10k": 0.16},  # 157
    "other": {"per_10k": 0.17},  # 175
}

#: Admin users: {name: werkzeug password hash}. Prefer ``locator admin add-user``,
#: which keeps hashed credentials in ``<instance>/admin_users.json``.
ADMIN_USERS: dict[str, str] = {}

#: Admin API tokens: {sha256 hex digest of the token: user name}. Prefer
#: ``locator admin new-token NAME`` (same file as above; the token is shown once).
ADMIN_TOKENS: dict[str, str] = {}

#: Public problem reports accepted per client per hour. The card's one-tap confirmations
#: (开着 / 关着 / 设施有问题, ``/confirm/<id>``) are reports too and count against the same limit.
REPORTS_PER_HOUR = 5

#: The "reported closed" rule (fixed in code, like the report kinds; not read from an instance config):
#: a venue is marked 有人反映已关闭 (``reported_closed: true`` in the API) once ``CLOSED_TAPS`` distinct
#: clients tapped 关着 on it within ``CLOSED_TAPS_DAYS`` days and those taps still wait in the moderation
#: queue. An admin's decision on one of them (or any admin edit of the venue) takes the mark off.
CLOSED_TAPS = 3
CLOSED_TAPS_DAYS = 14
#: Largest body of a confirmation tap, in bytes (it carries one word, ``kind``).
CONFIRM_MAX_BODY = 256

#: File of hashed admin credentials and token digests. ``None`` means
#: ``<instance folder>/admin_users.json``.
ADMIN_USERS_FILE: str | None = None

# -- A register shared by several processes and hosts (locator/storage/postgis.py) --------

#: The shared venue register: a ``postgresql://user:password@host:5432/dbname``
#: URL (``LOCATOR_DATABASE_URL``) of a PostgreSQL database with PostGIS
#: available. ``None`` keeps the embedded SQLite register (``DATABASE``). The
#: schema is created and upgraded on start-up by the migrations in
#: ``locator/storage/migrations`` (the first start needs the right to
#: ``CREATE EXTENSION postgis``, or a DBA creates it beforehand), and an empty
#: register is seeded from ``SEED_VENUES``. Each process keeps its index fresh
#: through ``LISTEN locator_changes`` within milliseconds of a commit, polling
#: every ``INDEX_REFRESH_SECONDS`` (at most 1 s) as a fallback.
DATABASE_URL: str | None = None

#: Most connections each app process opens to ``DATABASE_URL`` (a psycopg
#: pool; one more is held by the change listener). Keep workers × (this + 1)
#: × hosts under the server's ``max_connections``, or put PgBouncer in front.
DATABASE_POOL_SIZE = 4

#: Each serving process keeps a local copy of the last good register (beside
#: the SQLite file, or in ``SNAPSHOT_DIR`` for ``DATABASE_URL``),
#: rewritten by its poller at most this often (seconds) when the data moved; a
#: process that starts while the register is down serves it, ``degraded``.
#: A negative value turns the writing off (``locator.storage.snapshot``).
SNAPSHOT_SECONDS = 60.0

#: The folder of a PostGIS register's local snapshots; ``None``: ``<instance>/snapshots``.
SNAPSHOT_DIR: str | None = None

# -- Embeddable maps (locator/web/embed.py, locator/web/security.py) -----------------------

#: Which sites may show ``/embed`` in a frame (``Content-Security-Policy:
#: frame-ancestors``): ``"*"`` for any site, or a list of origins such as
#: ``["https://www.hainangh.org.cn", "https://*.hainan.gov.cn"]`` (in the
#: environment: ``LOCATOR_EMBED_FRAME_ANCESTORS='["https://a.example"]'``).
#: Every other page may be framed by the app itself only. A malformed entry
#: stops start-up with a message that quotes it.
EMBED_FRAME_ANCESTORS: str | list[str] = "*"

#: The app's public address, e.g. ``"https://map.example.cn"``, used for the
#: absolute URLs of snippets and oEmbed answers and to recognise this site's
#: URLs in ``/oembed?url=``, and for the OGC API's links and the OpenAPI document's
#: server (one policy: ``locator.web.urls.public_base``). ``None``: the address of
#: the request (behind a reverse proxy that rewrites the host, set this or wrap the
#: app in ``ProxyFix``).
PUBLIC_BASE_URL: str | None = None


# -- Layering ---------------------------------------------------------------------

#: The app's import name; Flask derives the instance folder from it.
_APP_IMPORT_NAME = "locator.web.app"


def instance_path() -> str:
    """The instance folder, exactly where Flask looks for it for the app.

    Next to the package in a source checkout (``<checkout>/instance``), or
    ``<prefix>/var/locator.web.app-instance`` when installed, as Flask's
    ``auto_find_instance_path`` decides. The app factory passes this to
    ``Flask``, so the command line and the server cannot disagree about it.
    """
    prefix, package_path = find_package(_APP_IMPORT_NAME)
    if prefix is None:
        return os.path.abspath(os.path.join(package_path, "instance"))
    return os.path.abspath(os.path.join(prefix, "var", f"{_APP_IMPORT_NAME}-instance"))


def load_config(instance: str | os.PathLike[str] | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    """The configuration the app runs with, without building the app.

    Parameters
    ----------
    instance
        The instance folder holding ``config.py``; ``None`` means
        :func:`instance_path`.
    overrides
        Applied last (``create_app``'s ``test_config``).

    Returns
    -------
    flask.Config
        The defaults of this module, then the instance ``config.py`` if
        there is one, then ``LOCATOR_*`` environment variables, then
        ``overrides``. Its ``root_path`` is the instance folder.
    """
    cfg = Config(os.fspath(instance) if instance is not None else instance_path())
    cfg.from_object(sys.modules[__name__])
    cfg.from_pyfile("config.py", silent=True)
    cfg.from_prefixed_env("LOCATOR")
    if overrides is not None:
        cfg.from_mapping(overrides)
    _follow_geodata_dir(cfg)
    return cfg


#: Settings whose default is a file in the checkout's ``geodata/``: left at that
#: default, they follow ``GEODATA_DIR`` when it is set elsewhere (an installed
#: package, whose data is not inside it, points ``LOCATOR_GEODATA_DIR`` at a copy).
_GEODATA_DEFAULTS = ("DISTRICTS_FILE", "POPULATION_GRID")


def _follow_geodata_dir(cfg: Config) -> None:
    default_dir = Path(GEODATA_DIR)
    chosen_dir = Path(str(cfg.get("GEODATA_DIR") or default_dir))
    if chosen_dir == default_dir:
        return
    for key in _GEODATA_DEFAULTS:
        default = globals()[key]
        if default is not None and cfg.get(key) == default:
            cfg[key] = str(chosen_dir / Path(default).name)
