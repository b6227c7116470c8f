"""Flask as the app runs it: the same behaviour, with the per-request work that never changes done once.

``LocatorFlask`` is Flask 3.x (pinned ``>=3.0,<4``) with overrides that each
keep Flask's behaviour and skip work whose answer is fixed (issue 17):

- ``ensure_sync`` asks once per function whether it is a coroutine function;
- the request hooks (URL value preprocessors, ``before_request``,
  ``after_request``, ``teardown_request``) run from a plan made once per
  blueprint (:meth:`LocatorFlask.hook_plan`);
- the URL adapter works the host out once per host line, and remembers the
  rule a path without arguments matched (:class:`~locator.web.routing.RememberingAdapter`);
- Flask's signals are sent only when something listens;
- a plain answer is started without werkzeug's header copy and closing
  iterator (:func:`_start`).

Each is held to stock Flask by a contract test: ``tests/test_hook_plans.py``,
``tests/test_url_adapter.py`` and ``tests/test_wsgi_start.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FunctionType
from typing import Any, NamedTuple

from flask import Flask, Request, Response
from flask.ctx import AppContext
from flask.ctx import _sentinel as _ctx_sentinel  # the contexts' own "not given" (not the app's)
from flask.globals import _cv_app, _cv_request
from flask.sansio.scaffold import _sentinel  # Flask's "not given", which its contexts pass on as is
from flask.signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    request_finished,
    request_started,
    request_tearing_down,
)
from werkzeug.routing import MapAdapter, Rule
from werkzeug.wrappers import Response as BaseResponse

from locator.web.routing import MAX_HOSTS, CountingMap, RememberedMatches, RememberingAdapter, host_key, wsgi_str

__all__ = ["HookPlan", "LocatorFlask"]

_MAX_SYNC_FUNCS = 4096


class HookPlan(NamedTuple):
    """A blueprint's request hooks in the order Flask runs them (:meth:`LocatorFlask.hook_plan`)."""

    preprocessors: tuple[Callable[..., Any], ...]
    before: tuple[Callable[[], Any], ...]
    after: tuple[Callable[[Response], Response], ...]
    teardown: tuple[Callable[[BaseException | None], Any], ...]


class _AppContext(AppContext):
    """Flask's app context, sending ``appcontext_pushed`` and ``appcontext_popped`` only when something listens."""

    def push(self) -> None:
        self._cv_tokens.append(_cv_app.set(self))
        if appcontext_pushed.receivers:
            appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)

    def pop(self, exc: BaseException | None = _ctx_sentinel) -> None:  # type: ignore[assignment]
        try:
            if len(self._cv_tokens) == 1:
                if exc is _ctx_sentinel:
                    exc = sys.exc_info()[1]
                self.app.do_teardown_appcontext(exc)
        finally:
            ctx = _cv_app.get()
            _cv_app.reset(self._cv_tokens.pop())
        if ctx is not self:
            raise AssertionError(f"Popped wrong app context. ({ctx!r} instead of {self!r})")
        if appcontext_popped.receivers:
            appcontext_popped.send(self.app, _async_wrapper=self.app.ensure_sync)


