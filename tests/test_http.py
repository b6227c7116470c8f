"""HTTP behaviour: CORS, ETag/304, Cache-Control, compression, request ids, access log, rate limits."""

from __future__ import annotations

import gzip
import io
import json
import logging
import threading

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from locator import create_app
from locator.web.http import ACCESS_LOGGER
from locator.web.ratelimit import LazyMemoryStorage

pytestmark = pytest.mark.readonly  # `app`/`client` here: the shared read-only app

NEAREST = "/api/v1/nearest?lat=20.03&lon=110.33&k=5"


def test_cors_on_the_api(client):
    assert client.get(NEAREST, headers={"Origin": "https://example.org"}).headers["Access-Control-Allow-Origin"] == "*"
    pre = client.options(NEAREST, headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200 and pre.headers["Access-Control-Allow-Origin"] == "*"
    err = client.get("/api/v1/nearest?lat=x", headers={"Origin": "https://example.org"})
    assert err.status_code == 400 and err.headers["Access-Control-Allow-Origin"] == "*"
    ok = client.get(NEAREST, headers={"Origin": "https://example.org"})
    assert {"ETag", "X-Request-ID", "Retry-After"} <= {
        h.strip() for h in ok.headers["Access-Control-Expose-Headers"].split(",")
    }
    pre = client.options(
        NEAREST,
        headers={
            "Origin": "https://x.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match, X-Request-ID",
        },
    )
    assert pre.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert pre.headers["Access-Control-Allow-Headers"] == "If-None-Match, X-Request-ID"
    assert pre.headers["Access-Control-Max-Age"] == "86400"
    bad = client.options(
        NEAREST,
        headers={
            "Origin": "https://x.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x; evil=1",
        },
    )
    assert "Access-Control-Allow-Headers" not in bad.headers
    assert "Access-Control-Allow-Origin" not in client.get("/", headers={"Origin": "https://example.org"}).headers


def test_etag_and_304(client):
    r = client.get(NEAREST)
    etag = r.headers["ETag"]
    assert etag.startswith('W/"')
    assert r.headers["Cache-Control"] == "public, max-age=60"
    again = client.get(NEAREST, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and again.headers["X-Request-ID"]
    other = client.get(NEAREST, headers={"If-None-Match": 'W/"something-else"'})
    assert other.status_code == 200 and other.data == r.data
    assert client.get("/api/v1/nearest?lat=19&lon=109.5").headers["ETag"] != etag


def test_errors_and_probes_are_not_cached(client):
    assert client.get("/api/v1/nearest?lat=500&lon=1").headers["Cache-Control"] == "no-store"
    for probe in ("/healthz", "/readyz"):
        r = client.get(probe)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store" and "ETag" not in r.headers


@pytest.mark.parametrize(("encoding", "decode"), [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_large_responses_are_compressed(client, encoding, decode):
    plain = client.get("/api/v1/collections/venues/items?limit=200")
    packed = client.get("/api/v1/collections/venues/items?limit=200", headers={"Accept-Encoding": encoding})
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 3
    assert json.loads(decode(packed.data))["features"] == plain.get_json(force=True)["features"]
    revalidated = client.get(
        "/api/v1/collections/venues/items?limit=200",
        headers={"Accept-Encoding": encoding, "If-None-Match": packed.headers["ETag"]},
    )
    assert revalidated.status_code == 304


def test_small_responses_are_not_compressed(client):
    r = client.get("/healthz", headers={"Accept-Encoding": "gzip"})  # the conformance page grew links (issue 17)
    assert len(r.data) < 1024 and "Content-Encoding" not in r.headers


@pytest.mark.parametrize(
    ("incoming", "echoed"),
    [
        ("abc-123", True),
        ("7f9c2ba4e88f827d616045507605853e", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("bad id", False),
        ("<script>", False),
        ("", False),
        ("caf\u00e9", False),
    ],
)
def test_request_id(client, incoming, echoed):
    r = client.get("/healthz", headers={"X-Request-ID": incoming})
    rid = r.headers["X-Request-ID"]
    assert (rid == incoming) is echoed
    if not echoed:
        assert len(rid) == 32 and int(rid, 16) >= 0


def test_request_id_on_errors_and_non_api(client):
    assert client.get("/api/v1/nope").headers["X-Request-ID"]
    assert client.get("/no-such-page").headers["X-Request-ID"]
    assert client.post("/healthz").headers["X-Request-ID"]


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_access_log_is_json_lines(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "log.sqlite3"), "ACCESS_LOG": True})
    cap = _Capture()
    logging.getLogger(ACCESS_LOGGER).addHandler(cap)
    try:
        c = app.test_client()
        c.get(NEAREST, headers={"X-Request-ID": "trace-1", "User-Agent": "rider-app/2"})
        c.get("/api/v1/nearest?lat=x")
    finally:
        logging.getLogger(ACCESS_LOGGER).removeHandler(cap)
    first, second = (json.loads(line) for line in cap.lines)
    assert first["request_id"] == "trace-1" and first["status"] == 200 and first["method"] == "GET"
    assert first["path"] == "/api/v1/nearest" and "lat=20.03" in first["query"]
    assert first["bytes"] > 0 and first["ms"] >= 0 and first["ua"] == "rider-app/2" and first["ts"].endswith("+00:00")
    assert second["status"] == 400


def test_rate_limit_answers_429_problem_with_retry_after(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "rl.sqlite3"),
            "ACCESS_LOG": False,
            "RATELIMIT_DEFAULT": "3 per minute",
        }
    )
    c = app.test_client()
    assert [c.get(NEAREST).status_code for _ in range(3)] == [200, 200, 200]
    r = c.get(NEAREST)
    assert r.status_code == 429 and r.mimetype == "application/problem+json"
    body = r.get_json(force=True)
    assert body["status"] == 429 and body["title"] and body["detail"] and body["type"]
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.headers["X-Request-ID"] and r.headers["Cache-Control"] == "no-store"
    # another client is not limited; probes are never limited
    assert c.get(NEAREST, environ_overrides={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
    assert all(c.get(p).status_code == 200 for p in ("/healthz", "/readyz") * 5)


def test_rate_limit_can_be_switched_off(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "off.sqlite3"),
            "ACCESS_LOG": False,
            "RATELIMIT_DEFAULT": "1 per minute",
            "RATELIMIT_ENABLED": False,
        }
    )
    c = app.test_client()
    assert {c.get("/api/v1/conformance").status_code for _ in range(5)} == {200}


class FakeClock:
    """A clock the test steps by hand: no sleeping, and no flakiness on a loaded machine."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_lazy_memory_storage_counts_and_expires():
    clock = FakeClock()
    s = LazyMemoryStorage("lazy-memory://", clock=clock)
    assert [s.incr("k", 0.5) for _ in range(3)] == [1, 2, 3]
    assert s.get("k") == 3 and s.incr("other", 10) == 1 and s.get_expiry("other") == clock.now + 10
    clock.now += 0.25  # (steps a float adds exactly)
    assert s.get("k") == 3
    clock.now += 0.25
    assert s.get("k") == 0 and s.incr("k", 0.5) == 1
    assert "other" in s.storage
    clock.now += 10  # past the sweep interval and other's expiry: the next count sweeps it away
    s.incr("k", 0.5)
    assert "other" not in s.storage


def test_health_probes(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz").get_json()
    assert ready["status"] == "ready" and ready["venues"] > 2000


def test_admin_api_gets_no_cors_and_no_public_caching(client):
    r = client.get("/api/v1/admin/audit", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers
    assert "public" not in r.headers.get("Cache-Control", "")


def test_client_limiter_several_limits():
    from locator.web.ratelimit import ClientLimiter

    clock = FakeClock()
    lim = ClientLimiter("2 per second;3 per minute", "lazy-memory://", clock=clock)
    assert [lim.hit("a") for _ in range(2)] == [None, None]
    limit, retry = lim.hit("a")
    assert limit == "2 per 1 second" and retry == 1
    assert lim.hit("b") is None
    clock.now += 1  # a new second; the minute's window (2 of 3 used) is still open
    assert lim.hit("a") is None
    assert lim.hit("a") == ("3 per 1 minute", 59)
    clock.now += 59
    assert lim.hit("a") is None
    with pytest.raises(ValueError, match="unknown rate-limit strategy"):
        ClientLimiter("1 per second", strategy="leaky")


@settings(max_examples=200, deadline=None)
@given(
    spec=st.sampled_from(["2 per second", "3 per second;5 per minute", "1 per minute", "4 per 2 seconds"]),
    steps=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from([0, 0, 0, 0.25, 0.5, 1, 1.5, 30, 61])),
        max_size=60,
    ),
)
def test_the_fixed_window_counter_answers_as_limits_own_strategy(spec, steps):
    """The contract of ``FixedWindows``: every answer as ``limits``' FixedWindowRateLimiter on the same storage."""
    from locator.web.ratelimit import ClientLimiter

    clock = FakeClock()
    fast = ClientLimiter(spec, "lazy-memory://", "fixed-window", clock=clock)
    reference = ClientLimiter(spec, "lazy-memory://", "fixed-window", clock=clock)
    assert fast.windows is not None
    reference.windows = None  # limits' strategy over LazyMemoryStorage
    for client, step in steps:
        clock.now += step
        assert fast.hit(client) == reference.hit(client)


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        ("lat=20.031234&lon=110.331187&k=5", "lat=20.03&lon=110.33&k=5"),
        ("k=5&lat=-20.9&lon=110", "k=5&lat=-20.9&lon=110"),
        ("flat=20.123456", "flat=20.123456"),
        ("lat=abc", "lat=abc"),
        ("q=lat=20.123456", "q=lat=20.123456"),
    ],
)
def test_access_log_keeps_no_precise_position(query, logged):
    from locator.web.http import coarse_query

    assert coarse_query(query) == logged


