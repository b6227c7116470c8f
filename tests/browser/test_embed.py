"""Embedded maps in headless Chromium: a host page on a second origin frames the map.

The host page is served by its own werkzeug server on another port of
127.0.0.1, so the app (``live_server``) and the host are different origins,
as for a real union or news site. It embeds the map both ways: a plain
``<iframe>`` and the one-line ``<script>`` (three times: two maps and one with
a bad parameter).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.serving import make_server

from locator.web.state import get_register

from .conftest import DESKTOP, SHOTS

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>A union site</title>
<style>body{{font:16px sans-serif;margin:0 auto;max-width:760px;padding:8px}}</style></head>
<body>
<h1>某市总工会 · 身边的职工服务站</h1>
<iframe id="plain" src="{app}/embed?category=outdoor_station&amp;district=460106" width="100%" height="300"
  style="border:0" loading="lazy" allow="geolocation" title="海南职工服务阵地地图"></iframe>
<div id="a"><script src="{app}/static/embed.js" data-category="outdoor_station" data-venue="{venue}"
  data-nearest="1" async></script></div>
<p>Some text of the host page between two maps.</p>
<div id="b"><script src="{app}/static/embed.js" data-category="reading_room" data-lang="en" data-height="200"
  async></script></div>
<div id="bad"><script src="{app}/static/embed.js" data-category="bogus" async></script></div>
</body></html>
"""

FRAME_ROOT_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Framing the worker map</title></head>
<body><iframe id="root" src="{app}/" width="600" height="400" title="the worker map"></iframe></body></html>
"""


def _not_found(environ: Any, start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


@pytest.fixture(scope="module")
def host(live_server: str, live_app: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A static host site on another port: a different origin from the app."""
    venue = next(v.id for v in get_register(live_app).index.venues() if v.category == "outdoor_station")
    root = tmp_path_factory.mktemp("host-site")
    (root / "index.html").write_text(HOST_PAGE.format(app=live_server, venue=venue), encoding="utf-8")
    (root / "frame-root.html").write_text(FRAME_ROOT_PAGE.format(app=live_server), encoding="utf-8")
    server = make_server("127.0.0.1", 0, SharedDataMiddleware(_not_found, {"/": str(root)}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_port}"
    assert origin != live_server
    yield origin
    server.shutdown()
    thread.join(timeout=5)


class Site:
    """A page in a fresh context; requests to hosts other than the app and the host site are aborted."""

    def __init__(self, browser: Any, allowed: tuple[str, ...], **context_args: Any) -> None:
        self.ctx = browser.new_context(viewport=DESKTOP, service_workers="block", **context_args)
        self.console: list[str] = []
        self.foreign: list[str] = []

        def route(r: Any) -> None:
            if r.request.url.startswith(allowed):
                r.continue_()
            else:
                self.foreign.append(r.request.url)
                r.abort()

        self.ctx.route("**/*", route)
        self.page = self.ctx.new_page()
        self.page.on("console", lambda m: self.console.append(m.text))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))


@pytest.fixture(scope="module")
def site(browser: Any, live_server: str, host: str) -> Iterator[Site]:
    s = Site(
        browser,
        (live_server, host),
        geolocation={"latitude": 20.03, "longitude": 110.33},
        permissions=["geolocation"],
    )
    s.page.goto(host + "/index.html")
    yield s
    s.ctx.close()


def _frame_height(page: Any, selector: str) -> float:
    return float(page.evaluate(f"document.querySelector({selector!r}).getBoundingClientRect().height"))


