"""The URL adapter's parts that never change for a host line or a path: worked out once (``LocatorFlask``).

Flask binds werkzeug's URL map to every request: it reads and checks the
host twice, IDNA-encodes it, and runs werkzeug's matcher over the path. For a
given host line and a path without arguments the answers never change;
:class:`locator.web.framework.LocatorFlask` keeps them, bounded, with these
pieces. ``tests/test_url_adapter.py`` holds the results to Flask's and
werkzeug's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.routing import Map, MapAdapter, Rule, RuleFactory

__all__ = ["MAX_HOSTS", "MAX_MATCHES", "CountingMap", "RememberedMatches", "RememberingAdapter", "host_key", "wsgi_str"]

MAX_HOSTS = 64
"""How many distinct host lines (``Host``, scheme, server address) keep their worked-out URL adapter parts."""
MAX_MATCHES = 1024
"""How many (path, method) pairs of routes without arguments keep their matched rule (they are finitely many)."""


class CountingMap(Map):
    """werkzeug's URL map, counting the rules added to it (so that remembered matches are forgotten)."""

    added = 0

    def add(self, rulefactory: RuleFactory) -> None:
        super().add(rulefactory)
        self.added += 1


class RememberedMatches(dict[tuple[str | None, str, str, bool], tuple[Rule, dict[str, Any]]]):
    """The rules matched for paths of routes without arguments, and how many rules the map had had added then."""

    added = -1


class RememberingAdapter(MapAdapter):
    """A URL adapter that remembers the rule a path without arguments matched (``LocatorFlask.create_url_adapter``).

    Flask matches each request's path with ``match(return_rule=True)``: werkzeug's
    state machine, about 3 µs in a warm loop. For a rule without arguments
    (``/api/v1/nearest``, ``/healthz``) the answer depends only on the path,
    the method and whether it is a WebSocket, so it is remembered; a path that
    fails (404, 405, a redirect) or that matched a rule with arguments is
    matched every time, and so is any other call. A rule added to the map
    afterwards forgets what was remembered.
    """

    matches: RememberedMatches

    def match(  # type: ignore[override]
        self,
        path_info: str | None = None,
        method: str | None = None,
        return_rule: bool = False,
        query_args: Any = None,
        websocket: bool | None = None,
    ) -> tuple[Any, Mapping[str, Any]]:
        if (
            not return_rule
            or path_info is not None
            or method is not None
            or query_args is not None
            or websocket is not None
        ):
            return super().match(path_info, method, return_rule, query_args, websocket)  # type: ignore[call-overload,no-any-return]
        matches, added = self.matches, self.map.added  # type: ignore[attr-defined]
        if matches.added != added:
            matches.clear()
            matches.added = added
        # The method as werkzeug matches it (upper case): "get" and "GET" are one key, so the keys stay
        # as few as the routes' paths and methods, whatever spellings a server lets through.
        key = (self.subdomain, self.path_info, self.default_method.upper(), self.websocket)
        known = matches.get(key)
        if known is not None:
            return known[0], dict(known[1])
        rule, values = super().match(return_rule=True)
        if not rule.arguments and len(matches) < MAX_MATCHES:
            matches[key] = (rule, dict(values))
        return rule, values


def host_key(env: Mapping[str, Any], server_name: str | None) -> tuple[Any, ...]:
    """Every value Flask's and werkzeug's host handling reads (``get_host``, ``bind_to_environ``, ``Map.bind``)."""
    return (
        env["wsgi.url_scheme"],
        env.get("HTTP_HOST"),
        env.get("SERVER_NAME"),
        env.get("SERVER_PORT"),
        env.get("HTTP_CONNECTION"),
        env.get("HTTP_UPGRADE"),
        server_name,
    )


def wsgi_str(value: str) -> str:
    """A WSGI string (latin-1 text of the raw bytes) read as UTF-8, as werkzeug's ``bind_to_environ`` reads it."""
    return value if value.isascii() else value.encode("latin1").decode(errors="replace")
