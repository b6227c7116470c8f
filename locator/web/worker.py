"""A gunicorn worker that gives a thread to a request only once its headers have arrived.

gunicorn's sync worker gives a whole process to each connection, and its
gthread worker a thread: a client that sends its request headers one byte a
second (slowloris) holds that thread until it finishes. Two such clients
stopped the default ``make serve``; with more threads the number only grows.

:class:`HeaderBufferingWorker` is gthread with one change: a new or kept-alive
connection stays in the worker's event loop (no thread) while its request
line and headers arrive, read without blocking; only a complete head
(``\\r\\n\\r\\n``, or more than :data:`MAX_HEAD` bytes, which gunicorn's parser
then refuses) is handed to a thread. A head not complete within
:data:`HEADER_TIMEOUT` seconds closes the connection. Slow clients then cost
a socket each, not a thread (gunicorn's ``--worker-connections``, 1000 a
worker, bounds them). Request bodies are still read in the thread; behind the
nginx of ``deploy/``, nginx buffers whole requests anyway.

The per-request deadline (``REQUEST_DEADLINE_SECONDS``) is not enforced
here but in the app (``locator.web.deadline``): requests run in this worker's
threads, and a ``SIGALRM`` is only ever handled in a process's main thread, so
a per-process watchdog raises the deadline's exception inside the request's
own thread instead, and the app answers it as 503 problem+json with the same
headers and log line as any answer, under any server. gunicorn's
``--timeout`` stays the last resort for a C call that never returns.

An unreachable store does not stop a worker from booting: the register
starts from its local snapshot, or with no data (``not_ready``), and catches
up later (``locator.storage.register``), so gunicorn never halts an instance
for an outage.

TLS (``--certfile``) falls back to plain gthread: the raw bytes are not the
request. Used by ``locator serve``:
``gunicorn --worker-class locator.web.worker.HeaderBufferingWorker``.
"""

from __future__ import annotations

import errno
import json
import selectors
import socket
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers.gthread import TConn, ThreadWorker

__all__ = ["HEADER_TIMEOUT", "MAX_HEAD", "CheckedOnceResponse", "HeaderBufferingWorker", "problem_bytes"]

HEADER_TIMEOUT = 10.0
"""Seconds a client has to send its request line and headers."""
MAX_HEAD = 64 * 1024
"""Bytes of head read before handing over anyway (the parser refuses an oversized head)."""


class _Conn(TConn):  # type: ignore[misc]
    """A connection that may already hold the first bytes of its request."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.head = b""

    def init(self) -> None:
        super().init()
        if self.head and self.parser is not None:
            self.parser.unreader.unread(self.head)
            self.head = b""


class _Captured:
    """Stands in for the client socket while gunicorn formats its own error page, to keep only the status."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float | None:
        return None

    def setblocking(self, flag: bool) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.data += data


_SERVER_ERROR_DETAIL = {
    400: "The HTTP server could not parse the request (request line or headers).",
    414: "The request line (path and query) is longer than 4,094 bytes: shorten the query.",
    431: "The request headers are too large.",
}


