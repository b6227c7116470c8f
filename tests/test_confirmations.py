"""Issue 16, item 5: freshness. ``last_confirmed``, ``reported_closed`` and the card's one-tap confirmations.

Store tests run on both back ends (``target``/``store`` from ``test_store_backends``: SQLite and PostGIS);
the web tests drive ``/confirm/<id>`` and the moderation queue on a writable SQLite app.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from locator.config import CLOSED_TAPS, CLOSED_TAPS_DAYS
from locator.errors import DataError
from locator.storage import TooManyReports
from locator.web.state import get_register

from .pg import pg_server, pg_url  # noqa: F401  (fixtures)
from .security_apps import PASSWORD, VENUE, admin_app, csrf
from .test_store_backends import _raw_update, reopen, store, target, v  # noqa: F401  (fixtures)

RULE = (CLOSED_TAPS, CLOSED_TAPS_DAYS)


def _recent(iso: str | None) -> bool:
    return iso is not None and abs(datetime.fromisoformat(iso) - datetime.now(UTC)) < timedelta(minutes=5)


# -- the store, on both back ends ------------------------------------------------------------------


def test_a_confirmation_is_queued_limited_and_accepting_open_sets_last_confirmed(store):  # noqa: F811
    store.put(v("a"))
    version = store.version()
    first, marked = store.add_confirmation("a", "confirm_open", "x", 2, *RULE)
    assert marked is False and store.version() == version  # queued only: the venue is untouched
    (queued,) = store.reports()
    assert (queued.id, queued.kind, queued.status, queued.venue_id) == (first, "confirm_open", "pending", "a")
    store.add_report("a", "other", "两次", {}, client="x", max_per_hour=2)  # reports and taps share the limit
    with pytest.raises(TooManyReports, match="at most 2 an hour"):
        store.add_confirmation("a", "confirm_open", "x", 2, *RULE)
    assert store.get("a").last_confirmed is None
    store.decide_report(first, True, "lin")
    got = store.get("a")
    assert got.last_confirmed == store.get_report(first).created_at and _recent(got.last_confirmed)
    assert store.version() == version + 1 and store.changes_since(version) == (version + 1, ["a"])
    assert store.audit_log()[0].action == "review-confirm_open"
    with pytest.raises(DataError, match="already accepted"):
        store.decide_report(first, True, "lin")


def test_rejecting_an_open_confirmation_changes_nothing(store):  # noqa: F811
    store.put(v("a"))
    rid, _ = store.add_confirmation("a", "confirm_open", "x", 5, *RULE)
    version = store.version()
    store.decide_report(rid, False, "lin")
    assert store.get("a").last_confirmed is None and store.version() == version


def test_closed_taps_from_distinct_clients_mark_the_venue_until_an_admin_reviews_one(store):  # noqa: F811
    store.put(v("a"))
    version = store.version()
    taps = [store.add_confirmation("a", "confirm_closed", c, 5, 3, 14) for c in ("c1", "c2", "c2")]
    assert [m for _, m in taps] == [False, False, False]  # two distinct clients so far: not yet
    assert store.version() == version and store.get("a").reported_closed is False
    rid, marked = store.add_confirmation("a", "confirm_closed", "c3", 5, 3, 14)
    assert marked is True and store.get("a").reported_closed is True
    assert store.changes_since(version) == (version + 1, ["a"])  # the index learns of it
    assert store.add_confirmation("a", "confirm_closed", "c4", 5, 3, 14)[1] is True
    assert store.version() == version + 1  # already marked: no new version
    store.decide_report(rid, False, "lin")  # a review, whichever way: the mark comes off
    after = store.get("a")
    assert after.reported_closed is False and after.last_confirmed is None
    assert store.audit_log()[0].action == "review-confirm_closed"


def test_closed_taps_older_than_the_window_do_not_count(store, target):  # noqa: F811
    store.put(v("a"))
    for c in ("c1", "c2"):
        store.add_confirmation("a", "confirm_closed", c, 5, 3, 14)
    old = (datetime.now(UTC) - timedelta(days=15)).replace(microsecond=0).isoformat()
    _raw_update(target, "UPDATE reports SET created_at=? WHERE client='c1'", (old,))
    assert store.add_confirmation("a", "confirm_closed", "c3", 5, 3, 14)[1] is False  # c1's is 15 days old
    assert store.add_confirmation("a", "confirm_closed", "c4", 5, 3, 14)[1] is True


def test_an_audited_edit_confirms_and_bulk_writes_keep_freshness(store):  # noqa: F811
    store.put(v("a"))
    store.put(v("b"))
    for c in ("c1", "c2", "c3"):
        store.add_confirmation("b", "confirm_closed", c, 5, 3, 14)
    store.edit(v("a", address="改"), "lin", "update")
    edited = store.get("a")
    assert edited.address == "改" and _recent(edited.last_confirmed)
    assert store.audit_log()[0].after["last_confirmed"] == edited.last_confirmed
    # an import knows nothing of confirmations: it keeps them
    store.merge([v("a", address="导入"), v("b", address="导入")], note="import")
    assert store.get("a").last_confirmed == edited.last_confirmed and store.get("b").reported_closed is True
    store.replace_all([v("a"), v("b"), v("c")], note="replace")
    assert store.get("a").last_confirmed == edited.last_confirmed and store.get("b").reported_closed is True
    assert store.get("c").last_confirmed is None
    # a file that does carry a confirmation (a GeoJSON export) wins
    store.merge([v("a", last_confirmed="2026-01-02T03:04:05+00:00")])
    assert store.get("a").last_confirmed == "2026-01-02T03:04:05+00:00"
    store.edit(store.get("b"), "lin", "update")  # an admin edit is a review too
    assert store.get("b").reported_closed is False


def test_a_bad_freshness_value_is_refused():
    with pytest.raises(DataError, match="last_confirmed must be an ISO 8601 time or null, got 'yesterday'"):
        v("a", last_confirmed="yesterday")
    with pytest.raises(DataError, match="reported_closed must be true or false, got 1"):
        v("a", reported_closed=1)


# -- the web: /confirm/<id>, the queue, the API -----------------------------------------------------


@pytest.fixture
def c(register_template, tmp_path):
    return admin_app(register_template, tmp_path, REPORTS_PER_HOUR=2).test_client()


def _token(c) -> str:
    r = c.get("/report/token")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    return r.get_json()["csrf_token"]


def _tap(c, kind: str, token: str | None, venue: str = VENUE, **kw):
    headers = {"Accept": "application/json", **({"X-CSRFToken": token} if token else {})}
    return c.post(f"/confirm/{venue}", data={"kind": kind}, headers=headers, **kw)


def test_a_tap_is_rate_limited_reaches_the_queue_and_changes_last_confirmed_once_accepted(c):
    queue = get_register(c.application).store
    assert _tap(c, "open", None).status_code == 403  # no CSRF token: refused, nothing queued
    assert queue.reports() == []
    token = _token(c)
    r = _tap(c, "open", token)
    assert r.status_code == 201 and r.get_json()["reported_closed"] is False
    assert _tap(c, "problem", token).status_code == 201
    refused = _tap(c, "closed", token)  # REPORTS_PER_HOUR=2 for this client
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert "at most 2 an hour" in refused.get_json()["detail"] and refused.headers["Retry-After"] == "3600"
    assert [(q.kind, q.venue_id) for q in queue.reports()] == [("confirm_open", VENUE), ("confirm_problem", VENUE)]
    # the moderation queue shows it, marked as a confirmation
    c.post("/admin/login", data={"username": "ops", "password": PASSWORD, "csrf_token": csrf(c, "/admin/login")})
    html = c.get("/admin/reports").get_data(as_text=True)
    assert html.count("公众确认") == 2 and "尚无确认记录" in html and "最后确认时间将记为本次确认的时间" in html
    assert get_register(c.application).store.get(VENUE).last_confirmed is None
    rid = queue.reports()[0].id
    r = c.post(f"/admin/reports/{rid}", data={"decision": "accept", "csrf_token": csrf(c, "/admin/reports")})
    assert r.status_code == 303 and queue.get_report(rid).status == "accepted"
    confirmed = queue.get(VENUE).last_confirmed
    assert confirmed == queue.get_report(rid).created_at
    reg = get_register(c.application)
    reg.refresh()
    feature = c.get(f"/api/v1/collections/venues/items/{VENUE}").get_json()
    assert feature["properties"]["last_confirmed"] == confirmed
    assert feature["properties"]["reported_closed"] is False


@pytest.mark.parametrize(
    ("data", "status", "says"),
    [({"kind": "maybe"}, 400, "kind: expected one of open, closed, problem, got 'maybe'"), ({}, 400, "got ''")],
)
def test_a_bad_tap_is_a_problem_naming_the_parameter(c, data, status, says):
    r = c.post(f"/confirm/{VENUE}", data=data, headers={"X-CSRFToken": _token(c), "Accept": "application/json"})
    assert r.status_code == status and r.mimetype == "application/problem+json" and says in r.get_json()["detail"]


def test_a_tap_on_an_unknown_venue_or_with_a_large_body_is_refused(c):
    token = _token(c)
    assert _tap(c, "open", token, venue="nope").status_code == 404
    big = c.post(
        f"/confirm/{VENUE}",
        data={"kind": "open", "pad": "x" * 400},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert big.status_code == 413 and "at most 256 bytes" in big.get_json()["detail"]
    assert get_register(c.application).store.reports() == []


def test_three_clients_closed_taps_show_reported_closed_in_the_api_and_the_map_layer(register_template, tmp_path):
    app = admin_app(register_template, tmp_path, REPORTS_PER_HOUR=5)
    for n in range(CLOSED_TAPS):
        client = app.test_client()
        env = {"REMOTE_ADDR": f"10.0.0.{n + 1}"}
        token = client.get("/report/token", environ_base=env).get_json()["csrf_token"]
        r = _tap(client, "closed", token, environ_base=env)
        assert r.status_code == 201 and r.get_json()["reported_closed"] is (n + 1 == CLOSED_TAPS)
    reg = get_register(app)
    reg.refresh()
    client = app.test_client()
    props = client.get(f"/api/v1/collections/venues/items/{VENUE}").get_json()["properties"]
    assert props["reported_closed"] is True
    flagged = client.get("/api/v1/collections/venues/items?filter=reported_closed=true").get_json()
    assert [f["id"] for f in flagged["features"]] == [VENUE]
    row = next(r for r in client.get("/api/v1/map/venues").get_json()["venues"] if r[0] == VENUE)
    assert row[12:] == [None, 1]
