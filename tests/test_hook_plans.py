"""``LocatorFlask`` runs the request hooks as Flask does, from a plan worked out once per blueprint.

The plan (``LocatorFlask.hook_plan``) replaces Flask's walk over its hook
dictionaries on every request; these tests hold it to Flask's own
``preprocess_request``, ``process_response`` and ``do_teardown_request``
(Flask pinned to 3.x), on the
same app with the same hooks, for the app, a blueprint and a nested one.
"""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask, Response, after_this_request, session

from locator import create_app
from locator.web.framework import LocatorFlask


def _app(cls: type[Flask], calls: list[str], stop: bool) -> Flask:
    app = cls(__name__)
    app.secret_key = "test"
    outer, inner = Blueprint("outer", __name__), Blueprint("inner", __name__)

    def hook(name: str, stop: bool = False):
        def before():
            calls.append(name)
            return "stopped by " + name if stop else None

        return before

    def after(name: str):
        def run(response: Response) -> Response:
            calls.append(name)
            response.headers.add("X-After", name)
            return response

        return run

    for target, name in ((app, "app"), (outer, "outer"), (inner, "inner")):
        target.before_request(hook(f"{name}-before-1"))
        target.before_request(hook(f"{name}-before-2"))
        target.after_request(after(f"{name}-after-1"))
        target.after_request(after(f"{name}-after-2"))
        target.url_value_preprocessor(lambda endpoint, values, name=name: calls.append(f"{name}-url:{endpoint}"))
        for n in (1, 2):
            target.teardown_request(
                lambda exc, label=f"{name}-teardown-{n}": calls.append(f"{label}:{type(exc).__name__}")
            )
    if stop:  # a hook that answers in place of the view, and one after it that must not run
        app.before_request(hook("app-stop", stop=True))
        app.before_request(hook("never"))

    @inner.get("/deep/<int:n>")
    def deep(n: int) -> str:
        calls.append("view")

        @after_this_request
        def once(response: Response) -> Response:
            calls.append("after-this-request")
            return response

        session["n"] = n  # the session is still saved (a Set-Cookie)
        return "deep"

    @outer.get("/shallow")
    def shallow() -> str:
        calls.append("view")
        return "shallow"

    @inner.get("/broken")
    def broken() -> str:
        calls.append("view")
        raise LookupError("the teardown functions see this")

    @app.get("/top")
    def top() -> str:
        calls.append("view")
        return "top"

    outer.register_blueprint(inner, url_prefix="/inner")
    app.register_blueprint(outer, url_prefix="/outer")
    return app


@pytest.mark.parametrize("path", ["/top", "/outer/shallow", "/outer/inner/deep/3", "/outer/inner/broken", "/missing"])
@pytest.mark.parametrize("stop", [False, True])
def test_hooks_run_as_flask_runs_them(path, stop):
    seen = {}
    for cls in (Flask, LocatorFlask):
        calls: list[str] = []
        app = _app(cls, calls, stop)
        c = app.test_client()
        answers = []
        for _ in range(2):  # the second request runs on the plan
            r = c.get(path)
            answers.append(
                (r.status_code, r.get_data(as_text=True), r.headers.getlist("X-After"), "Set-Cookie" in r.headers)
            )
        seen[cls.__name__] = (calls, answers)
    assert seen["LocatorFlask"] == seen["Flask"]
    calls, answers = seen["Flask"]
    assert calls and answers[0] == answers[1]  # the comparison is of something


def test_a_plan_is_worked_out_once_per_blueprint_and_forgotten_on_request(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "plan.sqlite3"), "ACCESS_LOG": False})
    assert isinstance(app, LocatorFlask)
    c = app.test_client()
    assert c.get("/api/v1/nearest?lat=20.02&lon=110.33&k=1").status_code == 200
    plan = app.hook_plan("api")
    assert plan.before and plan.after and app.hook_plan("api") is plan
    calls: list[str] = []
    app.before_request_funcs[None].append(lambda: calls.append("added") and None)
    c.get("/api/v1/nearest?lat=20.02&lon=110.33&k=1")
    assert calls == []  # a hand-made change is not seen until the plans are forgotten
    app.forget_hook_plans()
    assert c.get("/api/v1/nearest?lat=20.02&lon=110.33&k=1").status_code == 200
    assert calls == ["added"]


@pytest.mark.parametrize("path", ["/top", "/outer/inner/deep/3", "/outer/inner/broken", "/missing"])
def test_signals_are_sent_as_flask_sends_them(path):
    """With receivers connected, each signal reaches them as from stock Flask (without any, none is sent)."""
    from flask import signals

    names = [
        "request_started",
        "request_finished",
        "request_tearing_down",
        "appcontext_tearing_down",
        "appcontext_pushed",
        "appcontext_popped",
    ]
    seen = {}
    for cls in (Flask, LocatorFlask):
        calls: list[str] = []
        app = _app(cls, calls, stop=False)
        got: list[tuple] = []

        def receiver(sender, name, got=got, app=app, **extra):
            got.append((name, sender is app, sorted(extra), repr(extra.get("exc"))))

        connected = [(getattr(signals, n), (lambda s, n=n, **kw: receiver(s, n, **kw))) for n in names]
        for signal, fn in connected:
            signal.connect(fn, app)
        try:
            status = app.test_client().get(path).status_code
        finally:
            for signal, fn in connected:
                signal.disconnect(fn, app)
        seen[cls.__name__] = (status, got)
    assert seen["LocatorFlask"] == seen["Flask"]
    assert {name for name, *_ in seen["Flask"][1]} == set(names)  # every signal was sent and compared


def test_app_context_teardown_sees_what_flask_passes():
    """``teardown_appcontext`` functions get the same exception (or None) from either app, however the context ends."""
    seen = {}
    for cls in (Flask, LocatorFlask):
        got: list[str] = []
        app = _app(cls, [], stop=False)
        app.teardown_appcontext(lambda exc, got=got: got.append(repr(exc)))
        c = app.test_client()
        c.get("/top")
        c.get("/outer/inner/broken")
        with app.app_context():
            pass
        with pytest.raises(KeyError), app.app_context():
            raise KeyError("inside")
        with app.app_context(), app.test_request_context("/top"):  # a request inside an app context
            pass
        seen[cls.__name__] = got
    assert seen["LocatorFlask"] == seen["Flask"]
    assert "KeyError('inside')" in seen["Flask"] and any("LookupError" in g for g in seen["Flask"])
