"""The map page, its service worker, vendor files, map-layer endpoints and translations."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from locator import create_app
from locator.web.translations import EN

ROOT = Path(__file__).resolve().parents[1]
CDN = re.compile(r"cdn\.jsdelivr|cdnjs|code\.jquery|unpkg|bootstrapcdn|googleapis|maxcdn")
MSGID = re.compile(r"""\b_\(\s*(["'])(.+?)\1""")


@pytest.fixture
def client(ro_client):
    """The tests that take ``client`` here only read: the session's shared read-only app."""
    return ro_client


def test_page_renders_in_chinese_by_default(client):
    r = client.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert '<html lang="zh-CN">' in html and "离我最近" in html and "户外劳动者服务站" in html
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert not CDN.search(html)
    assert "/static/vendor/leaflet.js" in html and "/api/v1/map/venues" in html


def test_page_in_english_and_the_choice_is_remembered(client):
    r = client.get("/?lang=en")
    html = r.get_data(as_text=True)
    assert '<html lang="en">' in html and "Nearest to me" in html and "Outdoor-worker rest station" in html
    assert "lang=en" in r.headers.get("Set-Cookie", "")
    assert 'lang="en"' in client.get("/").get_data(as_text=True)  # the cookie
    assert 'lang="zh-CN"' in client.get("/?lang=zh").get_data(as_text=True)
    r = client.get("/?l%61ng=en")  # the name percent-encoded: the page and the cookie agree
    assert '<html lang="en">' in r.get_data(as_text=True) and "lang=en" in r.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    ("config", "tiles", "expected_host"),
    [
        ({}, None, "tile.openstreetmap.org"),
        ({"TILES": "none"}, None, None),
        ({"TILES": "amap"}, None, "autonavi.com"),
        ({"TILES": "tianditu"}, None, None),  # no key: no tiles
        ({"TILES": "tianditu", "TIANDITU_KEY": "k"}, None, "tianditu.gov.cn"),
        ({"TILES": "none"}, "osm", "tile.openstreetmap.org"),
        ({}, "bogus", "tile.openstreetmap.org"),
    ],
)
def test_tile_provider_from_config_and_url(tmp_path, config, tiles, expected_host):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "t.sqlite3"), **config})  # settings: read once
    r = app.test_client().get("/" + (f"?tiles={tiles}" if tiles else ""))
    csp = r.headers["Content-Security-Policy"]
    html = r.get_data(as_text=True)
    if expected_host:
        assert expected_host in csp and expected_host in html
    else:
        assert "http" not in csp.split("img-src")[1].split(";")[0]


def test_vendor_files_are_allowlisted(client):
    assert client.get("/static/vendor/leaflet.js").status_code == 200
    assert client.get("/static/vendor/MarkerCluster.Default.css").status_code == 200
    assert client.get("/static/vendor/images/marker-icon.png").mimetype == "image/png"
    for bad in ("leaflet-src.js", "../package.json", "..%2Fpackage.json", "leaflet/dist/leaflet.js"):
        assert client.get(f"/static/vendor/{bad}").status_code == 404


def test_service_worker_served_at_root_scope(client):
    r = client.get("/sw.js")
    assert r.status_code == 200 and "javascript" in r.mimetype
    assert r.headers["Service-Worker-Allowed"] == "/"
    body = r.get_data(as_text=True)
    for url in (
        "'/'",
        "/api/v1/map/venues",
        "/static/js/map.js?v=",
        "/static/js/common.js",
        "/static/vendor/leaflet.js",
    ):
        assert url in body


def _cfg(html: str, element_id: str) -> dict:
    import json

    m = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, flags=re.S)
    assert m, element_id
    return json.loads(m.group(1))


