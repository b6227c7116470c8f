"""Embeddable maps (locator/embed.py): /embed, /embed/builder, /oembed, and their pure parts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from locator import create_app
from locator.errors import InvalidParameter
from locator.web.embed import EmbedOptions, embed_args_from_url, iframe_snippet, parse_embed, script_snippet
from locator.web.state import get_register
from locator.web.translations import EN

pytestmark = pytest.mark.readonly  # `app`/`client` here: the shared read-only app

ROOT = Path(__file__).resolve().parents[1]
MSGID = re.compile(r"""\b_\(\s*(["'])(.+?)\1""")
DISTRICTS = ("460106", "460107", "469030")
VENUES = {"v-1", "中文-2"}


def _parse(query: str) -> EmbedOptions:
    args = MultiDict([tuple(p.split("=", 1)) if "=" in p else (p, "") for p in query.split("&") if p])
    return parse_embed(args, DISTRICTS, VENUES.__contains__)


def _cfg(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="cfg">(.*?)</script>', html, re.S).group(1))


# -- parse_embed: good and bad inputs ------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", EmbedOptions()),
        ("category=outdoor_station", EmbedOptions(category=("outdoor_station",))),
        ("category=reading_room,workers_home", EmbedOptions(category=("workers_home", "reading_room"))),
        ("district=460106,469030", EmbedOptions(district=("460106", "469030"))),
        ("lat=20.03&lon=110.33&zoom=14", EmbedOptions(lat=20.03, lon=110.33, zoom=14)),
        ("lang=en&nearest=1", EmbedOptions(lang="en", nearest=True)),
        ("lang=EN&nearest=0", EmbedOptions(lang="en")),
        ("venue=v-1&tiles=none", EmbedOptions(venue="v-1", tiles="none")),
        ("zoom=5", EmbedOptions(zoom=5)),
        ("utm_source=news&category=", EmbedOptions()),  # unknown parameters and empty values are ignored
    ],
)
def test_parse_embed_accepts(query, expected):
    assert _parse(query) == expected


@pytest.mark.parametrize(
    ("query", "name", "fragment"),
    [
        ("category=bogus", "category", "'bogus'"),
        ("category=outdoor_station&category=other", "category", "more than once"),
        ("district=460100", "district", "'460100'"),
        ("lat=20.03", "lon", "required when lat"),
        ("lon=110.3", "lat", "required when lon"),
        ("lat=91&lon=110", "lat", "'91'"),
        ("lat=nan&lon=110", "lat", "finite"),
        ("lat=20&lon=1_000", "lon", "'1_000'"),
        ("zoom=4", "zoom", "'4'"),
        ("zoom=19", "zoom", "'19'"),
        ("zoom=12.5", "zoom", "'12.5'"),
        ("lang=fr", "lang", "'fr'"),
        ("nearest=yes", "nearest", "'yes'"),
        ("venue=nope", "venue", "'nope'"),
        ("venue=" + "x" * 300, "venue", "xxxx"),
        ("tiles=google", "tiles", "'google'"),
    ],
)
def test_parse_embed_rejects_quoting_the_value(query, name, fragment):
    with pytest.raises(InvalidParameter) as info:
        _parse(query)
    assert info.value.name == name and fragment in info.value.reason


def test_options_round_trip_through_their_query():
    opts = EmbedOptions(
        category=("reading_room",),
        district=("460106",),
        lat=20.03,
        lon=110.33,
        zoom=12,
        lang="en",
        nearest=True,
        venue="v-1",
        tiles="osm",
    )
    assert _parse("&".join(f"{k}={v}" for k, v in opts.query().items())) == opts
    assert EmbedOptions().query() == {}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://localhost/embed?category=reading_room", {"category": ["reading_room"]}),
        ("HTTP://LOCALHOST:80/embed/", {}),
        (
            "http://localhost/?cat=workers_home&venue=v-1&lang=en&q=x",
            {"category": ["workers_home"], "venue": ["v-1"], "lang": ["en"]},
        ),
        ("http://localhost", {}),
        ("https://map.example.cn/embed?district=460106", {"district": ["460106"]}),
        ("https://map.example.cn:443/", {}),
        ("http://evil.example/embed", None),
        ("http://localhost.evil.example/embed", None),
        ("http://localhost:8080/embed", None),
        ("https://localhost/embed", None),
        ("http://localhost/coverage", None),
        ("http://localhost/api/v1/venues", None),
        ("javascript:alert(1)", None),
        ("//localhost/embed", None),
        ("http://[::1/embed", None),
    ],
)
def test_embed_args_from_url(url, expected):
    got = embed_args_from_url(url, ["http://localhost/", "https://map.example.cn"])
    assert (None if got is None else got.to_dict(flat=False)) == expected


