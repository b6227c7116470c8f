"""Security headers for every response, set in one place.

Every response (pages, the API, static files, errors) gets:

- ``Content-Security-Policy``: ``default-src 'self'``; scripts only from the
  app (``script-src 'self'``: no inline script, no ``eval``; pages pass their
  configuration in ``<script type="application/json">``, which is data, not
  script); ``style-src 'self' 'unsafe-inline'`` (the coverage legend and
  Leaflet write ``style`` attributes; styles cannot run code); images from the
  app, ``data:`` and the tile hosts of the page's base map (``TILES``,
  ``?tiles=``); ``connect-src 'self'``; ``object-src 'none'``;
  ``base-uri 'none'``; ``form-action 'self'``; and ``frame-ancestors``:
  ``'self'`` everywhere except on the views marked :func:`embeddable`
  (``/embed``), which any site may frame (``EMBED_FRAME_ANCESTORS = "*"``) or
  only the listed origins.
- ``X-Frame-Options: SAMEORIGIN`` (for browsers without ``frame-ancestors``),
  except on embeddable views.
- ``X-Content-Type-Options: nosniff`` and
  ``Referrer-Policy: strict-origin-when-cross-origin``.

Why not flask-talisman: it is not a dependency of the package, and what it
adds beyond these few headers (forced HTTPS, HSTS, secure session cookies)
belongs to the reverse proxy in ``deploy/``, where it would have to be turned
off again for ``make serve`` and the tests. Per-view framing and a per-request
``img-src`` are a dozen lines here. The app needs no nonce: it has no inline
script. One source of the WSGI layer (``locator.web.http.Edge``) keeps every
header in one place, and the views set none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, Request

from locator import tiles
from locator.web.http import query_may_name
from locator.web.state import app_state

__all__ = ["csp_for", "embeddable", "frame_ancestors_source", "init_app"]

F = TypeVar("F", bound=Callable[..., Any])

#: A CSP host-source for ``frame-ancestors``: scheme, host (``*.`` allowed as
#: the first label) and an optional port; no path, no quotes, no spaces.
_ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?")


def embeddable(view: F) -> F:
    """Mark a view as one other sites may frame (``EMBED_FRAME_ANCESTORS``)."""
    view._locator_embeddable = True  # type: ignore[attr-defined]
    return view


def frame_ancestors_source(setting: str | Iterable[str] | None) -> str:
    """The ``frame-ancestors`` sources of embeddable views, from ``EMBED_FRAME_ANCESTORS``.

    ``"*"`` (or None) lets any site frame them; a list of origins (or one
    string of them separated by spaces or commas) lets only those and the app
    itself. Raises ValueError, quoting the entry, for anything that is not an
    ``http(s)://host[:port]`` origin.
    """
    if setting is None:
        return "*"
    items = re.split(r"[\s,]+", setting) if isinstance(setting, str) else list(setting)
    items = [str(i).strip().rstrip("/") for i in items if str(i).strip()]
    if not items:
        raise ValueError("EMBED_FRAME_ANCESTORS is empty; use '*' for any site or list the origins")
    if items == ["*"]:
        return "*"
    for item in items:
        if not _ORIGIN.fullmatch(item):
            raise ValueError(
                f"EMBED_FRAME_ANCESTORS: {item[:80]!r} is not an origin like 'https://www.example.cn' or "
                "'https://*.example.cn'"
            )
    return " ".join(["'self'", *dict.fromkeys(items)])


def csp_for(frame_ancestors: str, tile_origins: Iterable[str] = ()) -> str:
    """The Content-Security-Policy header value."""
    img = " ".join(["'self'", "data:", *tile_origins])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {img}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


class _Headers:
    """The headers of each kind of view, computed once, added by the Edge as each response starts.

    A response's security headers depend only on whether its view is
    embeddable and on the request's base map (``?tiles=``, else ``TILES``):
    the policy for each (kind, tile provider) is built at start-up, and a
    request looks it up (building the policy per request cost ~20 µs).
    """

    def __init__(self, app: Flask) -> None:
        state = app_state(app)
        settings = state.settings
        self.view_functions = app.view_functions
        self.embed_by_endpoint: dict[str | None, bool] = {None: False}
        self.default = settings.tiles
        key = settings.tianditu_key
        by_code = {code: tiles.tile_provider(code, key).origins() for code in tiles.TILE_PROVIDERS}
        self.policies = {
            embed: {
                code: self._headers(embed, csp_for(state.frame_ancestors if embed else "'self'", o))
                for code, o in by_code.items()
            }
            for embed in (False, True)
        }
        self.fallback = {embed: self.policies[embed][self.default] for embed in (False, True)}  # TILES is checked

    @staticmethod
    def _headers(embed: bool, policy: str) -> tuple[tuple[str, str], ...]:
        frame = () if embed else (("X-Frame-Options", "SAMEORIGIN"),)
        return (
            ("Content-Security-Policy", policy),
            *frame,
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "strict-origin-when-cross-origin"),
        )

    def _policy(self, embed: bool, code: str | None) -> tuple[tuple[str, str], ...] | None:
        """What ``tiles.tile_provider`` would pick for ``code``, as headers; None for an unknown code."""
        return self.policies[embed].get((code or "osm").strip().lower())

    def __call__(
        self, environ: dict[str, Any], req: Request | None, endpoint: str | None
    ) -> tuple[tuple[str, str], ...]:
        """The headers for a response, as it starts (a source of ``locator.web.http.Edge``)."""
        embed = self.embed_by_endpoint.get(endpoint)
        if embed is None:  # once per endpoint (bounded by the app's views); no route (None) is not embeddable
            view = self.view_functions.get(endpoint or "")
            embed = self.embed_by_endpoint[endpoint] = bool(getattr(view, "_locator_embeddable", False))
        chosen = None
        if req is not None and query_may_name(environ, "tiles"):
            args = req.args
            chosen = args["tiles"] if "tiles" in args else None  # .get() of a missing key builds an exception
        if not chosen:  # the usual case: the configured provider (checked at start-up)
            return self.fallback[embed]
        return self._policy(embed, chosen) or self.fallback[embed]


def init_app(app: Flask) -> None:
    """Check ``EMBED_FRAME_ANCESTORS`` (a bad entry stops start-up) and set the headers on every response."""
    state = app_state(app)
    state.frame_ancestors = frame_ancestors_source(state.settings.embed_frame_ancestors)
    state.edge.add_source(_Headers(app))
