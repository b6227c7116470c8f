"""Issue 14: one bad report must not break moderation; a bad position is refused when reported."""

from __future__ import annotations

import pytest

from locator.web.state import get_register

from .security_apps import VENUE, admin_app, csrf


@pytest.fixture
def c(register_template, tmp_path):
    return admin_app(register_template, tmp_path, REPORTS_PER_HOUR=50).test_client()


@pytest.mark.parametrize(
    ("lon", "lat"),
    [("112.5", "19.5"), ("100", "20"), ("nan", "20.03"), ("110.33", "NaN"), ("inf", "20")],
    ids=["at-sea", "outside-hainan", "nan-lon", "nan-lat", "inf"],
)
def test_a_report_with_a_bad_position_is_refused_when_made(c, lon, lat):
    r = c.post(
        f"/report/{VENUE}",
        data={"kind": "wrong_location", "lon": lon, "lat": lat, "csrf_token": csrf(c, f"/report/{VENUE}")},
    )
    assert r.status_code == 400 and 'class="error"' in r.get_data(as_text=True)
    assert get_register(c.application).store.reports() == []


def test_a_good_position_is_still_accepted(c):
    r = c.post(
        f"/report/{VENUE}",
        data={"kind": "wrong_location", "lon": "110.331", "lat": "20.031", "csrf_token": csrf(c, f"/report/{VENUE}")},
    )
    assert r.status_code == 303


def test_the_queue_shows_and_dismisses_any_stored_report(c):
    store = get_register(c.application).store
    bad = [{"lon": 112.5, "lat": 19.5}, {"lon": float("nan"), "lat": 20.0}, {"lon": "x", "lat": None}, {"lon": 1}]
    ids = [store.add_report(VENUE, "wrong_location", "", p, f"c{i}", 50) for i, p in enumerate(bad)]
    ids = [r.id for r in store.reports()]
    assert len(ids) == 4
    login = csrf(c, "/admin/login")
    c.post("/admin/login", data={"username": "ops", "password": "correct horse battery", "csrf_token": login})
    page = c.get("/admin/reports")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert all(f"#{i}" in html for i in ids) and html.count('class="error"') == 4
    token = csrf(c, "/admin/reports")
    r = c.post(f"/admin/reports/{ids[0]}", data={"decision": "accept", "csrf_token": token})
    assert r.status_code == 303 and store.get_report(ids[0]).status == "pending"  # cannot be accepted
    for i in ids:
        assert c.post(f"/admin/reports/{i}", data={"decision": "reject", "csrf_token": token}).status_code == 303
    assert [store.get_report(i).status for i in ids] == ["rejected"] * 4
    assert c.get("/admin/reports").status_code == 200