def test_snippets_escape_what_they_quote():
    html = iframe_snippet('https://x/embed?a=1&b="2"', "100%", 450, "<Map>")
    assert 'src="https://x/embed?a=1&amp;b=&#34;2&#34;"' in html and 'title="&lt;Map&gt;"' in html
    assert 'loading="lazy"' in html and 'allow="geolocation"' in html
    tag = script_snippet("https://x/static/embed.js", EmbedOptions(category=("other",), lang="en"))
    assert tag == '<script src="https://x/static/embed.js" data-category="other" data-lang="en" async></script>'


# -- /embed ---------------------------------------------------------------------------
def test_embed_page_has_no_chrome_and_carries_its_options(client, app):
    venue = next(v for v in get_register(app).index.venues() if v.category == "outdoor_station")
    r = client.get(f"/embed?category=outdoor_station&district=460106&nearest=1&venue={venue.id}&zoom=12")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert '<header class="top">' not in html and 'class="langs"' not in html
    cfg = _cfg(html)
    assert cfg["embed"]["category"] == ["outdoor_station"] and cfg["embed"]["district"] == ["460106"]
    assert cfg["embed"]["nearest"] is True and cfg["embed"]["venue"] == venue.id and cfg["embed"]["zoom"] == 12
    (s, w), (n, e) = cfg["embed"]["bounds"]
    assert 19.5 < s < n < 20.2 and 110.1 < w < e < 110.6
    assert cfg["nearestDefault"] == "outdoor_station" and cfg["urls"]["page"] == "http://localhost/"
    assert '<div class="actions">' in html  # the nearest button shows
    assert venue.name in re.search(r"<title>(.*?)</title>", html).group(1)
    assert "/static/js/map.js" in html and "/static/js/embed-frame.js" in html
    assert 'type="application/json+oembed"' in html


def test_embed_defaults_and_language_come_from_the_url_alone(client):
    client.set_cookie("lang", "en")
    html = client.get("/embed").get_data(as_text=True)
    cfg = _cfg(html)
    assert '<html lang="zh-CN">' in html and cfg["lang"] == "zh" and cfg["nearestDefault"] == "all"
    assert cfg["embed"] == {
        "category": [],
        "district": [],
        "center": None,
        "zoom": None,
        "bounds": None,
        "venue": None,
        "nearest": False,
    }
    assert '<div class="actions" hidden>' in html
    en = client.get("/embed?lang=en&category=reading_room&lat=20&lon=110.3").get_data(as_text=True)
    assert '<html lang="en">' in en and "Open the full map" in en and _cfg(en)["embed"]["center"] == [20.0, 110.3]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("category=bogus", "category"),
        ("district=1", "district"),
        ("lat=20", "lon"),
        ("zoom=99", "zoom"),
        ("lang=fr", "lang"),
        ("nearest=2", "nearest"),
        ("venue=nope", "venue"),
        ("tiles=x", "tiles"),
        ("category=a&category=b", "category"),
    ],
)
def test_embed_bad_parameter_is_a_readable_400_inside_the_frame(client, query, name):
    r = client.get(f"/embed?{query}")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert "地图参数有误" in html and "settings are wrong" in html and f"<code>{name}</code>" in html
    assert "/static/js/embed-frame.js" in html  # the frame still sizes itself to the message
    assert "frame-ancestors *" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"


def test_embed_error_escapes_the_bad_value(client):
    html = client.get("/embed?category=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


# -- oEmbed ----------------------------------------------------------------------------
def test_oembed_rich_for_an_embed_url(client):
    r = client.get(
        "/oembed", query_string={"url": "http://localhost/embed?category=reading_room&lang=en", "format": "json"}
    )
    doc = r.get_json()
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert doc["version"] == "1.0" and doc["type"] == "rich"
    assert doc["provider_name"] == "Hainan worker service venues" and doc["provider_url"] == "http://localhost/"
    assert doc["title"] == "Hainan worker service venues map · Reading room"
    assert (doc["width"], doc["height"]) == (600, 450)
    src = re.search(r'<iframe src="([^"]+)"', doc["html"]).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(src).query) == {"category": ["reading_room"], "lang": ["en"]}
    assert f'width="{doc["width"]}" height="{doc["height"]}"' in doc["html"]
    assert 'loading="lazy"' in doc["html"] and 'allow="geolocation"' in doc["html"]
    assert r.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ({}, (600, 450)),
        ({"maxwidth": "400"}, (400, 450)),
        ({"maxheight": "300"}, (600, 300)),
        ({"maxwidth": "2000", "maxheight": "2000"}, (600, 450)),
        ({"maxwidth": "1", "maxheight": "1"}, (1, 1)),
    ],
)
def test_oembed_obeys_maxwidth_and_maxheight(client, size, expected):
    doc = client.get("/oembed", query_string={"url": "http://localhost/embed", **size}).get_json()
    assert (doc["width"], doc["height"]) == expected


