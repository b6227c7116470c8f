"""Security headers (locator/security.py): one mechanism, on every response."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from locator import create_app
from locator.web.security import csp_for, frame_ancestors_source

ROOT = Path(__file__).resolve().parents[1]

PAGES = ["/", "/coverage", "/embed/builder", "/admin/login", "/api/v1/docs", "/report/thanks"]
OTHER = [
    "/api/v1/nearest?lat=20.03&lon=110.33&k=2",
    "/api/v1/map/venues",
    "/oembed?url=http://localhost/embed",
    "/static/js/map.js",
    "/static/embed.js",
    "/static/vendor/leaflet.js",
    "/sw.js",
    "/healthz",
    "/no-such-page",
    "/api/v1/nearest?lat=x&lon=1",
]


@pytest.fixture
def client(ro_client):
    """The tests that take ``client`` here only read: the session's shared read-only app."""
    return ro_client


def _directives(csp: str) -> dict[str, str]:
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in csp.split("; ")}


@pytest.mark.parametrize("path", PAGES + OTHER)
def test_every_response_refuses_framing_and_sniffing(client, path):
    r = client.get(path)
    assert r.status_code < 500, path
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    d = _directives(r.headers["Content-Security-Policy"])
    assert d["frame-ancestors"] == "'self'"
    assert d["default-src"] == "'self'" and d["script-src"] == "'self'"  # no inline script, no eval
    assert d["object-src"] == "'none'" and d["base-uri"] == "'none'" and d["form-action"] == "'self'"
    assert d["connect-src"] == "'self'" and d["img-src"].startswith("'self' data:")
    assert r.headers.getlist("Content-Security-Policy") == [r.headers["Content-Security-Policy"]]  # exactly one


@pytest.mark.parametrize("path", ["/embed", "/embed?category=outdoor_station&nearest=1", "/embed?category=bogus"])
def test_the_embed_may_be_framed_by_any_site(client, path):
    r = client.get(path)
    assert "X-Frame-Options" not in r.headers
    assert _directives(r.headers["Content-Security-Policy"])["frame-ancestors"] == "*"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_the_embed_allowlist_comes_from_config(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "t.sqlite3"),
            "EMBED_FRAME_ANCESTORS": ["https://www.hainangh.org.cn", "https://*.hainan.gov.cn:8443/"],
        }
    )
    c = app.test_client()
    csp = _directives(c.get("/embed").headers["Content-Security-Policy"])
    assert csp["frame-ancestors"] == "'self' https://www.hainangh.org.cn https://*.hainan.gov.cn:8443"
    assert _directives(c.get("/").headers["Content-Security-Policy"])["frame-ancestors"] == "'self'"


def test_a_bad_allowlist_stops_start_up_naming_the_entry(tmp_path):
    with pytest.raises(ValueError, match="'javascript:alert\\(1\\)'"):
        create_app(
            {"TESTING": True, "DATABASE": str(tmp_path / "t.sqlite3"), "EMBED_FRAME_ANCESTORS": "javascript:alert(1)"}
        )


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("*", "*"),
        (None, "*"),
        (["*"], "*"),
        ("https://a.example", "'self' https://a.example"),
        ("https://a.example, http://b.example:8080", "'self' https://a.example http://b.example:8080"),
        ("https://a.example https://a.example/", "'self' https://a.example"),
        (["https://*.example.cn"], "'self' https://*.example.cn"),
        (("http://127.0.0.1:5001",), "'self' http://127.0.0.1:5001"),
    ],
)
def test_frame_ancestors_source(setting, expected):
    assert frame_ancestors_source(setting) == expected


@pytest.mark.parametrize(
    "setting",
    [
        "",
        [],
        "a.example",
        "https://a.example/path",
        "https://a.example; script-src *",
        "'unsafe-inline'",
        "ftp://a.example",
        "https://*",
        "https://a.*.example",
    ],
)
def test_frame_ancestors_source_rejects(setting):
    with pytest.raises(ValueError, match="EMBED_FRAME_ANCESTORS"):
        frame_ancestors_source(setting)


@pytest.mark.parametrize(
    ("config", "path", "host"),
    [
        ({}, "/", "https://tile.openstreetmap.org"),
        ({}, "/embed", "https://tile.openstreetmap.org"),
        ({"TILES": "none"}, "/embed", None),
        ({"TILES": "none"}, "/embed?tiles=amap", "https://*.is.autonavi.com"),
        ({"TILES": "none"}, "/embed?ti%6Ces=amap", "https://*.is.autonavi.com"),  # the name percent-encoded
        ({"TILES": "none"}, "/coverage?tiles=osm", "https://tile.openstreetmap.org"),
        ({"TILES": "tianditu", "TIANDITU_KEY": "k"}, "/", "https://*.tianditu.gov.cn"),
    ],
)
def test_images_allowed_from_the_pages_tile_hosts_only(tmp_path, config, path, host):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "t.sqlite3"), **config})  # settings: read once
    img = _directives(app.test_client().get(path).headers["Content-Security-Policy"])["img-src"]
    assert img == "'self' data:" + (f" {host}" if host else "")


def test_csp_for_is_one_header_value():
    csp = csp_for("*", ["https://t.example"])
    assert "\n" not in csp and csp.count("frame-ancestors") == 1 and "img-src 'self' data: https://t.example" in csp


def test_json_api_is_unchanged(client):
    r = client.get("/api/v1/nearest?lat=20.03&lon=110.33&k=3", headers={"Origin": "https://news.example"})
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    assert len(r.get_json()["features"]) == 3
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    etag = r.headers["ETag"]
    again = client.get("/api/v1/nearest?lat=20.03&lon=110.33&k=3", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["X-Content-Type-Options"] == "nosniff"
    bad = client.get("/api/v1/nearest?lat=x&lon=1")
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
    assert bad.get_json()["invalid_params"][0]["name"] == "lat"


@pytest.mark.parametrize(
    "path", ["/", "/coverage", "/embed", "/embed?category=bogus", "/embed/builder", "/admin/login"]
)
def test_pages_have_no_inline_script(client, path):
    html = client.get(path).get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"


def test_views_set_no_security_headers_of_their_own():
    views = [p for p in (ROOT / "locator" / "web").rglob("*.py") if p.name != "security.py"]
    assert len(views) > 15
    for path in views:
        text = path.read_text(encoding="utf-8")
        assert "Content-Security-Policy" not in text and "X-Frame-Options" not in text, path
