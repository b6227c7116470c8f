"""HTTP behaviour shared by every route: filled in by the API work (CORS,
ETag, compression, rate limits, request ids, access log)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Wire the HTTP behaviour into ``app``."""
