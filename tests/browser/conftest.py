"""Browser test fixtures: the app on a real socket, Debian's Chromium via Playwright.

Every request to a host other than the app is aborted and recorded, so a test
can assert the page asked nothing of the internet (tiles are configured off).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from locator import create_app
from locator.venues import Venue
from locator.web.state import get_register

CHROMIUM = os.environ.get("LOCATOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
XSS_SCRIPT = "<script>window.__xss=1</script>站"
XSS_IMG = '<img src=x onerror="window.__xss=2">站'
SHOTS = Path(os.environ.get("LOCATOR_SHOTS", "/tmp/shots"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"browser tests need Chromium at {CHROMIUM} (set LOCATOR_CHROMIUM)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.mktemp("browser") / "locator.sqlite3"
    app = create_app({"TESTING": True, "DATABASE": str(db), "TILES": "none", "INDEX_REFRESH_SECONDS": 0})
    # Two hostile records, far from the towns the other tests search around.
    hostile = [
        Venue(
            id="xss-script",
            name=XSS_SCRIPT,
            category="other",
            district_code="469030",
            lon=109.52,
            lat=19.03,
            address="<b>addr</b>",
            phone="0898<script>",
        ),
        Venue(
            id="xss-img",
            name=XSS_IMG,
            category="other",
            district_code="469030",
            lon=109.53,
            lat=19.04,
            address='<svg onload="window.__xss=3">',
        ),
    ]
    get_register(app).store.merge(hostile, note="browser tests: hostile names")
    get_register(app).refresh()
    # The first coverage analysis (district frames, the modelled population grid) takes seconds on a
    # loaded machine: build it once here, so the page tests wait for the page, not for a cold cache.
    from locator.web.coverage import get_analyzer

    with app.app_context():
        get_analyzer(app).table(("outdoor_station",), 1000.0)
    # likewise the map's venue layer (each venue's open intervals for a week), which the first page builds
    assert app.test_client().get("/api/v1/map/venues").status_code == 200
    return app


def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yields its base URL (for a fixture to yield from)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_server(live_app: Any) -> Iterator[str]:
    yield from serve_in_thread(live_app)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageProbe:
    """A page plus what it did: console errors, page errors, foreign requests."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, path: str = "/") -> Any:
        self.page.goto(self.base + path)
        # a hang guard, not a speed check: a loaded 2-core CI machine can take seconds (speed: bench/map_load.py)
        self.page.wait_for_selector("body[data-venues]", timeout=30_000)
        return self.page


@pytest.fixture
def make_page(browser: Any, live_server: str) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None, **context_args: Any) -> PageProbe:
        ctx = browser.new_context(viewport=viewport or PHONE, service_workers="block", **context_args)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(30_000)  # hang guard for every wait; never a speed assertion
        probe = PageProbe(page, live_server)

        def route(r: Any) -> None:
            if r.request.url.startswith(live_server):
                r.continue_()
            else:
                probe.foreign.append(r.request.url)
                r.abort()

        ctx.route("**/*", route)
        return probe

    yield make
    for ctx in contexts:
        ctx.close()


#: An init script that records every Leaflet polygon and marker a page draws
#: (window.__polygons, window.__markers), so a test can read the latlngs the
#: page put on the map. Leaflet assigns window.L once; the setter hooks it then.
RECORD_LAYERS = """
(function () {
  var real;
  window.__polygons = []; window.__markers = [];
  Object.defineProperty(window, 'L', { configurable: true,
    get: function () { return real; },
    set: function (v) {
      real = v;
      if (v && v.Polygon && !v.__recorded) {
        v.__recorded = true;
        v.Polygon.addInitHook(function () { window.__polygons.push(this); });
        v.Marker.addInitHook(function () { window.__markers.push(this); });
      }
    } });
})();
"""
