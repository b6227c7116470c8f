"""HTTP behaviour shared by every route.

- ``X-Request-ID`` on every response: a sane incoming one is echoed, else one is made;
  ``X-Data-Version`` and ``X-Data-Age`` (seconds since the served data was last confirmed current).
- A JSON-lines access log (logger ``locator.access``, to stderr; ``ACCESS_LOG``).
- 413 for a declared body larger than ``MAX_CONTENT_LENGTH``, before anything reads it.
- Per-client rate limits (``RATELIMIT_*`` config keys, see ``locator.config``),
  counted by the ``limits`` engine that flask-limiter is built on, without
  flask-limiter's per-request overhead (``locator.web.ratelimit``); ``/healthz``,
  ``/readyz`` and static files are exempt. 429 is a problem document with ``Retry-After``.
- Compression (br, gzip) of JSON, GeoJSON and HTML above ``COMPRESS_MIN_SIZE``.
- CORS ``Access-Control-Allow-Origin: *`` on the read API (``/api/*`` but ``/api/v1/admin/``).
- Caching: successful GETs of public data (blueprints ``api``, ``ogc``, ``mapdata``)
  get a weak ETag (a hash of the body) and
  ``Cache-Control: public, max-age=CACHE_MAX_AGE``, and a matching
  ``If-None-Match`` gets 304; errors and probes get ``no-store``. Without
  ``PUBLIC_BASE_URL`` they also get ``Vary: Host``, as their links name the request's host.

Flask runs ``after_request`` functions in reverse order of registration, so
they are registered here as: access log, compression, CORS, caching; a
response is first given its ETag (and maybe turned into a 304), then CORS
headers, then compressed, then logged as sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from flask import Flask, Response, current_app, g, request
from flask_compress import Compress
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests

from locator.web.problems import problem
from locator.web.ratelimit import ClientLimiter
from locator.web.state import KEY, app_state, get_settings

__all__ = ["ACCESS_LOGGER", "REQUEST_ID_HEADER", "init_app", "request_id"]

REQUEST_ID_HEADER = "X-Request-ID"
ACCESS_LOGGER = "locator.access"
_SANE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_DATA_MIMETYPES = frozenset(
    {"application/json", "application/geo+json", "application/vnd.oai.openapi+json", "text/html"}
)
_UNLIMITED_ENDPOINTS = frozenset({"health.healthz", "health.readyz", "static"})
_NO_STORE_ENDPOINTS = frozenset({"health.healthz", "health.readyz"})
#: Blueprints whose successful GETs are public data: ETag and ``Cache-Control: public``.
#: Anything else (the admin pages and API above all) is left alone.
_PUBLIC_BLUEPRINTS = frozenset({"api", "ogc", "mapdata"})
#: CORS ``*`` covers the read API, not ``/api/v1/admin/``.
_CORS_PATHS = re.compile(r"^/api/v1/(?!admin(/|$))")
_CORS_EXPOSE = "ETag, Retry-After, X-Request-ID, X-Data-Version, X-Data-Age"
_CORS_SAFE_HEADER = re.compile(r"^[A-Za-z0-9-]+(\s*,\s*[A-Za-z0-9-]+)*$")


def _cors(response: Response) -> Response:
    """``Access-Control-Allow-Origin: *`` on the read API, and answers to preflights.

    Written here rather than with flask-cors, which cost ~20 µs a request
    (per-request resource matching and option merging): a tenth of a nearest
    answer's time in the app. The API is public, read-only and sends no
    credentials, so the wildcard is all it needs.
    """
    if not _CORS_PATHS.match(request.path):
        return response
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        asked = request.headers.get("Access-Control-Request-Headers", "")
        if asked and _CORS_SAFE_HEADER.match(asked.strip()):
            headers["Access-Control-Allow-Headers"] = asked.strip()
        headers["Access-Control-Max-Age"] = "86400"
    else:
        headers["Access-Control-Expose-Headers"] = _CORS_EXPOSE
    return response


def request_id() -> str:
    """This request's id: the caller's ``X-Request-ID`` if sane, else a new one."""
    rid: str | None = g.get("request_id")
    if rid is None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        rid = incoming if _SANE_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_id = rid
    return rid


def _start() -> None:
    g.t0 = time.perf_counter()
    request_id()


def _check_body_size() -> None:
    limit = get_settings().max_content_length
    length = request.content_length
    if limit is not None and length is not None and length > limit:
        raise RequestEntityTooLarge(f"The request body ({length} bytes) is larger than the {limit} bytes accepted.")


def _access_logger() -> logging.Logger:
    log = logging.getLogger(ACCESS_LOGGER)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(logging.INFO)
    return log


_POSITION_KEYS = frozenset({"lat", "lon", "bbox"})
_SHORT_NUMBER = re.compile(r"-?\d+(\.\d{0,2})?")
_DECIMALS = re.compile(r"(\d)\.(\d{0,2})\d*")


def _coarse_number(text: str) -> str:
    """One coordinate cut to two decimals, read as the API reads it (``+20.031234``, ``20031234e-6``)."""
    if _SHORT_NUMBER.fullmatch(text):
        return text
    try:
        value = float(text)
    except ValueError:
        return _DECIMALS.sub(r"\1.\2", text)  # not a number: still no precise digits
    if not math.isfinite(value):
        return text
    return f"{math.trunc(value * 100) / 100:.2f}"


def coarse_query(query: str) -> str:
    """The query string with ``lat``, ``lon`` and each ``bbox`` corner cut to two decimals (about 1 km).

    The access log need not say where a rider stood to the metre: that is
    personal data, kept out of logs that many people can read. The values are
    cut after parsing them as numbers, so a form the API accepts (``+20.031234``,
    ``20031234e-6``, percent-encoded) is cut too, not only the usual spelling.
    """
    parts = query.split("&")
    for i, part in enumerate(parts):
        key, eq, value = part.partition("=")
        if eq and unquote_plus(key) in _POSITION_KEYS:
            cut = ",".join(_coarse_number(v.strip()) for v in unquote_plus(value).split(","))
            parts[i] = f"{key}={cut}"
    return "&".join(parts)


def _finish(response: Response) -> Response:
    rid = request_id()
    response.headers[REQUEST_ID_HEADER] = rid
    state = current_app.extensions.get(KEY)
    if state is not None:  # which data answered, and how long since it was confirmed current (issue 13)
        fresh = state.register.freshness()
        response.headers["X-Data-Version"] = str(fresh.data_version)
        response.headers["X-Data-Age"] = f"{fresh.data_age_s:.1f}"
    if get_settings().access_log:
        t0 = g.get("t0")
        entry = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "request_id": rid,
            "remote": request.remote_addr,
            "method": request.method,
            "path": request.path,
            "query": coarse_query(request.query_string.decode("latin-1")[:512]),
            "status": response.status_code,
            "bytes": response.content_length,
            "ms": round((time.perf_counter() - t0) * 1000, 2) if t0 is not None else None,
            "ua": request.user_agent.string[:200],
        }
        logging.getLogger(ACCESS_LOGGER).info(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
    return response


def _caching(response: Response) -> Response:
    if response.status_code >= 400 or request.endpoint in _NO_STORE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
        return response
    if (
        response.status_code != 200
        or request.blueprint not in _PUBLIC_BLUEPRINTS
        or request.method not in ("GET", "HEAD")
        or response.direct_passthrough
        or response.is_streamed
        or response.mimetype not in _DATA_MIMETYPES
    ):
        return response
    settings = get_settings()
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = f"public, max-age={settings.cache_max_age}"
    if settings.public_base_url is None:
        # Links are then built from the request's Host (locator.web.urls.public_base): a shared
        # cache must not hand one host's links to a request for another.
        response.vary.add("Host")
    if response.get_etag()[0] is None:
        response.set_etag(hashlib.blake2b(response.get_data(), digest_size=12).hexdigest(), weak=True)
    if "If-None-Match" in request.headers:
        response.make_conditional(request)
    return response


class RateLimited(TooManyRequests):
    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__()
        self.limit, self.retry_after = limit, retry_after


def _rate_limit() -> None:
    if request.endpoint in _UNLIMITED_ENDPOINTS or request.method == "OPTIONS":
        return
    limiter = app_state().limiter
    breached = None if limiter is None else limiter.hit(request.remote_addr or "-")
    if breached is not None:
        raise RateLimited(*breached)


def init_app(app: Flask) -> None:
    """Wire the HTTP behaviour into ``app`` (after ``state.init_app``, before the blueprints)."""
    app.config.setdefault(
        "COMPRESS_MIMETYPES",
        sorted(
            _DATA_MIMETYPES
            | {"application/problem+json", "text/css", "application/javascript", "text/javascript", "image/svg+xml"}
        ),
    )
    # Static files are streamed; flask-compress leaves gzip out for streams by default,
    # so a client that offers only gzip (many older phones' webviews) got them raw.
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["zstd", "br", "gzip", "deflate"])

    _access_logger()
    app.before_request(_start)
    app.before_request(_check_body_size)
    app.after_request(_finish)

    state = app_state(app)
    settings = state.settings
    if settings.ratelimit_enabled:
        state.limiter = ClientLimiter(
            settings.ratelimit_default, settings.ratelimit_storage_uri, settings.ratelimit_strategy
        )
        app.before_request(_rate_limit)

    @app.errorhandler(RateLimited)
    def _too_many(exc: RateLimited) -> Response:
        return problem(
            429,
            "Too Many Requests",
            f"Rate limit of {exc.limit} exceeded for this client; retry after {exc.retry_after} s.",
            headers={"Retry-After": str(exc.retry_after)},
        )

    Compress(app)
    app.after_request(_cors)
    app.after_request(_caching)
