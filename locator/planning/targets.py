"""Coverage targets per category: which districts the ``below_target`` flag names. Pure.

A target is set per category code (``COVERAGE_TARGETS``, defaults in
``locator.config``) and has up to two parts; a district is flagged when it
misses either:

- ``covered_pct`` at ``radius_m``: the share of the district's residents (0–100,
  from the population surface) within ``radius_m`` of a venue. It is checked
  only when the request's radius *is* ``radius_m`` (a share within 3 km says
  nothing about a 1 km walking target) and only for a request of that one
  category. Offshore districts (三沙) are never flagged on it: no walking
  radius applies to reefs and islets.
- ``per_10k``: venues per 10,000 residents (2020 census). For a request of
  several categories the targets of those that have one add up (venues of any
  of them count towards the same rate).

An explicit ``COVERAGE_TARGET_PER_10K`` (the older single setting) replaces
every category's ``per_10k`` with its one value, as it always did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from locator.categories import CATEGORY_CODES
from locator.errors import InvalidParameter

__all__ = ["CategoryTarget", "EffectiveTarget", "describe_target", "effective_target", "parse_targets"]

_KEYS = ("covered_pct", "radius_m", "per_10k")


@dataclass(frozen=True)
class CategoryTarget:
    """One category's target; any part may be None (not checked)."""

    covered_pct: float | None = None
    radius_m: float | None = None
    per_10k: float | None = None


@dataclass(frozen=True)
class EffectiveTarget:
    """What a request of given categories at a given radius is checked against."""

    per_10k: float | None = None
    covered_pct: float | None = None
    radius_m: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"per_10k": self.per_10k, "covered_pct": self.covered_pct, "radius_m": self.radius_m}


def _num(setting: str, code: str, key: str, value: object, high: float | None = None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (high and value > high):
        limit = f"0–{high:g}" if high else "≥ 0"
        raise InvalidParameter(setting, f"{code}.{key} must be a number {limit}, got {value!r}")
    return float(value)


def parse_targets(raw: object, setting: str = "COVERAGE_TARGETS") -> dict[str, CategoryTarget]:
    """Check ``{category code: {covered_pct, radius_m, per_10k}}``; errors name ``setting`` and quote the value."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidParameter(setting, f"must be a mapping of category code to target, got {raw!r}")
    out: dict[str, CategoryTarget] = {}
    for code, spec in raw.items():
        if code not in CATEGORY_CODES:
            raise InvalidParameter(setting, f"unknown category {code!r}; expected one of {', '.join(CATEGORY_CODES)}")
        if not isinstance(spec, Mapping) or set(spec) - set(_KEYS):
            raise InvalidParameter(setting, f"{code}: expected keys among {', '.join(_KEYS)}, got {spec!r}")
        t = CategoryTarget(
            covered_pct=_num(setting, code, "covered_pct", spec.get("covered_pct"), 100),
            radius_m=_num(setting, code, "radius_m", spec.get("radius_m")),
            per_10k=_num(setting, code, "per_10k", spec.get("per_10k")),
        )
        if (t.covered_pct is None) != (t.radius_m is None):
            raise InvalidParameter(setting, f"{code}: covered_pct and radius_m go together, got {spec!r}")
        out[code] = t
    return out


def effective_target(
    targets: Mapping[str, CategoryTarget],
    categories: Iterable[str],
    radius_m: float,
    *,
    per_10k_override: float | None = None,
) -> EffectiveTarget:
    """The target a request of ``categories`` at ``radius_m`` is checked against (see the module's rules)."""
    cats = tuple(categories)
    if per_10k_override is not None:
        per: float | None = per_10k_override
    else:
        parts = [targets[c].per_10k for c in cats if c in targets and targets[c].per_10k is not None]
        per = round(sum(p for p in parts if p is not None), 3) if parts else None
    share = radius = None
    if len(cats) == 1 and cats[0] in targets:
        t = targets[cats[0]]
        if t.covered_pct is not None and t.radius_m is not None and abs(t.radius_m - radius_m) < 1e-9:
            share, radius = t.covered_pct, t.radius_m
    return EffectiveTarget(per_10k=per, covered_pct=share, radius_m=radius)


def describe_target(
    categories: Iterable[str],
    radius_m: float,
    per_10k: float | None,
    covered_pct: float | None,
    targets: Mapping[str, CategoryTarget] | None = None,
) -> str:
    """The target a table was flagged against, in words (English, for the terminal).

    ``per_10k`` and ``covered_pct`` are what was applied (a result's ``target_per_10k`` and
    ``target_covered_pct``). When neither was, and ``targets`` has a walking-radius target
    for the one category at another radius, it says so, so that a planner sees why
    nothing is flagged.
    """
    cats = tuple(categories)
    parts = []
    if covered_pct is not None:
        parts.append(f"at least {covered_pct:g} % of residents within {radius_m:,.0f} m")
    if per_10k is not None:
        parts.append(f"at least {per_10k:g} venues per 10,000 residents")
    if parts:
        return " and ".join(parts)
    if targets and len(cats) == 1 and cats[0] in targets:
        t = targets[cats[0]]
        if t.covered_pct is not None and t.radius_m is not None:
            return (
                f"none at {radius_m:,.0f} m ({cats[0]}'s target, {t.covered_pct:g} % of residents within "
                f"{t.radius_m:,.0f} m, applies at {t.radius_m:,.0f} m only)"
            )
    return "none"
