"""Hainan's 26 county-level districts: boundaries and 2020 population. Pure."""

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

__all__ = ["District", "Districts", "load_districts"]


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
    """The districts, with a point-in-polygon lookup."""

    def __init__(self, districts: Sequence[District]) -> None:
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
        """The district whose polygon contains the point, if any."""
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        return self._items[int(hits[0])] if len(hits) else None

    def contains(self, adcode: str, lon: float, lat: float) -> bool:
        d = self._by_code.get(adcode)
        return bool(d is not None and shapely.intersects_xy(d.geometry, lon, lat))


def load_districts(path: str | Path) -> Districts:
    """Read ``geodata/districts.geojson`` and validate each feature."""
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
    return Districts(out)
