"""Blueprint for pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("views", __name__)
