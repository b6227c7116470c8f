"""HTTP behaviour shared by every route.

- ``X-Request-ID`` on every response: a sane incoming one is echoed, else one is made;
  ``X-Data-Version`` and ``X-Data-Age`` (seconds since the served data was last confirmed current).
- A JSON-lines access log (logger ``locator.access``, to stderr; ``ACCESS_LOG``): each request's
  values are queued, and a background thread formats and writes them (``locator.web.accesslog``),
  so that no request waits on the log's I/O.
- 413 for a declared body larger than ``MAX_CONTENT_LENGTH``, before anything reads it.
- Per-client rate limits (``RATELIMIT_*`` config keys, see ``locator.config``),
  counted by the ``limits`` engine that flask-limiter is built on, without
  flask-limiter's per-request overhead (``locator.web.ratelimit``); ``/healthz``,
  ``/readyz`` and static files are exempt. 429 is a problem document with ``Retry-After``.
- Compression (br, gzip) of JSON, GeoJSON and HTML above ``COMPRESS_MIN_SIZE``.
- CORS ``Access-Control-Allow-Origin: *`` on the read API (``/api/*`` but ``/api/v1/admin/``).
- Caching: successful GETs of public data (blueprints ``api``, ``ogc``, ``mapdata``)
  get a weak ETag (a hash of the body: the body of a nearest answer changes with the minute,
  ``open_now``, and with ``Host`` and ``Accept``, so the data version alone would not do) and
  ``Cache-Control: public, max-age=CACHE_MAX_AGE``, and a matching
  ``If-None-Match`` gets 304; errors and probes get ``no-store``. Without
  ``PUBLIC_BASE_URL`` they also get ``Vary: Host``, as their links name the request's host.

Where each runs. The WSGI layer, :class:`Edge`, wraps the Flask app: before
it, the clock, the request id and the deadline's arming; as the response
starts, every header that no view sets (request id, data version, CORS,
``no-store``, ``Vary``, the security headers of ``locator.web.security``)
and the access-log entry. Inside Flask, one ``before_request`` hook checks
the body size and the rate limit, and one ``after_request`` hook gives a
public GET its ETag and cache headers (or a 304) and then compresses it.

Speed (issue 17: within 85 % of a bare Flask app): under gunicorn a
request's Python costs about three times what it costs in a warm loop (the
server's own work between requests leaves the CPU caches cold), so what runs
per request is kept to a few functions on the raw environ. Headers are
appended to the list the server sends (:func:`send_headers`, :class:`Edge`),
not set through werkzeug's ``Headers`` (about 2 µs a header, three times
over), and the hooks look the request up once each (:func:`current_request`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from random import getrandbits
from typing import Any

from flask import Flask, Request, Response, request
from flask.globals import _cv_request
from flask_compress import Compress
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests

from locator.web.accesslog import ACCESS_LOGGER, AccessLogHandler, access_logger, coarse_query, log_access
from locator.web.problems import problem
from locator.web.ratelimit import ClientLimiter
from locator.web.state import AppState, app_state

__all__ = [
    "ACCESS_LOGGER",
    "REQUEST_ID_HEADER",
    "AccessLogHandler",
    "Edge",
    "coarse_query",
    "current_app_and_request",
    "current_request",
    "init_app",
    "query_may_name",
    "request_id",
    "send_headers",
]

REQUEST_ID_HEADER = "X-Request-ID"
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


_CORS_HEADERS = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", _CORS_EXPOSE))
_VARY = ("Accept-Encoding",)
_VARY_HOST = ("Host", "Accept-Encoding")
_VARY_LINE, _VARY_HOST_LINE = ("Vary", ", ".join(_VARY)), ("Vary", ", ".join(_VARY_HOST))
_VARY_HOST_FLAG = "locator.vary_host"
_SENT_HEADERS = "locator.sent_headers"
_REQUEST_ID = "locator.request_id"


def current_request() -> Request:
    """The request object itself, from Flask's request context variable: one C call.

    Each ``request.x`` goes through werkzeug's ``LocalProxy`` (four Python
    calls, ~0.4 µs, two or three times that under load); the hooks run on
    every request and look the request up here instead. ``_cv_request`` is
    Flask's own (``flask.globals``, 2.2 to 3.x); ``tests/test_edge.py`` holds
    this to ``request._get_current_object()``, and Flask is pinned to 3.x.
    """
    return _cv_request.get().request


def current_app_and_request() -> tuple[Flask, Request]:
    """The app and the request of this request's context, from one lookup (as :func:`current_request`)."""
    ctx = _cv_request.get()
    return ctx.app, ctx.request


