"""Build ``geodata/districts_land.geojson``: the 26 districts clipped to land.

Why: Amap's district boundaries (``districts.geojson``) reach into the sea —
吉阳 +40 %, 崖州 +38 %, 陵水 +16 % against their published land areas — so
coverage shares, gaps and suggested sites were partly at sea. The app reads
this file by default (``DISTRICTS_FILE``).

Inputs, both in ``geodata/`` and both built by their own scripts:
- ``districts.geojson``: Amap's boundaries, properties (population …);
- ``land.geojson``: its first feature, Hainan Island's land (GSHHG 2.3 full
  resolution plus the reclaimed land that Amap's boundary says is land; the
  rule is in ``build_land.py``).

Rule, per district:
- On Hainan Island: the district ∩ land, every polygon part kept (lines and
  points where the two only touch are dropped), snapped to the 1e-6° grid
  (``shapely.set_precision``, which keeps it valid), exterior rings
  counter-clockwise and holes clockwise (RFC 7946), parts sorted by area.
  Reclaimed land survives because ``land.geojson`` already holds it.
- 西沙区 and 南沙区 (三沙市): NOT clipped; their Amap polygons are copied as
  they are. GSHHG holds 12.1 km² of islands in 西沙 and 10.7 km² in 南沙 but
  none of the reclaimed ones: 永暑礁, 南沙区's seat, lies 71 km from any GSHHG
  land, and 永兴岛's fill is missing too, so clipping would put a district's
  own seat outside it, and the editor and importer would refuse venues where
  Sansha's people live. Sansha is not gridded and shows no walking-radius
  figures (coverage treats it as its own case), so its reef polygons feed no
  people figure; its area stays reef area, and the README says so.

Properties: those of ``districts.geojson`` plus ``land_clipped`` (bool) and
``area_km2`` (EPSG:6933, equal-area, two decimals).

Output: compact JSON, one feature per line, sorted by adcode, written
atomically; the same inputs give the same bytes (a test rebuilds it).

    .venv/bin/python geodata/build_districts_land.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geodata.build_districts import _round_coords, feature_collection_text, write_atomic  # noqa: E402

GRID_DEG = 1e-6
NOT_CLIPPED = ("460301", "460302")  # 西沙区, 南沙区: see the module's docstring
EQUAL_AREA = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)


def km2(geom: Any) -> float:
    """Area in km², in the equal-area EPSG:6933."""
    return float(shapely.area(shapely.transform(geom, lambda c: np.column_stack(EQUAL_AREA.transform(*c.T))))) / 1e6


def polygons(geom: Any) -> list[Polygon]:
    """The polygon parts of any geometry (an intersection may also hold lines and points)."""
    return [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty and p.area > 0] + [
        q for p in shapely.get_parts(geom) if p.geom_type in ("MultiPolygon", "GeometryCollection") for q in polygons(p)
    ]


def clip(district: Any, land: Any) -> MultiPolygon:
    """``district`` ∩ ``land`` as a valid MultiPolygon on the 1e-6° grid, RFC 7946 ring order."""
    snapped = shapely.set_precision(shapely.intersection(district, land), GRID_DEG)
    parts = polygons(snapped)
    out = MultiPolygon(sorted(parts, key=lambda p: (-p.area, p.bounds)))
    if not out.is_valid:
        out = MultiPolygon(polygons(shapely.set_precision(shapely.make_valid(out), GRID_DEG)))
    return shapely.orient_polygons(out, exterior_cw=False)


def build(geodata: Path) -> tuple[list[dict[str, Any]], list[str]]:
    fc = json.loads((geodata / "districts.geojson").read_text(encoding="utf-8"))
    land = shape(json.loads((geodata / "land.geojson").read_text(encoding="utf-8"))["features"][0]["geometry"])
    shapely.prepare(land)
    features, log = [], []
    for f in sorted(fc["features"], key=lambda f: f["id"]):
        src = shape(f["geometry"])
        clipped = f["id"] not in NOT_CLIPPED
        geom = clip(src, land) if clipped else src
        before, after = km2(src), km2(geom)
        props = {**f["properties"], "land_clipped": clipped, "area_km2": round(after, 2)}
        features.append(
            {
                "type": "Feature",
                "id": f["id"],
                "properties": props,
                "geometry": {"type": "MultiPolygon", "coordinates": _round_coords(mapping(geom)["coordinates"])},
            }
        )
        log.append(
            f"{f['id']} {props['name_zh']}: {before:,.1f} km² → {after:,.1f} km² "
            f"({100 * (after / before - 1):+.1f} %), {len(geom.geoms)} parts"
            + ("" if clipped else " (not clipped: offshore)")
        )
    return features, log


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--geodata", type=Path, default=ROOT / "geodata")
    ap.add_argument("--output", type=Path, default=ROOT / "geodata/districts_land.geojson")
    args = ap.parse_args(argv)
    features, log = build(args.geodata)
    write_atomic(args.output, feature_collection_text(features))
    print("\n".join(log))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
