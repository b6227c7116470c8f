"""Coverage analysis: analytic toys, no degree buffers, shipped data, caching, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer

from locator.districts import District, load_districts
from locator.errors import DataError, InvalidParameter
from locator.geo import GEOD
from locator.index import VenueIndex
from locator.planning import CoverageAnalyzer, analyse, validate_categories, validate_radius
from locator.planning.population import aggregate_to_cells, load_csv, load_popgrid
from locator.venues import Venue, load_venues

ROOT = Path(__file__).resolve().parents[1]
LON0, LAT0 = 110.0, 20.0
LAEA = Transformer.from_crs(
    "EPSG:4326", f"+proj=laea +lat_0={LAT0} +lon_0={LON0} +ellps=WGS84 +units=m", always_xy=True
)


def to_lonlat(x, y):
    return LAEA.transform(np.asarray(x, float), np.asarray(y, float), direction="INVERSE")


def square_district(adcode="900001", half=10_000.0, cx=0.0, cy=0.0, population=100_000):
    """A square of side 2*half metres (in an equal-area projection at 20°N), as lon/lat."""
    sq = shapely.box(cx - half, cy - half, cx + half, cy + half).segmentize(100.0)
    geom = shapely.transform(sq, lambda c: np.column_stack(to_lonlat(c[:, 0], c[:, 1])))
    return District(adcode, f"方{adcode[-1]}", f"Square {adcode}", "", population, False, "", None, "", geom)


def venue_at(x, y, vid, district="900001", category="outdoor_station"):
    lon, lat = to_lonlat([x], [y])
    return Venue(vid, f"站{vid}", category, district, float(lon[0]), float(lat[0]))


def segment_area(r, d):
    """Area of the part of a disc of radius r beyond a chord at distance d from its centre."""
    return r * r * math.acos(d / r) - d * math.sqrt(r * r - d * d)


@pytest.fixture(scope="module")
def shipped():
    return load_districts(ROOT / "geodata/districts.geojson"), load_venues(ROOT / "geodata/venues.geojson")


# -- analytic toy --------------------------------------------------------------
@pytest.mark.parametrize(
    ("points", "expected_m2"),
    [
        ([(0, 0)], math.pi * 1000**2),  # one full disc
        ([(0, 0), (5000, 0)], 2 * math.pi * 1000**2),  # two disjoint discs
        ([(0, 0), (1000, 0)], 2 * math.pi * 1e6 - (2 * 1e6 * math.acos(0.5) - 500 * math.sqrt(3e6))),  # lens
        ([(10_000, 10_000)], math.pi * 1e6 / 4),  # on the corner: a quarter
        ([(10_000, 0)], math.pi * 1e6 / 2),  # on the edge: a half
        ([(10_500, 0)], segment_area(1000, 500)),  # outside, 500 m east: covers across the border
        ([(11_500, 0)], 0.0),  # outside, beyond reach
    ],
)
def test_toy_areas_match_analytic_values(points, expected_m2):
    d = square_district()
    venues = [venue_at(x, y, f"v{i}") for i, (x, y) in enumerate(points)]
    res = analyse([d], venues, ["outdoor_station"], 1000)
    row = res.rows[0]
    assert row.area_km2 == pytest.approx(400.0, rel=0.005)
    assert row.covered_km2 == pytest.approx(expected_m2 / 1e6, rel=0.005, abs=1e-6)
    assert row.covered_pct == pytest.approx(100 * expected_m2 / 4e8, rel=0.005, abs=0.001)


def test_toy_counts_per_10k_and_distances():
    d = square_district(population=20_000)
    venues = [venue_at(0, 0, "a"), venue_at(100, 0, "b"), venue_at(0, 0, "c", category="reading_room")]
    res = analyse([d], venues, ["outdoor_station"], 1000, target_per_10k=1.5)
    row = res.rows[0]
    assert row.venues == 2 and row.venues_per_10k == pytest.approx(1.0)
    assert row.below_target is True and row.no_venues is False
    # cell centres sit at ±250, ±750, … ±9750 m: the farthest is a corner cell's
    c = np.arange(-9750, 10_000, 500.0)
    gx, gy = np.meshgrid(c, c)
    planar = np.hypot(gx, gy)
    assert row.dist_max_m == pytest.approx(planar.max(), rel=0.005)
    assert row.dist_median_m == pytest.approx(np.median(planar), rel=0.005)
    assert row.dist_p90_m == pytest.approx(np.percentile(planar, 90), rel=0.005)


def test_cross_border_venue_counts_for_coverage_not_for_count():
    a, b = square_district("900001"), square_district("900002", cx=20_000)
    res = analyse([a, b], [venue_at(9_800, 0, "v", district="900001")], None, 1000)
    rows = {r.adcode: r for r in res.rows}
    assert rows["900001"].venues == 1 and rows["900002"].venues == 0
    assert rows["900002"].covered_km2 == pytest.approx(segment_area(1000, 200) / 1e6, rel=0.005)
    assert rows["900001"].covered_km2 + rows["900002"].covered_km2 == pytest.approx(math.pi, rel=0.005)


def test_no_buffer_in_degrees():
    """A 1 km buffer at 20°N is round on the ground: equal E-W and N-S extents (a degree buffer is ~6 % off)."""
    d = square_district()
    v = venue_at(0, 0, "v")
    res = analyse([d], [v], None, 1000)
    frame = res.frames[0]
    disc = frame.to_wgs84(res.covered_m["900001"])
    w, s, e, n = disc.bounds
    _, _, ew = GEOD.inv(w, v.lat, e, v.lat)
    _, _, ns = GEOD.inv(v.lon, s, v.lon, n)
    assert ew == pytest.approx(2000, rel=0.005) and ns == pytest.approx(2000, rel=0.005)
    assert ew / ns == pytest.approx(1.0, abs=0.005)
    # what a degree buffer would have given, to show the test can tell
    deg = shapely.Point(v.lon, v.lat).buffer(1000 / 111_320)
    w2, _, e2, _ = deg.bounds
    assert abs(GEOD.inv(w2, v.lat, e2, v.lat)[2] / 2000 - 1) > 0.04


def test_district_without_venues_comes_first_and_is_named():
    a, b, c = square_district("900001"), square_district("900002", cx=30_000), square_district("900003", cx=60_000)
    res = analyse([a, b, c], [venue_at(0, 0, "x", district="900001")], ["outdoor_station"], 1000)
    assert [r.adcode for r in res.rows][:2] == ["900002", "900003"]
    assert [r.no_venues for r in res.rows] == [True, True, False]
    assert [d.name_en for d in res.summary.districts_without_venues] == ["Square 900002", "Square 900003"]
    assert res.rows[0].dist_median_m > 20_000


def test_gaps_are_district_minus_cover():
    d = square_district()
    res = analyse([d], [venue_at(0, 0, "v")], None, 2000)
    fc = res.gaps_geojson()
    (f,) = fc["features"]
    assert f["properties"]["gap_km2"] == pytest.approx(400 - math.pi * 4, rel=0.005)
    gap = shapely.geometry.shape(f["geometry"])
    assert gap.is_valid
    assert not gap.intersects(shapely.Point(LON0, LAT0))
    assert gap.intersects(shapely.Point(*d.geometry.exterior.coords[0]).buffer(1e-3))


# -- validation tables ----------------------------------------------------------
@pytest.mark.parametrize("value", [50, 50.0, 1000, 20_000, np.float64(300.5), np.int64(700)])
def test_good_radius(value):
    assert validate_radius(value) == float(value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (49.9, "49.9"),
        (20_000.5, "20000.5"),
        (0, "got 0"),
        (-1000, "-1000"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ("1000", "'1000'"),
        (True, "True"),
        (None, "None"),
        ([1000], "[1000]"),
    ],
)
def test_bad_radius(value, fragment):
    with pytest.raises(InvalidParameter) as ei:
        analyse([square_district()], [], None, value)
    assert ei.value.name == "radius" and fragment in str(ei.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ([], None),
        ("outdoor_station", ("outdoor_station",)),
        ("reading_room,outdoor_station", ("reading_room", "outdoor_station")),
        (["outdoor_station", "outdoor_station"], ("outdoor_station",)),
    ],
)
def test_good_categories(value, expected):
    from locator.categories import CATEGORY_CODES

    assert validate_categories(value) == (expected or CATEGORY_CODES)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("spa", "'spa'"),
        (["outdoor_station", "gym"], "'gym'"),
        (5, "5"),
        ([None], "None"),
        ("Outdoor_Station", "'Outdoor_Station'"),
    ],
)
def test_bad_categories(value, fragment):
    with pytest.raises(InvalidParameter) as ei:
        analyse([square_district()], [], value, 1000)
    assert ei.value.name == "category" and fragment in str(ei.value)


@pytest.mark.parametrize(
    ("kw", "name"), [({"target_per_10k": -1}, "target"), ({"cell_m": 501}, "cell"), ({"cell_m": 0}, "cell")]
)
def test_bad_other_parameters(kw, name):
    with pytest.raises(InvalidParameter) as ei:
        analyse([square_district()], [], None, 1000, **kw)
    assert ei.value.name == name


# -- population grids -----------------------------------------------------------
def write_tiff(path, lon0, lat0, step, values):
    import rasterio
    from rasterio.transform import from_origin

    values = np.asarray(values, dtype="float32")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=values.shape[0],
        width=values.shape[1],
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(lon0, lat0, step, step),
        nodata=-99999.0,
    ) as dst:
        dst.write(values, 1)
    return path


def test_population_within_radius_from_a_geotiff(tmp_path):
    step = 0.002  # ~200 m pixels over 6 km
    n = 30
    rng = np.random.default_rng(5)
    vals = rng.integers(0, 50, size=(n, n)).astype(float)
    vals[0, 0] = -99999.0  # nodata
    lon0, lat0 = LON0 - n * step / 2, LAT0 + n * step / 2
    grid = load_popgrid(write_tiff(tmp_path / "pop.tif", lon0, lat0, step, vals))
    assert grid.total == pytest.approx(vals[vals > 0].sum())
    d = square_district(half=5000)
    v = venue_at(0, 0, "v")
    res = analyse([d], [v], None, 1000, popgrid=grid)
    # brute force: pixel centres inside the square and within 1000 m (geodesic)
    plon = lon0 + (np.arange(n) + 0.5) * step
    plat = lat0 - (np.arange(n) + 0.5) * step
    glon, glat = np.meshgrid(plon, plat)
    inside = shapely.contains_xy(d.geometry, glon, glat) & (vals > 0)
    dist = GEOD.inv(np.full(glon.shape, v.lon), np.full(glon.shape, v.lat), glon, glat)[2]
    expected = vals[inside & (dist <= 1000)].sum()
    assert expected > 0
    assert res.rows[0].population_covered == pytest.approx(expected)
    assert res.rows[0].population_grid == pytest.approx(vals[inside].sum())
    assert res.summary.population_covered_pct == pytest.approx(100 * expected / vals[inside].sum(), abs=0.01)


def test_csv_grid_and_its_errors(tmp_path):
    p = tmp_path / "pop.csv"
    p.write_text("lon,lat,population\n110.0,20.0,10\n110.01,20.0,0\n110.02,20.0,5.5\n", encoding="utf-8")
    g = load_csv(p)
    assert len(g) == 2 and g.total == 15.5
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y,people\n110,20,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="population"):
        load_popgrid(bad)
    bad.write_text("lon,lat,population\n110,abc,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2"):
        load_popgrid(bad)
    with pytest.raises(DataError, match="expected a .tif"):
        load_popgrid(tmp_path / "pop.json")


def test_aggregate_to_cells_keeps_totals():
    x = np.array([10.0, 20.0, 510.0, -10.0])
    y = np.array([10.0, 490.0, 10.0, 10.0])
    i, j, s = aggregate_to_cells(x, y, np.array([1.0, 2.0, 3.0, 4.0]), 500.0)
    got = {(int(a), int(b)): float(c) for a, b, c in zip(i, j, s, strict=False)}
    assert got == {(0, 0): 3.0, (1, 0): 3.0, (-1, 0): 4.0}


# -- shipped data, caching -------------------------------------------------------
def test_shipped_outdoor_stations(shipped):
    districts, venues = shipped
    res = analyse(districts, venues, ["outdoor_station"], 1000, target_per_10k=1.0)
    assert len(res.rows) == 26
    assert sum(r.venues for r in res.rows) == 262
    none = [d.name_zh for d in res.summary.districts_without_venues]
    assert none == ["西沙区", "南沙区"] and [r.name_zh for r in res.rows[:2]] == none
    for r in res.rows:
        assert 0 <= r.covered_km2 <= r.area_km2 * (1 + 1e-9)
        if r.venues:
            assert r.dist_median_m <= r.dist_p90_m <= r.dist_max_m
    assert res.summary.area_km2 == pytest.approx(sum(r.area_km2 for r in res.rows), abs=0.1)
    assert 0 < res.summary.covered_pct < 5
    # a single station covers pi km² at most: the districts with one station show it
    ones = [r for r in res.rows if r.venues == 1]
    assert ones and all(r.covered_km2 <= math.pi * 1.001 for r in ones)
    gaps = res.gaps_geojson()
    assert len(gaps["features"]) == 26
    for f in gaps["features"]:
        row = next(r for r in res.rows if r.adcode == f["id"])
        assert f["properties"]["gap_km2"] + row.covered_km2 == pytest.approx(row.area_km2, abs=0.01)


def test_analyzer_caches_by_data_version(shipped):
    districts, venues = shipped
    holder = {"index": VenueIndex(venues, version=7)}
    an = CoverageAnalyzer(districts, lambda: holder["index"], target_per_10k=1.0)
    first = an.table("outdoor_station", 1000)
    again = an.table(["outdoor_station"], 1000.0)
    assert again is first and first.data_version == 7  # a cache hit; its speed is measured in bench/coverage.py
    assert an.table("outdoor_station", 1500) is not first
    extra = Venue("new-1", "新站", "outdoor_station", "469025", 109.45, 19.2)
    holder["index"] = VenueIndex([*venues, extra], version=8)
    fresh = an.table("outdoor_station", 1000)
    assert fresh is not first and fresh.data_version == 8
    baisha = next(r for r in fresh.rows if r.adcode == "469025")
    assert baisha.venues == 2


# -- CLI ------------------------------------------------------------------------
@pytest.fixture
def cov_cli(tmp_path, monkeypatch):
    from locator.cli.coverage import coverage_command

    monkeypatch.setenv("LOCATOR_DATABASE", str(tmp_path / "cov.sqlite3"))
    runner = CliRunner()
    return lambda *a: runner.invoke(coverage_command, list(a), catch_exceptions=False)


def test_cli_formats(cov_cli, tmp_path):
    r = cov_cli("--category", "outdoor_station", "--radius", "1000")
    assert r.exit_code == 0, r.output
    assert "西沙区" in r.output and "districts without a venue: 西沙区 (460301), 南沙区 (460302)" in r.output
    out = tmp_path / "t.csv"
    r = cov_cli("--category", "outdoor_station", "--format", "csv", "-o", str(out))
    assert r.exit_code == 0, r.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.decode("utf-8-sig").splitlines()[0].startswith("区划代码,市县区,")
    assert len(raw.decode("utf-8-sig").splitlines()) == 27
    r = cov_cli("--category", "outdoor_station", "--format", "csv", "--lang", "en")
    assert r.exit_code == 0 and r.output.splitlines()[0].startswith("Adcode,District,")  # no BOM on stdout
    r = cov_cli("--category", "outdoor_station", "--format", "json")
    doc = json.loads(r.output)
    assert doc["districts"][0]["adcode"] == "460301" and doc["params"]["radius_m"] == 1000
    r = cov_cli("--category", "outdoor_station", "--format", "geojson", "--suggest", "2", "--region", "469025")
    fc = json.loads(r.output)
    layers = [f["properties"]["layer"] for f in fc["features"]]
    assert layers.count("gap") == 26 and layers.count("suggestion") == 2
    x = tmp_path / "t.xlsx"
    r = cov_cli(
        "--category", "outdoor_station", "--format", "xlsx", "-o", str(x), "--suggest", "2", "--region", "469025"
    )
    assert r.exit_code == 0, r.output
    from openpyxl import load_workbook

    wb = load_workbook(x)
    assert wb.sheetnames == ["districts", "summary", "suggestions", "curve"] and wb["districts"].max_row == 27
    assert [c.value for c in wb["curve"][1]] == ["新增站点数", "覆盖", "覆盖率（%）"] and wb["curve"].max_row == 4
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--radius", "10"], "radius: must be from 50 to 20000 metres, got 10.0"),
        (["--radius", "25000"], "got 25000.0"),
        (["--category", "spa"], "unknown category 'spa'"),
        (["--suggest", "500"], "n: must be an integer from 1 to 200, got 500"),
        (["--suggest", "3", "--region", "999999"], "unknown district adcode '999999'"),
        (["--format", "xlsx"], "needs -o FILE"),
        (["--population-grid", "/nonexistent/pop.csv"], "cannot read population grid"),
        (
            ["--suggest", "2", "--exact", "--time-limit", "-1"],
            "time-limit: must be a positive number of seconds, got -1.0",
        ),
    ],
)
def test_cli_errors_are_one_line(cov_cli, args, fragment):
    r = cov_cli(*args)
    assert r.exit_code == 1  # click.ClickException: a one-line message, no traceback
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], r.output


def test_cli_names_the_target_it_flags_against(cov_cli):
    from locator.config import COVERAGE_TARGETS

    walk, rooms = COVERAGE_TARGETS["outdoor_station"], COVERAGE_TARGETS["reading_room"]
    r = cov_cli("--category", "outdoor_station", "--radius", f"{walk['radius_m']:g}")
    line = next(x for x in r.output.splitlines() if x.startswith("* below the target"))
    assert line.startswith(
        f"* below the target (at least {walk['covered_pct']:g} % of residents within {walk['radius_m']:,.0f} m; "
        "from COVERAGE_TARGETS): "
    )
    flagged = [x for x in r.output.splitlines() if x.split()[1:2] and x.split()[1].endswith("*")]
    assert line.endswith(f": {len(flagged)} district(s)") and 0 < len(flagged) < 26
    r = cov_cli("--category", "outdoor_station", "--radius", "500")
    assert (
        f"target: none at 500 m (outdoor_station's target, {walk['covered_pct']:g} % of residents within "
        f"{walk['radius_m']:,.0f} m, applies at {walk['radius_m']:,.0f} m only)"
    ) in r.output
    r = cov_cli("--category", "reading_room")
    assert f"(at least {rooms['per_10k']:g} venues per 10,000 residents; from COVERAGE_TARGETS)" in r.output
    r = cov_cli("--category", "reading_room", "--target", "2")
    assert "(at least 2 venues per 10,000 residents; from --target)" in r.output


def test_cli_exact_keeps_its_time_limit_by_not_starting_the_solver_when_none_is_left(cov_cli, monkeypatch):
    from locator.planning.siting import exact

    def refuse(*args, **kwargs):
        raise AssertionError("HiGHS started with no time left")

    monkeypatch.setattr(exact, "milp", refuse)
    r = cov_cli(
        "--category", "outdoor_station", "--suggest", "10", "--region", "460106", "--exact", "--time-limit", "0.01"
    )
    assert r.exit_code == 0, r.output
    assert "exact MILP (time limit)" in r.output and "solver 0.0 s" in r.output
