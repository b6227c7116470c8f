"""The hard per-request deadline (issue 13, item 5): a read past it gets 503 problem+json, the worker lives on.

The watchdog's bookkeeping is tested with an injected clock and interrupt;
the app tests run real requests on an app whose deadline is a fraction of a
second, against routes added for the test that would otherwise run for
``HANG`` seconds (a Python loop, a loop of shapely calls, a loop that
swallows the first interruption). Nothing asserts a speed: the routes stop
themselves after ``HANG`` so that a broken deadline fails instead of hanging.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
import shapely
from flask import Flask

from locator import create_app
from locator.web.deadline import REFIRE_S, DeadlineExceeded, Watchdog, watchdog_of

from .conftest import TEST_CONFIG

HANG = 20.0
LIMIT = 0.3


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_watchdog_interrupts_only_past_the_deadline_and_again_when_swallowed() -> None:
    clock, calls = Clock(), []
    dog = Watchdog(10.0, clock=clock, interrupt=lambda ident, exc: calls.append((ident, exc)) or 1, thread=False)
    dog.arm(1)
    dog.arm(2)
    clock.now += 9.9
    assert dog.sweep() == [] and calls == []
    clock.now += 0.2
    assert dog.sweep() == [1, 2] and calls == [(1, DeadlineExceeded), (2, DeadlineExceeded)]
    dog.handled(1)  # its handler answered: never again
    clock.now += REFIRE_S
    assert dog.sweep() == [2]  # 2 swallowed it: raised once more
    dog.disarm(2)
    assert calls[-1] == (2, None)  # a pending exception is withdrawn when the request ends
    dog.disarm(1)
    assert dog.sweep() == [] and dog.fired == 3


def test_a_request_ending_in_time_is_never_interrupted() -> None:
    clock, calls = Clock(), []
    dog = Watchdog(1.0, clock=clock, interrupt=lambda ident, exc: calls.append((ident, exc)) or 1, thread=False)
    dog.arm(7)
    clock.now += 0.5
    dog.disarm(7)
    clock.now += 5
    assert dog.sweep() == [] and calls == []


def test_a_thread_inside_an_import_is_interrupted_only_after_it() -> None:
    clock, calls, busy = Clock(), [], {5}
    dog = Watchdog(
        1.0,
        clock=clock,
        interrupt=lambda ident, exc: calls.append((ident, exc)) or 1,
        thread=False,
        importing=lambda ident: ident in busy,
    )
    dog.arm(5)
    dog.arm(6)
    clock.now += 2
    assert dog.sweep() == [6]  # 5 is importing: held back
    busy.clear()
    assert dog.sweep() == [5] and calls == [(6, DeadlineExceeded), (5, DeadlineExceeded)]


def test_a_deadline_never_breaks_a_lazy_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real thread past its deadline in a slow first import: the import completes whole, then it is stopped.

    Raised inside the import, the exception would drop the package from sys.modules and leave its
    submodule loaded but no longer bound to it on the next import (what broke ``rasterio.errors``).
    """
    import sys

    pkg = tmp_path / "slow_pkg_for_deadline"
    pkg.mkdir()
    (pkg / "sub.py").write_text("X = 1\n", encoding="utf-8")
    (pkg / "__init__.py").write_text(
        "import time\nfrom slow_pkg_for_deadline import sub\nfor _ in range(100):\n    time.sleep(0.01)\nDONE = True\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    clock = Clock()  # the deadline passes once the import is under way, however slowly the thread got there
    dog = Watchdog(0.05, clock=clock, thread=False)
    outcome: dict[str, object] = {}

    def request() -> None:
        dog.arm()
        try:
            import slow_pkg_for_deadline  # noqa: F401

            outcome["imported"] = True
            t0 = time.monotonic()
            while time.monotonic() - t0 < HANG:
                pass
        except DeadlineExceeded:
            outcome["stopped"] = True
        finally:
            dog.disarm()

    worker = threading.Thread(target=request)
    worker.start()
    while worker.is_alive() and "slow_pkg_for_deadline" not in sys.modules:
        time.sleep(0.001)
    clock.now += 1.0
    while worker.is_alive():
        dog.sweep()
        time.sleep(0.005)
    try:
        assert outcome == {"imported": True, "stopped": True}
        mod = sys.modules["slow_pkg_for_deadline"]
        assert mod.DONE is True and mod.sub.X == 1
    finally:
        for name in ("slow_pkg_for_deadline", "slow_pkg_for_deadline.sub"):
            sys.modules.pop(name, None)


def _spin(work) -> str:
    t0 = time.monotonic()
    while time.monotonic() - t0 < HANG:
        work()
    return "finished"  # the deadline did not fire: the test fails on the status


@pytest.fixture
def slow_app(register_template: Path, tmp_path: Path) -> Flask:
    db = shutil.copyfile(register_template, tmp_path / "test.sqlite3")
    app = create_app({**TEST_CONFIG, "DATABASE": str(db), "REQUEST_DEADLINE_SECONDS": LIMIT, "WTF_CSRF_ENABLED": False})

    def python_loop() -> str:
        return _spin(lambda: sum(range(1000)))

    def shapely_loop() -> str:
        point = shapely.Point(110.3, 20.0)
        return _spin(lambda: point.buffer(0.1, 64).area)

    def swallowing_loop() -> str:
        try:
            _spin(lambda: sum(range(1000)))
        except Exception:  # noqa: BLE001  code that eats every error must not defeat the deadline
            pass
        return _spin(lambda: sum(range(1000)))

    def slow_write() -> str:
        time.sleep(LIMIT * 3)
        return "written"

    app.add_url_rule("/test/python", view_func=python_loop)
    app.add_url_rule("/test/shapely", view_func=shapely_loop)
    app.add_url_rule("/test/swallowing", view_func=swallowing_loop)
    app.add_url_rule("/test/write", view_func=slow_write, methods=["POST"])
    return app


@pytest.mark.parametrize("path", ["/test/python", "/test/shapely", "/test/swallowing"])
def test_a_read_past_the_deadline_gets_503_problem_json(slow_app: Flask, path: str) -> None:
    client = slow_app.test_client()
    resp = client.get(path, headers={"Accept": "application/json"})
    assert resp.status_code == 503, resp.get_data(as_text=True)[:200]
    assert resp.mimetype == "application/problem+json"
    assert resp.headers["Retry-After"].isdigit()
    body = resp.get_json()
    assert body["status"] == 503 and f"{LIMIT:g} s" in body["detail"]
    assert resp.headers.get("X-Request-Id")  # the app's own after-request hooks still ran
    # the same thread serves the next request normally: nothing pending, nothing armed
    nearest = client.get("/api/v1/nearest?lon=110.33&lat=20.03&k=3")
    assert nearest.status_code == 200 and nearest.get_json()["features"]
    assert watchdog_of(slow_app).fired >= 1


def test_requests_in_other_threads_keep_their_own_clock(slow_app: Flask) -> None:
    """A slow read is stopped while quick ones in other threads all answer 200."""
    statuses: list[int] = []

    def quick() -> None:
        c = slow_app.test_client()
        for _ in range(20):
            statuses.append(c.get("/api/v1/nearest?lon=110.33&lat=20.03&k=3").status_code)

    threads = [threading.Thread(target=quick) for _ in range(2)]
    for t in threads:
        t.start()
    slow = slow_app.test_client().get("/test/python", headers={"Accept": "application/json"})
    for t in threads:
        t.join()
    assert slow.status_code == 503
    assert statuses == [200] * 40


def test_a_write_is_never_interrupted(slow_app: Flask) -> None:
    """Writes are bounded by the store, not stopped between a commit and the index refresh."""
    resp = slow_app.test_client().post("/test/write")
    assert resp.status_code == 200 and resp.get_data(as_text=True) == "written"
    assert watchdog_of(slow_app).fired == 0


def test_zero_turns_the_deadline_off(register_template: Path, tmp_path: Path) -> None:
    db = shutil.copyfile(register_template, tmp_path / "test.sqlite3")
    app = create_app({**TEST_CONFIG, "DATABASE": str(db), "REQUEST_DEADLINE_SECONDS": 0})
    assert watchdog_of(app) is None


@pytest.mark.parametrize("bad", [-1, "soon", True])
def test_a_bad_deadline_stops_start_up_naming_the_key(register_template: Path, tmp_path: Path, bad: object) -> None:
    db = shutil.copyfile(register_template, tmp_path / "test.sqlite3")
    with pytest.raises(ValueError, match="REQUEST_DEADLINE_SECONDS"):
        create_app({**TEST_CONFIG, "DATABASE": str(db), "REQUEST_DEADLINE_SECONDS": bad})


def test_under_locator_serves_worker_a_costly_read_is_stopped_and_the_same_worker_serves_on(
    register_template: Path, tmp_path: Path
) -> None:
    """The real thing: gunicorn with one worker of ONE thread (the worker class ``locator serve`` uses).

    A province-wide siting request (tens of seconds of CPU on the shipped
    register) is stopped at a 0.5 s deadline with 503 problem+json; the one
    thread then answers a nearest request, so the worker was neither killed
    nor left busy.
    """
    import http.client
    import os
    import signal
    import socket
    import subprocess
    import sys

    db = shutil.copyfile(register_template, tmp_path / "r.sqlite3")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {
        **os.environ,
        "LOCATOR_DATABASE": str(db),
        "LOCATOR_ACCESS_LOG": "false",
        "LOCATOR_RATELIMIT_ENABLED": "false",
        "LOCATOR_REQUEST_DEADLINE_SECONDS": "0.5",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    argv = [
        str(gunicorn),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--threads",
        "1",
        "--worker-class",
        "locator.web.worker.HeaderBufferingWorker",
        "locator:create_app()",
    ]
    proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, start_new_session=True, text=True)
    try:
        t0 = time.monotonic()
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() - t0 < 60 and proc.poll() is None, "gunicorn did not start"
                time.sleep(0.1)

        def get(path: str) -> http.client.HTTPResponse:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HANG * 3)
            conn.request("GET", path)
            return conn.getresponse()

        costly = get("/api/v1/coverage/suggestions?n=10&radius=1000")
        body = costly.read()
        assert costly.status == 503, body[:300]
        assert costly.getheader("Content-Type") == "application/problem+json" and costly.getheader("Retry-After")
        nearest = get("/api/v1/nearest?lon=110.33&lat=20.03&k=3")
        assert nearest.status == 200 and nearest.read()
        assert proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert "WORKER TIMEOUT" not in err and "Booting worker" in err and err.count("Booting worker") == 1


def test_the_deadline_is_disarmed_before_the_response_is_finished(slow_app: Flask) -> None:
    """The first after-request hook to run disarms: no deadline fires in the headers, compression or log."""
    seen: list[bool] = []
    hooks = slow_app.after_request_funcs[None]
    first = hooks[-1]  # Flask runs them last registered first

    def probe(response):  # runs just after the first hook
        seen.append(threading.get_ident() in watchdog_of(slow_app)._armed)
        return response

    hooks.insert(len(hooks) - 1, probe)
    slow_app.forget_hook_plans()  # type: ignore[attr-defined]  # the lists were changed by hand
    try:
        assert slow_app.test_client().get("/api/v1/nearest?lon=110.33&lat=20.03&k=1").status_code == 200
    finally:
        hooks.remove(probe)
        slow_app.forget_hook_plans()  # type: ignore[attr-defined]
    assert first.__name__ == "_disarm" and seen == [False]
