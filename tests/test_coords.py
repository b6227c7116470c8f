"""Coordinates in every form registers use, and the datum check that refuses to shift silently."""

from __future__ import annotations

import random

import pytest

from locator.coords import fit_datum, read_angle, read_pair
from locator.districts import load_districts
from locator.geo import from_wgs84
from locator.venues import load_venues
from tests.conftest import GEODATA


@pytest.mark.parametrize(
    ("cell", "degrees", "axis"),
    [
        ("110.279251", 110.279251, None),
        (110.279251, 110.279251, None),
        ("１１０．２７９２５１", 110.279251, None),  # full-width digits and point
        ("110°16'54.4\"", 110 + 16 / 60 + 54.4 / 3600, None),
        ("110°16′54.4″", 110 + 16 / 60 + 54.4 / 3600, None),
        ("110度16分54.4秒", 110 + 16 / 60 + 54.4 / 3600, None),
        ("20°1.5'", 20 + 1.5 / 60, None),
        ("东经110.28°", 110.28, "lon"),
        ("东经110°16′54″", 110 + 16 / 60 + 54 / 3600, "lon"),
        ("北纬20.03", 20.03, "lat"),
        ("E110.28", 110.28, "lon"),
        ("N 20.03", 20.03, "lat"),
        ("20.03N", 20.03, "lat"),
        ("110.28 e", 110.28, "lon"),
        ("西经75.5", -75.5, "lon"),
        ("S33.9", -33.9, "lat"),
        ("-110", -110.0, None),
    ],
)
def test_read_angle(cell, degrees, axis):
    value, got_axis = read_angle(cell)
    assert value == pytest.approx(degrees, abs=1e-12) and got_axis == axis


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("", "is not a coordinate"),
        ("abc", "'abc' is not a coordinate"),
        ("110°61′", "under 60"),
        ("110°16′60″", "under 60"),
        ("E110.5N", "names both"),
        ("E110 N20", "is not a coordinate"),
        (None, "None is not a coordinate"),
        (float("nan"), "nan is not a coordinate"),
        (True, "True is not a coordinate"),
    ],
)
def test_read_angle_refuses_with_the_value_quoted(cell, message):
    with pytest.raises(ValueError, match=message):
        read_angle(cell)


@pytest.mark.parametrize(
    ("cell", "lon", "lat"),
    [
        ("110.3312,20.0311", 110.3312, 20.0311),
        ("110.3312, 20.0311", 110.3312, 20.0311),
        ("20.0311,110.3312", 110.3312, 20.0311),  # latitude first: decided by range
        ("110.3312 20.0311", 110.3312, 20.0311),
        ("１１０．３３１２，２０．０３１１", 110.3312, 20.0311),
        ("东经110°16′54″ 北纬20°1′52″", 110 + 16 / 60 + 54 / 3600, 20 + 1 / 60 + 52 / 3600),
        ("北纬20.0311 东经110.3312", 110.3312, 20.0311),  # hemisphere words decide the order
        ("N20.0311, E110.3312", 110.3312, 20.0311),
        ("110.3312;20.0311", 110.3312, 20.0311),
    ],
)
def test_read_pair(cell, lon, lat):
    assert read_pair(cell) == (pytest.approx(lon, abs=1e-9), pytest.approx(lat, abs=1e-9))


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("110.3312", "not a coordinate pair"),
        ("1,2,3", "not a coordinate pair"),
        ("20.03,19.5", "cannot tell longitude from latitude"),
        ("200,20", "out of range"),
    ],
)
def test_read_pair_refuses_with_the_value_quoted(cell, message):
    with pytest.raises(ValueError, match=message):
        read_pair(cell)


@pytest.fixture(scope="module")
def sample():
    venues = load_venues(GEODATA / "venues.geojson")
    return load_districts(GEODATA / "districts.geojson"), random.Random(1).sample(venues, 40)


@pytest.mark.parametrize("true_crs", ["wgs84", "gcj02", "bd09"])
def test_fit_datum_names_the_datum_a_file_is_really_in(sample, true_crs):
    districts, venues = sample
    points = []
    for v in venues:
        lon, lat = from_wgs84(v.lon, v.lat, true_crs)
        points.append((float(lon), float(lat), v.district_code))
    fit = fit_datum(points, districts.contains, declared="wgs84")
    assert fit.tested == 40 and fit.fits[true_crs] == 40
    if true_crs == "wgs84":
        assert fit.better is None and fit.message() == ""
    else:
        assert fit.better == true_crs
        assert f"pass --crs {true_crs}" in fit.message() and "40 of 40" in fit.message()
    # declared right: nothing to say
    assert fit_datum(points, districts.contains, declared=true_crs).better is None


def test_fit_datum_says_nothing_on_too_few_points_and_refuses_an_unknown_datum(sample):
    districts, venues = sample
    few = [(v.lon + 0.01, v.lat, v.district_code) for v in venues[:4]]
    assert fit_datum(few, districts.contains).better is None
    with pytest.raises(ValueError, match="unknown datum 'gps'"):
        fit_datum(few, districts.contains, declared="gps")
