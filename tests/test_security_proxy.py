"""Issue 14: the real client behind the proxy (``PROXY_FIX_X_FOR``).

Behind the documented nginx every request came from 127.0.0.1, so one client
could spend everybody's rate limit and report allowance. With
``PROXY_FIX_X_FOR=N`` the app trusts ``N`` proxies' ``X-Forwarded-For`` (and
``X-Forwarded-Proto``); with the default 0 it trusts none, since a client could
otherwise pick its own address. The last test goes through ``deploy/run.sh``
itself with two clients on different loopback addresses.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from locator import create_app
from locator.web.http import ACCESS_LOGGER

from .conftest import ROOT, TEST_CONFIG

NEAREST = "/api/v1/nearest?lon=110.33&lat=20.03&k=1"


def _app(register_template: Path, tmp_path: Path, **config):
    db = tmp_path / "r.sqlite3"
    shutil.copyfile(register_template, db)
    return create_app({**TEST_CONFIG, "DATABASE": str(db), **config})


def _statuses(client, forwarded_for: str, n: int) -> list[int]:
    return [client.get(NEAREST, headers={"X-Forwarded-For": forwarded_for}).status_code for _ in range(n)]


def test_behind_one_trusted_proxy_each_client_has_its_own_limit(register_template, tmp_path):
    app = _app(register_template, tmp_path, RATELIMIT_DEFAULT="3 per minute", PROXY_FIX_X_FOR=1)
    c = app.test_client()
    assert _statuses(c, "203.0.113.7", 4) == [200, 200, 200, 429]
    assert _statuses(c, "203.0.113.8", 1) == [200]  # the proxy's own address is not what counts


def test_without_a_trusted_proxy_a_forged_header_changes_nothing(register_template, tmp_path):
    app = _app(register_template, tmp_path, RATELIMIT_DEFAULT="3 per minute")  # default: PROXY_FIX_X_FOR=0
    c = app.test_client()
    assert _statuses(c, "203.0.113.7", 3) == [200, 200, 200]
    assert _statuses(c, "203.0.113.9", 1) == [429]  # same socket address: same client


def test_only_the_trusted_hop_counts(register_template, tmp_path):
    """A client's own X-Forwarded-For entry in front of nginx's cannot choose its address."""
    app = _app(register_template, tmp_path, RATELIMIT_DEFAULT="2 per minute", PROXY_FIX_X_FOR=1)
    c = app.test_client()
    assert _statuses(c, "1.1.1.1, 203.0.113.7", 2) == [200, 200]
    assert _statuses(c, "2.2.2.2, 203.0.113.7", 1) == [429]


def test_the_access_log_names_the_real_client(register_template, tmp_path, caplog):
    app = _app(register_template, tmp_path, PROXY_FIX_X_FOR=1)
    log = logging.getLogger(ACCESS_LOGGER)
    log.addHandler(caplog.handler)
    try:
        app.test_client().get(NEAREST, headers={"X-Forwarded-For": "203.0.113.7"})
    finally:
        log.removeHandler(caplog.handler)
    assert json.loads(caplog.records[-1].getMessage())["remote"] == "203.0.113.7"


def test_a_bad_setting_stops_start_up(register_template, tmp_path):
    with pytest.raises(ValueError, match="PROXY_FIX_X_FOR.*'one'"):
        _app(register_template, tmp_path, PROXY_FIX_X_FOR="one")


def test_the_deploy_recipe_trusts_its_nginx():
    assert "LOCATOR_PROXY_FIX_X_FOR=${LOCATOR_PROXY_FIX_X_FOR:-1}" in (ROOT / "deploy" / "run.sh").read_text()
    unit = (ROOT / "deploy" / "systemd" / "locator@.service").read_text()
    assert "LOCATOR_PROXY_FIX_X_FOR=1" in unit


def _get_from(source: str, port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_through_nginx_one_clients_limit_does_not_limit_another(tmp_path):
    from .test_freshness import _free_port, _port_free

    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("deploy recipe test skipped: nginx is not installed (apt-get install nginx)")
    lb, first = _free_port(), _free_port()
    while first == lb:
        first = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "LOCATOR_PROXY_FIX_X_FOR"},  # the recipe's own default
        "LOCATOR_DATABASE": str(tmp_path / "register.sqlite3"),
        "WEB_WORKERS": "1",
        "WEB_THREADS": "2",
        "LOCATOR_RATELIMIT_DEFAULT": "3 per minute",
        "LOCATOR_ACCESS_LOG": "false",
    }
    env.pop("LOCATOR_DATABASE_URL", None)
    cmd = ["bash", str(ROOT / "deploy" / "run.sh"), "-n", "1", "-p", str(first), "-l", str(lb)]
    cmd += ["-d", str(tmp_path / "run")]
    errors = tmp_path / "run.err"  # the recipe warns there that SQLite is for one machine only
    with errors.open("w") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"ready: http://127.0.0.1:{lb}/"), line + errors.read_text()
        first_client = [_get_from("127.0.0.2", lb, NEAREST) for _ in range(4)]
        assert first_client == [200, 200, 200, 429]
        assert _get_from("127.0.0.3", lb, NEAREST) == 200  # before ProxyFix: 429, everyone was 127.0.0.1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    assert _port_free(first) or proc.returncode is not None


def test_links_from_the_host_header_vary_by_host(register_template, tmp_path):
    c = _app(register_template, tmp_path).test_client()
    r = c.get("/api/v1/collections", headers={"Host": "evil.example"})
    assert "evil.example" in r.get_data(as_text=True) and "Host" in r.headers["Vary"]
    fixed = _app(register_template, tmp_path, PUBLIC_BASE_URL="https://map.example.cn").test_client()
    r = fixed.get("/api/v1/collections", headers={"Host": "evil.example"})
    assert "evil.example" not in r.get_data(as_text=True) and "Host" not in r.headers.get("Vary", "")
