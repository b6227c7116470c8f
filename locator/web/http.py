"""HTTP behaviour shared by every route.

- ``X-Request-ID`` on every response: a sane incoming one is echoed, else one is made;
  ``X-Data-Version`` and ``X-Data-Age`` (seconds since the served data was last confirmed current).
- A JSON-lines access log (logger ``locator.access``, to stderr; ``ACCESS_LOG``), formatted on the
  request's thread and written by a background thread (:class:`AccessLogHandler`), so that no
  request waits on the log's I/O.
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
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import unquote_plus

from flask import Flask, Request, Response, request
from flask_compress import Compress
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests

from locator.web.problems import problem
from locator.web.ratelimit import ClientLimiter
from locator.web.state import AppState, app_state

__all__ = [
    "ACCESS_LOGGER",
    "REQUEST_ID_HEADER",
    "AccessLogHandler",
    "SendHeaders",
    "coarse_query",
    "current_request",
    "init_app",
    "request_id",
    "send_headers",
]

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


_CORS_HEADERS = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", _CORS_EXPOSE))
_SENT_HEADERS = "locator.sent_headers"
_REQUEST_ID = "locator.request_id"
_T0 = "locator.t0"


def current_request() -> Request:
    """The request object itself: one context lookup, where each ``request.x`` costs one (~0.3 µs)."""
    return request._get_current_object()  # type: ignore[attr-defined,no-any-return]


def send_headers(pairs: Iterable[tuple[str, str]], environ: dict[str, Any] | None = None) -> None:
    """Add ``pairs`` to this response's headers as it is sent, after every hook.

    For the headers the app sets on every response and that no view sets
    (request id, data version, security headers, CORS): they are appended to
    the WSGI header list in ``start_response`` (:class:`SendHeaders`), which
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