class LocatorFlask(Flask):
    """Flask, with the per-request work whose answer never changes done once (the module's docstring lists it).

    Flask asks ``inspect.iscoroutinefunction`` about every hook and the view on
    every request (``ensure_sync``): about 2 µs each, fifteen times a request,
    a tenth of what ``/healthz`` costs in the app. The answer never changes for
    a function, so it is asked once. ``async def`` functions are still wrapped
    as Flask wraps them (there are none in the app). For the same reason the
    hooks of a request are taken from a plan made once per blueprint
    (:meth:`hook_plan`) rather than gathered from Flask's dictionaries each
    time (issue 17: ~18 µs of a nearest request's ~330 in a warm loop), and
    the URL adapter, the signals and the start of a plain answer skip work
    likewise. Every override keeps Flask's order and arguments.
    """

    url_map_class = CountingMap

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sync_funcs: set[Any] = set()
        self._hook_plans: dict[str | None, HookPlan] = {}
        self._host_parts: dict[tuple[Any, ...], tuple[str, str, str | None, str]] = {}
        self._matches = RememberedMatches()

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
        """The URL value preprocessors, ``before_request``, ``after_request`` and ``teardown_request``
        functions of a request to ``blueprint`` (None: none), in the order Flask runs them, each already
        through ``ensure_sync``.

        Flask walks its hook dictionaries for the request's blueprints and asks
        ``ensure_sync`` about every hook on every request; the answer depends
        only on the blueprint, and hooks cannot be registered once the app has
        served a request (Flask's setup methods refuse), so it is worked out
        once. Changing the hook lists by hand afterwards needs
        :meth:`forget_hook_plans`. ``tests/test_hook_plans.py`` holds this to
        Flask's own ``preprocess_request``, ``process_response`` and
        ``do_teardown_request``.
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
                tuple(
                    self.ensure_sync(f)
                    for n in (*chain, None)
                    for f in reversed(self.teardown_request_funcs.get(n, ()))
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

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Flask's, with a plain answer started without werkzeug's header copy and closing iterator (:func:`_start`)."""
        ctx = self.request_context(environ)
        error: BaseException | None = None
        try:
            try:
                ctx.push()
                response = self.full_dispatch_request()
            except Exception as e:
                error = e
                response = self.handle_exception(e)
            except:  # noqa: E722 - as Flask: the context is popped with whatever ended the request
                error = sys.exc_info()[1]
                raise
            return _start(response, environ, start_response)
        finally:
            if "werkzeug.debug.preserve_context" in environ:
                environ["werkzeug.debug.preserve_context"](_cv_app.get())
                environ["werkzeug.debug.preserve_context"](_cv_request.get())
            if error is not None and self.should_ignore_error(error):
                error = None
            ctx.pop(error)

    # -- Flask's dispatch, sending its signals only when something listens ------------------------------
    # blinker's send with no receivers still costs a call, a generator and a list (~0.5 µs, six a request).

    def full_dispatch_request(self) -> Response:
        """Flask's: ``request_started``, the ``before_request`` hooks, the view, then :meth:`finalize_request`."""
        self._got_first_request = True
        try:
            if request_started.receivers:
                request_started.send(self, _async_wrapper=self.ensure_sync)
            rv = self.preprocess_request()
            if rv is None:
                rv = self.dispatch_request()
        except Exception as e:
            rv = self.handle_user_exception(e)
        return self.finalize_request(rv)

    def finalize_request(self, rv: Any, from_error_handler: bool = False) -> Response:
        """Flask's: the response, the ``after_request`` hooks, then ``request_finished``."""
        response = self.make_response(rv)
        try:
            response = self.process_response(response)
            if request_finished.receivers:
                request_finished.send(self, _async_wrapper=self.ensure_sync, response=response)
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception("Request finalizing failed with an error while handling an error")
        return response

    def app_context(self) -> AppContext:
        """Flask's, as :class:`_AppContext` (its signals sent only when something listens)."""
        return _AppContext(self)

    def dispatch_request(self) -> Any:
        """Flask's: the view of the matched rule (or the automatic ``OPTIONS`` answer), the request read once."""
        req = _cv_request.get().request
        if req.routing_exception is not None:
            self.raise_routing_exception(req)
        rule: Rule = req.url_rule  # type: ignore[assignment]
        if getattr(rule, "provide_automatic_options", False) and req.method == "OPTIONS":
            return self.make_default_options_response()
        view_args: dict[str, Any] = req.view_args  # type: ignore[assignment]
        return self.ensure_sync(self.view_functions[rule.endpoint])(**view_args)

    def do_teardown_appcontext(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Flask's: the ``teardown_appcontext`` functions, last registered first, then ``appcontext_tearing_down``."""
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        for func in reversed(self.teardown_appcontext_funcs):
            self.ensure_sync(func)(exc)
        if appcontext_tearing_down.receivers:
            appcontext_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    def do_teardown_request(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Flask's: the ``teardown_request`` functions of the request's blueprints then of the app (each
        list last registered first), then the ``request_tearing_down`` signal."""
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        for func in self._request_plan(_cv_request.get().request).teardown:
            func(exc)
        if request_tearing_down.receivers:
            request_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    # -- the URL adapter, its host worked out once per host line ---------------------------------------

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """Flask's, with what it works out from the request's host remembered per host line.

        Flask reads and checks the host twice per request (``get_host``) and
        IDNA-encodes it in ``Map.bind``: about 6 µs of a nearest request's
        ~110 in a warm loop, for an answer that depends only on the values in
        :func:`~locator.web.routing.host_key`. The adapter itself, which holds
        the path, method and query, is still made per request. At most
        :data:`~locator.web.routing.MAX_HOSTS` host lines are remembered (the
        ``Host`` header is the client's to choose); a new one past that starts
        the memory afresh, so that a client sending made-up hosts cannot keep
        the real ones out for good. A host that fails (``BadHost``), host or
        subdomain matching, and ``TRUSTED_HOSTS`` go through Flask every time.
        ``tests/test_url_adapter.py`` holds this to Flask's own.
        """
        if (
            request is None
            or self.url_map.host_matching
            or self.subdomain_matching
            or request.trusted_hosts is not None
            or self.config["TRUSTED_HOSTS"] is not None
        ):
            return super().create_url_adapter(request)
        env = request.environ
        key = host_key(env, self.config["SERVER_NAME"])
        parts = self._host_parts.get(key)
        if parts is None:
            adapter = super().create_url_adapter(request)
            if adapter is not None:
                if len(self._host_parts) >= MAX_HOSTS:
                    self._host_parts.clear()
                self._host_parts[key] = (request.host, adapter.server_name, adapter.subdomain, adapter.url_scheme)
            return adapter
        host, server_name, subdomain, scheme = parts
        request.host = host  # type: ignore[misc]  # as Flask sets it (werkzeug's cached property)
        script_name, path_info, query = env.get("SCRIPT_NAME"), env.get("PATH_INFO"), env.get("QUERY_STRING")
        adapter = RememberingAdapter(
            self.url_map,
            server_name,
            wsgi_str(script_name) if script_name is not None else "/",
            subdomain,
            scheme,
            wsgi_str(path_info) if path_info is not None else "/",
            env["REQUEST_METHOD"],
            wsgi_str(query) if query is not None else None,
        )
        adapter.matches = self._matches
        return adapter


_PLAIN_METHODS = tuple(
    BaseResponse.__dict__[name] for name in ("__call__", "get_wsgi_response", "get_wsgi_headers", "get_app_iter")
)


def _start(response: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    """``response(environ, start_response)``, without werkzeug's work for a plain answer.

    werkzeug copies the headers to look for ``Location`` and the like, and
    wraps the body in a ``ClosingIterator`` (typing casts, a partial, a close
    call): about 4 µs a response in a warm loop. A plain answer needs none of
    it: a 200 to anything but a HEAD, its body one ``bytes`` in a list, no ``Location`` or
    ``Content-Location``, no close callbacks, from a response class that does
    not change how it is sent. Its headers and body are then what werkzeug
    would send, and there is nothing to close. Anything else goes through
    werkzeug. ``tests/test_wsgi_start.py`` holds both to stock Flask.
    """
    cls = type(response)
    body = response.response if isinstance(response, BaseResponse) else None
    if (
        type(body) is not list
        or len(body) != 1
        or type(body[0]) is not bytes
        or response.status_code != 200
        or response._on_close
        or environ["REQUEST_METHOD"] == "HEAD"
        or (cls.__call__, cls.get_wsgi_response, cls.get_wsgi_headers, cls.get_app_iter) != _PLAIN_METHODS
    ):
        return response(environ, start_response)
    headers = response.headers.to_wsgi_list()
    length = False
    for name, _value in headers:
        lower = name.lower()
        if lower == "content-length":
            length = True
        elif lower in ("location", "content-location"):
            return response(environ, start_response)
    if not length and response.automatically_set_content_length:
        headers.append(("Content-Length", str(len(body[0]))))
    start_response(response.status, headers)
    return body
