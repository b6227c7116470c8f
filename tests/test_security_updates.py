"""Issue 14: no lost updates. The admin API's ETag and If-Match (428, 412), and the edit form's version."""

from __future__ import annotations

import hashlib
import re

import pytest

from locator.web.state import get_register

from .security_apps import PASSWORD, VENUE, admin_app, csrf

TOKEN = "updates-test-token"
API = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def c(register_template, tmp_path):
    tokens = {hashlib.sha256(TOKEN.encode()).hexdigest(): "bot"}
    return admin_app(register_template, tmp_path, ADMIN_TOKENS=tokens).test_client()


def _etag(c) -> str:
    r = c.get(f"/api/v1/admin/venues/{VENUE}", headers=API)
    assert r.status_code == 200 and r.headers["ETag"].startswith('"')
    return r.headers["ETag"]


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_a_write_without_if_match_is_428_and_with_a_stale_one_412(c, method):
    body = {"json": {"address": "新地址"}} if method != "delete" else {}
    r = getattr(c, method)(f"/api/v1/admin/venues/{VENUE}", headers=API, **body)
    assert r.status_code == 428 and r.content_type == "application/problem+json"
    assert r.get_json()["invalid_params"][0]["name"] == "If-Match"
    old = _etag(c)
    assert c.patch(f"/api/v1/admin/venues/{VENUE}", json={"address": "别人改的"}, headers={**API, "If-Match": old})
    r = getattr(c, method)(f"/api/v1/admin/venues/{VENUE}", headers={**API, "If-Match": old}, **body)
    assert r.status_code == 412 and r.content_type == "application/problem+json"
    assert get_register(c.application).store.get(VENUE).address == "别人改的"  # the other change stands
    r = getattr(c, method)(f"/api/v1/admin/venues/{VENUE}", headers={**API, "If-Match": _etag(c)}, **body)
    assert r.status_code == 200 and r.headers["ETag"] == _etag(c)


def test_the_etag_changes_with_any_change_and_only_then(c):
    first = _etag(c)
    assert _etag(c) == first
    r = c.patch(f"/api/v1/admin/venues/{VENUE}", json={"phone": "0898-12345678"}, headers={**API, "If-Match": first})
    assert r.status_code == 200 and r.headers["ETag"] != first


def test_the_openapi_document_declares_if_match(c):
    doc = c.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/admin/venues/{venueId}"]["patch"]  # paths are relative to the server URL …/api/v1
    assert {"412", "428"} <= set(op["responses"])


def _login(c):
    c.post("/admin/login", data={"username": "ops", "password": PASSWORD, "csrf_token": csrf(c, "/admin/login")})


def _form(c):
    html = c.get(f"/admin/venues/{VENUE}").get_data(as_text=True)
    fields = dict(
        re.findall(r'<input (?:type="hidden" )?name="(csrf_token|version|name|lon|lat)"[^>]*value="([^"]*)"', html)
    )
    return {**fields, "category": "outdoor_station", "address": "表单地址", "amenities": []}


def test_a_stale_edit_form_is_refused_showing_both_values(c):
    _login(c)
    loaded = _form(c)
    assert loaded["version"]
    other = c.patch(
        f"/api/v1/admin/venues/{VENUE}", json={"address": "另一位管理员的地址"}, headers={**API, "If-Match": _etag(c)}
    )
    assert other.status_code == 200
    r = c.post(f"/admin/venues/{VENUE}", data=loaded)
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and "另一位管理员的地址" in html and "表单地址" in html
    assert get_register(c.application).store.get(VENUE).address == "另一位管理员的地址"
    r = c.post(f"/admin/venues/{VENUE}", data={**loaded, "version": _form(c)["version"]})
    assert r.status_code == 303 and get_register(c.application).store.get(VENUE).address == "表单地址"


def test_a_form_without_its_version_is_refused(c):
    _login(c)
    loaded = _form(c)
    del loaded["version"]
    assert c.post(f"/admin/venues/{VENUE}", data=loaded).status_code == 409


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        ("lat=+20.031234&lon=110.331187", "lat=20.03&lon=110.33"),
        ("lat=20031234e-6&lon=110331187E-6", "lat=20.03&lon=110.33"),
        ("lat=%2B20.031234&lon=110.3", "lat=20.03&lon=110.3"),
        ("lat=-20.031234", "lat=-20.03"),
        ("bbox=110.123456,19.987654,110.5,20.2&k=3", "bbox=110.12,19.98,110.5,20.2&k=3"),
        ("bbox=110.123456%2C19.987654%2C110.5%2C20.2", "bbox=110.12,19.98,110.5,20.2"),
        ("lat=20.123456x", "lat=20.12x"),
        ("q=20.123456", "q=20.123456"),
    ],
)
def test_the_access_log_cuts_every_accepted_spelling_of_a_position(query, logged):
    from locator.web.http import coarse_query

    assert coarse_query(query) == logged


def test_deeply_nested_json_to_the_admin_api_is_a_400_not_a_500(c):
    body = "[" * 100_000 + "]" * 100_000
    r = c.post("/api/v1/admin/venues", data=body, headers={**API, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.content_type == "application/problem+json"
    r = c.patch(
        f"/api/v1/admin/venues/{VENUE}",
        data='{"a":' * 50_000 + "1" + "}" * 50_000,
        headers={**API, "If-Match": _etag(c), "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.content_type == "application/problem+json"


def test_a_new_register_file_is_private(tmp_path):
    import os
    import stat

    from locator.storage.sqlite import SQLiteStore

    old = os.umask(0o022)  # a usual umask: without the fix the file would be 0644
    try:
        store = SQLiteStore(tmp_path / "new.sqlite3")
        store.version()
    finally:
        os.umask(old)
    for suffix in ("", "-wal", "-shm"):
        f = tmp_path / f"new.sqlite3{suffix}"
        if f.exists():
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    store.close()
