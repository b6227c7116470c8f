"""The app factory: config, the register and its index, blueprints, error handlers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from locator.config import ROOT, instance_path, load_config
from locator.web.framework import LocatorFlask

__all__ = ["LocatorFlask", "create_app"]


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