def problem_bytes(status: int, reason: str) -> bytes:
    """An HTTP/1.1 response carrying problem+json, for errors the server answers before the app sees the request."""
    body = json.dumps(
        {
            "type": "about:blank",
            "title": reason,
            "status": status,
            "detail": _SERVER_ERROR_DETAIL.get(status, "The HTTP server refused the request."),
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
        f"X-Content-Type-Options: nosniff\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


_VARYING_HEADERS = frozenset(
    {
        "content-length",
        "x-request-id",
        "etag",
        "x-data-age",
        "set-cookie",
        "location",
        "date",
        "last-modified",
        "expires",
        "retry-after",
        "content-disposition",
        "content-range",
        "age",
    }
)
"""Headers whose values change from one response to the next: never worth remembering."""
CHECKED_MAX = 512
"""The most header lines a worker remembers as checked."""


class CheckedOnceResponse(wsgi.Response):  # type: ignore[misc]
    """gunicorn's response, checking a header line it has already passed once per worker, not once per response.

    gunicorn checks every response header against its grammar (two regular
    expressions, type checks, stripping) before sending it: about 0.7 µs a
    line in a warm loop and two or three times that between requests. The app
    sends the same dozen lines on nearly every response (the security
    headers, CORS, ``Content-Type``, ``Vary``…), so a line that passed is
    remembered with what gunicorn made of it and appended as is next time.
    Only lines gunicorn kept unchanged in meaning are remembered: not
    hop-by-hop ones, nor ``Content-Length`` (it sets the response's length),
    nor those that change per response (:data:`_VARYING_HEADERS`); at most
    :data:`CHECKED_MAX`. A line never seen goes through gunicorn's own check,
    so a bad one is refused as before.
    """

    checked: dict[tuple[str, str], tuple[str, str]] = {}

    def process_headers(self, headers: Any) -> None:
        checked = self.checked
        out = self.headers
        for pair in headers:
            try:
                known = checked.get(pair)
            except TypeError:  # not a tuple of strings: gunicorn says what is wrong
                known = None
            if known is not None:
                out.append(known)
                continue
            before = len(out)
            super().process_headers((pair,))
            if (
                len(out) == before + 1
                and len(checked) < CHECKED_MAX
                and type(pair) is tuple
                and type(pair[0]) is str
                and type(pair[1]) is str
                and pair[0].lower() not in _VARYING_HEADERS
                and not util.is_hoppish(pair[0])
            ):
                checked[pair] = out[-1]


class HeaderBufferingWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, reading each request's head in the event loop (see the module's docstring)."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """gunicorn's own refusals (414, 400, 431…) as problem+json, never its HTML page (rule 4).

        gunicorn decides the status and logs as usual; its HTML body is captured and
        replaced by a problem+json body with the same status line.
        """
        captured = _Captured()
        super().handle_error(req, captured, addr, exc)
        status_line = captured.data.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        try:
            status, reason = int(status_line[1]), status_line[2]
        except (IndexError, ValueError):
            status, reason = 500, "Internal Server Error"
        try:
            client.sendall(problem_bytes(status, reason))
        except OSError:
            self.log.debug("Failed to send error message.")

    def init_process(self) -> None:
        self.reading: deque[_Conn] = deque()
        # gunicorn builds each response with the class its wsgi module names (wsgi.create).
        wsgi.Response = CheckedOnceResponse
        super().init_process()

    def accept(self, listener: socket.socket) -> None:
        if self.cfg.is_ssl:
            super().accept(listener)
            return
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._read_head(_Conn(self.cfg, client, address, listener.getsockname()))

    def on_client_socket_readable(self, conn: Any, client: socket.socket) -> None:
        """A kept-alive connection's next request: its head is read in the loop too."""
        if self.cfg.is_ssl:
            super().on_client_socket_readable(conn, client)
            return
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read_head(conn)

    def _read_head(self, conn: Any) -> None:
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + HEADER_TIMEOUT
        if not hasattr(conn, "head"):
            conn.head = b""
        self.reading.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_head_bytes, conn))

    def _on_head_bytes(self, conn: Any, client: socket.socket) -> None:
        try:
            data = conn.sock.recv(MAX_HEAD)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._drop(conn)
            return
        conn.head += data
        if b"\r\n\r\n" not in conn.head and len(conn.head) <= MAX_HEAD:
            return
        self.poller.unregister(client)
        self.reading.remove(conn)
        conn.data_ready = True
        if conn.initialized:  # kept alive: the parser exists and reads its buffer first
            conn.parser.unreader.unread(conn.head)
            conn.head = b""
        self.enqueue_req(conn)

    def _drop(self, conn: Any) -> None:
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass
        try:
            self.reading.remove(conn)
        except ValueError:
            pass
        self.nr_conns -= 1
        conn.close()

    def murder_keepalived(self, *args: Any, **kwargs: Any) -> None:
        """Also close the connections whose head is not complete within :data:`HEADER_TIMEOUT`.

        Hooked on the keep-alive sweep, which every gunicorn version's loop runs each second.
        """
        super().murder_keepalived(*args, **kwargs)
        now = time.monotonic()
        while self.reading and self.reading[0].timeout <= now:
            self._drop(self.reading[0])
