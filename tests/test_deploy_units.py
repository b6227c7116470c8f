"""The operator's kit: systemd units and log rotation render for this checkout and pass systemd's own check."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("units")
    r = subprocess.run(
        ["bash", str(ROOT / "deploy/install-systemd.sh"), "-u", "root", "-g", "root", "-l", str(out), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and "written to" in r.stdout, r.stderr
    return out


def test_units_render_with_no_placeholder_left(rendered):
    for f in rendered.iterdir():
        text = f.read_text()
        assert "@" not in text.replace("locator@", "").replace("%i", ""), f.name
    unit = (rendered / "locator@.service").read_text()
    assert f"WorkingDirectory={ROOT}" in unit and "Restart=always" in unit and "StartLimitIntervalSec=0" in unit


@pytest.mark.parametrize("unit", ["locator@8001.service", "locator.target"])
def test_systemd_analyze_verify_passes(rendered, unit):
    r = subprocess.run(["systemd-analyze", "verify", str(rendered / unit)], capture_output=True, text=True)
    problems = [line for line in (r.stdout + r.stderr).splitlines() if "locator" in line]
    assert r.returncode == 0 and not problems, problems


def test_install_refuses_without_root_or_an_output_folder():
    r = subprocess.run(["bash", str(ROOT / "deploy/install-systemd.sh"), "-x"], capture_output=True, text=True)
    assert r.returncode == 2 and "install-systemd.sh" in r.stdout
