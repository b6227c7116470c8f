"""Query-string parameters of the public API: parse and validate. Pure (no Flask).

Every function takes ``args``, a multi-valued mapping with ``getlist`` (a
werkzeug ``MultiDict`` in the app, anything alike in tests), and either
returns a clean Python value or raises :class:`InvalidParameter` whose reason
quotes the bad value. Numbers are ASCII decimals only: ``float()`` would
otherwise accept ``"1_000"``, ``"٣"`` or ``"nan"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from typing import Any, Protocol

from locator.categories import AMENITIES, CATEGORY_CODES
from locator.errors import InvalidParameter
from locator.geo import CRS_NAMES

__all__ = [
    "MAX_OFFSET",
    "MAX_Q",
    "amenities_param",
    "bbox_param",
    "bool_param",
    "categories_param",
    "crs_param",
    "districts_param",
    "float_param",
    "int_param",
    "one",
    "q_param",
    "reject_repeats",
]

MAX_Q = 100
"""Longest accepted ``q`` (characters)."""

MAX_OFFSET = 1_000_000
"""Largest accepted ``offset``."""

_MAX_TEXT = 200  # no numeric or code parameter needs more characters than this
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_INT = re.compile(r"[+]?[0-9]{1,9}")


class Args(Protocol):
    def getlist(self, key: str) -> list[str]: ...

    def lists(self) -> Any: ...

    def __len__(self) -> int: ...

    def __contains__(self, key: object) -> bool: ...


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def reject_repeats(args: Args, query: str | None = None) -> None:
    """Raise for the first parameter given more than once (``?k=1&k=2``).

    ``query``, the raw query string ``args`` were parsed from, settles the
    usual case without walking them: when it has as many non-empty ``&``
    segments as ``args`` has names, each name came once.
    """
    if query is not None and len(args) == len([part for part in query.split("&") if part]):
        return
    for name, values in args.lists():
        if len(values) > 1:
            raise InvalidParameter(name, f"given more than once ({len(values)} times)")


def one(args: Args, name: str, default: str | None = None) -> str | None:
    """The single value of ``name``; ``default`` when absent or empty."""
    if name not in args:  # most optional parameters are absent: skip getlist, which raises and catches KeyError
        return default
    values = args.getlist(name)
    if len(values) > 1:
        raise InvalidParameter(name, f"given more than once ({len(values)} times)")
    if not values or values[0] == "":
        return default
    return values[0]


def _number(name: str, text: str) -> float:
    s = text.strip()
    if len(s) <= _MAX_TEXT and _FLOAT.fullmatch(s):
        f = float(s)
        if math.isfinite(f):
            return f
        raise InvalidParameter(name, f"must be a finite number, got {_short(text)}")
    if s.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise InvalidParameter(name, f"must be a finite number, got {_short(text)}")
    raise InvalidParameter(name, f"must be a number, got {_short(text)}")


def float_param(
    args: Args,
    name: str,
    *,
    required: bool = False,
    default: float | None = None,
    low: float = -math.inf,
    high: float = math.inf,
) -> float | None:
    """A finite decimal number within [low, high]."""
    text = one(args, name)
    if text is None:
        if required:
            raise InvalidParameter(name, "is required")
        return default
    f = _number(name, text)
    if not low <= f <= high:
        raise InvalidParameter(name, f"must be between {low:g} and {high:g}, got {_short(text)}")
    return f


def int_param(args: Args, name: str, *, default: int, low: int, high: int) -> int:
    """A whole number within [low, high]."""
    text = one(args, name)
    if text is None:
        return default
    if not _INT.fullmatch(text) or not low <= int(text) <= high:
        raise InvalidParameter(name, f"must be an integer from {low} to {high}, got {_short(text)}")
    return int(text)


def _codes(args: Args, name: str, allowed: Sequence[str], what: str) -> list[str] | None:
    text = one(args, name)
    if text is None:
        return None
    if len(text) > _MAX_TEXT * 4:
        raise InvalidParameter(name, f"is too long ({len(text)} characters)")
    codes = [c.strip() for c in text.split(",") if c.strip()]
    if not codes:
        raise InvalidParameter(name, f"must name at least one {what}, got {_short(text)}")
    twice = next((c for i, c in enumerate(codes) if c in codes[:i]), None)
    if twice is not None:  # as the document says (uniqueItems): a list names each code once
        raise InvalidParameter(name, f"names the {what} {_short(twice)} more than once")
    for c in codes:
        if c not in allowed:
            raise InvalidParameter(name, f"unknown {what} {_short(c)}; expected one of {', '.join(allowed)}")
    return codes


def categories_param(args: Args, name: str = "category") -> list[str] | None:
    """One category code or a comma-separated list; None when absent."""
    return _codes(args, name, CATEGORY_CODES, "category")


def amenities_param(args: Args, name: str = "amenity") -> list[str] | None:
    """Amenity codes (comma list; a venue must have all of them); None when absent."""
    return _codes(args, name, tuple(AMENITIES), "amenity")


def districts_param(args: Args, known: Collection[str], name: str = "district") -> list[str] | None:
    """District adcodes (comma list); None when absent."""
    return _codes(args, name, tuple(known), "district adcode")


def crs_param(args: Args, name: str = "crs") -> str:
    """``wgs84`` (default), ``gcj02`` or ``bd09``."""
    crs = one(args, name, "wgs84") or "wgs84"
    if crs not in CRS_NAMES:
        raise InvalidParameter(name, f"unknown crs {_short(crs)}; expected one of {', '.join(CRS_NAMES)}")
    return crs


def bbox_param(args: Args, name: str = "bbox") -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` in WGS-84 degrees (OGC's 6-number 3-D form drops the heights).

    ``west > east`` is a box across the antimeridian (OGC API – Features allows it): returned as
    given, the caller splits it in two.
    """
    text = one(args, name)
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise InvalidParameter(name, f"must be 4 numbers west,south,east,north, got {len(parts)} in {_short(text)}")
    nums = [_number(name, p) for p in parts]
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    west, south, east, north = nums
    for lon in (west, east):
        if not -180 <= lon <= 180:
            raise InvalidParameter(name, f"longitudes must be between -180 and 180, got {_short(text)}")
    for lat in (south, north):
        if not -90 <= lat <= 90:
            raise InvalidParameter(name, f"latitudes must be between -90 and 90, got {_short(text)}")
    if south > north:
        raise InvalidParameter(name, f"must be west,south,east,north with south<=north, got {_short(text)}")
    return west, south, east, north


def q_param(args: Args, name: str = "q") -> str | None:
    """A search text of at most :data:`MAX_Q` characters, case-folded; None when absent or blank."""
    text = one(args, name)
    if text is None:
        return None
    if len(text) > MAX_Q:
        raise InvalidParameter(name, f"must be at most {MAX_Q} characters, got {len(text)}")
    text = text.strip()
    return text.casefold() if text else None


_TRUE, _FALSE = ("true", "1"), ("false", "0")


def bool_param(args: Args, name: str) -> bool:
    """``true``/``1`` or ``false``/``0`` (case-insensitive); False when absent or empty."""
    text = one(args, name)
    if text is None:
        return False
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise InvalidParameter(name, f"must be true or false, got {_short(text)}")
