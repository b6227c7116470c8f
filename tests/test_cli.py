"""The `locator` command line: exit codes together with output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from locator.cli import main


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCATOR_DATABASE", str(tmp_path / "cli.sqlite3"))
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_nearest_table(cli):
    r = cli("nearest", "--lat", "20.03", "--lon", "110.33", "-k", "3", "--category", "outdoor_station")
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert lines[0].split()[:3] == ["#", "metres", "id"]
    assert len(lines) == 4 and all("户外劳动者服务站" in line for line in lines[1:])


def test_nearest_json_and_geojson_agree(cli):
    j = json.loads(cli("nearest", "--lat", "19.2", "--lon", "109.7", "-k", "4", "--format", "json").output)
    g = json.loads(cli("nearest", "--lat", "19.2", "--lon", "109.7", "-k", "4", "--format", "geojson").output)
    assert [x["id"] for x in j] == [f["id"] for f in g["features"]]
    assert [x["distance_m"] for x in j] == sorted(x["distance_m"] for x in j)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nearest", "--lat", "95", "--lon", "110"], "lat"),
        (["nearest", "--lat", "nan", "--lon", "110"], "must be finite"),
        (["nearest", "--lat", "abc", "--lon", "110"], "'abc' is not a valid float"),
        (["nearest", "--lat", "20"], "Missing option '--lon'"),
        (["nearest", "--lat", "20", "--lon", "110", "-k", "0"], "0 is not in the range"),
        (["nearest", "--lat", "20", "--lon", "110", "--category", "spa"], "unknown category 'spa'"),
        (["nearest", "--lat", "20", "--lon", "110", "--format", "xml"], "'xml' is not one of"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_bad_arguments_give_one_line_and_nonzero_exit(cli, args, message):
    r = cli(*args)
    assert r.exit_code != 0
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("locator: error:"), r.output
    assert message in lines[0]


def test_data_check_prints_published_counts(cli):
    r = cli("data", "check")
    assert r.exit_code == 0, r.output
    rows = {line.split()[0]: line.split() for line in r.output.splitlines() if line.strip()}
    expected = {
        "workers_home": 656,
        "reading_room": 1268,
        "service_center": 103,
        "outdoor_station": 262,
        "innovation_studio": 157,
        "other": 175,
        "total": 2621,
    }
    for code, n in expected.items():
        assert rows[code][-2:] == [str(n), str(n)]
    assert "ok: every venue" in r.output


def test_data_check_fails_on_a_venue_outside_its_district(tmp_path, monkeypatch):
    from .conftest import feature, write_collection

    seed = write_collection(tmp_path / "seed.geojson", [feature(vid="x", lon=109.5, lat=18.25, district="460106")])
    monkeypatch.setenv("LOCATOR_DATABASE", str(tmp_path / "bad.sqlite3"))
    monkeypatch.setenv("LOCATOR_SEED_VENUES", str(seed))
    r = CliRunner().invoke(main, ["data", "check"])
    assert r.exit_code == 1
    assert "venue 'x' (109.5, 18.25) lies outside its district 460106" in r.output
    assert "locator: error: 1 problem(s) found" in r.output


def test_bad_seed_file_is_one_line(tmp_path, monkeypatch):
    seed = tmp_path / "broken.geojson"
    seed.write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("LOCATOR_DATABASE", str(tmp_path / "b.sqlite3"))
    monkeypatch.setenv("LOCATOR_SEED_VENUES", str(seed))
    r = CliRunner().invoke(main, ["data", "check"])
    assert r.exit_code == 1
    assert r.output.strip().count("\n") == 0 and "is not valid JSON" in r.output


def test_console_script_is_installed_and_has_no_traceback(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "locator.cli", "nearest", "--lat", "x", "--lon", "1"],
        capture_output=True,
        text=True,
        env={"PATH": "", "LOCATOR_DATABASE": str(tmp_path / "s.sqlite3")},
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and r.stderr.startswith("locator: error:")


def test_help_documents_the_exit_statuses(cli):
    r = cli("--help")
    assert r.exit_code == 0
    assert "Exit status: 0 success; 1 an error" in " ".join(r.output.split())
    assert "2 a usage error" in " ".join(r.output.split())


def test_rollback_to_an_unknown_version_is_one_line_and_exit_1(cli):
    r = cli("rollback", "99")
    assert r.exit_code == 1
    assert r.output.strip() == "locator: error: no register version 99 (kept versions: none)"


def test_the_cli_runs_without_the_web_layer(tmp_path):
    """CLI and web are siblings: a command must not even import ``locator.web``."""
    code = (
        "import sys\n"
        "from locator.cli import main\n"
        "try:\n"
        "    main(['nearest', '--lat', '20.03', '--lon', '110.33', '-k', '1', '--format', 'json'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(sorted(m for m in sys.modules if m.startswith('locator.web')))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PATH": "", "LOCATOR_DATABASE": str(tmp_path / "w.sqlite3")},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"
    assert '"distance_m"' in r.stdout


# The layers (no cli -> web import, no cycles, no private names across modules) are import-linter's
# contracts in .importlinter, checked by `make lint`; this file tests behaviour.


# -- configuration: the CLI reads exactly what the server reads ---------------------------


def test_load_config_layers_defaults_instance_file_environment_then_overrides(tmp_path, monkeypatch):
    from locator.config import load_config

    (tmp_path / "config.py").write_text('TILES = "amap"\nDATABASE = "/from/file.sqlite3"\nCACHE_MAX_AGE = 5\n')
    monkeypatch.setenv("LOCATOR_CACHE_MAX_AGE", "7")
    cfg = load_config(tmp_path, {"TILES": "none"})
    assert (cfg["TILES"], cfg["DATABASE"], cfg["CACHE_MAX_AGE"]) == ("none", "/from/file.sqlite3", 7)
    assert cfg["RATELIMIT_STRATEGY"] == "fixed-window"  # a default nobody overrode
    assert str(cfg.root_path) == str(tmp_path)


def test_the_app_and_the_cli_agree_on_the_instance_folder_and_the_config(tmp_path, monkeypatch):
    from flask import Flask

    from locator import create_app
    from locator.config import instance_path, load_config

    monkeypatch.setenv("LOCATOR_DATABASE", str(tmp_path / "same.sqlite3"))
    monkeypatch.setenv("LOCATOR_TILES", "none")
    app = create_app()
    assert app.instance_path == instance_path() == Flask("locator.web.app", instance_relative_config=True).instance_path
    cfg = load_config()
    assert cfg["SECRET_KEY"] == "dev-only-not-secret" != app.config["SECRET_KEY"]  # the app makes a real one
    assert {k: app.config[k] for k in cfg if k != "SECRET_KEY"} == {k: v for k, v in cfg.items() if k != "SECRET_KEY"}
    assert (cfg["DATABASE"], cfg["TILES"]) == (str(tmp_path / "same.sqlite3"), "none")


def test_commands_read_the_instance_config_file(tmp_path, monkeypatch):
    from locator import config

    from .conftest import feature, write_collection

    seed = write_collection(tmp_path / "seed.geojson", [feature(vid="only", name="唯一站")])
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(f"SEED_VENUES = {str(seed)!r}\n")
    monkeypatch.setattr(config, "instance_path", lambda: str(instance))
    r = CliRunner().invoke(main, ["nearest", "--lat", "20.03", "--lon", "110.33", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert [v["id"] for v in json.loads(r.output)] == ["only"]
    assert (instance / "locator.sqlite3").exists()  # the default register lives in the instance folder


# -- admin credentials --------------------------------------------------------------------


def test_admin_commands_store_only_hashes_with_mode_0600(tmp_path, monkeypatch):
    import stat

    from locator.io.accounts import check_password, read_credentials, token_name

    users = tmp_path / "users.json"
    monkeypatch.setenv("LOCATOR_ADMIN_USERS_FILE", str(users))
    runner = CliRunner()
    r = runner.invoke(main, ["admin", "add-user", "lin", "--password", "a long passphrase"])
    assert (r.exit_code, r.output) == (0, "user 'lin' saved (password stored as a salted hash)\n")
    r = runner.invoke(main, ["admin", "add-user", "lin", "--password", "too short"])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        "locator: error: Invalid value for '--password': must be at least 10 characters"
    ]
    r = runner.invoke(main, ["admin", "new-token", "lin"])  # tokens only for existing users (issue 14)
    assert r.exit_code == 0
    token = r.output.strip()
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    text = users.read_text()
    assert "a long passphrase" not in text and token not in text
    creds = read_credentials(users)
    assert check_password(creds["users"]["lin"], "a long passphrase")
    assert not check_password(creds["users"]["lin"], "a long passphrasE")
    assert not check_password(None, "a long passphrase")
    assert token_name(creds["tokens"], token) == "lin" and token_name(creds["tokens"], token + "x") is None


def test_secret_key_is_made_once_per_instance_folder_and_kept_private(tmp_path):
    import stat

    from locator.io.accounts import secret_key

    first = secret_key(tmp_path / "inst")
    assert len(first) == 64 and secret_key(tmp_path / "inst") == first != secret_key(tmp_path / "other")
    assert stat.S_IMODE((tmp_path / "inst" / "secret_key").stat().st_mode) == 0o600
