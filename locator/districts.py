"""Hainan's 26 county-level districts: boundaries and 2020 population. Pure.

The shipped boundaries are clipped to a shoreline (``geodata/districts_land.geojson``,
GSHHG at about 100 m), which predates recent ports and reclamation and draws some river
mouths as sea. So that a real venue on a pier or a new port is not refused, a
point at sea within :data:`SHORE_TOLERANCE_M` of a land-clipped district is
placed in the nearest one (:meth:`Districts.locate`). Polygons that are not
clipped (Amap's own, which reach kilometres into the sea) get no tolerance.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from locator.errors import DataError

__all__ = ["SHORE_TOLERANCE_M", "District", "Districts", "load_districts"]

#: How far out at sea (metres, about: measured in degrees of latitude) a point is still placed in
#: the nearest land-clipped district: GSHHG's resolution, plus the ports built since (Haikou's
#: 新海港 reaches about 700 m past it).
SHORE_TOLERANCE_M = 1000.0
_M_PER_DEG = 111_320.0


@dataclass(frozen=True, slots=True)
class District:
    adcode: str
    name_zh: str
    name_en: str
    parent_zh: str
    population_2020: int
    population_estimated: bool
    population_note: str
    urbanisation_pct_2020: float | None
    seat_zh: str
    geometry: BaseGeometry

    def properties(self) -> dict[str, Any]:
        return {
            "adcode": self.adcode,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "parent_zh": self.parent_zh,
            "population_2020": self.population_2020,
            "population_estimated": self.population_estimated,
            "population_note": self.population_note,
            "urbanisation_pct_2020": self.urbanisation_pct_2020,
            "seat_zh": self.seat_zh,
        }


class Districts(Sequence[District]):
    """The districts, with a point-in-polygon lookup.

    ``shore_m`` > 0: a point in no polygon but within that many metres of one
    belongs to the nearest (see the module's docstring).
    """

    def __init__(self, districts: Sequence[District], shore_m: float = 0.0) -> None:
        self.shore_m = shore_m
        self._items = list(districts)
        self._by_code = {d.adcode: d for d in self._items}
        geoms = [d.geometry for d in self._items]
        for g in geoms:
            shapely.prepare(g)
        self._tree = shapely.STRtree(geoms)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):  # type: ignore[override]
        return self._items[i]

    def __iter__(self) -> Iterator[District]:
        return iter(self._items)

    def get(self, adcode: str) -> District | None:
        return self._by_code.get(adcode)

    @property
    def codes(self) -> list[str]:
        return list(self._by_code)

    def locate(self, lon: float, lat: float) -> District | None:
        """The district whose polygon contains the point; else, at sea, the nearest within ``shore_m``."""
        point = shapely.Point(lon, lat)
        hits = self._tree.query(point, predicate="intersects")
        if len(hits):
            return self._items[int(min(hits))]
        if self.shore_m <= 0:
            return None
        near = self._tree.query_nearest(point, max_distance=self.shore_m / _M_PER_DEG)
        return self._items[int(min(near))] if len(near) else None

    def contains(self, adcode: str, lon: float, lat: float) -> bool:
        """Whether the point lies in the district, or is placed in it from the sea (:meth:`locate`)."""
        d = self._by_code.get(adcode)
        if d is None:
            return False
        return bool(shapely.intersects_xy(d.geometry, lon, lat)) or (self.shore_m > 0 and self.locate(lon, lat) is d)


def load_districts(path: str | Path) -> Districts:
    """Read a districts GeoJSON (``geodata/districts_land.geojson``) and validate each feature.

    A file whose features say ``land_clipped: true`` gets the shore tolerance.
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"cannot read {str(p)!r}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{str(p)!r} is not valid GeoJSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise DataError(f"{str(p)!r} is not a GeoJSON FeatureCollection")
    out = []
    for i, f in enumerate(doc.get("features") or []):
        try:
            props = f["properties"]
            geom = shape(f["geometry"])
            if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid:
                raise DataError(f"district {props.get('adcode')!r}: geometry must be a valid (multi)polygon")
            out.append(
                District(
                    adcode=str(props["adcode"]),
                    name_zh=props["name_zh"],
                    name_en=props["name_en"],
                    parent_zh=props.get("parent_zh", ""),
                    population_2020=int(props["population_2020"]),
                    population_estimated=bool(props.get("population_estimated", False)),
                    population_note=props.get("population_note") or "",
                    urbanisation_pct_2020=props.get("urbanisation_pct_2020"),
                    seat_zh=props.get("seat_zh") or "",
                    geometry=geom,
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, DataError):
                raise
            raise DataError(f"{str(p)!r}: district feature {i} is malformed: {exc!r}") from None
    if not out:
        raise DataError(f"{str(p)!r} holds no districts")
    clipped = any(f.get("properties", {}).get("land_clipped") is True for f in doc.get("features") or [])
    return Districts(out, shore_m=SHORE_TOLERANCE_M if clipped else 0.0)
