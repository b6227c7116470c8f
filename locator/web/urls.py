"""The app's public address: one policy for every absolute URL it writes.

OGC links, oEmbed answers and embed snippets all start from
:func:`public_base`: ``PUBLIC_BASE_URL`` when it is set (behind a reverse
proxy that rewrites the host), else the address the request came to.
"""

from __future__ import annotations

from flask import request

from locator.web.state import get_settings

__all__ = ["public_base"]


def public_base() -> str:
    """The app's public address without a trailing slash, e.g. ``https://map.example.cn``."""
    return get_settings().public_base_url or request.host_url.rstrip("/")
