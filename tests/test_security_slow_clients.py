"""Issue 14: slow clients cannot starve ``locator serve`` (``locator.web.worker.HeaderBufferingWorker``).

One gunicorn worker with ONE thread, the worker class ``locator serve`` uses:
eight connections trickling their headers must not keep a normal request from
being answered (with gunicorn's sync or gthread worker the one thread would be
taken by the first slow client). Kept-alive connections and request bodies still
work. Timeouts here only stop a hung test; no time is asserted (figures:
``bench/slowloris.py``).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT

GUNICORN = Path(sys.executable).parent / "gunicorn"
TOKEN = "slow-clients-token"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(register_template, tmp_path):
    import shutil

    db = tmp_path / "r.sqlite3"
    shutil.copyfile(register_template, db)
    port = _port()
    env = {
        **os.environ,
        "LOCATOR_DATABASE": str(db),
        "LOCATOR_ACCESS_LOG": "false",
        "LOCATOR_RATELIMIT_ENABLED": "false",
        "LOCATOR_ADMIN_TOKENS": json.dumps({hashlib.sha256(TOKEN.encode()).hexdigest(): "bot"}),
    }
    argv = [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "1"]
    argv += ["--worker-class", "locator.web.worker.HeaderBufferingWorker", "locator:create_app()"]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline and proc.poll() is None, "gunicorn did not start"
            time.sleep(0.1)
    yield port
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(30)


def test_slow_headers_do_not_take_the_only_thread(server):
    slow = []
    for _ in range(8):
        s = socket.create_connection(("127.0.0.1", server), timeout=5)
        s.sendall(b"GET /api/v1/nearest?lon=110.33&lat=20.03 HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        slow.append(s)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server, timeout=20)
        for _ in range(3):  # one kept-alive connection, three requests
            conn.request("GET", "/api/v1/nearest?lon=110.33&lat=20.03&k=1")
            r = conn.getresponse()
            assert r.status == 200 and json.loads(r.read())["features"]
        conn.close()
        slow[0].sendall(b"1\r\n\r\n")  # a slow client that finishes is answered too
        assert slow[0].recv(12) == b"HTTP/1.1 200"
    finally:
        for s in slow:
            s.close()


def test_a_request_with_a_body_is_read_whole(server):
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=20)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    conn.request("GET", "/api/v1/admin/venues/460106-OS-036", headers=auth)
    r = conn.getresponse()
    r.read()
    body = json.dumps({"address": "新地址" * 50})
    conn.request(
        "PATCH",
        "/api/v1/admin/venues/460106-OS-036",
        body=body.encode(),
        headers={**auth, "If-Match": r.headers["ETag"], "Content-Type": "application/json"},
    )
    r = conn.getresponse()
    assert r.status == 200 and json.loads(r.read())["properties"]["address"] == "新地址" * 50


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /api/v1/venues?q=" + b"%E4%B8%89" * 600 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /api/v1/venues HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n", 400),
    ],
)
def test_the_servers_own_refusals_are_problem_json(server, raw, status):
    """gunicorn refuses these before the app sees them; the answer is still problem+json, never its HTML page."""
    with socket.create_connection(("127.0.0.1", server), timeout=20) as s:
        s.sendall(raw)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode())
    assert b"Content-Type: application/problem+json" in head
    doc = json.loads(body)
    assert doc["status"] == status and doc["title"] and doc["detail"]
    assert b"<html" not in data.lower()
