"""schemathesis against a live server: the published OpenAPI document and the server agree (issue 17).

The app runs under gunicorn as ``locator serve`` runs it (its worker class, 2 workers × 2
threads) on a free loopback port, on a throwaway register, with one admin token. schemathesis'
command line (``st run``, as anyone would run it on the published document) then tests every
public operation, and every admin operation with the bearer token, with every check (``--checks
all``: no 5xx, statuses, media types, headers and bodies as documented, valid requests accepted
and invalid ones refused, auth enforced), in all its phases (the documented examples, boundary
values, generated requests, and sequences of calls along the document's links). Bounded: at
most :data:`MAX_EXAMPLES` generated requests per operation.

``tests/schemathesis.toml`` holds the run's settings and says why each departs from the default;
``tests/schemathesis_hooks.py`` keeps the generated valid requests valid where OpenAPI 3.0
cannot say what valid is (a CQL2 filter, a bbox's axis order, a point on land, the current ETag).

schemathesis is a test extra (``pip install -e '.[test]'``); the test is skipped without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT

pytest.importorskip("schemathesis")

pytestmark = pytest.mark.slow

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))
"""Generated requests per operation and phase (the examples and boundary values come on top)."""
BIN = Path(sys.executable).parent
TOKEN = "schemathesis-test-token"
HERE = Path(__file__).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
            return bool(json.loads(r.read())["status"] == "ready")
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app under gunicorn on a throwaway register; yields the API's root URL."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    env = {
        **os.environ,
        "LOCATOR_DATABASE": str(tmp / "register.sqlite3"),
        "LOCATOR_ADMIN_TOKENS": json.dumps({hashlib.sha256(TOKEN.encode()).hexdigest(): "schemathesis"}),
        "LOCATOR_RATELIMIT_ENABLED": "false",
        "LOCATOR_ACCESS_LOG": "false",
    }
    env.pop("LOCATOR_DATABASE_URL", None)
    port = _free_port()
    argv = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "2"]
    argv += ["--worker-class", "locator.web.worker.HeaderBufferingWorker", "--chdir", str(ROOT)]
    argv += ["--log-level", "warning", "locator:create_app()"]
    proc = subprocess.Popen(argv, env=env, cwd=tmp, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _ready(port):
            assert proc.poll() is None, f"gunicorn exited with {proc.returncode}"
            assert time.monotonic() < deadline, "the server was not ready in 60 s"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/api/v1"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def schemathesis(base: str, tmp_path: Path, *args: str) -> str:
    """``st run`` on the published document with every check; its output, asserting it found nothing."""
    argv = [str(BIN / "st"), "--no-color", "--config-file", str(HERE / "schemathesis.toml"), "run"]
    # One worker: with two, Hypothesis may describe a strategy in both threads at once, and CPython
    # 3.11's ast.parse is not thread-safe ("SystemError: AST constructor recursion depth mismatch").
    argv += [f"{base}/openapi.json", "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--workers", "1"]
    argv += ["--seed", os.environ.get("SCHEMATHESIS_SEED", "17"), *args]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
        "LOCATOR_ST_BASE": base,
        "LOCATOR_ST_TOKEN": TOKEN,
    }
    done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-12000:]
    return out


def _tested(out: str) -> int:
    """How many operations the run says it tested."""
    line = next(line for line in out.splitlines() if line.strip().startswith("Tested:"))
    return int(line.split(":")[1])


def test_the_public_api_conforms_to_its_document(server: str, tmp_path: Path) -> None:
    out = schemathesis(server, tmp_path, "--exclude-path-regex", "^/admin")
    assert _tested(out) >= 20, out[-3000:]


def test_the_admin_api_conforms_to_its_document(server: str, tmp_path: Path) -> None:
    """Writes go to the throwaway register, with the bearer token (``ignored_auth`` also tries without).

    All checks but ``use_after_free`` (a deleted resource must be gone): DELETE closes a venue, a
    soft delete as the document says ("the record and its history stay"), so the admin API still
    answers GET with the closed venue, by design.
    """
    token = f"Authorization: Bearer {TOKEN}"
    out = schemathesis(
        server, tmp_path, "--include-path-regex", "^/admin", "-H", token, "--exclude-checks", "use_after_free"
    )
    assert _tested(out) == 7, out[-3000:]
