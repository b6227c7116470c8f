"""``LocatorFlask.create_url_adapter`` gives what Flask's gives, with the host worked out once per host line.

Flask 3.x (pinned) checks and reads the host twice per request and IDNA-encodes
it; the app remembers the result per host line (``locator/web/framework.py``, ``locator/web/routing.py``). These
tests hold each adapter, ``request.host`` and each refusal to Flask's own, on
the same app, for the first request of a host line and for the ones after it.
"""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter
from werkzeug.test import EnvironBuilder

from locator import create_app
from locator.web.framework import LocatorFlask
from locator.web.routing import MAX_HOSTS

_FIELDS = ("server_name", "script_name", "subdomain", "url_scheme", "path_info", "default_method", "query_args")


def _environ(**over: object) -> dict:
    env = EnvironBuilder(path="/api/v1/nearest", query_string="lat=20&lon=110").get_environ()
    for name, value in over.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


CASES = {
    "plain host": {},
    "host with a port": {"HTTP_HOST": "locator.example:8080"},
    "port 80 dropped": {"HTTP_HOST": "locator.example:80"},
    "https on 443": {"HTTP_HOST": "locator.example:443", "wsgi.url_scheme": "https"},
    "upper-case host": {"HTTP_HOST": "Locator.EXAMPLE"},
    "no Host header": {"HTTP_HOST": None, "SERVER_NAME": "10.0.0.5", "SERVER_PORT": "8000"},
    "IPv6 server name": {"HTTP_HOST": None, "SERVER_NAME": "::1", "SERVER_PORT": "8000"},
    "unix socket": {"HTTP_HOST": None, "SERVER_NAME": "/run/locator.sock", "SERVER_PORT": ""},
    "no host at all": {"HTTP_HOST": None, "SERVER_NAME": None},
    "IDN host": {"HTTP_HOST": "职工.example"},
    "bad characters": {"HTTP_HOST": "bad host\t.example"},
    "unencodable host": {"HTTP_HOST": "a..b"},
    "websocket upgrade": {"HTTP_CONNECTION": "keep-alive, Upgrade", "HTTP_UPGRADE": "websocket"},
    "script name": {"SCRIPT_NAME": "/locator"},
    "no path": {"PATH_INFO": None},
    "non-ASCII path": {"PATH_INFO": "/api/v1/collections/venues/items/\xe8\x81\x8c"},
    "non-ASCII query": {"QUERY_STRING": "q=\xe4\xb9\xa6\xe5\xb1\x8b"},
    "no query": {"QUERY_STRING": None},
    "POST": {"REQUEST_METHOD": "POST"},
}


def _adapt(app: Flask, env: dict) -> tuple:
    request = app.request_class(dict(env))
    try:
        adapter = app.create_url_adapter(request)
    except HTTPException as exc:
        return ("refused", type(exc).__name__)
    assert adapter is not None
    return tuple(getattr(adapter, f) for f in _FIELDS) + (adapter.websocket, request.host)


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    db = tmp_path_factory.mktemp("adapter") / "a.sqlite3"
    ours = create_app({"TESTING": True, "DATABASE": str(db), "ACCESS_LOG": False})
    assert isinstance(ours, LocatorFlask)
    return ours


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("server_name", [None, "locator.example:8080"])
def test_the_adapter_is_flasks_for_the_first_request_of_a_host_and_those_after(apps, name, server_name, monkeypatch):
    monkeypatch.setitem(apps.config, "SERVER_NAME", server_name)
    env = _environ(**CASES[name])
    stock = _stock(apps, env)
    first, again = _adapt(apps, env), _adapt(apps, env)
    assert first == stock
    assert again == stock  # from the remembered parts
    if stock[0] != "refused":
        assert any(key[1] == env.get("HTTP_HOST") for key in apps._host_parts)
    # The same host line with another path, method and query: only the host part is remembered.
    other = dict(env, PATH_INFO="/healthz", QUERY_STRING="", REQUEST_METHOD="HEAD")
    assert _adapt(apps, other) == _stock(apps, other)


