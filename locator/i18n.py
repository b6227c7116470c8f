"""Translations (Simplified Chinese first, English second): filled in by the map work."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Wire translations into ``app``."""
