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