def test_oembed_for_the_worker_map_url(client):
    doc = client.get("/oembed", query_string={"url": "http://localhost/?cat=outdoor_station&open=1"}).get_json()
    assert "http://localhost/embed?category=outdoor_station" in doc["html"] and "户外劳动者服务站" in doc["title"]


@pytest.mark.parametrize(
    ("query", "status", "name"),
    [
        ({"url": "https://evil.example/embed"}, 404, None),
        ({"url": "http://localhost/coverage"}, 404, None),
        ({"url": "not a url"}, 404, None),
        ({"url": "http://localhost/embed", "format": "xml"}, 501, None),
        ({"url": "http://localhost/embed", "format": "yaml"}, 501, None),
        ({}, 400, "url"),
        ({"url": "http://localhost/embed", "maxwidth": "wide"}, 400, "maxwidth"),
        ({"url": "http://localhost/embed", "maxheight": "0"}, 400, "maxheight"),
        ({"url": "http://localhost/embed", "maxwidth": "-5"}, 400, "maxwidth"),
        ({"url": "http://localhost/embed?category=bogus"}, 400, "url"),
    ],
)
def test_oembed_errors_are_problem_documents(client, query, status, name):
    r = client.get("/oembed", query_string=query)
    assert r.status_code == status and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    api = client.get("/api/v1/nearest?lat=x&lon=1").get_json()  # the same shape as the API's
    assert set(body) <= set(api)
    if name:
        assert body["invalid_params"][0]["name"] == name


def test_oembed_repeated_parameter(client):
    r = client.get("/oembed?url=http://localhost/embed&url=http://localhost/")
    assert r.status_code == 400 and r.get_json()["invalid_params"][0]["name"] == "url"


def test_public_base_url_behind_a_proxy(tmp_path):
    app = create_app(
        {"TESTING": True, "DATABASE": str(tmp_path / "t.sqlite3"), "PUBLIC_BASE_URL": "https://map.example.cn/"}
    )
    c = app.test_client()
    doc = c.get("/oembed", query_string={"url": "https://map.example.cn/embed?district=460106"}).get_json()
    assert 'src="https://map.example.cn/embed?district=460106"' in doc["html"]
    assert doc["provider_url"] == "https://map.example.cn/"
    assert (
        c.get("/oembed", query_string={"url": "http://localhost/embed"}).status_code == 200
    )  # the request's own host too
    html = c.get("/embed/builder").get_data(as_text=True)
    assert "https://map.example.cn/static/embed.js" in html


@pytest.mark.parametrize("path", ["/", "/?lang=en&cat=reading_room", "/embed?category=other"])
def test_map_pages_carry_the_oembed_discovery_link(client, path):
    html = client.get(path).get_data(as_text=True)
    link = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', html)
    assert link, path
    href = link.group(1).replace("&amp;", "&")
    assert href.startswith("http://localhost/oembed?")
    target = parse_qs(urlsplit(href).query)["url"][0]
    assert target == "http://localhost" + path
    assert client.get(href).status_code == 200


# -- the builder and the loader -------------------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "words"), [("zh", ["嵌入地图", "复制代码", "预览"]), ("en", ["Embed the map", "Copy the code", "Preview"])]
)
def test_builder_page(client, lang, words):
    r = client.get(f"/embed/builder?lang={lang}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and all(w in html for w in words)
    assert "&lt;script src=&#34;http://localhost/static/embed.js&#34; data-category=&#34;outdoor_station&#34;" in html
    assert "&lt;iframe src=&#34;http://localhost/embed?category=outdoor_station" in html
    assert 'id="preview" src="/embed?category=outdoor_station' in html
    assert html.count('name="district"') == 1 and html.count('<option value="46') == len(
        get_register(client.application).districts
    )
    cfg = json.loads(re.search(r'id="builder-cfg">(.*?)</script>', html, re.S).group(1))
    assert cfg["script"] == "http://localhost/static/embed.js" and cfg["embed"] == "http://localhost/embed"


def test_loader_and_frame_scripts_are_served_as_javascript(client):
    for path in ("/static/embed.js", "/static/js/embed-frame.js", "/static/js/builder.js"):
        r = client.get(path)
        assert r.status_code == 200 and "javascript" in r.mimetype, path
    loader = client.get("/static/embed.js").get_data(as_text=True)
    assert "e.origin !== ORIGIN" in loader and "contentWindow === e.source" in loader
    assert len(loader.encode()) < 5000  # small, no dependencies


def test_every_embed_string_has_an_english_translation():
    ids: set[str] = set()
    for rel in ("templates/embed.html", "templates/embed_builder.html", "static/js/builder.js"):
        ids |= {m.group(2) for m in MSGID.finditer((ROOT / rel).read_text("utf-8"))}
    assert len(ids) > 30
    assert sorted(i for i in ids if i not in EN) == []
