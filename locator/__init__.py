"""Hainan worker service venue locator.

The package root holds only ``create_app``; the app itself is assembled in
``locator.web.app``. The pure core (venues, districts, geo, index, …) sits
flat beside the layered packages ``storage``, ``planning``, ``io``, ``web``
and ``cli`` (see ARCHITECTURE.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

__all__ = ["create_app"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app (see ``locator.web.app.create_app``)."""
    from locator.web.app import create_app as build

    return build(test_config)
