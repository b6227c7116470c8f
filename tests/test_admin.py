"""Admin pages and API: authentication, CSRF, soft deletes, the audit log, public reports."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from click.testing import CliRunner
from werkzeug.security import generate_password_hash

from locator import create_app
from locator.cli import main
from locator.web.state import get_register

TOKEN = "test-token-0123456789"
VENUE = "460106-OS-036"  # an outdoor station in 龙华区 in the shipped data


@pytest.fixture
def admin_app(tmp_path):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE": str(tmp_path / "admin.sqlite3"),
            "INDEX_REFRESH_SECONDS": 0,
            "ADMIN_USERS_FILE": str(tmp_path / "users.json"),
            "ADMIN_USERS": {"ops": generate_password_hash("correct horse battery")},
            "ADMIN_TOKENS": {hashlib.sha256(TOKEN.encode()).hexdigest(): "api-bot"},
            "REPORTS_PER_HOUR": 3,
        }
    )


@pytest.fixture
def c(admin_app):
    return admin_app.test_client()


def csrf(client, url):
    html = client.get(url).get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, html[:500]
    return m.group(1)


def login(client):
    token = csrf(client, "/admin/login")
    r = client.post("/admin/login", data={"username": "ops", "password": "correct horse battery", "csrf_token": token})
    assert r.status_code == 302


def auth(token=TOKEN):
    return {"Authorization": f"Bearer {token}"}


def fresh(c, venue_id, token=TOKEN):
    """Bearer auth and ``If-Match`` with the venue's current ETag (writes require it)."""
    etag = c.get(f"/api/v1/admin/venues/{venue_id}", headers=auth(token)).headers["ETag"]
    return {**auth(token), "If-Match": etag}


def version(c, url):
    m = re.search(r'name="version" value="([^"]+)"', c.get(url).get_data(as_text=True))
    assert m
    return m.group(1)


def test_pages_need_a_login(c, admin_app):
    r = c.get("/admin/")
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]
    token = csrf(c, "/admin/login")
    r = c.post("/admin/login", data={"username": "ops", "password": "wrong", "csrf_token": token})
    assert r.status_code == 401 and "用户名或密码不对" in r.get_data(as_text=True)
    r = c.post(f"/admin/venues/{VENUE}/status", data={"status": "closed", "csrf_token": token})
    assert r.status_code == 401 and "/admin/login" in r.get_data(as_text=True)  # a page: an HTML message
    assert get_register(admin_app).store.get(VENUE).status == "active"


def test_forged_form_without_csrf_token_is_refused(c, admin_app):
    login(c)
    r = c.post(f"/admin/venues/{VENUE}/status", data={"status": "closed"})
    assert r.status_code == 403 and "CSRF" in r.get_data(as_text=True)
    r = c.post(f"/admin/venues/{VENUE}/status", data={"status": "closed", "csrf_token": "forged"})
    assert r.status_code == 403
    assert get_register(admin_app).store.get(VENUE).status == "active"
    assert get_register(admin_app).store.audit_log() == []


def test_edit_move_and_close_through_the_pages_are_audited(c, admin_app):
    login(c)
    reg = get_register(admin_app)
    before = reg.store.get(VENUE)
    token = csrf(c, f"/admin/venues/{VENUE}")
    form = {
        "csrf_token": token,
        "version": version(c, f"/admin/venues/{VENUE}"),
        "name": before.name + "（新址）",
        "category": before.category,
        "address": "新地址1号",
        "lon": "110.3350",
        "lat": "20.0310",
        "operator": before.operator,
        "phone": before.phone,
        "opening_hours": "24/7",
        "amenities": ["microwave", "toilet"],
        "description": "",
    }
    r = c.post(f"/admin/venues/{VENUE}", data=form)
    assert r.status_code == 303
    after = reg.store.get(VENUE)
    assert (after.lon, after.lat, after.opening_hours, after.amenities) == (
        110.335,
        20.031,
        "24/7",
        ("microwave", "toilet"),
    )
    assert reg.index.nearest(110.335, 20.031, 1)[0].venue.id == VENUE
    r = c.post(
        f"/admin/venues/{VENUE}/status",
        data={"status": "closed", "csrf_token": token, "version": version(c, f"/admin/venues/{VENUE}")},
    )
    assert r.status_code == 303
    assert reg.store.get(VENUE).status == "closed"  # soft delete: still there
    assert VENUE not in reg.index
    log = reg.store.audit_log(venue_id=VENUE)
    assert [e.action for e in log] == ["close", "move"]
    assert log[1].actor == "ops" and log[1].before["lon"] == before.lon and log[1].after["lon"] == 110.335
    page = c.get("/admin/audit").get_data(as_text=True)
    assert "move" in page and "close" in page and VENUE in page


