"""Issue 14: login throttling, equal work for unknown names, sessions that end, tokens that can be revoked."""

from __future__ import annotations

import json
import logging
import stat
from multiprocessing import get_context
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.security import generate_password_hash

from locator.cli import main
from locator.io import accounts
from locator.web import auth
from locator.web.state import app_state

from .security_apps import PASSWORD, admin_app, csrf


@pytest.fixture
def sec_app(register_template, tmp_path):
    return admin_app(register_template, tmp_path, SECRET_KEY="s")


@pytest.fixture
def users(sec_app, tmp_path: Path) -> Path:
    return tmp_path / "users.json"


def _csrf(client, url="/admin/login"):
    return csrf(client, url)


def _login(client, name="ops", password=PASSWORD, next_=None, **kw):
    url = "/admin/login" + (f"?next={next_}" if next_ is not None else "")
    return client.post(url, data={"username": name, "password": password, "csrf_token": _csrf(client)}, **kw)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_11th_failed_login_for_a_name_gets_429_with_retry_after(sec_app, caplog):
    clock = Clock()
    app_state(sec_app).login_throttle = auth.LoginThrottle(clock=clock)
    c = sec_app.test_client()
    with caplog.at_level(logging.WARNING, logger=auth.AUTH_LOGGER):
        codes = [
            _login(c, password="guess", environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code for i in range(10)
        ]
    assert codes == [401] * 10
    failures = [json.loads(r.getMessage()) for r in caplog.records if r.name == auth.AUTH_LOGGER]
    assert len(failures) == 10 and failures[0] == {"event": "login_failed", "user": "ops", "client": "10.0.0.0"}
    r = _login(c, environ_base={"REMOTE_ADDR": "10.0.0.99"})  # even the right password, from a new client
    assert r.status_code == 429 and r.headers["Retry-After"] == str(auth.LOGIN_WINDOW)
    clock.now += auth.LOGIN_WINDOW + 1  # the failures age out
    assert _login(c, environ_base={"REMOTE_ADDR": "10.0.0.99"}).status_code == 302


def test_one_client_guessing_many_names_is_throttled_too(sec_app):
    app_state(sec_app).login_throttle = auth.LoginThrottle(clock=Clock())
    c = sec_app.test_client()
    assert [_login(c, name=f"user{i}", password="x").status_code for i in range(10)] == [401] * 10
    assert _login(c).status_code == 429
    other = sec_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert _login(other).status_code == 302  # another client, a name with no failures


def test_known_and_unknown_names_cost_one_hash_check_of_the_same_method(users, monkeypatch):
    """Equal time by construction: the same function on a hash of the same method and cost (timing: bench/login.py)."""
    calls: list[str] = []
    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda h, p: calls.append(h.split("$")[0]) or real(h, p))
    known = accounts.read_credentials(users)["users"]["ops"]
    assert accounts.check_password(known, "wrong") is False
    assert accounts.check_password(None, "wrong", like=known) is False
    assert len(calls) == 2 and calls[0] == calls[1]
    pbkdf2 = generate_password_hash("x", method="pbkdf2:sha256:1000")
    calls.clear()
    accounts.check_password(None, "wrong", like=pbkdf2)
    assert calls == ["pbkdf2:sha256:1000"]


def test_logout_ends_the_session_even_for_a_copied_cookie(sec_app):
    c = sec_app.test_client()
    assert _login(c).status_code == 302
    cookie = c.get_cookie("session").value
    thief = sec_app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/admin/").status_code == 200
    r = c.post("/admin/logout", data={"csrf_token": _csrf(c, "/admin/")})
    assert r.status_code == 302
    assert thief.get("/admin/").status_code == 302  # back to the login page


def test_removing_a_user_or_changing_the_password_ends_its_sessions(sec_app, users, monkeypatch):
    monkeypatch.setenv("LOCATOR_ADMIN_USERS_FILE", str(users))
    c = sec_app.test_client()
    _login(c)
    assert c.get("/admin/").status_code == 200
    runner = CliRunner()
    assert runner.invoke(main, ["admin", "add-user", "ops", "--password", "another long one"]).exit_code == 0
    assert c.get("/admin/").status_code == 302
    _login(c, password="another long one")
    token = runner.invoke(main, ["admin", "new-token", "ops"]).output.strip()
    api = {"Authorization": f"Bearer {token}"}
    assert c.get("/api/v1/admin/audit", headers=api).status_code == 200
    r = runner.invoke(main, ["admin", "remove-user", "ops"])
    assert (r.exit_code, r.output) == (0, "user 'ops' removed, with 1 token(s); its sessions have ended\n")
    assert c.get("/admin/").status_code == 302
    assert c.get("/api/v1/admin/audit", headers=api).status_code == 401
    r = runner.invoke(main, ["admin", "remove-user", "ops"])
    assert (r.exit_code, r.output.strip()) == (1, "locator: error: no admin user 'ops' in the users file")


def test_revoke_token_and_tokens_only_for_existing_users(sec_app, users, monkeypatch):
    monkeypatch.setenv("LOCATOR_ADMIN_USERS_FILE", str(users))
    runner = CliRunner()
    r = runner.invoke(main, ["admin", "new-token", "nobody"])
    assert r.exit_code == 1 and "no admin user 'nobody'" in r.output
    token = runner.invoke(main, ["admin", "new-token", "ops"]).output.strip()
    c = sec_app.test_client()
    assert c.get("/api/v1/admin/audit", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert runner.invoke(main, ["admin", "revoke-token", "ops"]).output == "1 token(s) of 'ops' revoked\n"
    assert c.get("/api/v1/admin/audit", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert runner.invoke(main, ["admin", "revoke-token", "ops"]).exit_code == 1


def test_the_session_cookie_is_lax_httponly_and_secure_over_https(register_template, tmp_path):
    app = admin_app(register_template, tmp_path, PROXY_FIX_X_FOR=1, SECRET_KEY="s")
    plain = _login(app.test_client()).headers["Set-Cookie"]
    assert "SameSite=Lax" in plain and "HttpOnly" in plain and "Secure" not in plain
    c = app.test_client()
    _csrf(c)
    r = c.post(
        "/admin/login",
        data={"username": "ops", "password": PASSWORD, "csrf_token": _csrf(c)},
        headers={
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.1",
            "Referer": "https://localhost/admin/login",
        },
    )
    assert r.status_code == 302 and "; Secure" in r.headers["Set-Cookie"]


@pytest.mark.parametrize("next_", ["/admin/%0d%0aSet-Cookie:x=1", "/admin%0a", "//evil.example/admin", "/admin\\x"])
def test_a_bad_next_is_ignored_not_a_500(sec_app, next_):
    r = _login(sec_app.test_client(), next_=next_)
    assert r.status_code == 302 and r.headers["Location"] == "/admin/"


def test_a_good_next_is_followed(sec_app):
    assert _login(sec_app.test_client(), next_="/admin/audit?page=2").headers["Location"] == "/admin/audit?page=2"


def _read_key(folder: str) -> str:
    return accounts.secret_key(folder)


def test_the_secret_key_is_made_once_when_processes_race(tmp_path):
    with get_context("fork").Pool(8) as pool:
        keys = pool.map(_read_key, [str(tmp_path / "inst")] * 32)
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert stat.S_IMODE((tmp_path / "inst" / "secret_key").stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "inst").iterdir()) == ["secret_key"]  # no temporary file left
