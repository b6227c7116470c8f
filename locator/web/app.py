"""The app factory: config, the register and its index, blueprints, error handlers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from locator.config import ROOT, instance_path, load_config

__all__ = ["create_app"]


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, the register and its index, blueprints, error handlers."""
    app = Flask(
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
        api,
        coverage,
        embed,
        health,
        http,
        i18n,
        mapdata,
        ogc,
        problems,
        reports,
        security,
        state,
        views,
    )

    problems.register_handlers(app)
    state.init_app(app)
    http.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ogc.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(mapdata.bp)
    admin.init_app(app)
    app.register_blueprint(reports.bp)
    app.register_blueprint(coverage.bp)
    app.register_blueprint(embed.bp)
    return app
