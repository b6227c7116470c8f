"""The JSON-lines access log: one line a request, formatted cheaply, written off the request's thread.

Logger ``locator.access`` (``ACCESS_LOG`` switches it), to stderr by default.
``locator.web.http`` calls :func:`log_access` after every request. Positions
in the query string are cut to about a kilometre (:func:`coarse_query`).
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import unquote_plus

from locator.web import forks

__all__ = ["ACCESS_LOGGER", "AccessLogHandler", "Entry", "access_logger", "coarse_query", "format_entry", "log_access"]

ACCESS_LOGGER = "locator.access"


class AccessLogHandler(logging.Handler):
    """A background thread writes the records, and formats the requests' lines.

    Writing a line to stderr is a system call, and stderr may be a pipe whose
    reader is slow; a request should wait on neither. ``emit`` formats the
    record and appends it to a deque (no lock, no wake-up); :func:`log_access`
    appends the request's raw values (an :data:`Entry`), which the writer
    formats with the rest of its batch: in one warm loop that costs a
    fraction of formatting each line on its request, between the server's
    work. A daemon thread,
    started on first use in each process (so a forked gunicorn worker gets its
    own), writes what has gathered every ``interval`` seconds, or at once when
    ``batch`` lines are waiting, in one ``write``. A queue that woke the
    writer for every line cost a thread switch a request. ``flush`` writes the
    waiting lines on the calling thread; ``logging.shutdown`` calls it at
    exit. ``stream`` None means the process's standard error
    (``sys.__stderr__``): the writer thread writes whenever it wakes, and
    ``sys.stderr`` may by then point somewhere else for a while (a CLI test
    runner's capture, for one), which must not receive another request's line.
    """

    def __init__(self, stream: IO[str] | None = None, interval: float = 0.2, batch: int = 512) -> None:
        super().__init__()
        self.stream, self.interval, self.batch = stream, interval, batch
        self.lines: deque[str | Entry] = deque()
        self.wake = threading.Event()
        self.generation = -1  # the fork generation whose writer thread runs (none yet)
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

    def append(self, line: str | Entry) -> None:
        """Queue a formatted line, or an :data:`Entry` that the writer formats."""
        if self.generation != forks.generation():
            self._start()
        lines = self.lines
        lines.append(line)
        if len(lines) >= self.batch:
            self.wake.set()

    def _start(self) -> None:
        with self.write_lock:
            if self.generation == forks.generation():
                return
            # Lines waiting before a fork are the parent's, which writes them.
            self.lines, self.wake, self.generation = deque(), threading.Event(), forks.generation()
            threading.Thread(target=self._run, args=(self.wake,), name="locator-access-log", daemon=True).start()

    def _run(self, wake: threading.Event) -> None:
        while True:
            wake.wait(self.interval)
            wake.clear()
            self.flush()

    def pending(self) -> list[str]:
        """The lines waiting to be written, formatted (they stay queued)."""
        return [line if isinstance(line, str) else _formatted(line) for line in list(self.lines)]

    def flush(self) -> None:
        """Format and write every waiting line now, on the calling thread."""
        lines, batch = self.lines, []
        try:
            while True:
                line = lines.popleft()
                batch.append(line if isinstance(line, str) else _formatted(line))
        except IndexError:
            pass
        if not batch:
            return
        stream = self.stream or sys.__stderr__ or sys.stderr
        with self.write_lock:
            try:
                stream.write("\n".join(batch) + "\n")
                stream.flush()
            except (OSError, ValueError):  # the stream is closed or broken: nothing better to write to
                pass


_MESSAGE_ONLY = logging.Formatter("%(message)s")


def access_logger() -> logging.Logger:
    """The access logger, given an :class:`AccessLogHandler` on stderr unless it has handlers."""
    log = logging.getLogger(ACCESS_LOGGER)
    if not log.handlers:
        handler = AccessLogHandler()
        handler.setFormatter(_MESSAGE_ONLY)
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(logging.INFO)
    return log


_POSITION_KEYS = frozenset({"lat", "lon", "bbox"})
_PLAIN_DECIMAL = re.compile(r"(-?\d+(?:\.\d{0,2})?)\d*")
_DECIMALS = re.compile(r"(\d)\.(\d{0,2})\d*")


def _coarse_number(text: str) -> str:
    """One coordinate cut to two decimals, read as the API reads it (``+20.031234``, ``20031234e-6``)."""
    plain = _PLAIN_DECIMAL.fullmatch(text)
    if plain is not None:  # the usual spelling: its digits are cut as written (no float rounding)
        return plain.group(1)
    try:
        value = float(text)
    except ValueError:
        return _DECIMALS.sub(r"\1.\2", text)  # not a number: still no precise digits
    if not math.isfinite(value):
        return text
    return f"{math.trunc(value * 100) / 100:.2f}"


def _position_key(key: str) -> bool:
    if key in _POSITION_KEYS:
        return True
    return ("%" in key or "+" in key) and unquote_plus(key) in _POSITION_KEYS


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
        if eq and _position_key(key):
            text = value if "%" not in value and "+" not in value else unquote_plus(value)
            if "," in text:
                cut = ",".join(_coarse_number(v.strip()) for v in text.split(","))
            else:
                cut = _coarse_number(text.strip())
            parts[i] = f"{key}={cut}"
    return "&".join(parts)


_JSON_STR = json.JSONEncoder(ensure_ascii=False).encode


class _Clock:
    """UTC timestamps to the millisecond, as ``datetime.isoformat`` writes them, formatted once a second.

    The second and its text are kept as one tuple, replaced whole, so threads
    stamping different seconds at once never pair one's second with the other's text.
    """

    def __init__(self) -> None:
        self.last: tuple[int, str] = (-1, "")

    def stamp(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        second = int(now)
        last_second, prefix = self.last
        if second != last_second:
            prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self.last = (second, prefix)
        return f"{prefix}.{int((now - second) * 1000):03d}+00:00"


_CLOCK = _Clock()


_PLAIN = re.compile(r"[ !#-\[\]-~]*")
"""Printable ASCII but ``"`` and ``\\``: a JSON string of these is the text in quotes (ids, paths, most user agents)."""


def _json_str(text: str) -> str:
    """``json.dumps(text, ensure_ascii=False)``, without the encoder's call for the usual plain text."""
    return f'"{text}"' if _PLAIN.fullmatch(text) else _JSON_STR(text)


def _json_value(value: str | int | float | None) -> str:
    """A JSON value: ``repr`` is what the encoder writes for an int or a finite float."""
    if value is None:
        return "null"
    return _json_str(value) if isinstance(value, str) else repr(value)


Entry = tuple[float, str, Any, str, str, str, int, "str | None", "float | None", str]
"""A request's access-log values, as :func:`log_access` queues them: time, request id, remote address,
method, raw path, raw query, status, ``Content-Length``, seconds taken (or None), user agent."""


def log_access(
    log: logging.Logger,
    environ: dict[str, Any],
    rid: str,
    status: int,
    length: str | None,
    t0: float | None,
) -> None:
    """Log the request of ``environ``: one JSON line on ``log`` (:func:`format_entry`).

    Called from the raw WSGI values as the response starts
    (``locator.web.http.Edge``): ``status`` is the response's status code and
    ``length`` its ``Content-Length`` header (None for a streamed body); ``t0``
    is the ``time.perf_counter()`` at the request's start. With the usual
    single :class:`AccessLogHandler`, the values are queued and the writer
    thread formats them; through any other handler or filter, the line is
    formatted here and goes through ``logging``.
    """
    entry: Entry = (
        time.time(),
        rid,
        environ.get("REMOTE_ADDR"),
        environ.get("REQUEST_METHOD", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        status,
        length,
        None if t0 is None else time.perf_counter() - t0,
        environ.get("HTTP_USER_AGENT", ""),
    )
    handlers = log.handlers
    if len(handlers) == 1 and not log.filters:
        handler = handlers[0]
        if type(handler) is AccessLogHandler and handler.plain():
            handler.append(entry)  # what handle() would come to, without a LogRecord, formatted by the writer
            return
    # makeRecord and handle rather than info(), which also walks the stack for the caller's
    # file and line: "%(message)s" never shows them.
    log.handle(log.makeRecord(ACCESS_LOGGER, logging.INFO, "", 0, format_entry(entry), (), None))


def format_entry(entry: Entry) -> str:
    """The JSON line of an access-log :data:`Entry`, written out key by key (a third of ``json.dumps``'s cost).

    The path is read as werkzeug's ``Request.path`` reads it, and positions in
    the query are cut to about a kilometre (:func:`coarse_query`).
    """
    ts, rid, remote, method, raw_path, raw_query, status, length, seconds, ua = entry
    # The WSGI environ's query string is the raw bytes as latin-1 text: what req.query_string would decode to.
    query = coarse_query(raw_query[:512]) if raw_query else ""
    ms = "null" if seconds is None else repr(round(seconds * 1000, 2))
    path, ua = _path(raw_path), ua[:200]
    if _PLAIN.fullmatch(f"{rid}{method}{path}{query}{ua}"):  # the usual line: no string needs escaping
        rid, method, path, query, ua = f'"{rid}"', f'"{method}"', f'"{path}"', f'"{query}"', f'"{ua}"'
    else:
        rid, method, path, query, ua = (
            _json_str(rid),
            _json_str(method),
            _json_str(path),
            _json_str(query),
            _json_str(ua),
        )
    return (
        f'{{"ts":"{_CLOCK.stamp(ts)}","request_id":{rid},"remote":{_json_value(remote)},'
        f'"method":{method},"path":{path},"query":{query},"status":{status},'
        f'"bytes":{length if length and length.isdigit() else "null"},"ms":{ms},"ua":{ua}}}'
    )


def _formatted(entry: Entry) -> str:
    """:func:`format_entry`, or for an entry it cannot format a line that says so (the writer thread must go on)."""
    try:
        return format_entry(entry)
    except Exception as exc:  # a bug, never a client's doing: its values are the server's strings
        rid, status = entry[1], entry[6]
        return json.dumps(
            {
                "ts": _CLOCK.stamp(),
                "request_id": rid if isinstance(rid, str) else None,
                "status": status if isinstance(status, int) else None,
                "error": f"access-log entry not formatted: {type(exc).__name__}",
            }
        )


def _path(raw: str) -> str:
    """The request's path as werkzeug's ``Request.path`` gives it: the raw bytes (latin-1 in WSGI) read as UTF-8."""
    path = raw if raw.isascii() else raw.encode("latin-1", "replace").decode("utf-8", "replace")
    return "/" + path.lstrip("/")
