"""One error shape for the whole app: RFC 9457 ``application/problem+json``.

Pages get a short, escaped HTML message instead. No error ever shows a stack
trace; unexpected ones are logged and answered with a plain 500 problem.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, json, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from locator.errors import InvalidParameter, LocatorError, NotFound

__all__ = ["ApiError", "problem", "register_handlers"]

PROBLEM_TYPE = "about:blank"


class ApiError(Exception):
    """Raise from a view to answer with a problem document."""

    def __init__(
        self, status: int, title: str, detail: str, invalid_params: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.invalid_params = status, title, detail, invalid_params


def problem(
    status: int,
    title: str,
    detail: str,
    invalid_params: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"type": PROBLEM_TYPE, "title": title, "status": status, "detail": detail}
    if invalid_params:
        body["invalid_params"] = invalid_params
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        resp = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    else:
        html = (
            '<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{status} {escape(title)}</title><h1>{status} {escape(title)}</h1><p>{escape(detail)}</p>"
            '<p><a href="/">返回地图 Back to the map</a></p></html>'
        )
        resp = Response(html, status=status, mimetype="text/html")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def register_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return problem(exc.status, exc.title, exc.detail, exc.invalid_params)

    @app.errorhandler(InvalidParameter)
    def _invalid(exc: InvalidParameter) -> Response:
        return problem(400, "Invalid parameter", str(exc), [{"name": exc.name, "reason": exc.reason}])

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound) -> Response:
        return problem(404, "Not Found", str(exc))

    @app.errorhandler(LocatorError)
    def _locator_error(exc: LocatorError) -> Response:
        return problem(400, "Bad Request", str(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        headers = {}
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return problem(exc.code or 500, exc.name, exc.description or exc.name, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        e = InternalServerError()
        return problem(500, e.name, "The server met an unexpected error; it has been logged.")
