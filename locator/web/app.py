"""The app factory: config, the register and its index, blueprints, error handlers."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from types import FunctionType
from typing import Any, NamedTuple

from flask import Flask, Request, Response
from flask.globals import _cv_request
from werkzeug.middleware.proxy_fix import ProxyFix

from locator.config import ROOT, instance_path, load_config

__all__ = ["LocatorFlask", "create_app"]

_MAX_SYNC_FUNCS = 4096


class HookPlan(NamedTuple):
    """A blueprint's request hooks in the order Flask runs them (:meth:`LocatorFlask.hook_plan`)."""

    preprocessors: tuple[Callable[..., Any], ...]
    before: tuple[Callable[[], Any], ...]
    after: tuple[Callable[[Response], Response], ...]


class LocatorFlask(Flask):
    """Flask, remembering which views and hooks are plain functions, and which hooks a blueprint runs.

    Flask asks ``inspect.iscoroutinefunction`` about every hook and the view on
    every request (``ensure_sync``): about 2 µs each, fifteen times a request,
    a tenth of what ``/healthz`` costs in the app. The answer never changes for
    a function, so it is asked once. ``async def`` functions are still wrapped
    as Flask wraps them (there are none in the app). For the same reason the
    hooks of a request are taken from a plan made once per blueprint
    (:meth:`hook_plan`) rather than gathered from Flask's dictionaries each
    time (issue 17: ~18 µs of a nearest request's ~330 in a warm loop).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sync_funcs: set[Any] = set()
        self._hook_plans: dict[str | None, HookPlan] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # A function is a coroutine function by its code's flags alone: keyed by the code, the functions
        # made per request (after_this_request) hit too, and the set stays bounded. Anything else (a
        # callable object registered as a hook) is its own key, without a failing getattr of __code__.
        key = func.__code__ if type(func) is FunctionType else func
        try:
            if key in self.sync_funcs:
                return func
        except TypeError:  # unhashable: ask every time
            return super().ensure_sync(func)
        wrapped = super().ensure_sync(func)
        if wrapped is func and len(self.sync_funcs) < _MAX_SYNC_FUNCS:
            self.sync_funcs.add(key)
        return wrapped

    # -- the request hooks, as Flask runs them, looked up once per blueprint ---------------------------

    def hook_plan(self, blueprint: str | None) -> HookPlan:
        """The URL value preprocessors, ``before_request`` and ``after_request`` hooks of a request to
        ``blueprint`` (None: none), in the order Flask runs them, each already through ``ensure_sync``.

        Flask walks its hook dictionaries for the request's blueprints and asks
        ``ensure_sync`` about every hook on every request; the answer depends
        only on the blueprint, and hooks cannot be registered once the app has
        served a request (Flask's setup methods refuse), so it is worked out
        once. Changing the hook lists by hand afterwards needs
        :meth:`forget_hook_plans`. ``tests/test_hook_plans.py`` holds this to
        Flask's own ``preprocess_request`` and ``process_response``.
        """
        plan = self._hook_plans.get(blueprint)
        if plan is None:
            chain: list[str] = []
            name = blueprint
            while name:  # Flask's request.blueprints: "a.b" is in "a.b", then in "a"
                chain.append(name)
                name = name.rpartition(".")[0]
            first = (None, *reversed(chain))
            plan = HookPlan(
                tuple(f for n in first for f in self.url_value_preprocessors.get(n, ())),
                tuple(self.ensure_sync(f) for n in first for f in self.before_request_funcs.get(n, ())),
                tuple(
                    self.ensure_sync(f) for n in (*chain, None) for f in reversed(self.after_request_funcs.get(n, ()))
                ),
            )
            self._hook_plans[blueprint] = plan
        return plan

    def forget_hook_plans(self) -> None:
        """Work the hook plans out again (after changing ``before_request_funcs`` and the like by hand)."""
        self._hook_plans.clear()

    def _request_plan(self, req: Request) -> HookPlan:
        """The plan of the request's blueprint (Flask's ``request.blueprint``: the endpoint up to its last dot)."""
        rule = req.url_rule
        blueprint = rule.endpoint.rpartition(".")[0] if rule is not None else ""
        return self.hook_plan(blueprint or None)

    def preprocess_request(self) -> Any:
        """Flask's, on the plan of the request's blueprint: the preprocessors, then the ``before_request``
        hooks, stopping at the first that returns a value."""
        req = _cv_request.get().request
        plan = self._request_plan(req)
        if plan.preprocessors:
            for url_func in plan.preprocessors:
                url_func(req.endpoint, req.view_args)
        for before in plan.before:
            rv = before()
            if rv is not None:
                return rv
        return None

    def process_response(self, response: Response) -> Response:
        """Flask's: this request's ``after_this_request`` functions, the ``after_request`` hooks of its
        blueprints then of the app (each list last registered first), then the session."""
        ctx = _cv_request.get()
        for func in ctx._after_request_functions:
            response = self.ensure_sync(func)(response)
        for after in self._request_plan(ctx.request).after:
            response = after(response)
        session = ctx._session
        if not self.session_interface.is_null_session(session):
            self.session_interface.save_session(self, session, response)  # type: ignore[arg-type]
        return response


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, the register and its index, blueprints, error handlers.

    Raises ``InvalidParameter`` (a ``ValueError``) naming the key and quoting
    the value when a setting is malformed (see ``locator.web.settings``).
    """
    app = LocatorFlask(
        __name__,
        instance_path=instance_path(),
        instance_relative_config=True,
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_mapping(load_config(app.instance_path, test_config))
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    os.makedirs(app.instance_path, exist_ok=True)

    from locator.web import (
        admin,
        admin_api,
        admin_import,
        api,
        auth,
        coverage,
        coverage_oas,
        deadline,
        embed,
        health,
        http,
        i18n,
        mapdata,
        ogc,
        ogc_oas,
        openapi,
        places,
        problems,
        reports,
        security,
        state,
        views,
    )
    from locator.web.settings import Settings

    auth.init_secret_key(app)  # before the settings are read: they hold the real key
    settings = Settings.from_config(app.config, app.instance_path)
    if settings.proxy_fix_x_for:
        # The real client (rate limits, report limit, access log) and scheme (Secure cookies)
        # from the trusted proxies' headers; with 0 they are ignored, as a client could forge them.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_fix_x_for, x_proto=1
        )
    problems.register_handlers(app)
    state.init_app(app, settings)
    deadline.init_app(app, settings.request_deadline_s)
    http.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ogc.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(mapdata.bp)
    admin.init_app(app)
    app.register_blueprint(admin_import.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(coverage.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(places.bp)
    openapi.init_app(
        app,
        [
            api.get_oas,
            ogc_oas.get_oas,
            mapdata.get_oas,
            coverage_oas.get_oas,
            admin_api.get_oas,
            health.get_oas,
            places.get_oas,
        ],
    )
    deadline.disarm_first(app)  # last: the first after_request hook to run
    return app