def test_bad_form_input_is_shown_not_saved(c, admin_app):
    login(c)
    token = csrf(c, "/admin/venues/new")
    r = c.post(
        "/admin/venues/new",
        data={
            "csrf_token": token,
            "name": "<script>alert(1)</script>",
            "category": "outdoor_station",
            "lon": "0",
            "lat": "0",
        },
    )
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "lies outside Hainan" in html and "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert get_register(admin_app).store.audit_log() == []


def test_api_needs_a_bearer_token(c, admin_app):
    body = {"name": "测试站", "category": "outdoor_station", "lon": 110.33, "lat": 20.03}
    for headers in ({}, auth("nope"), {"Authorization": "Basic b3BzOng="}):
        r = c.post("/api/v1/admin/venues", json=body, headers=headers)
        assert r.status_code == 401 and r.content_type == "application/problem+json"
    assert c.delete(f"/api/v1/admin/venues/{VENUE}").status_code == 401
    assert get_register(admin_app).store.get(VENUE).status == "active"
    assert get_register(admin_app).store.audit_log() == []


def test_api_create_update_close(c, admin_app):
    reg = get_register(admin_app)
    r = c.post(
        "/api/v1/admin/venues",
        json={
            "name": "新建户外劳动者服务站",
            "category": "outdoor_station",
            "lon": 110.3300,
            "lat": 20.0300,
            "amenities": ["toilet"],
        },
        headers=auth(),
    )
    assert r.status_code == 201
    vid = r.get_json()["id"]
    assert r.get_json()["properties"]["district_code"] == "460106"
    r = c.patch(f"/api/v1/admin/venues/{vid}", json={"lon": 110.3310}, headers=fresh(c, vid))
    assert r.status_code == 200 and r.get_json()["geometry"]["coordinates"][0] == 110.331
    r = c.patch(f"/api/v1/admin/venues/{vid}", json={"category": "spa"}, headers=fresh(c, vid))
    assert r.status_code == 400 and r.get_json()["invalid_params"][0]["name"] == "category"
    r = c.patch(
        f"/api/v1/admin/venues/{vid}", data="not json", headers={**fresh(c, vid), "Content-Type": "application/json"}
    )
    assert r.status_code == 400
    r = c.delete(f"/api/v1/admin/venues/{vid}", headers=fresh(c, vid))
    assert r.status_code == 200 and r.get_json()["properties"]["status"] == "closed"
    assert c.get(f"/api/v1/admin/venues/{vid}", headers=auth()).get_json()["properties"]["status"] == "closed"
    assert c.get("/api/v1/admin/venues/none-such", headers=auth()).status_code == 404
    assert [e.action for e in reg.store.audit_log(venue_id=vid)] == ["close", "move", "create"]
    assert all(e.actor == "api-bot" for e in reg.store.audit_log(venue_id=vid))
    r = c.get("/api/v1/admin/audit", headers=auth())
    assert r.status_code == 200 and r.get_json()[0]["action"] == "close"


def report(c, venue=VENUE, **data):
    token = csrf(c, f"/report/{venue}")
    return c.post(f"/report/{venue}", data={"csrf_token": token, **data})


def test_public_report_is_queued_and_an_admin_accepts_it(c, admin_app):
    reg = get_register(admin_app)
    r = report(c, kind="closed", message="门锁着，已经搬走了")
    assert r.status_code == 303 and reg.store.get(VENUE).status == "active"  # nothing changes yet
    (queued,) = reg.store.reports()
    assert queued.kind == "closed" and queued.message == "门锁着，已经搬走了"
    login(c)
    page = c.get("/admin/reports").get_data(as_text=True)
    assert "门锁着" in page
    token = csrf(c, "/admin/reports")
    r = c.post(f"/admin/reports/{queued.id}", data={"decision": "accept", "csrf_token": token})
    assert r.status_code == 303
    assert reg.store.get(VENUE).status == "closed" and VENUE not in reg.index
    (entry,) = reg.store.audit_log(venue_id=VENUE)
    assert entry.action == "report-closed" and entry.actor == "ops" and f"report #{queued.id}" in entry.note
    assert reg.store.get_report(queued.id).status == "accepted"


