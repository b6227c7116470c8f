"""Installable as an app: Chromium's own installability check (manifest, icons that load, service worker)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import CHROMIUM, CHROMIUM_ARGS, PHONE

pytestmark = pytest.mark.browser


def test_chromium_finds_no_installability_error(browser: Any, live_server: str, tmp_path: Any) -> None:
    # A profile on disk, with service workers: Chromium does not install from an incognito context.
    ctx = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport=PHONE
    )
    try:
        page = ctx.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(live_server + "/")
        page.wait_for_selector("body[data-venues]")
        page.evaluate("async () => { await navigator.serviceWorker.ready; }")
        cdp = ctx.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"].endswith("/manifest.webmanifest")
        assert not manifest.get("errors"), manifest["errors"]
        found: list[Any] = []
        for _ in range(50):  # the check waits for the worker to control the page
            found = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
            if not found:
                break
            page.wait_for_timeout(100)
        assert found == []
        assert errors == []  # no /favicon.ico 404 in the console
    finally:
        ctx.close()


@pytest.mark.parametrize("path", ["/embed", "/admin/login", "/coverage"])
def test_no_favicon_404_on_other_pages(make_page, path: str) -> None:
    probe = make_page()
    failed: list[str] = []
    probe.page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    probe.page.goto(probe.base + path)
    probe.page.wait_for_load_state("load")
    probe.page.wait_for_timeout(300)
    assert failed == []
    assert [e for e in probe.errors if "favicon" in e] == []