def _stock(app: Flask, env: dict) -> tuple:
    request = app.request_class(dict(env))
    try:
        adapter = Flask.create_url_adapter(app, request)
    except HTTPException as exc:
        return ("refused", type(exc).__name__)
    assert adapter is not None
    return tuple(getattr(adapter, f) for f in _FIELDS) + (adapter.websocket, request.host)


def test_trusted_hosts_go_through_flask_every_time(apps, monkeypatch):
    monkeypatch.setitem(apps.config, "TRUSTED_HOSTS", ["locator.example"])
    good, bad = _environ(HTTP_HOST="locator.example"), _environ(HTTP_HOST="evil.example")
    for _ in range(2):
        assert _adapt(apps, good) == _stock(apps, good)
        request = apps.request_class(dict(bad))
        with pytest.raises(Exception, match="not trusted"):
            apps.create_url_adapter(request)


def test_the_remembered_hosts_are_bounded_and_made_up_ones_cannot_keep_the_real_one_out(apps):
    apps._host_parts.clear()
    for i in range(MAX_HOSTS + 20):  # a client sending made-up hosts
        env = _environ(HTTP_HOST=f"h{i}.example")
        assert _adapt(apps, env) == _stock(apps, env)
        assert len(apps._host_parts) <= MAX_HOSTS
    real = _environ(HTTP_HOST="locator.example")
    assert _adapt(apps, real) == _stock(apps, real)
    assert any(key[1] == "locator.example" for key in apps._host_parts)


def test_requests_route_and_build_links_through_the_remembered_parts(apps):
    c = apps.test_client()
    for host in ("locator.example:8080", "other.example"):
        for _ in range(2):  # the second request of a host line uses the remembered parts
            r = c.get("/api/v1/collections/venues/items?limit=1", headers={"Host": host})
            assert r.status_code == 200
            hrefs = [link["href"] for link in r.get_json()["links"]]
            assert hrefs and all(h.startswith(f"http://{host}/api/v1/collections/venues") for h in hrefs)
    assert c.get("/no/such/page", headers={"Host": "other.example"}).status_code == 404


def test_every_value_the_host_handling_reads_keys_the_remembered_parts(apps):
    """Two requests the same but for one value that changes the outcome: neither gets the other's parts."""
    pairs = [
        (
            {"HTTP_CONNECTION": "Upgrade", "HTTP_UPGRADE": "websocket"},
            {"HTTP_CONNECTION": "Upgrade", "HTTP_UPGRADE": "h2c"},
        ),
        (
            {"HTTP_UPGRADE": "websocket", "HTTP_CONNECTION": "Upgrade"},
            {"HTTP_UPGRADE": "websocket", "HTTP_CONNECTION": "close"},
        ),
        (
            {"wsgi.url_scheme": "https", "HTTP_HOST": "k.example:443"},
            {"wsgi.url_scheme": "http", "HTTP_HOST": "k.example:443"},
        ),
        (
            {"HTTP_HOST": None, "SERVER_NAME": "k.example", "SERVER_PORT": "80"},
            {"HTTP_HOST": None, "SERVER_NAME": "k.example", "SERVER_PORT": "81"},
        ),
        (
            {"HTTP_HOST": None, "SERVER_NAME": "k.example", "SERVER_PORT": "80"},
            {"HTTP_HOST": None, "SERVER_NAME": "j.example", "SERVER_PORT": "80"},
        ),
    ]
    for first, second in pairs:
        apps._host_parts.clear()
        for over in (first, second, first):
            env = _environ(**over)
            assert _adapt(apps, env) == _stock(apps, env), over


_ROUTES = [
    ("/api/v1/nearest", "GET"),
    ("/api/v1/nearest", "HEAD"),
    ("/api/v1/nearest", "OPTIONS"),
    ("/api/v1/nearest", "POST"),  # 405
    ("/api/v1/nearest", "get"),
    ("/healthz", "GET"),
    ("/api/v1/collections", "GET"),
    ("/api/v1/collections/", "GET"),
    ("/api/v1/collections/venues/items/v-0001", "GET"),  # a rule with an argument
    ("/api/v1/collections/venues/items/v-0002", "GET"),
    ("/static/app.js", "GET"),
    ("//healthz", "GET"),  # merged slashes: a redirect
    ("/no/such/page", "GET"),
    ("/admin/", "GET"),
    ("/", "GET"),
]