def test_map_embed_and_coverage_pages_extend_one_base_config(client):
    """Tiles (?tiles=), first view and translations come from locator.web.pages.base_page_config on every page."""
    pages = {
        "map": _cfg(client.get("/?tiles=amap&lang=en").get_data(as_text=True), "cfg"),
        "embed": _cfg(client.get("/embed?tiles=amap&lang=en").get_data(as_text=True), "cfg"),
        "coverage": _cfg(client.get("/coverage?tiles=amap&lang=en&n=0").get_data(as_text=True), "cov-cfg"),
    }
    base = {k: pages["map"][k] for k in ("lang", "center", "zoom", "bounds", "tiles", "i18n")}
    assert base["tiles"]["crs"] == "gcj02" and base["lang"] == "en" and base["i18n"]
    for name, cfg in pages.items():
        assert {k: cfg[k] for k in base} == base, name


def test_pages_load_their_scripts_as_modules_sharing_common_js(client):
    for path, script in (("/", "map.js"), ("/embed", "map.js"), ("/coverage?n=0", "coverage.js")):
        html = client.get(path).get_data(as_text=True)
        assert re.search(rf'<script type="module" src="/static/js/{script}[^"]*"></script>', html), path
    assert "import { esc, translator } from './common.js';" in client.get("/static/js/builder.js").get_data(
        as_text=True
    )
    for js in ("map.js", "coverage.js"):
        assert "from './common.js'" in ROOT.joinpath("static/js", js).read_text("utf-8").replace('"', "'")


def _imports(name: str, seen: set[str] | None = None) -> set[str]:
    """The static/js modules ``name`` imports, transitively (ES ``import … from './x.js'``)."""
    seen = set() if seen is None else seen
    text = ROOT.joinpath("static/js", name).read_text("utf-8")
    for dep in re.findall(r"""^import .* from ['"]\./([\w-]+\.js)['"];""", text, flags=re.M):
        if dep not in seen:
            seen.add(dep)
            _imports(dep, seen)
    return seen


def test_the_map_modules_are_precached_small_and_in_the_shell_version(client):
    """Every module the map imports works offline (sw.js precaches it) and stays small."""
    modules = _imports("map.js")
    assert {"common.js", "format.js", "list.js", "card.js", "start-point.js", "textsize.js"} <= modules
    sw = client.get("/sw.js").get_data(as_text=True)
    for name in sorted(modules | {"map.js"}):
        assert f"'/static/js/{name}" in sw, name
        assert len(ROOT.joinpath("static/js", name).read_text("utf-8").splitlines()) < 400, name


def test_map_venues_layer(client, ro_app):
    from locator.web.state import get_register

    r = client.get("/api/v1/map/venues")
    assert r.status_code == 200 and r.mimetype == "application/json"
    body = r.get_json()
    assert len(body["venues"]) == len(get_register(ro_app).index) == 2621
    assert all(len(row) == 14 for row in body["venues"])
    etag = r.headers["ETag"]
    assert client.get("/api/v1/map/venues", headers={"If-None-Match": etag}).status_code == 304


def test_map_districts_layer(client, ro_app):
    from locator.web.state import get_register

    body = client.get("/api/v1/map/districts").get_json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == len(get_register(ro_app).districts)
    assert {"adcode", "name_zh", "name_en", "label"} <= set(body["features"][0]["properties"])