def _access_handler():
    from locator.web.http import AccessLogHandler

    handlers = [h for h in logging.getLogger(ACCESS_LOGGER).handlers if isinstance(h, AccessLogHandler)]
    assert len(handlers) == 1
    return handlers[0]


def test_the_access_log_is_written_off_the_request_thread(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "bg.sqlite3"), "ACCESS_LOG": True})
    handler = _access_handler()
    handler.flush()
    buf, old = io.StringIO(), handler.stream
    handler.stream = buf
    try:
        app.test_client().get(NEAREST, headers={"X-Request-ID": "bg-1"})
        waiting = handler.pending()  # queued, not yet written: the request did not write
        handler.flush()
    finally:
        handler.stream = old
    assert [json.loads(line)["request_id"] for line in waiting] == ["bg-1"]
    entry = json.loads(buf.getvalue())
    assert entry["request_id"] == "bg-1" and entry["status"] == 200 and "lat=20.03" in entry["query"]


class _FlushedStream(io.StringIO):
    """A stream that says when the access log's writer thread has flushed it."""

    def __init__(self):
        super().__init__()
        self.written = threading.Event()

    def flush(self):
        self.written.set()


def test_the_access_log_thread_writes_batches(tmp_path):
    from locator.web.http import AccessLogHandler

    stream = _FlushedStream()
    handler = AccessLogHandler(stream, interval=0.01, batch=3)
    log = logging.Logger("test.access.batches")
    log.addHandler(handler)
    for i in range(3):
        log.info("line %d", i)
    assert stream.written.wait(10)  # woken by the third line (or the interval)
    handler.flush()
    assert stream.getvalue().splitlines() == ["line 0", "line 1", "line 2"]