class SendHeaders:
    """WSGI middleware: appends the headers :func:`send_headers` gathered for a request."""

    def __init__(self, wsgi_app: Callable[[dict[str, Any], Any], Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent = environ.pop(_SENT_HEADERS, None)
            if sent:
                headers.extend(sent)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def _cors(response: Response) -> Response:
    """``Access-Control-Allow-Origin: *`` on the read API, and answers to preflights.

    Written here rather than with flask-cors, which cost ~20 µs a request
    (per-request resource matching and option merging): a tenth of a nearest
    answer's time in the app. The API is public, read-only and sends no
    credentials, so the wildcard is all it needs.
    """
    req = current_request()
    if not _CORS_PATHS.match(req.path):
        return response
    if req.method == "OPTIONS" and "Access-Control-Request-Method" in req.headers:
        headers = response.headers
        headers["Access-Control-Allow-Origin"] = "*"
        headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        asked = req.headers.get("Access-Control-Request-Headers", "")
        if asked and _CORS_SAFE_HEADER.match(asked.strip()):
            headers["Access-Control-Allow-Headers"] = asked.strip()
        headers["Access-Control-Max-Age"] = "86400"
    else:
        send_headers(_CORS_HEADERS, req.environ)
    return response


def request_id() -> str:
    """This request's id: the caller's ``X-Request-ID`` if sane, else a new one (32 random hex digits)."""
    return _request_id(request.environ)


def _request_id(environ: dict[str, Any]) -> str:
    rid: str | None = environ.get(_REQUEST_ID)
    if rid is None:
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if incoming and _SANE_ID.fullmatch(incoming) else os.urandom(16).hex()
        environ[_REQUEST_ID] = rid
    return rid


class AccessLogHandler(logging.Handler):
    """Formats each record on the caller's thread; a background thread writes them.

    Writing a line to stderr is a system call, and stderr may be a pipe whose
    reader is slow; a request should wait on neither. ``emit`` formats the
    line and appends it to a deque (no lock, no wake-up); a daemon thread,
    started on first use in each process (so a forked gunicorn worker gets its
    own), writes what has gathered every ``interval`` seconds, or at once when
    ``batch`` lines are waiting, in one ``write``. A queue that woke the
    writer for every line cost a thread switch a request. ``flush`` writes the
    waiting lines on the calling thread; ``logging.shutdown`` calls it at
    exit. ``stream`` None means the current ``sys.stderr`` at the time of
    writing.
    """

    def __init__(self, stream: IO[str] | None = None, interval: float = 0.2, batch: int = 512) -> None:
        super().__init__()
        self.stream, self.interval, self.batch = stream, interval, batch
        self.lines: deque[str] = deque()
        self.wake = threading.Event()
        self.pid = 0
        self.write_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.append(line)

    def plain(self) -> bool:
        """Whether a record would be written as its message alone (no filter, the formatter ``_access_logger`` set)."""
        return self.formatter is _MESSAGE_ONLY and not self.filters

    def append(self, line: str) -> None:
        """Queue a formatted line."""
        if self.pid != os.getpid():
            self._start()
        lines = self.lines
        lines.append(line)
        if len(lines) >= self.batch:
            self.wake.set()

    def _start(self) -> None:
        with self.write_lock:
            if self.pid == os.getpid():
                return
            # Lines waiting before a fork are the parent's, which writes them.
            self.lines, self.wake, self.pid = deque(), threading.Event(), os.getpid()
            threading.Thread(target=self._run, args=(self.wake,), name="locator-access-log", daemon=True).start()

    def _run(self, wake: threading.Event) -> None:
        while True:
            wake.wait(self.interval)
            wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write every waiting line now, on the calling thread."""
        lines, batch = self.lines, []
        try:
            while True:
                batch.append(lines.popleft())
        except IndexError:
            pass
        if not batch:
            return
        stream = self.stream or sys.stderr
        with self.write_lock:
            try:
                stream.write("\n".join(batch) + "\n")
                stream.flush()
            except (OSError, ValueError):  # the stream is closed or broken: nothing better to write to
                pass


_MESSAGE_ONLY = logging.Formatter("%(message)s")


def _access_logger() -> logging.Logger:
    log = logging.getLogger(ACCESS_LOGGER)
    if not log.handlers:
        handler = AccessLogHandler()
        handler.setFormatter(_MESSAGE_ONLY)
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
        if eq and (key if key in _POSITION_KEYS else unquote_plus(key)) in _POSITION_KEYS:
            plain = "%" not in value and "+" not in value
            cut = ",".join(_coarse_number(v.strip()) for v in (value if plain else unquote_plus(value)).split(","))
            parts[i] = f"{key}={cut}"
    return "&".join(parts)


_JSON_STR = json.JSONEncoder(ensure_ascii=False).encode


class _Clock:
    """UTC timestamps to the millisecond, as ``datetime.isoformat`` writes them, formatted once a second."""

    def __init__(self) -> None:
        self.second, self.prefix = -1, ""

    def stamp(self) -> str:
        now = time.time()
        second = int(now)
        if second != self.second:
            self.prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self.second = second
        return f"{self.prefix}.{int((now - second) * 1000):03d}+00:00"


_CLOCK = _Clock()


def _json_value(value: str | int | float | None) -> str:
    """A JSON value: ``repr`` is what the encoder writes for an int or a finite float."""
    if value is None:
        return "null"
    return _JSON_STR(value) if isinstance(value, str) else repr(value)


def _log_access(log: logging.Logger, rid: str, response: Response) -> None:
    """One JSON line on ``log`` (formatted here; written by :class:`AccessLogHandler` off the request).

    Written out key by key (each value through the JSON encoder) rather than
    with ``json.dumps`` of a dict: a third of the cost.
    """
    req = current_request()
    environ = req.environ
    t0 = environ.get(_T0)
    query = coarse_query(req.query_string.decode("latin-1")[:512]) if environ.get("QUERY_STRING") else ""
    ms = round((time.perf_counter() - t0) * 1000, 2) if t0 is not None else None
    line = (
        f'{{"ts":"{_CLOCK.stamp()}","request_id":{_JSON_STR(rid)},"remote":{_json_value(req.remote_addr)},'
        f'"method":{_JSON_STR(req.method)},"path":{_JSON_STR(req.path)},"query":{_JSON_STR(query)},'
        f'"status":{response.status_code},"bytes":{_json_value(response.content_length)},'
        f'"ms":{_json_value(ms)},"ua":{_JSON_STR(environ.get("HTTP_USER_AGENT", "")[:200])}}}'
    )
    handlers = log.handlers
    if len(handlers) == 1 and not log.filters:
        handler = handlers[0]
        if type(handler) is AccessLogHandler and handler.plain():
            handler.append(line)  # what handle() would come to, without a LogRecord
            return
    # makeRecord and handle rather than info(), which also walks the stack for the caller's
    # file and line: "%(message)s" never shows them.
    log.handle(log.makeRecord(ACCESS_LOGGER, logging.INFO, "", 0, line, (), None))


def _finisher(state: AppState) -> Callable[[Response], Response]:
    """The ``after_request`` hook that sends the request id and data version, and logs the request."""
    log = logging.getLogger(ACCESS_LOGGER)

    def finish(response: Response) -> Response:
        environ = request.environ
        rid = _request_id(environ)
        fresh = state.register.freshness()  # which data answered, and how long since it was confirmed current
        send_headers(
            (
                (REQUEST_ID_HEADER, rid),
                ("X-Data-Version", str(fresh.data_version)),
                ("X-Data-Age", f"{fresh.data_age_s:.1f}"),
            ),
            environ,
        )
        if state.settings.access_log and log.isEnabledFor(logging.INFO):
            _log_access(log, rid, response)
        return response

    return finish


def _add_vary(response: Response, name: str, vary: str | None) -> None:
    """Add ``name`` to ``Vary`` (now ``vary``) unless listed: ``response.vary.add`` without parsing a set."""
    if not vary:
        response.headers.add("Vary", name)
    elif name.lower() not in (v.strip().lower() for v in vary.split(",")):
        response.headers["Vary"] = f"{vary}, {name}"


def _cacher(state: AppState) -> Callable[[Response], Response]:
    """The ``after_request`` hook for ``Cache-Control``, ``Vary: Host``, the ETag and 304s."""

    def caching(response: Response) -> Response:
        headers = response.headers
        req = current_request()
        if response.status_code >= 400 or req.endpoint in _NO_STORE_ENDPOINTS:
            headers["Cache-Control"] = "no-store"
            return response
        if (
            response.status_code != 200
            or req.blueprint not in _PUBLIC_BLUEPRINTS
            or req.method not in ("GET", "HEAD")
            or response.direct_passthrough
            or response.is_streamed
            or response.mimetype not in _DATA_MIMETYPES
        ):
            return response
        settings = state.settings
        # One pass over the few headers there are: each Headers.get of a missing one builds an exception.
        present = {name.lower(): value for name, value in headers}
        if settings.public_base_url is None:
            # Links are then built from the request's Host (locator.web.urls.public_base): a shared
            # cache must not hand one host's links to a request for another.
            _add_vary(response, "Host", present.get("vary"))
        ours = []
        if "cache-control" not in present:
            ours.append(("Cache-Control", f"public, max-age={settings.cache_max_age}"))
        if "etag" not in present:
            # SHA-256 rather than BLAKE2: the CPU computes it (SHA extensions), twice as fast here.
            ours.append(("ETag", f'W/"{hashlib.sha256(response.get_data()).hexdigest()[:24]}"'))
        if "HTTP_IF_NONE_MATCH" in req.environ:  # the ETag must be on the response to compare
            for name, value in ours:
                headers[name] = value
            response.make_conditional(req)
        else:
            send_headers(ours, req.environ)
        return response

    return caching


def _compressor(compress: Compress) -> Callable[[Response], Response]:
    """flask-compress's ``after_request``, skipped when the request accepts no encoding.

    Then all it would do is add ``Accept-Encoding`` to ``Vary`` (its first
    step, done here the same way) and find no algorithm: ~5 µs of header
    lookups. Clients that send ``Accept-Encoding`` (every browser) go through
    it unchanged.
    """

    def compressing(response: Response) -> Response:
        if "HTTP_ACCEPT_ENCODING" in request.environ:
            return compress.after_request(response)
        headers = response.headers
        vary = next((value for name, value in headers if name.lower() == "vary"), None)
        if not vary:
            headers.add("Vary", "Accept-Encoding")
        elif "accept-encoding" not in vary.lower():
            headers["Vary"] = f"{vary}, Accept-Encoding"
        return response

    return compressing


class RateLimited(TooManyRequests):
    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__()
        self.limit, self.retry_after = limit, retry_after


def _starter(state: AppState) -> Callable[[], None]:
    """The first ``before_request`` hook: the clock, the request id, the body size and the rate limit."""

    def start() -> None:
        req = current_request()
        environ = req.environ
        environ[_T0] = time.perf_counter()
        _request_id(environ)
        limit = state.settings.max_content_length
        if limit is not None and ("CONTENT_LENGTH" in environ or "HTTP_TRANSFER_ENCODING" in environ):
            length = req.content_length
            if length is not None and length > limit:
                raise RequestEntityTooLarge(
                    f"The request body ({length} bytes) is larger than the {limit} bytes accepted."
                )
        limiter = state.limiter
        if limiter is not None and req.endpoint not in _UNLIMITED_ENDPOINTS and req.method != "OPTIONS":
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

    _access_logger()
    state = app_state(app)
    settings = state.settings
    if settings.ratelimit_enabled:
        state.limiter = ClientLimiter(
            settings.ratelimit_default, settings.ratelimit_storage_uri, settings.ratelimit_strategy
        )
    app.wsgi_app = SendHeaders(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(_starter(state))
    app.after_request(_finisher(state))

    @app.errorhandler(RateLimited)
    def _too_many(exc: RateLimited) -> Response:
        return problem(
            429,
            "Too Many Requests",
            f"Rate limit of {exc.limit} exceeded for this client; retry after {exc.retry_after} s.",
            headers={"Retry-After": str(exc.retry_after)},
        )

    app.config["COMPRESS_REGISTER"] = False  # registered below, behind a check
    app.after_request(_compressor(Compress(app)))
    app.after_request(_cors)
    app.after_request(_cacher(state))
