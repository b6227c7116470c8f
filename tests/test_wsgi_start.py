"""``LocatorFlask.wsgi_app`` starts a plain answer itself; every answer is still what stock Flask sends.

The shortcut (``locator/web/framework.py: _start``) skips werkzeug's header copy and
closing iterator for a 200 to a GET whose body is one ``bytes``. These tests send
the same requests to the same views on stock Flask and on ``LocatorFlask`` and
compare status, headers, body and close callbacks, for answers that take the
shortcut and for every kind that must not.
"""

from __future__ import annotations

import pytest
from flask import Flask, Response, jsonify, redirect
from werkzeug.test import EnvironBuilder, run_wsgi_app

from locator.web import framework as app_module
from locator.web.framework import LocatorFlask


class Custom(Response):
    def get_wsgi_headers(self, environ):
        headers = super().get_wsgi_headers(environ)
        headers["X-Custom"] = "yes"
        return headers


class NoAutoLength(Response):
    automatically_set_content_length = False


def _app(cls: type[Flask], closed: list[str]) -> Flask:
    app = cls(__name__)

    def without_length(response: Response) -> Response:
        del response.headers["Content-Length"]
        return response

    views = {
        "/bytes": lambda: Response(b"abc", mimetype="application/geo+json"),
        "/str": lambda: "\u804c\u5de5\u4e4b\u5bb6",
        "/json": lambda: jsonify(a=1),
        "/redirect": lambda: redirect("/bytes"),
        "/location": lambda: Response("x", headers={"Location": "/relative"}),
        "/content-location": lambda: Response("x", headers={"Content-Location": "/\u00fc"}),
        "/stream": lambda: Response(iter([b"a", b"b"])),
        "/two-parts": lambda: Response([b"a", b"b"]),
        "/str-part": lambda: Response(["a"]),
        "/no-length": lambda: without_length(Response(b"abc")),
        "/no-auto-length": lambda: without_length(NoAutoLength(b"abc")),
        "/custom": lambda: Custom(b"abc"),
        "/empty": lambda: ("", 204),
        "/created": lambda: ("made", 201),
        "/passthrough": lambda: Response([b"abc"], direct_passthrough=True),
        "/broken": lambda: 1 / 0,
    }
    for path, view in views.items():
        app.add_url_rule(path, path, view, methods=["GET", "POST"])

    def on_close_view() -> Response:
        r = Response(b"abc")
        r.call_on_close(lambda: closed.append("closed"))
        return r

    app.add_url_rule("/on-close", "on-close", on_close_view)
    return app


PATHS = [
    "/bytes",
    "/str",
    "/json",
    "/redirect",
    "/location",
    "/content-location",
    "/stream",
    "/two-parts",
    "/str-part",
    "/no-length",
    "/no-auto-length",
    "/custom",
    "/empty",
    "/created",
    "/passthrough",
    "/broken",
    "/on-close",
    "/missing",
]


def _send(app: Flask, path: str, method: str) -> tuple:
    env = EnvironBuilder(path=path, method=method).get_environ()
    app_iter, status, headers = run_wsgi_app(app.wsgi_app, env, buffered=True)
    return status, list(headers.items()), b"".join(app_iter)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_every_answer_is_what_stock_flask_sends(path, method):
    seen = {}
    for cls in (Flask, LocatorFlask):
        closed: list[str] = []
        app = _app(cls, closed)
        seen[cls.__name__] = (_send(app, path, method), _send(app, path, method), closed)
    assert seen["LocatorFlask"] == seen["Flask"]


def test_the_shortcut_is_taken_for_a_plain_answer_and_only_then(monkeypatch):
    """The comparison above covers the shortcut: it runs for the plain answers, and not for the others."""
    took: list[str] = []
    real = app_module._start

    def spy(response, environ, start_response):
        result = real(response, environ, start_response)
        if result is response.response and not response.direct_passthrough:  # the body itself: no werkzeug iterator
            took.append(environ["PATH_INFO"])
        return result

    monkeypatch.setattr(app_module, "_start", spy)
    app = _app(LocatorFlask, [])
    for path in PATHS:
        _send(app, path, "GET")
    assert took == ["/bytes", "/str", "/json", "/no-length", "/no-auto-length"]