def test_the_access_log_line_is_the_same_through_other_handlers(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "same.sqlite3"), "ACCESS_LOG": True})
    handler = _access_handler()
    handler.flush()
    cap = _Capture()
    c = app.test_client()
    c.get(NEAREST, headers={"X-Request-ID": "fast"})
    fast = handler.pending()
    logging.getLogger(ACCESS_LOGGER).addHandler(cap)  # two handlers: the record goes through logging
    try:
        c.get(NEAREST, headers={"X-Request-ID": "slow"})
    finally:
        logging.getLogger(ACCESS_LOGGER).removeHandler(cap)
    slow = handler.pending()[len(fast) :]
    handler.flush()
    assert len(fast) == 1 and slow == cap.lines
    a, b = json.loads(fast[0]), json.loads(slow[0])
    assert a.keys() == b.keys() and (a["request_id"], b["request_id"]) == ("fast", "slow")
    assert {k: v for k, v in a.items() if k not in ("ts", "ms", "request_id")} == {
        k: v for k, v in b.items() if k not in ("ts", "ms", "request_id")
    }


@pytest.mark.parametrize(
    "path", [NEAREST, "/healthz", "/api/v1/nope", "/no-such-page", "/api/v1/collections/venues/items?limit=2"]
)
def test_every_sent_header_appears_once(client, path):
    r = client.get(path, headers={"Origin": "https://example.org"})
    names = [k.lower() for k, _ in r.headers.items()]
    for name in ("x-request-id", "x-data-version", "x-data-age", "content-security-policy", "x-frame-options"):
        assert names.count(name) == 1, (name, names)
    assert names.count("access-control-allow-origin") == (1 if path.startswith("/api/v1/") else 0)


