"""The land (GSHHG) and the modelled population surface built on it: provenance, exact totals, on land only."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from locator.districts import load_districts
from locator.planning.population import load_geotiff
from tests.conftest import GEODATA

EQUAL_AREA = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
#: Published land areas (km², ../shared/data/hainan_districts_2020.csv) of the coastal districts that have one.
PUBLISHED_COASTAL = {"460203": 372.0, "460205": 347.0, "469023": 2076.28, "469027": 2765.53, "469028": 1108.0}


def _km2(geom) -> float:
    return float(shapely.area(shapely.transform(geom, lambda c: np.column_stack(EQUAL_AREA.transform(*c.T))))) / 1e6


@pytest.fixture(scope="module")
def land():
    doc = json.loads((GEODATA / "land.geojson").read_text(encoding="utf-8"))
    return doc["features"][0]


@pytest.fixture(scope="module")
def districts():
    return load_districts(GEODATA / "districts.geojson")


@pytest.fixture(scope="module")
def grid():
    return load_geotiff(GEODATA / "population_250m.tif")


def test_land_names_its_source_and_licence(land):
    assert "GSHHG" in land["properties"]["source"] and land["properties"]["licence"] == "LGPL-3.0-or-later"
    geom = shape(land["geometry"])
    assert geom.is_valid and 33_500 < _km2(geom) < 34_500  # Hainan Island is about 33,900 km², with its islets


@pytest.mark.parametrize(("adcode", "published"), sorted(PUBLISHED_COASTAL.items()))
def test_coastal_districts_clipped_to_land_match_their_published_area(land, districts, adcode, published):
    clipped = districts.get(adcode).geometry.intersection(shape(land["geometry"]))
    assert abs(_km2(clipped) / published - 1) < 0.05


def test_every_island_district_total_is_its_census_figure_exactly(grid, districts):
    free = np.ones(len(grid), dtype=bool)
    for d in sorted(districts, key=lambda d: d.adcode):
        mine = free & shapely.contains_xy(d.geometry, grid.lon, grid.lat)
        free &= ~mine
        expected = 0 if d.adcode in ("460301", "460302") else d.population_2020  # Sansha: offshore, not gridded
        assert int(grid.population[mine].sum()) == expected, d.name_zh
    assert not free.any()
    assert int(grid.total) == 10_081_232 - 2_100 - 233


def test_every_populated_cell_is_on_land(grid, land):
    assert shapely.contains_xy(shape(land["geometry"]), grid.lon, grid.lat).all()


def test_the_surface_says_it_is_modelled():
    import rasterio

    with rasterio.open(GEODATA / "population_250m.tif") as src:
        tags = src.tags()
        assert src.res == (250.0, 250.0) and src.dtypes == ("uint16",)
    assert tags["MODELLED"] == "yes" and "GeoNames" in tags["SOURCES"] and "census" in tags["SOURCES"]


def test_the_shipped_surface_is_what_the_build_script_makes(tmp_path):
    out = tmp_path / "p.tif"
    r = subprocess.run(
        [sys.executable, str(GEODATA / "build_population.py"), "--output", str(out)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert "island total 10,078,899 people" in r.stdout
    assert out.read_bytes() == (GEODATA / "population_250m.tif").read_bytes()