def _outcome(match, adapter) -> tuple:
    try:
        rule, values = match(adapter, return_rule=True)
    except HTTPException as exc:
        return ("raised", type(exc).__name__, getattr(exc, "new_url", None), getattr(exc, "valid_methods", None))
    return (rule.rule, rule.endpoint, sorted(rule.methods or ()), dict(values))


@pytest.mark.parametrize(("path", "method"), _ROUTES)
def test_a_remembered_match_is_werkzeugs(apps, path, method):
    """The rule and values a request matches, the first time and from memory, are werkzeug's own."""

    env = _environ(PATH_INFO=path, REQUEST_METHOD=method, QUERY_STRING="a=1")
    outcomes = []
    for _ in range(3):
        request = apps.request_class(dict(env))
        adapter = apps.create_url_adapter(request)
        outcomes.append((_outcome(type(adapter).match, adapter), _outcome(MapAdapter.match, adapter)))
    assert all(ours == theirs for ours, theirs in outcomes), outcomes
    assert type(adapter).__name__ == "RememberingAdapter"  # the later ones came through the memory


def test_values_from_memory_are_a_new_dict_each_time(apps):
    env = _environ(PATH_INFO="/healthz", QUERY_STRING="")
    got = []
    for _ in range(3):
        adapter = apps.create_url_adapter(apps.request_class(dict(env)))
        _rule, values = adapter.match(return_rule=True)
        got.append(values)
        values["changed"] = True  # a view's url_value_preprocessor may change them
    assert got[0] is not got[1] and got[-1] == {"changed": True}
    adapter = apps.create_url_adapter(apps.request_class(dict(env)))
    assert adapter.match(return_rule=True)[1] == {}


def test_spellings_of_a_method_share_one_remembered_match(tmp_path):
    """werkzeug matches the method in upper case; so is it remembered, and spellings cannot fill the memory."""
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "m.sqlite3"), "ACCESS_LOG": False})
    for method in ("GET", "get", "Get", "gEt", "GET"):
        env = _environ(PATH_INFO="/healthz", QUERY_STRING="", REQUEST_METHOD=method)
        for _ in range(2):
            adapter = app.create_url_adapter(app.request_class(dict(env)))
            assert _outcome(type(adapter).match, adapter) == _outcome(MapAdapter.match, adapter)
    assert [key[2] for key in app._matches] == ["GET"]


def test_a_rule_added_to_the_map_forgets_the_remembered_matches(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "m.sqlite3"), "ACCESS_LOG": False})
    env = _environ(PATH_INFO="/healthz", QUERY_STRING="")
    for _ in range(2):
        app.create_url_adapter(app.request_class(dict(env))).match(return_rule=True)
    assert app._matches
    from werkzeug.routing import Rule

    app.url_map.add(Rule("/late", endpoint="late"))
    adapter = app.create_url_adapter(app.request_class(dict(env, PATH_INFO="/late")))
    assert adapter.match(return_rule=True)[0].endpoint == "late"
    assert all(key[1] != "/healthz" for key in app._matches)


def test_paths_with_arguments_are_not_remembered_so_they_cannot_crowd_out_the_routes(tmp_path):
    from locator.web.routing import MAX_MATCHES

    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "m.sqlite3"), "ACCESS_LOG": False})
    for i in range(MAX_MATCHES + 10):  # a client walking feature ids
        env = _environ(PATH_INFO=f"/api/v1/collections/venues/items/v-{i}", QUERY_STRING="")
        app.create_url_adapter(app.request_class(env)).match(return_rule=True)
    env = _environ(PATH_INFO="/healthz", QUERY_STRING="")
    app.create_url_adapter(app.request_class(env)).match(return_rule=True)
    assert [key[1] for key in app._matches] == ["/healthz"]