def query_may_name(environ: dict[str, Any], name: str) -> bool:
    """Whether the raw query string may hold the parameter ``name``, before parsing it.

    False only when ``name`` is not in it and nothing is percent-escaped (an
    escape might spell the name: ``ti%6Ces``), so a hook that looks for a rare
    parameter skips parsing the query on every other request.
    """
    query: str = environ.get("QUERY_STRING", "")
    return name in query or "%" in query


def send_headers(pairs: Iterable[tuple[str, str]], environ: dict[str, Any] | None = None) -> None:
    """Add ``pairs`` to this response's headers as it is sent, after every hook.

    For the headers the app sets on every response and that no view sets
    (request id, data version, security headers, CORS): they are appended to
    the WSGI header list in ``start_response`` (:class:`Edge`), which
    costs nothing per header, instead of going through werkzeug's ``Headers``
    three times (set, copy, list), about 2 µs a header.
    """
    if environ is None:
        environ = request.environ
    sent: list[tuple[str, str]] | None = environ.get(_SENT_HEADERS)
    if sent is None:
        environ[_SENT_HEADERS] = list(pairs)
    else:
        sent.extend(pairs)


HeaderSource = Callable[[dict[str, Any], "Request | None", "str | None"], Sequence[tuple[str, str]]]
"""Headers for a response from (environ, the request or None, its endpoint or None): see :meth:`Edge.add_source`."""


class Edge:
    """WSGI middleware: what every request gets, done once, on the raw environ and header list.

    Before the app: the clock, the request id, and the deadline's clock
    (``locator.web.deadline``). As the response starts (``start_response``,
    after every Flask hook): the headers gathered by :func:`send_headers`,
    those of each source added with :meth:`add_source` (the security headers),
    CORS, the request id and data version, ``no-store`` on errors and probes,
    ``Vary``, and the access-log line. Every header appended here is appended
    to the list the server sends, never through werkzeug's ``Headers`` (about
    2 µs a header, three times over), and one pass over the response's own
    headers finds what must be merged.
    """

    def __init__(self, wsgi_app: Callable[[dict[str, Any], Any], Iterable[bytes]], state: AppState) -> None:
        self.wsgi_app = wsgi_app
        self.state = state
        self.sources: list[HeaderSource] = []
        self.log = logging.getLogger(ACCESS_LOGGER)

    def add_source(self, source: HeaderSource) -> None:
        """Call ``source`` as each response starts, and append the headers it returns."""
        self.sources.append(source)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        t0 = time.perf_counter()
        rid = _request_id(environ)
        watchdog = self.state.deadline
        armed = watchdog is not None and watchdog.arm_request(environ)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self._finish(environ, rid, t0, status, headers)
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, start)
        finally:
            if armed:
                watchdog.release()  # a response that never reached the after_request hooks

    def _finish(
        self, environ: dict[str, Any], rid: str, t0: float, status: str, headers: list[tuple[str, str]]
    ) -> None:
        req = environ.get("werkzeug.request")
        rule = req.url_rule if req is not None else None
        endpoint = rule.endpoint if rule is not None else None
        code = int(status[:3])
        length = vary = cache_control = None
        # The response's own headers (a few): what this layer appends is known and never scanned.
        for i, (name, value) in enumerate(headers):
            lower = name.lower()
            if lower == "content-length":
                length = value
            elif lower == "vary":
                vary = i
            elif lower == "cache-control":
                cache_control = i
        sent = environ.pop(_SENT_HEADERS, None)
        if sent:  # Cache-Control and the ETag of a public GET (_cache), never on an error or a probe
            headers.extend(sent)
        for source in self.sources:
            headers.extend(source(environ, req, endpoint))
        if _CORS_PATHS.match(environ.get("PATH_INFO", "")):
            headers.extend(_cors_headers(environ))
        if code >= 400:
            if cache_control is not None:
                del headers[cache_control]
                if vary is not None and vary > cache_control:
                    vary -= 1
            headers.append(("Cache-Control", "no-store"))
        elif endpoint in _NO_STORE_ENDPOINTS and cache_control is None:  # the probes, whose views set none
            headers.append(("Cache-Control", "no-store"))
        # Vary: Accept-Encoding on every response (flask-compress adds it when the request offers an
        # encoding), and Host on public data whose links name the request's host (_cache).
        host = environ.get(_VARY_HOST_FLAG)
        if vary is None:
            headers.append(_VARY_HOST_LINE if host else _VARY_LINE)
        else:
            names = _VARY_HOST if host else _VARY
            current = headers[vary][1]
            listed = {v.strip().lower() for v in current.split(",")}
            missing = [n for n in names if n.lower() not in listed]
            if missing:
                headers[vary] = ("Vary", ", ".join([current, *missing]))
        version, age = self.state.register.stamp()
        headers.append((REQUEST_ID_HEADER, rid))
        headers.append(("X-Data-Version", str(version)))
        headers.append(("X-Data-Age", f"{age:.1f}"))
        log = self.log
        if self.state.settings.access_log and log.isEnabledFor(logging.INFO):
            log_access(log, environ, rid, code, length, t0)


