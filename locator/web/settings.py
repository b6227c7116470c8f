"""The web app's settings: read from ``app.config`` once, typed and checked at start-up.

``locator.config`` documents each key and its default; this module turns the
merged configuration (defaults, instance ``config.py``, ``LOCATOR_*``
environment, test config) into one frozen :class:`Settings`, so call sites
read ``settings.cache_max_age`` instead of repeating
``config.get("CACHE_MAX_AGE", 60)`` with its default. A bad value stops
start-up with an :class:`~locator.errors.InvalidParameter` naming the key and
quoting the value, instead of surfacing as a 500 on some later request.

The register's own keys (``DATABASE``, ``DATABASE_URL``…) are read by
``locator.storage.register.Settings``; ``EMBED_FRAME_ANCESTORS`` is kept raw
here and parsed by ``locator.web.security``, which owns its syntax.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from locator.errors import InvalidParameter
from locator.planning.targets import CategoryTarget, parse_targets
from locator.tiles import TILE_PROVIDERS
from locator.web.ratelimit import check_limits

__all__ = ["Settings"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"


def _flag(cfg: Mapping[str, Any], key: str) -> bool:
    value = cfg[key]
    if not isinstance(value, bool):
        raise InvalidParameter(key, f"must be true or false, got {_short(value)}")
    return value


def _count(cfg: Mapping[str, Any], key: str, low: int = 0) -> int:
    value = cfg[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidParameter(key, f"must be a whole number ≥ {low}, got {_short(value)}")
    return value


def _optional_number(cfg: Mapping[str, Any], key: str) -> float | None:
    value = cfg.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InvalidParameter(key, f"must be a number ≥ 0 or None, got {_short(value)}")
    return value  # as given: the coverage answers echo it


def _text(cfg: Mapping[str, Any], key: str, optional: bool = False) -> str | None:
    value = cfg.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidParameter(key, f"must be a string, got {_short(value)}")
    return value


def _credentials(cfg: Mapping[str, Any], key: str) -> dict[str, str]:
    value = cfg.get(key) or {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidParameter(key, f"must map names to strings, got {_short(value)}")
    return dict(value)


def _public_base_url(cfg: Mapping[str, Any]) -> str | None:
    value = _text(cfg, "PUBLIC_BASE_URL", optional=True)
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidParameter(
            "PUBLIC_BASE_URL", f"must be an address like 'https://map.example.cn', got {_short(value)}"
        )
    return value.rstrip("/")


@dataclass(frozen=True)
class Settings:
    """Everything the web layer reads from the configuration (see ``locator.config`` for each key)."""

    secret_key: str
    """``SECRET_KEY`` (after ``locator.web.auth`` has replaced the development default)."""
    max_content_length: int | None
    """``MAX_CONTENT_LENGTH``: largest request body, bytes; None accepts any."""
    access_log: bool
    """``ACCESS_LOG``: one JSON line per request on the ``locator.access`` logger."""
    cache_max_age: int
    """``CACHE_MAX_AGE``: seconds of ``Cache-Control: public`` on public data."""
    ratelimit_enabled: bool
    """``RATELIMIT_ENABLED``."""
    ratelimit_default: str
    """``RATELIMIT_DEFAULT``: per-client limits, ``limits`` syntax."""
    ratelimit_storage_uri: str
    """``RATELIMIT_STORAGE_URI``."""
    ratelimit_strategy: str
    """``RATELIMIT_STRATEGY``."""
    tiles: str
    """``TILES``: the default base map's code (a key of ``locator.tiles.TILE_PROVIDERS``)."""
    tianditu_key: str
    """``TIANDITU_KEY``; empty when unset."""
    population_grid: str | None
    """``POPULATION_GRID``: the coverage analysis' population grid file, or None."""
    places_file: Path
    """The gazetteer (``GEODATA_DIR/places.json``): names suggested sites after their nearest town."""
    coverage_target_per_10k: float | None
    """``COVERAGE_TARGET_PER_10K``: when set, one per-10,000 target for every category."""
    coverage_targets: dict[str, CategoryTarget]
    """``COVERAGE_TARGETS``: the per-category targets (``locator.planning.targets``)."""
    admin_users: dict[str, str]
    """``ADMIN_USERS``: {name: password hash} from the configuration (the users file adds more)."""
    admin_tokens: dict[str, str]
    """``ADMIN_TOKENS``: {sha256 of token: name} from the configuration."""
    admin_users_file: Path
    """``ADMIN_USERS_FILE``, else ``<instance>/admin_users.json``."""
    reports_per_hour: int
    """``REPORTS_PER_HOUR``: public problem reports per client per hour."""
    embed_frame_ancestors: str | tuple[str, ...]
    """``EMBED_FRAME_ANCESTORS`` as given (``locator.web.security`` parses and checks it)."""
    public_base_url: str | None
    """``PUBLIC_BASE_URL`` without a trailing slash, or None (then the request's address)."""
    proxy_fix_x_for: int = 0
    """``PROXY_FIX_X_FOR``: trusted reverse proxies in front (0: trust no ``X-Forwarded-*`` header)."""
    request_deadline_s: float = 10.0
    """``REQUEST_DEADLINE_SECONDS``: a read still running after it gets 503 (0: no deadline)."""

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], instance_path: str | Path) -> Settings:
        """Read and check ``cfg`` (an ``app.config``); raises ``InvalidParameter`` quoting a bad value.

        Parameters
        ----------
        cfg
            The merged configuration; every key of ``locator.config`` is present.
        instance_path
            The app's instance folder (default home of the users file).
        """
        tiles = str(cfg.get("TILES") or "osm").strip().lower()
        if tiles not in TILE_PROVIDERS:
            raise InvalidParameter(
                "TILES", f"unknown base map {cfg['TILES']!r}; expected one of {', '.join(TILE_PROVIDERS)}"
            )
        limit = cfg.get("MAX_CONTENT_LENGTH")
        ratelimit_default = _text(cfg, "RATELIMIT_DEFAULT") or ""
        ratelimit_strategy = _text(cfg, "RATELIMIT_STRATEGY") or ""
        ratelimit_enabled = _flag(cfg, "RATELIMIT_ENABLED")
        if ratelimit_enabled:  # a limiter that is off may keep any leftover settings, as before
            check_limits(ratelimit_default, ratelimit_strategy)
        ancestors = cfg.get("EMBED_FRAME_ANCESTORS", "*")
        return cls(
            secret_key=str(cfg["SECRET_KEY"]),
            max_content_length=None if limit is None else _count(cfg, "MAX_CONTENT_LENGTH", 1),
            access_log=_flag(cfg, "ACCESS_LOG"),
            cache_max_age=_count(cfg, "CACHE_MAX_AGE"),
            ratelimit_enabled=ratelimit_enabled,
            ratelimit_default=ratelimit_default,
            ratelimit_storage_uri=_text(cfg, "RATELIMIT_STORAGE_URI") or "",
            ratelimit_strategy=ratelimit_strategy,
            tiles=tiles,
            tianditu_key=_text(cfg, "TIANDITU_KEY", optional=True) or "",
            population_grid=_text(cfg, "POPULATION_GRID", optional=True) or None,
            places_file=Path(str(_text(cfg, "GEODATA_DIR"))) / "places.json",
            coverage_target_per_10k=_optional_number(cfg, "COVERAGE_TARGET_PER_10K"),
            coverage_targets=parse_targets(cfg.get("COVERAGE_TARGETS")),
            admin_users=_credentials(cfg, "ADMIN_USERS"),
            admin_tokens=_credentials(cfg, "ADMIN_TOKENS"),
            admin_users_file=Path(
                _text(cfg, "ADMIN_USERS_FILE", optional=True) or Path(instance_path) / "admin_users.json"
            ),
            reports_per_hour=_count(cfg, "REPORTS_PER_HOUR"),
            embed_frame_ancestors="*" if ancestors is None else _ancestors(ancestors),
            public_base_url=_public_base_url(cfg),
            proxy_fix_x_for=_count(cfg, "PROXY_FIX_X_FOR"),
            request_deadline_s=float(_optional_number(cfg, "REQUEST_DEADLINE_SECONDS") or 0),
        )


def _ancestors(value: str | Iterable[Any]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(str(i) for i in value)