def test_rejected_and_amenity_reports(c, admin_app):
    reg = get_register(admin_app)
    venue = reg.store.get(VENUE)
    assert "microwave" in venue.amenities
    report(c, kind="missing_amenity", amenity="microwave")
    report(c, kind="other", message="很好")
    first, second = reg.store.reports()
    login(c)
    token = csrf(c, "/admin/reports")
    c.post(f"/admin/reports/{second.id}", data={"decision": "reject", "csrf_token": token})
    c.post(f"/admin/reports/{first.id}", data={"decision": "accept", "csrf_token": token})
    assert "microwave" not in reg.store.get(VENUE).amenities
    assert reg.store.get_report(second.id).status == "rejected"
    assert [e.action for e in reg.store.audit_log()] == ["report-missing_amenity"]


def test_reports_are_validated_rate_limited_and_trap_bots(c, admin_app):
    reg = get_register(admin_app)
    r = report(c, kind="teleport")
    assert r.status_code == 400 and "unknown kind" in r.get_data(as_text=True)
    r = report(c, kind="closed", website="http://spam.example")
    assert r.status_code == 303 and reg.store.reports() == []  # the honeypot: silently dropped
    for _ in range(3):
        assert report(c, kind="closed").status_code == 303
    r = report(c, kind="closed")
    assert r.status_code == 429 and "提交太频繁" in r.get_data(as_text=True)
    assert len(reg.store.reports()) == 3
    assert c.post(f"/report/{VENUE}", data={"kind": "closed"}).status_code == 403  # no CSRF token
    assert c.get("/report/no-such-venue").status_code == 404


def test_cli_stores_only_hashes_and_the_token_works(tmp_path, monkeypatch, admin_app):
    users = tmp_path / "users.json"
    monkeypatch.setenv("LOCATOR_ADMIN_USERS_FILE", str(users))
    monkeypatch.setenv("LOCATOR_DATABASE", str(tmp_path / "admin.sqlite3"))
    runner = CliRunner()
    r = runner.invoke(main, ["admin", "add-user", "lin", "--password", "a long passphrase"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["admin", "add-user", "lin", "--password", "short"])
    assert r.exit_code == 2 and "at least 10 characters" in r.output
    r = runner.invoke(main, ["admin", "new-token", "lin"])
    token = r.output.strip()
    text = users.read_text()
    assert "a long passphrase" not in text and token not in text
    doc = json.loads(text)
    assert doc["users"]["lin"].startswith(("scrypt:", "pbkdf2:"))
    c = admin_app.test_client()
    r = c.post(
        "/api/v1/admin/venues",
        json={"name": "站", "category": "other", "lon": 110.33, "lat": 20.03},
        headers=auth(token),
    )
    assert r.status_code == 201


def test_the_writing_process_serves_its_edit_at_once(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "s",
            "DATABASE": str(tmp_path / "a.sqlite3"),
            "INDEX_REFRESH_SECONDS": 3600,
            "ADMIN_USERS_FILE": str(tmp_path / "u.json"),
            "ADMIN_TOKENS": {hashlib.sha256(TOKEN.encode()).hexdigest(): "bot"},
        }
    )
    c = app.test_client()
    assert c.delete(f"/api/v1/admin/venues/{VENUE}", headers=fresh(c, VENUE)).status_code == 200
    ids = [f["id"] for f in c.get("/api/v1/nearest?lat=20.030056&lon=110.331187&k=3").get_json()["features"]]
    assert VENUE not in ids  # no waiting for the hour-long refresh interval


def test_admin_and_report_pages_speak_english_on_request(c):
    import re as _re

    def chinese_outside(html, allowed=()):
        text = _re.sub(r"<[^>]+>", " ", html)
        for a in ("中文", *allowed):
            text = text.replace(a, "")
        return _re.findall(r"[\u4e00-\u9fff]+", text)

    assert chinese_outside(c.get("/admin/login?lang=en").get_data(as_text=True)) == []
    venue = get_register(c.application).store.get(VENUE)
    html = c.get(f"/report/{VENUE}?lang=en").get_data(as_text=True)
    assert "Report a problem" in html and "Outdoor-worker rest station" in html
    assert chinese_outside(html, (venue.name, venue.address)) == []
    login(c)
    html = c.get(f"/admin/venues/{VENUE}?lang=en").get_data(as_text=True)
    assert "Close this venue (the record is kept)" in html
    assert chinese_outside(html, (venue.name, venue.address, venue.operator, venue.description)) == []


def test_unknown_venue_is_a_404_on_pages_and_api(c):
    login(c)
    page = c.get("/admin/venues/no-such-venue")
    assert (
        page.status_code == 404
        and page.mimetype == "text/html"
        and "no venue &#39;no-such-venue&#39;" in page.get_data(as_text=True)
    )
    api = c.patch("/api/v1/admin/venues/no-such-venue", json={"name": "x"}, headers=auth())
    assert api.status_code == 404 and api.get_json()["detail"] == "no venue 'no-such-venue'"