def _cors_headers(environ: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """``Access-Control-Allow-Origin: *`` on the read API, and the answer to a preflight.

    Written here rather than with flask-cors, which cost ~20 µs a request
    (per-request resource matching and option merging): a tenth of a nearest
    answer's time in the app. The API is public, read-only and sends no
    credentials, so the wildcard is all it needs.
    """
    if environ.get("REQUEST_METHOD") != "OPTIONS" or "HTTP_ACCESS_CONTROL_REQUEST_METHOD" not in environ:
        return _CORS_HEADERS
    asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "").strip()
    allow = (("Access-Control-Allow-Headers", asked),) if asked and _CORS_SAFE_HEADER.match(asked) else ()
    return (
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"),
        *allow,
        ("Access-Control-Max-Age", "86400"),
    )


def request_id() -> str:
    """This request's id: the caller's ``X-Request-ID`` if sane, else a new one (32 random hex digits)."""
    return _request_id(request.environ)


def _request_id(environ: dict[str, Any]) -> str:
    rid: str | None = environ.get(_REQUEST_ID)
    if rid is None:
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        # 128 random bits from the process's own generator (reseeded in each forked worker by the random
        # module): an id to find a request by, not a secret, and without a getrandom() call per request
        rid = incoming if incoming and _SANE_ID.fullmatch(incoming) else f"{getrandbits(128):032x}"
        environ[_REQUEST_ID] = rid
    return rid


def _responder(state: AppState, compress: Compress) -> Callable[[Response], Response]:
    """The ``after_request`` hook: ``Cache-Control``, ``Vary: Host``, the ETag and 304s, then compression.

    One hook rather than two, looking the request up once. The ETag is of the
    body as the view made it, before compression. Errors and the probes get
    ``no-store`` from the :class:`Edge`, as the response starts.
    """
    public: dict[str, bool] = {}  # endpoint: is its blueprint's data public (bounded by the app's endpoints)

    def respond(response: Response) -> Response:
        req = current_request()
        environ = req.environ
        if response.status_code == 200 and environ["REQUEST_METHOD"] in ("GET", "HEAD"):
            rule = req.url_rule
            if rule is not None:
                endpoint = rule.endpoint
                is_public = public.get(endpoint)
                if is_public is None:
                    is_public = public[endpoint] = endpoint.partition(".")[0] in _PUBLIC_BLUEPRINTS
                if is_public and not response.direct_passthrough and isinstance(response.response, list):
                    _cache(response, req, environ, state.settings)
        if "HTTP_ACCEPT_ENCODING" in environ:
            # Without it all flask-compress would do is add Accept-Encoding to Vary (which the Edge
            # does for every response) and find no algorithm: ~5 µs of header lookups.
            return compress.after_request(response)
        return response

    return respond


