"""The worker checks a response header line once, then trusts it (``locator.web.worker.CheckedOnceResponse``).

What it sends must be what gunicorn's own response sends, line for line,
the first time and every later time; a bad line is refused every time.
"""

from __future__ import annotations

import pytest
from gunicorn.http import wsgi
from gunicorn.http.errors import InvalidResponseHeader, InvalidResponseHeaderName

from locator.web.worker import CheckedOnceResponse

HEADERS = [
    ("Content-Type", "application/geo+json"),
    ("Content-Length", "2977"),
    ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'self'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Vary", "Host, Accept-Encoding"),
    ("Connection", "close"),  # hop-by-hop: dropped
    ("X-Data-Age", " 0.4 "),  # stripped
    ("X-Request-ID", "0123456789abcdef"),
]


class _Req:
    method = "GET"

    def should_close(self) -> bool:
        return False


@pytest.fixture(autouse=True)
def _fresh():
    CheckedOnceResponse.checked = {}
    yield
    CheckedOnceResponse.checked = {}


def _sent(cls, headers):
    resp = cls(_Req(), None, None)
    resp.process_headers(headers)
    return resp.headers, resp.response_length


def test_every_response_sends_what_gunicorn_would():
    expected = _sent(wsgi.Response, HEADERS)
    assert _sent(CheckedOnceResponse, HEADERS) == expected  # checked by gunicorn, remembered
    remembered = dict(CheckedOnceResponse.checked)
    assert ("X-Content-Type-Options", "nosniff") in remembered
    assert not {name for name, _ in remembered} & {"Content-Length", "Connection", "X-Request-ID", "X-Data-Age"}
    assert _sent(CheckedOnceResponse, HEADERS) == expected  # from memory
    other = [("Content-Length", "12"), *HEADERS[2:5]]
    assert _sent(CheckedOnceResponse, other) == _sent(wsgi.Response, other)  # the length is read every time


@pytest.mark.parametrize(
    ("pair", "error"),
    [
        (("X-Bad", "a\r\nSet-Cookie: x=1"), InvalidResponseHeader),
        (("Bad Name", "x"), InvalidResponseHeaderName),
        (("X-Bytes", b"x"), TypeError),
    ],
)
def test_a_bad_line_is_refused_every_time(pair, error):
    good = ("X-Content-Type-Options", "nosniff")
    for _ in range(2):
        with pytest.raises(error):
            _sent(CheckedOnceResponse, [good, pair])
    assert pair not in CheckedOnceResponse.checked


def test_it_remembers_a_bounded_number_of_lines(monkeypatch):
    monkeypatch.setattr("locator.web.worker.CHECKED_MAX", 3)
    many = [(f"X-Custom-{i}", "v") for i in range(10)]
    assert _sent(CheckedOnceResponse, many) == _sent(wsgi.Response, many)
    assert len(CheckedOnceResponse.checked) == 3