@pytest.mark.parametrize("encoding", [None, "gzip", "identity"])
def test_vary_names_host_and_accept_encoding_once_whatever_the_client_accepts(client, encoding):
    headers = {"Accept-Encoding": encoding} if encoding else {}
    r = client.get(NEAREST, headers=headers)
    vary = [v.strip() for v in r.headers["Vary"].split(",")]
    assert sorted(vary) == ["Accept-Encoding", "Host"] and len(r.headers.getlist("Vary")) == 1
    assert r.headers["ETag"].startswith('W/"') and r.headers["Cache-Control"].startswith("public, max-age=")
    probe = client.get("/healthz", headers=headers)
    assert "Accept-Encoding" in probe.headers["Vary"] and probe.headers["Cache-Control"] == "no-store"


def test_hooks_are_asked_once_whether_they_are_coroutines(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "sync.sqlite3"), "ACCESS_LOG": False})
    c = app.test_client()
    for _ in range(3):
        c.get(NEAREST)
    known = set(app.sync_funcs)
    for _ in range(20):  # functions made per request (after_this_request) share their code: no growth
        assert c.get(NEAREST).status_code == 200
    assert app.sync_funcs == known and known

    async def view() -> str:
        return "x"

    with pytest.raises(RuntimeError):  # still wrapped (here: refused without Flask's async extra) as Flask does
        app.ensure_sync(view)


@given(st.text(max_size=40))
def test_the_access_logs_quick_json_strings_are_the_encoders(text):
    """The access log skips the JSON encoder for plain text; whatever the text, the string is the encoder's."""
    from locator.web.accesslog import _json_str

    assert _json_str(text) == json.dumps(text, ensure_ascii=False)


_LOG_TEXT = (
    st.from_regex(r"[ -~]{0,20}", fullmatch=True)  # printable ASCII: plain but for the odd quote or backslash
    | st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
    | st.sampled_from(["GET", "/api/v1/nearest", "lat=20.031234&lon=110.331187&k=5", "wrk", '"', "\\", "\n", "é"])
)


@given(_LOG_TEXT, _LOG_TEXT, _LOG_TEXT, _LOG_TEXT, _LOG_TEXT)
def test_an_access_log_line_is_the_json_of_its_values(rid, method, path, query, ua):
    """Each line is valid JSON holding the values as the encoder would write them, in the documented key
    order, whichever of them need escaping (the line is written without the encoder when none does)."""
    _check_access_line(rid, method, path, query, ua)


@pytest.mark.parametrize("field", range(5))
@pytest.mark.parametrize("text", ['say "hi"', "back\\slash", "line\nbreak", "é", "\x7f"])
def test_one_value_that_needs_escaping_among_plain_ones(field, text):
    values = ["0af3", "GET", "/api/v1/nearest", "lat=20.031234&lon=110.331187&k=5", "wrk/4.2"]
    values[field] = text
    _check_access_line(*values)


def _check_access_line(rid, method, path, query, ua):
    from locator.web.accesslog import _path, coarse_query, format_entry

    line = format_entry((1764750000.25, rid, "10.0.0.1", method, path, query, 200, "2830", 0.00123, ua))
    assert json.loads(line) == {
        "ts": "2025-12-03T08:20:00.250+00:00",
        "request_id": rid,
        "remote": "10.0.0.1",
        "method": method,
        "path": _path(path),
        "query": coarse_query(query) if query else "",
        "status": 200,
        "bytes": 2830,
        "ms": 1.23,
        "ua": ua[:200],
    }
    assert list(json.loads(line)) == [
        "ts",
        "request_id",
        "remote",
        "method",
        "path",
        "query",
        "status",
        "bytes",
        "ms",
        "ua",
    ]


def test_an_entry_that_cannot_be_formatted_does_not_stop_the_log():
    """The writer thread formats the queued entries: one it cannot format is written as an error line, and the
    lines after it still reach the stream (a dead writer would queue every later request for good)."""
    from locator.web.http import AccessLogHandler

    stream = _FlushedStream()
    handler = AccessLogHandler(stream, interval=0.01, batch=1000)
    good = (1_700_000_000.0, "ok-1", "127.0.0.1", "GET", "/healthz", "", 200, "15", 0.001, "curl")
    bad = (1_700_000_000.0, "bad-1", "127.0.0.1", "GET", b"/not-text", "", 200, "15", 0.001, "curl")
    handler.append(bad)
    assert stream.written.wait(10)  # the writer thread took the bad entry
    stream.written.clear()
    handler.append(good)
    assert stream.written.wait(10)  # and is still writing
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["request_id"], e["status"]) for e in lines] == [("bad-1", 200), ("ok-1", 200)]
    assert "error" in lines[0] and "/not-text" not in stream.getvalue().splitlines()[0]
