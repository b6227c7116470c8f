"""Opening hours in OpenStreetMap ``opening_hours`` syntax: parse, open-now. Pure.

Parsing is done by ``opening-hours-py`` (the OSM reference grammar); this
module only caches parsed expressions and evaluates them in Hainan's time zone.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import opening_hours

__all__ = ["TZ", "is_open", "parse_error"]

TZ = ZoneInfo("Asia/Shanghai")


@lru_cache(maxsize=4096)
def _parse(expr: str) -> opening_hours.OpeningHours | None:
    try:
        return opening_hours.OpeningHours(expr)
    except Exception:  # the library raises its own ParserError and others
        return None


def parse_error(expr: str) -> str | None:
    """None when ``expr`` parses, else a one-line reason quoting it."""
    if _parse(expr) is not None:
        return None
    return f"unparsable opening hours {expr!r} (expected OpenStreetMap opening_hours syntax, e.g. 'Mo-Fr 08:00-18:00')"


def is_open(expr: str | None, when: datetime | None = None) -> bool | None:
    """Whether the venue is open at ``when`` (default: now in Asia/Shanghai).

    None when the hours are unknown or unparsable.
    """
    if not expr:
        return None
    oh = _parse(expr)
    if oh is None:
        return None
    local = (when.astimezone(TZ) if when and when.tzinfo else when) or datetime.now(TZ)
    naive = local.replace(tzinfo=None)
    if oh.is_unknown(naive):
        return None
    return bool(oh.is_open(naive))