def _until(check: Any, timeout: float = 10.0) -> None:
    """Poll ``check()`` until true; pages under the app's CSP forbid Playwright's eval-based waits."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _wait_rendered(site: Site, selector: str) -> Any:
    site.page.locator(selector).scroll_into_view_if_needed()
    frame = site.page.frame_locator(selector)
    frame.locator("body[data-venues]").wait_for(state="attached", timeout=10_000)
    frame.locator(".leaflet-marker-icon").first.wait_for(timeout=10_000)
    return frame


def test_script_tags_insert_accessible_lazy_frames(site: Site, live_server: str) -> None:
    frames = site.page.locator("#a iframe, #b iframe, #bad iframe")
    frames.first.wait_for(state="attached")
    assert frames.count() == 3
    for i in range(3):
        f = frames.nth(i)
        assert f.get_attribute("loading") == "lazy"
        assert "geolocation" in (f.get_attribute("allow") or "")
        assert f.get_attribute("title")
        assert (f.get_attribute("src") or "").startswith(live_server + "/embed?")
    assert site.page.locator("#b iframe").get_attribute("title") == "Map of Hainan worker service venues"
    assert "category=reading_room" in (site.page.locator("#b iframe").get_attribute("src") or "")


def test_the_map_renders_inside_every_frame(site: Site) -> None:
    for sel in ("#plain", "#a iframe", "#b iframe"):
        frame = _wait_rendered(site, sel)
        assert frame.locator("header.top").count() == 0  # no site chrome
    a = site.page.frame_locator("#a iframe")
    assert a.locator("#card").is_visible() and a.locator("#card-name").inner_text()  # data-venue opened its card
    assert a.locator("#near-btn").is_visible()  # data-nearest="1"
    assert not site.page.frame_locator("#b iframe").locator("#near-btn").is_visible()
    assert "Open the full map" in site.page.frame_locator("#b iframe").locator(".embed-foot").inner_text()
    assert site.foreign == []


def test_frames_grow_and_shrink_with_their_content(site: Site) -> None:
    _wait_rendered(site, "#b iframe")
    page = site.page
    # #b starts at data-height 200 and grows to its content; #a holds the venue card as well
    page.wait_for_function("document.querySelector('#b iframe').getBoundingClientRect().height > 300", timeout=10_000)
    inner = site.page.frame_locator("#b iframe").locator("body").evaluate("b => b.getBoundingClientRect().height")
    assert abs(_frame_height(page, "#b iframe") - inner) <= 2
    _wait_rendered(site, "#a iframe")
    page.wait_for_function("document.querySelector('#a iframe').getBoundingClientRect().height > 700", timeout=10_000)
    # the bad-parameter frame shrinks from 450 px to its short message
    page.locator("#bad iframe").scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('#bad iframe').getBoundingClientRect().height < 400", timeout=10_000)
    # the plain iframe has no loader: it keeps the height its markup gives
    assert _frame_height(page, "#plain") == 300


def test_resize_messages_from_elsewhere_are_ignored(site: Site) -> None:
    page = site.page
    _wait_rendered(site, "#b iframe")
    page.wait_for_function("document.querySelector('#b iframe').getBoundingClientRect().height > 300", timeout=10_000)
    before = _frame_height(page, "#b iframe")
    # from the host page itself (wrong origin, not a map frame) and from a frame of the host's origin
    page.evaluate("window.postMessage({type: 'hainan-venues:resize', height: 1234}, '*')")
    page.evaluate(
        """() => { const f = document.createElement('iframe');
        f.srcdoc = "<script>parent.postMessage({type: 'hainan-venues:resize', height: 1111}, '*')<\\/script>";
        document.body.appendChild(f); }"""
    )
    page.wait_for_timeout(400)
    assert _frame_height(page, "#b iframe") == before
    assert {_frame_height(page, s) for s in ("#a iframe", "#b iframe", "#bad iframe")}.isdisjoint({1234, 1111})


def test_nearest_to_me_works_inside_the_frame(site: Site) -> None:
    """allow="geolocation" hands the host page's permission to the frame."""
    frame = _wait_rendered(site, "#a iframe")
    frame.locator("#near-btn").click()
    frame.locator("#results-list li").first.wait_for(timeout=10_000)
    assert frame.locator("#results-list li").count() == 5
    assert "户外劳动者服务站" in frame.locator("#results-list").inner_text()
    site.page.wait_for_function("document.querySelector('#a iframe').getBoundingClientRect().height > 1000")


def test_the_host_page_cannot_read_the_map(site: Site) -> None:
    _wait_rendered(site, "#a iframe")
    result = site.page.evaluate(
        """() => {
          const f = document.querySelector('#a iframe');
          let doc;
          try { doc = f.contentWindow.document; } catch (e) { doc = e.name; }
          return {contentDocument: f.contentDocument === null, document: String(doc)};
        }"""
    )
    assert result == {"contentDocument": True, "document": "SecurityError"}


def test_a_bad_parameter_explains_itself_inside_the_frame(site: Site) -> None:
    page = site.page
    page.locator("#bad iframe").scroll_into_view_if_needed()
    msg = page.frame_locator("#bad iframe").locator(".embed-msg")
    msg.wait_for(timeout=10_000)
    text = msg.inner_text()
    assert "地图参数有误" in text and "settings are wrong" in text and "category" in text and "bogus" in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "embed-host.png"))  # frames below the fold are not painted in full-page shots
    for sel in ("#a", "#b", "#bad"):
        page.locator(sel).screenshot(path=str(SHOTS / f"embed-host-{sel[1:]}.png"))


def test_framing_the_worker_map_is_refused(browser: Any, live_server: str, host: str) -> None:
    s = Site(browser, (live_server, host))
    try:
        with s.page.expect_response(lambda r: r.url == live_server + "/") as info:
            s.page.goto(host + "/frame-root.html")
        resp = info.value
        assert "frame-ancestors 'self'" in resp.headers["content-security-policy"]
        assert resp.headers["x-frame-options"] == "SAMEORIGIN"
        s.page.wait_for_timeout(500)
        child = next(f for f in s.page.frames if f != s.page.main_frame)
        assert not child.url.startswith(live_server)  # chrome-error://chromewebdata/ or about:blank
        assert s.page.frame_locator("#root").locator("#map").count() == 0
        assert any("Refused to display" in m or "frame-ancestors" in m for m in s.console), s.console
    finally:
        s.ctx.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_builder_previews_and_writes_both_snippets(browser: Any, live_server: str, lang: str) -> None:
    s = Site(browser, (live_server,))
    try:
        page = s.page
        page.goto(f"{live_server}/embed/builder?lang={lang}")
        _wait_rendered(s, "#preview")
        page.select_option("select[name=district]", "460106")
        page.check("input[name=nearest]")
        _until(lambda: "district=460106" in (page.locator("#preview").get_attribute("src") or ""))
        script = page.locator("#code-script").input_value()
        iframe = page.locator("#code-iframe").input_value()
        assert f'src="{live_server}/static/embed.js"' in script and 'data-district="460106"' in script
        assert 'data-nearest="1"' in script and script.endswith("async></script>")
        assert f'src="{live_server}/embed?category=outdoor_station&amp;district=460106' in iframe
        assert 'loading="lazy"' in iframe and 'allow="geolocation"' in iframe and 'title="' in iframe
        if lang == "en":
            assert 'data-lang="en"' in script and "Copy the code" in page.inner_text("body")
        _wait_rendered(s, "#preview")
        _until(lambda: _frame_height(page, "#preview") > 460)
        assert [m for m in s.console if "Refused" in m or "pageerror" in m] == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"embed-builder-{lang}.png"), full_page=True)
    finally:
        s.ctx.close()
