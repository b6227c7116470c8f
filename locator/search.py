"""Filtering venues by attribute and text, and counting them per district. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from locator.categories import CATEGORY_CODES
from locator.venues import Venue

__all__ = ["counts_by_district", "filter_venues", "matches_text"]


def matches_text(venue: Venue, q: str) -> bool:
    """Whether the case-folded ``q`` is a substring of the venue's name or address."""
    return q in venue.name.casefold() or q in venue.address.casefold()


def filter_venues(
    venues: Iterable[Venue],
    categories: Sequence[str] | None = None,
    districts: Sequence[str] | None = None,
    amenities: Sequence[str] | None = None,
    q: str | None = None,
) -> list[Venue]:
    """The venues passing every given filter, in the order given.

    ``amenities``: a venue must offer all of them. ``q``: already case-folded.
    """
    cats = set(categories) if categories else None
    dists = set(districts) if districts else None
    need = set(amenities) if amenities else None
    out = []
    for v in venues:
        if cats is not None and v.category not in cats:
            continue
        if dists is not None and v.district_code not in dists:
            continue
        if need is not None and not need.issubset(v.amenities):
            continue
        if q is not None and not matches_text(v, q):
            continue
        out.append(v)
    return out


def counts_by_district(venues: Iterable[Venue]) -> dict[str, dict[str, int]]:
    """``{adcode: {category: n, ...}}`` with every category present (zeros included)."""
    counter = Counter((v.district_code, v.category) for v in venues)
    out: dict[str, dict[str, int]] = {}
    for (code, cat), n in counter.items():
        out.setdefault(code, dict.fromkeys(CATEGORY_CODES, 0))[cat] = n
    return out
