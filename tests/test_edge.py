"""The WSGI layer every request passes (``locator.web.http.Edge``): each header once, on every kind of answer.

The Edge appends the headers no view sets to the raw header list as the
response starts; views, Flask's error handlers, static files, 304s and
preflights each build their responses differently, so each is checked for
the same set of headers, none of them twice, and for one access-log entry.
"""

from __future__ import annotations

import json
import logging

import pytest

from locator import create_app
from locator.web.http import ACCESS_LOGGER, Edge
from locator.web.state import app_state

pytestmark = pytest.mark.readonly

NEAREST = "/api/v1/nearest?lat=20.03&lon=110.33&k=5"
ONCE = (
    "X-Request-ID",
    "X-Data-Version",
    "X-Data-Age",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Vary",
    "Cache-Control",
    "Access-Control-Allow-Origin",
    "ETag",
    "Content-Type",
)


def _answers(client):
    etag = client.get(NEAREST).headers["ETag"]
    yield "nearest", client.get(NEAREST), 200
    yield "304", client.get(NEAREST, headers={"If-None-Match": etag}), 304
    yield "gzip", client.get(NEAREST, headers={"Accept-Encoding": "gzip"}), 200
    yield "400", client.get("/api/v1/nearest?lat=x&lon=110&k=5"), 400
    yield "404", client.get("/api/v1/collections/nothing"), 404
    yield "405", client.post("/healthz"), 405
    yield "probe", client.get("/healthz"), 200
    yield "static", client.get("/static/js/common.js"), 200
    yield "page", client.get("/"), 200
    yield "embed", client.get("/embed"), 200
    preflight = {"Origin": "https://a.example", "Access-Control-Request-Method": "GET"}
    yield "preflight", client.options(NEAREST, headers=preflight), 200


def test_every_answer_carries_each_header_once(ro_client):
    seen = {}
    for name, r, status in _answers(ro_client):
        assert r.status_code == status, name
        for header in ONCE:
            assert len(r.headers.getlist(header)) <= 1, (name, header, r.headers.getlist(header))
        for header in ("X-Request-ID", "X-Data-Version", "X-Content-Type-Options", "Content-Security-Policy"):
            assert header in r.headers, (name, header)
        assert "Accept-Encoding" in r.headers["Vary"], name
        if status >= 400 or name == "probe":
            assert r.headers["Cache-Control"] == "no-store", name
        seen[name] = r
    assert "ETag" in seen["nearest"].headers and seen["nearest"].headers["Cache-Control"].startswith("public")
    assert seen["gzip"].headers["Content-Encoding"] == "gzip"
    assert seen["preflight"].headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "X-Frame-Options" not in seen["embed"].headers and seen["page"].headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Access-Control-Allow-Origin" not in seen["page"].headers


def test_the_edge_logs_each_request_once_with_its_status(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "edge.sqlite3"), "ACCESS_LOG": True})
    assert isinstance(app_state(app).edge, Edge)
    logged: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record.getMessage())

    log = logging.getLogger(ACCESS_LOGGER)
    capture = Capture()
    log.addHandler(capture)  # a second handler: the line is formatted at once and goes through logging
    try:
        c = app.test_client()
        c.get(NEAREST, headers={"X-Request-ID": "edge-1"})
        c.get("/api/v1/collections/nothing", headers={"X-Request-ID": "edge-2"})
    finally:
        log.removeHandler(capture)
    entries = [json.loads(line) for line in logged]
    assert [(e["request_id"], e["status"]) for e in entries] == [("edge-1", 200), ("edge-2", 404)]
    assert entries[0]["query"] == "lat=20.03&lon=110.33&k=5" and entries[0]["bytes"] > 1000


def test_current_request_is_flasks_request(ro_app):
    """The contract of ``current_request``, which reads Flask's context variable rather than its proxy."""
    from flask import request

    from locator.web.http import current_request

    with ro_app.test_request_context("/api/v1/nearest?lat=20&lon=110", headers={"X-Request-ID": "cv"}):
        assert current_request() is request._get_current_object()
        assert current_request().args["lat"] == "20"
    with ro_app.test_request_context("/healthz"):
        assert current_request().path == "/healthz"
        from flask import current_app

        from locator.web.http import current_app_and_request

        assert current_app_and_request() == (current_app._get_current_object(), request._get_current_object())
