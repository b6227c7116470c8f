"""Wires the register into a Flask app: ``init_app`` and ``get_register``."""

from __future__ import annotations

from flask import Flask, current_app

from locator.storage.register import Register, Settings

__all__ = ["get_register", "init_app"]

KEY = "locator"


def init_app(app: Flask) -> None:
    """Open the register and build the index once, at start-up."""
    settings = Settings.from_mapping(app.config, app.instance_path)
    app.extensions[KEY] = Register.open(settings)


def get_register(app: Flask | None = None) -> Register:
    reg: Register = (app or current_app).extensions[KEY]
    return reg
