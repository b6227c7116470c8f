"""Honest offline beyond the map: /coverage and /report/<id> reload offline with the banner after one
visit, and a report written offline is kept, then sent with a fresh CSRF token once online."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from locator.web.state import get_register

from .conftest import PHONE, SHOTS

BANNER = {"zh": "离线 · 数据更新于 ", "en": "Offline · data from "}
QUEUED = {"zh": "已保存，联网后自动发送", "en": "Saved; it will be sent when you are back online"}

#: Waits until the service worker runs and keeps this page (the 'keep' message of static/js/offline.js).
KEPT = """async () => {
    await navigator.serviceWorker.ready;
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    for (let i = 0; i < 200; i++) {
      if (await caches.match(location.pathname + location.search)) return true;
      await wait(100);
    }
    return false;
}"""


def _venue(app: Any) -> str:
    """An ordinary active venue of the live app (not one of the hostile test records)."""
    return sorted(v.id for v in get_register(app).store.venues() if not v.id.startswith("xss-"))[0]


def _context(browser: Any) -> Any:
    ctx = browser.new_context(viewport=PHONE)  # service workers allowed (make_page blocks them)
    ctx.set_default_timeout(30_000)  # hang guard, never a speed assertion
    return ctx


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page_kind", ["coverage", "report"])
def test_offline_reload_shows_the_banner(browser: Any, live_server: str, live_app: Any, page_kind, lang) -> None:
    path = "/coverage" if page_kind == "coverage" else f"/report/{_venue(live_app)}"
    ctx = _context(browser)
    try:
        page = ctx.new_page()
        page.goto(f"{live_server}{path}?lang={lang}")
        assert page.locator("#offline").is_hidden()
        if page_kind == "coverage":
            page.wait_for_load_state("networkidle")  # its layers loaded: the worker is asked to keep them too
        assert page.evaluate(KEPT)  # one visit: the page asked the worker to keep it
        ctx.set_offline(True)
        page.reload()
        banner = page.locator("#offline")
        banner.wait_for(state="visible")
        text = banner.inner_text()
        assert text.startswith(BANNER[lang]) and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d$", text), text
        assert page.locator("html").get_attribute("lang") == ("en" if lang == "en" else "zh-CN")
        if page_kind == "coverage":
            assert page.locator("#table tbody tr").count() > 10  # the whole page, not an error page
        else:
            assert page.locator("form[data-queue] button[type=submit]").is_enabled()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"phone-{lang}-offline-{page_kind}.png"))
        ctx.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        assert banner.is_hidden()
    finally:
        ctx.close()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_report_written_offline_is_sent_when_back_online(
    browser: Any, live_server: str, live_app: Any, lang: str
) -> None:
    venue = _venue(live_app)
    store = get_register(live_app).store
    message = f"离线时写的报告（{lang}）：门锁着"
    ctx = _context(browser)
    try:
        page = ctx.new_page()
        page.goto(f"{live_server}/report/{venue}?lang={lang}")
        assert page.evaluate(KEPT)
        # the session that issued the page's token ends: the kept page's token is no good any more
        ctx.clear_cookies()
        ctx.set_offline(True)
        page.reload()
        page.locator("#offline").wait_for(state="visible")
        page.check("input[name=kind][value=closed]")
        page.fill("textarea[name=message]", message)
        page.click("form[data-queue] button[type=submit]")
        queued = page.locator('[data-state="queued"]')
        queued.wait_for(state="visible")
        assert queued.inner_text() == QUEUED[lang]
        assert page.locator("form[data-queue] button[type=submit]").is_disabled()
        assert not [r for r in store.reports() if r.message == message]  # still only in the browser
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"phone-{lang}-report-queued.png"))

        # a reload while still offline keeps it (and says so)
        page.reload()
        page.locator('[data-state="queued"]').wait_for(state="visible")

        ctx.set_offline(False)
        try:  # Chromium may fire 'online' itself, and the sent report already navigates to the thanks page
            page.evaluate("window.dispatchEvent(new Event('online'))")
        except PlaywrightError as exc:
            assert "context was destroyed" in str(exc)
        page.wait_for_url(re.compile(r"/report/thanks"))
        sent = [r for r in store.reports() if r.message == message]
        assert [(r.venue_id, r.kind, r.status) for r in sent] == [(venue, "closed", "pending")]
        assert page.evaluate("localStorage.getItem('locator-report-queue-v1')") == "[]"
    finally:
        ctx.close()


@pytest.mark.browser
def test_a_kept_report_is_sent_from_the_map_page_too(browser: Any, live_server: str, live_app: Any) -> None:
    """A courier who wrote a report offline and later opens only the map still gets it sent."""
    venue = _venue(live_app)
    store = get_register(live_app).store
    message = "离线时写的报告，之后只打开了地图"
    ctx = _context(browser)
    try:
        page = ctx.new_page()
        page.goto(f"{live_server}/report/{venue}")
        assert page.evaluate(KEPT)
        ctx.set_offline(True)
        page.check("input[name=kind][value=closed]")
        page.fill("textarea[name=message]", message)
        page.click("form[data-queue] button[type=submit]")
        page.locator('[data-state="queued"]').wait_for(state="visible")
        page.close()
        ctx.set_offline(False)
        page = ctx.new_page()
        page.goto(f"{live_server}/")
        page.wait_for_function("() => localStorage.getItem('locator-report-queue-v1') === '[]'")
        assert page.url.rstrip("/") == live_server  # the map stays: no jump to the thanks page
        sent = [r for r in store.reports() if r.message == message]
        assert [(r.venue_id, r.kind, r.status) for r in sent] == [(venue, "closed", "pending")]
    finally:
        ctx.close()


def test_the_fresh_token_is_bound_to_its_session(app: Any) -> None:
    """/report/token gives the caller a token for its own session, never cached; a post carrying a token
    from another session, or none, is still refused, so the queue opens no way around CSRF."""
    venue = _venue(app)
    mine, other = app.test_client(), app.test_client()
    r = mine.get("/report/token")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    token = r.get_json()["csrf_token"]
    assert other.post(f"/report/{venue}", data={"kind": "closed", "csrf_token": token}).status_code == 403
    assert mine.post(f"/report/{venue}", data={"kind": "closed"}).status_code == 403
    sent = mine.post(f"/report/{venue}", data={"kind": "closed", "csrf_token": token})
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/report/thanks")


def _report_page(browser: Any, live_server: str, venue: str, lang: str = "zh") -> tuple[Any, Any]:
    ctx = _context(browser)
    page = ctx.new_page()
    page.goto(f"{live_server}/report/{venue}?lang={lang}")
    page.wait_for_load_state("networkidle")
    return ctx, page


@pytest.mark.browser
def test_online_the_form_posts_as_before_and_shows_the_servers_refusal(
    browser: Any, live_server: str, live_app: Any
) -> None:
    venue, store = _venue(live_app), get_register(live_app).store
    ctx, page = _report_page(browser, live_server, venue)
    try:
        page.check("input[name=kind][value=other]")  # "other" needs a message: the server refuses it
        page.click("form[data-queue] button[type=submit]")
        page.locator("p.error[role=alert]:not([data-state])").wait_for(state="visible")
        assert "message" in page.locator("p.error[role=alert]:not([data-state])").inner_text()
        message = "在线提交：饮水机坏了"
        page.fill("textarea[name=message]", message)
        page.click("form[data-queue] button[type=submit]")
        page.wait_for_url(re.compile(r"/report/thanks"))
        assert [r.kind for r in store.reports() if r.message == message] == ["other"]
    finally:
        ctx.close()


@pytest.mark.browser
def test_a_post_that_fails_while_the_browser_thinks_it_is_online_is_kept(
    browser: Any, live_server: str, live_app: Any
) -> None:
    venue, store = _venue(live_app), get_register(live_app).store
    message = "网络时断时续时写的报告"
    ctx, page = _report_page(browser, live_server, venue)
    try:

        def lost(route: Any) -> None:  # the post never arrives; the page's own loads do
            route.abort() if route.request.method == "POST" else route.continue_()

        page.route(f"**/report/{venue}", lost)
        page.fill("textarea[name=message]", message)
        page.click("form[data-queue] button[type=submit]")
        page.locator('[data-state="queued"]').wait_for(state="visible")
        assert page.evaluate("navigator.onLine") is True
        assert not [r for r in store.reports() if r.message == message]
        page.unroute(f"**/report/{venue}", lost)
        page.reload()  # the next visit sends it
        page.wait_for_url(re.compile(r"/report/thanks"))
        assert [r.kind for r in store.reports() if r.message == message] == ["closed"]
    finally:
        ctx.close()


@pytest.mark.browser
def test_a_kept_report_the_server_refuses_is_shown_and_leaves_the_queue(
    browser: Any, live_server: str, live_app: Any
) -> None:
    ctx, page = _report_page(browser, live_server, _venue(live_app), "en")
    try:
        ctx.set_offline(True)
        page.check("input[name=kind][value=other]")  # no message: refused once it arrives
        page.click("form[data-queue] button[type=submit]")
        page.locator('[data-state="queued"]').wait_for(state="visible")
        ctx.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        refused = page.locator('[data-state="refused"]')
        refused.wait_for(state="visible")
        assert refused.inner_text().startswith("The report was not sent: ") and "message" in refused.inner_text()
        assert page.locator("form[data-queue] button[type=submit]").is_enabled()  # to correct and send again
        assert page.evaluate("localStorage.getItem('locator-report-queue-v1')") == "[]"
    finally:
        ctx.close()


META_DESCRIPTION = re.compile(r'<meta name="description" content="([^"]{12,})">')


@pytest.mark.parametrize(
    ("url", "english"),
    [
        ("/report/{venue}", "Tell the trade union about a problem with"),
        ("/report/thanks", "Your problem report has been sent"),
        ("/admin/login", "Sign in to administer"),
        ("/coverage/district/460106?n=0", "Service-radius coverage report"),
        ("/api/v1/?f=html", "OGC API Features service"),
        ("/api/v1/collections?f=html", "OGC API Features service"),
    ],
)
def test_the_form_admin_and_ogc_pages_have_a_meta_description(client: Any, app: Any, url: str, english: str) -> None:
    url = url.format(venue=_venue(app))
    zh = META_DESCRIPTION.search(client.get(url).get_data(as_text=True))
    en = META_DESCRIPTION.search(client.get(url + ("&" if "?" in url else "?") + "lang=en").get_data(as_text=True))
    assert zh and re.search(r"[\u4e00-\u9fff]", zh.group(1)), url
    assert en and en.group(1).startswith(english), (url, en and en.group(1))
