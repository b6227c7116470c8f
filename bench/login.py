"""Benchmark: a failed login for a known user name against one for an unknown name (issue 14).

Run: .venv/bin/python bench/login.py [--rounds 10]

Times ``POST /admin/login`` with a wrong password for an existing user and for
a name that does not exist, interleaved, on one app (login throttling off:
a fresh throttle each attempt), and prints each median and their ratio. The
two should match within 20 %: an unknown name is checked against a dummy hash
of the same method and cost as the known users' hashes.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from locator import create_app  # noqa: E402
from locator.io.accounts import set_password  # noqa: E402
from locator.web.auth import LoginThrottle  # noqa: E402
from locator.web.state import app_state  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        users = Path(tmp) / "users.json"
        set_password(users, "ops", "correct horse battery")
        app = create_app(
            {"DATABASE": str(Path(tmp) / "r.sqlite3"), "ADMIN_USERS_FILE": str(users), "ACCESS_LOG": False}
        )
        client = app.test_client()
        html = client.get("/admin/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        times: dict[str, list[float]] = {"known": [], "unknown": []}
        for _ in range(args.rounds + 1):  # the first round warms up (the dummy hash is made once)
            for kind, name in (("known", "ops"), ("unknown", "nobody-here")):
                app_state(app).login_throttle = LoginThrottle()
                t0 = time.perf_counter()
                r = client.post("/admin/login", data={"username": name, "password": "wrong", "csrf_token": token})
                times[kind].append(time.perf_counter() - t0)
                assert r.status_code == 401, r.status_code
        known, unknown = (statistics.median(times[k][1:]) for k in ("known", "unknown"))
        print(
            f"failed login, median of {args.rounds}: "
            f"known name {known * 1000:.1f} ms, unknown name {unknown * 1000:.1f} ms"
        )
        print(f"unknown / known = {unknown / known:.3f} (equal within 20 %: {abs(unknown / known - 1) <= 0.2})")


if __name__ == "__main__":
    main()
