"""The JSON-lines access log: one line a request, formatted cheaply, written off the request's thread.

Logger ``locator.access`` (``ACCESS_LOG`` switches it), to stderr by default.
``locator.web.http`` calls :func:`log_access` after every request. Positions
in the query string are cut to about a kilometre (:func:`coarse_query`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import IO
from urllib.parse import unquote_plus

from flask import Request, Response

__all__ = ["ACCESS_LOGGER", "AccessLogHandler", "access_logger", "coarse_query", "log_access"]

ACCESS_LOGGER = "locator.access"


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
    exit. ``stream`` None means the process's standard error
    (``sys.__stderr__``): the writer thread writes whenever it wakes, and
    ``sys.stderr`` may by then point somewhere else for a while (a CLI test
    runner's capture, for one), which must not receive another request's line.
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


def log_access(log: logging.Logger, req: Request, rid: str, response: Response, t0: float | None) -> None:
    """One JSON line on ``log`` for ``req`` (formatted here; written by :class:`AccessLogHandler` off the request).

    Written out key by key (each value through the JSON encoder) rather than
    with ``json.dumps`` of a dict: a third of the cost. ``t0`` is the
    ``time.perf_counter()`` at the request's start.
    """
    environ = req.environ
    # The WSGI environ's query string is the raw bytes as latin-1 text: what req.query_string would decode to.
    raw_query = environ.get("QUERY_STRING")
    query = coarse_query(raw_query[:512]) if raw_query else ""
    ms = round((time.perf_counter() - t0) * 1000, 2) if t0 is not None else None
    line = (
        f'{{"ts":"{_CLOCK.stamp()}","request_id":{_json_str(rid)},"remote":{_json_value(req.remote_addr)},'
        f'"method":{_json_str(req.method)},"path":{_json_str(req.path)},"query":{_json_str(query)},'
        f'"status":{response.status_code},"bytes":{_json_value(response.content_length)},'
        f'"ms":{_json_value(ms)},"ua":{_json_str(environ.get("HTTP_USER_AGENT", "")[:200])}}}'
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
