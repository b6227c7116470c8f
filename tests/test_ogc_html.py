"""The OGC API – Features HTML conformance class: f=html, Accept negotiation, alternate links both ways, escaping."""

from __future__ import annotations

import dataclasses
import re

import pytest

from locator.web.catalog import CONFORMANCE
from locator.web.state import get_register

HTML_PAGES = [
    "/api/v1/",
    "/api/v1/conformance",
    "/api/v1/collections",
    "/api/v1/collections/venues",
    "/api/v1/collections/districts",
    "/api/v1/collections/venues/items",
    "/api/v1/collections/districts/items",
    "/api/v1/collections/districts/items/460106",
]
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&"


def _links(html: str) -> list[tuple[str, str, str]]:
    """(rel, type, href) of the page's <link> elements (as written, still HTML-escaped)."""
    return [
        (m["rel"], m["type"], m["href"])
        for m in re.finditer(r'<link rel="(?P<rel>[^"]+)" type="(?P<type>[^"]+)" href="(?P<href>[^"]+)"', html)
    ]


@pytest.mark.parametrize("path", HTML_PAGES)
def test_each_resource_has_an_html_form_linking_to_its_json(ro_client, path):
    resp = ro_client.get(path, query_string={"f": "html"})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert {"Accept", "Cookie"} <= set(resp.vary)
    links = _links(resp.get_data(as_text=True))
    alternates = [href for rel, typ, href in links if rel == "alternate" and typ.startswith("application/")]
    assert alternates and "f=json" in alternates[0]
    assert any(rel == "self" and typ == "text/html" and "f=html" in href for rel, typ, href in links)
    back = ro_client.get(alternates[0].replace("&amp;", "&"))
    assert back.status_code == 200 and back.is_json


@pytest.mark.parametrize("path", HTML_PAGES)
def test_each_json_document_links_to_its_html_form(ro_client, path):
    doc = ro_client.get(path).get_json()
    html = [link for link in doc["links"] if link["rel"] == "alternate" and link["type"] == "text/html"]
    assert len(html) == 1 and html[0]["href"].endswith("f=html")
    assert ro_client.get(html[0]["href"]).mimetype == "text/html"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER_ACCEPT, True),
        ("text/html", True),
        ("application/json", False),
        ("application/geo+json, text/html;q=0.5", False),
        ("*/*", False),
        (None, False),
    ],
)
def test_accept_negotiation(ro_client, accept, html):
    headers = {"Accept": accept} if accept else {}
    for path in ("/api/v1/collections", "/api/v1/collections/venues/items"):
        resp = ro_client.get(path, headers=headers)
        assert resp.status_code == 200
        assert (resp.mimetype == "text/html") is html, (path, accept)
        assert "Accept" in resp.vary


def test_f_wins_over_accept(ro_client):
    assert ro_client.get("/api/v1/collections?f=json", headers={"Accept": "text/html"}).is_json
    assert ro_client.get("/api/v1/collections?f=html", headers={"Accept": "application/json"}).mimetype == "text/html"


def test_queryables_have_no_html_form(ro_client):
    resp = ro_client.get("/api/v1/collections/venues/queryables?f=html")
    assert resp.status_code == 400 and resp.get_json()["invalid_params"][0]["name"] == "f"
    assert ro_client.get("/api/v1/collections/venues/queryables", headers={"Accept": "text/html"}).is_json


def test_chinese_first_english_with_lang(ro_client):
    zh = ro_client.get("/api/v1/collections?f=html").get_data(as_text=True)
    en = ro_client.get("/api/v1/collections?f=html&lang=en").get_data(as_text=True)
    assert 'lang="zh-CN"' in zh and "数据集" in zh
    assert '<html lang="en">' in en and "Collections" in en and "数据集</a>" not in en


def test_items_page_has_map_table_and_paging(ro_client):
    resp = ro_client.get("/api/v1/collections/venues/items?f=html&limit=5&offset=5")
    html = resp.get_data(as_text=True)
    assert "/static/vendor/leaflet.js" in html and "/static/js/ogc.js" in html
    assert html.count("/items/") >= 5
    assert re.search(r'<a rel="next" href="[^"]*offset=10[^"]*f=html', html)
    assert re.search(r'<a rel="prev" href="[^"]*offset=0[^"]*f=html', html)
    assert "unpkg" not in html and "cdn" not in html.lower()


def test_html_conformance_class_declared(ro_client):
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html" in CONFORMANCE
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"
        in ro_client.get("/api/v1/conformance").get_json()["conformsTo"]
    )


def test_lang_is_documented_and_unknown_parameters_still_refused(ro_client):
    assert ro_client.get("/api/v1/collections/venues/items?f=html&lang=en").status_code == 200
    resp = ro_client.get("/api/v1/collections?f=html&bogus=1")
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    spec = ro_client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["parameters"]["f"]["schema"]["enum"] == ["json", "geojson", "html"]
    (items,) = [op for path, op in spec["paths"].items() if path.endswith("/collections/venues/items")]
    assert "text/html" in items["get"]["responses"]["200"]["content"]


def test_a_hostile_venue_name_is_escaped(app, client):
    with app.app_context():
        reg = get_register()
        venue = dataclasses.replace(reg.index.venues()[0], name=HOSTILE, address=HOSTILE)
        reg.store.put(venue)
        reg.refresh()
    for url in (
        f"/api/v1/collections/venues/items/{venue.id}?f=html",
        "/api/v1/collections/venues/items?f=html&limit=1000",
    ):
        html = client.get(url).get_data(as_text=True)
        assert HOSTILE not in html and "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)" in html  # shown, as text (the table), and in the JSON block as \u003c
        assert "\\u003cscript\\u003ealert(1)" in html