def _cache(response: Response, req: Request, environ: dict[str, Any], settings: Any) -> None:
    """``Cache-Control: public``, the ETag (a hash of the body) and a 304 for a matching ``If-None-Match``."""
    etag = cache_control = False
    for name, value in response.headers:  # one pass: each Headers.get of a missing one builds an exception
        lower = name.lower()
        if lower == "content-type":
            if value.partition(";")[0].strip().lower() not in _DATA_MIMETYPES:
                return
        elif lower == "etag":
            etag = True
        elif lower == "cache-control":
            cache_control = True
    if settings.public_base_url is None:
        # Links are then built from the request's Host (locator.web.urls.public_base): a shared
        # cache must not hand one host's links to a request for another.
        environ[_VARY_HOST_FLAG] = True  # added to Vary by the Edge
    ours = []
    if not cache_control:
        ours.append(("Cache-Control", f"public, max-age={settings.cache_max_age}"))
    if not etag:
        body = response.response  # a list (not streamed: checked by the caller), usually of one bytes
        data = body[0] if isinstance(body, list) and len(body) == 1 and isinstance(body[0], bytes) else None
        if data is None:
            data = response.get_data()
        # SHA-256 rather than BLAKE2: the CPU computes it (SHA extensions), twice as fast here.
        ours.append(("ETag", f'W/"{hashlib.sha256(data).hexdigest()[:24]}"'))
    if "HTTP_IF_NONE_MATCH" in environ:  # the ETag must be on the response to compare
        headers = response.headers
        for name, value in ours:
            headers[name] = value
        response.make_conditional(req)
    else:
        send_headers(ours, environ)


class RateLimited(TooManyRequests):
    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__()
        self.limit, self.retry_after = limit, retry_after


def _starter(state: AppState) -> Callable[[], None]:
    """The first ``before_request`` hook: the body size and the rate limit."""

    def start() -> None:
        req = current_request()
        environ = req.environ
        limit = state.settings.max_content_length
        if limit is not None and ("CONTENT_LENGTH" in environ or "HTTP_TRANSFER_ENCODING" in environ):
            length = req.content_length
            if length is not None and length > limit:
                raise RequestEntityTooLarge(
                    f"The request body ({length} bytes) is larger than the {limit} bytes accepted."
                )
        limiter = state.limiter
        if limiter is not None and environ["REQUEST_METHOD"] != "OPTIONS" and req.endpoint not in _UNLIMITED_ENDPOINTS:
            breached = limiter.hit(req.remote_addr or "-")
            if breached is not None:
                raise RateLimited(*breached)

    return start


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

    access_logger()
    state = app_state(app)
    settings = state.settings
    if settings.ratelimit_enabled:
        state.limiter = ClientLimiter(
            settings.ratelimit_default, settings.ratelimit_storage_uri, settings.ratelimit_strategy
        )
    state.edge = Edge(app.wsgi_app, state)
    app.wsgi_app = state.edge  # type: ignore[method-assign]
    app.before_request(_starter(state))

    @app.errorhandler(RateLimited)
    def _too_many(exc: RateLimited) -> Response:
        return problem(
            429,
            "Too Many Requests",
            f"Rate limit of {exc.limit} exceeded for this client; retry after {exc.retry_after} s.",
            headers={"Retry-After": str(exc.retry_after)},
        )

    app.config["COMPRESS_REGISTER"] = False  # registered below, behind a check
    app.after_request(_responder(state, Compress(app)))