def test_first_load_is_under_300_kb_gzipped(client):
    """HTML, JS, CSS and venue data, gzip-compressed, tiles excluded."""
    urls = ["/", "/api/v1/map/venues", "/api/v1/map/districts", "/static/img/amenities.svg", "/static/img/icon.svg"]
    html = client.get("/").get_data(as_text=True)
    urls += re.findall(r'(?:href|src)="(/static/[^"]+\.(?:js|css)[^"]*)"', html)
    urls.append("/static/js/common.js")  # imported by map.js
    total = 0
    for url in urls:
        r = client.get(url, headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200, url
        total += len(gzip.compress(r.get_data(), 6))
    assert total <= 300 * 1024, f"first load {total} bytes gzipped"


def _msgids() -> set[str]:
    found: set[str] = set()
    for path in [*ROOT.joinpath("templates").rglob("*.html"), *ROOT.joinpath("static/js").glob("*.js")]:
        if path.name == "api_docs.html":
            continue
        found |= {m.group(2) for m in MSGID.finditer(path.read_text("utf-8"))}
    return found


def test_every_user_visible_string_has_an_english_translation():
    ids = _msgids()
    assert len(ids) > 40
    missing = sorted(i for i in ids if i not in EN)
    assert missing == []
    for zh, en in EN.items():
        assert re.findall(r"%\((\w+)\)s", zh) == re.findall(r"%\((\w+)\)s", en), zh
        assert not re.search(r"[\u4e00-\u9fff]", en.replace("高德", "").replace("百度", "")), en


def test_english_page_has_no_chinese_outside_venue_data(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    text = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text).replace("中文", "").replace("高德", "").replace("百度", "")
    assert not re.search(r"[\u4e00-\u9fff]", text)


def test_no_cdn_in_shipped_front_end():
    for path in [*ROOT.joinpath("templates").glob("*.html"), *ROOT.joinpath("static").rglob("*.*")]:
        if "static/api" in str(path) or path.name == "api_docs.html":
            continue
        if path.suffix in {".html", ".js", ".css", ".svg"}:
            assert not CDN.search(path.read_text("utf-8")), path


# -- installable: manifest, icons, favicon ---------------------------------------------------------


def _png_size(body: bytes) -> tuple[int, int]:
    import struct

    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", body[16:24])


def test_manifest_meets_the_installability_fields_and_its_icons_load(client):
    r = client.get("/manifest.webmanifest")
    assert r.status_code == 200 and r.mimetype == "application/manifest+json"
    m = r.get_json(force=True)
    assert m["name"] == "海南职工服务阵地地图" and m["short_name"] and m["lang"] == "zh-CN"
    assert m["start_url"] == "/" and m["display"] == "standalone" and m["scope"] == "/"
    assert re.fullmatch(r"#[0-9a-f]{6}", m["theme_color"]) and m["background_color"]
    html = client.get("/").get_data(as_text=True)
    assert f'<meta name="theme-color" content="{m["theme_color"]}">' in html
    sizes = {}
    for icon in m["icons"]:
        got = client.get(icon["src"])
        assert got.status_code == 200, icon
        assert got.mimetype == icon["type"]
        if icon["type"] == "image/png":
            w, h = _png_size(got.get_data())
            assert icon["sizes"] == f"{w}x{h}"
            sizes[w] = h
    assert sizes == {192: 192, 512: 512}


def test_favicon_and_apple_touch_icon(client):
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico.mimetype == "image/vnd.microsoft.icon"
    body = ico.get_data()
    assert body[:4] == b"\x00\x00\x01\x00" and int.from_bytes(body[4:6], "little") == 3
    apple = client.get("/apple-touch-icon.png")
    assert apple.status_code == 200 and _png_size(apple.get_data()) == (180, 180)
    assert client.get("/favicon.ico", headers={"If-None-Match": ico.headers["ETag"]}).status_code == 304


PAGES = ["/", "/?lang=en", "/coverage", "/embed", "/embed/builder", "/api/v1/docs", "/admin/login"]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_links_the_manifest_and_icons(client, url):
    r = client.get(url)
    assert r.status_code == 200, url
    html = r.get_data(as_text=True)
    for link in (
        '<link rel="manifest" href="/manifest.webmanifest">',
        '<link rel="apple-touch-icon" href="/apple-touch-icon.png">',
        '<link rel="icon" href="/favicon.ico" sizes="48x48">',
    ):
        assert link in html, (url, link)


META_DESCRIPTION = re.compile(r'<meta name="description" content="([^"]{12,})">')


def test_the_api_document_has_a_meta_description(client):
    assert META_DESCRIPTION.search(client.get("/api/v1/docs").get_data(as_text=True))


@pytest.mark.parametrize("url", ["/", "/coverage", "/embed", "/embed/builder"])
def test_every_public_page_has_a_meta_description_in_its_language(client, url):
    zh = META_DESCRIPTION.search(client.get(url).get_data(as_text=True))
    en = META_DESCRIPTION.search(client.get(url + "?lang=en").get_data(as_text=True))
    assert zh and en, url
    assert re.search(r"[\u4e00-\u9fff]", zh.group(1)), zh.group(1)
    assert not re.search(r"[\u4e00-\u9fff]", en.group(1)), en.group(1)
