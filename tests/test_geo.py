"""Geodesy and datum conversions."""

from __future__ import annotations

import numpy as np
import pytest

from locator import geo


def test_geodesic_distance_matches_known_values():
    # One degree of latitude at the equator on WGS-84 is 110,574.4 m; of longitude 111,319.5 m.
    assert geo.distance_m(0, 0, 0, 1) == pytest.approx(110574.4, abs=0.1)
    assert geo.distance_m(0, 0, 1, 0) == pytest.approx(111319.5, abs=0.1)
    # At Haikou's latitude a degree of longitude is ~5.8% shorter than one of latitude.
    east = geo.distance_m(110.3, 20.0, 111.3, 20.0)
    north = geo.distance_m(110.3, 20.0, 110.3, 21.0)
    assert 0.93 < east / north < 0.95


def test_gcj02_offset_in_haikou_is_the_known_few_hundred_metres():
    glon, glat = geo.wgs84_to_gcj02(110.33, 20.03)
    shift = geo.distance_m(110.33, 20.03, glon, glat)
    assert 300 < shift < 700
    assert glon > 110.33 and glat < 20.03  # Amap shifts Hainan east and south


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_round_trips_are_under_a_millimetre(crs):
    rng = np.random.default_rng(3)
    lon = rng.uniform(108.5, 117.5, 500)
    lat = rng.uniform(3.5, 20.2, 500)
    out_lon, out_lat = geo.from_wgs84(lon, lat, crs)
    back_lon, back_lat = geo.to_wgs84(out_lon, out_lat, crs)
    assert np.max(geo.distance_m(lon, lat, back_lon, back_lat)) < 1e-3
    assert np.min(geo.distance_m(lon, lat, out_lon, out_lat)) > 100  # a real shift happened


def test_outside_china_gcj02_is_identity():
    assert geo.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


def test_unknown_crs_is_rejected():
    with pytest.raises(ValueError, match="unknown crs 'epsg3857'"):
        geo.to_wgs84(110.0, 20.0, "epsg3857")


def test_ecef_chord_never_exceeds_geodesic():
    rng = np.random.default_rng(4)
    lon1, lat1 = rng.uniform(-180, 180, 2000), rng.uniform(-89, 89, 2000)
    lon2, lat2 = lon1 + rng.normal(0, 2, 2000), np.clip(lat1 + rng.normal(0, 2, 2000), -90, 90)
    chord = np.linalg.norm(geo.ecef(lon1, lat1) - geo.ecef(lon2, lat2), axis=1)
    geodesic = geo.distance_m(lon1, lat1, lon2, lat2)
    assert np.all(chord <= geodesic + 1e-6)
