"""Loading and validating venue data."""

from __future__ import annotations

import pytest

from locator.errors import DataError
from locator.venues import Venue, load_venues, parse_feature, venue_to_feature

from .conftest import feature, write_collection


def test_good_feature_round_trips():
    v = parse_feature(feature(amenities=["microwave", "toilet"], opening_hours="24/7"))
    assert v == Venue(
        id="t-1",
        name="测试站",
        category="outdoor_station",
        district_code="460106",
        lon=110.33,
        lat=20.03,
        amenities=("microwave", "toilet"),
        opening_hours="24/7",
    )
    assert parse_feature(venue_to_feature(v)) == v


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("not a feature", "expected a GeoJSON Feature"),
        ({"type": "Feature", "geometry": None, "properties": {}}, "geometry must be a Point"),
        (
            {**feature(), "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}},
            "geometry must be a Point",
        ),
        ({**feature(), "geometry": {"type": "Point", "coordinates": [110.3]}}, "coordinates must be [lon, lat]"),
        ({**feature(), "properties": []}, "properties must be an object"),
        (feature(category="spa"), "unknown category 'spa'"),
        (feature(lon=0.0, lat=51.5), "outside Hainan"),
        (feature(lon=20.03, lat=110.33), "outside Hainan"),
        (feature(lon=float("nan")), "lon must be a finite number, got nan"),
        (feature(lat="20.0"), "lat must be a finite number, got '20.0'"),
        (feature(lat=True), "lat must be a finite number, got True"),
        (feature(vid=""), "venue id must be a non-empty string"),
        (feature(name=" "), "name must be a non-empty string"),
        (feature(district="haikou"), "district_code must be a 6-digit adcode, got 'haikou'"),
        (feature(amenities=["jacuzzi"]), "unknown amenity 'jacuzzi'"),
        (feature(amenities="microwave"), "amenities must be a list"),
        (feature(status="gone"), "status must be one of active, closed, got 'gone'"),
        (feature(opening_hours=24), "opening_hours must be a string or null, got 24"),
    ],
)
def test_bad_features_are_rejected_with_the_value_quoted(bad, message):
    with pytest.raises(DataError) as err:
        parse_feature(bad, 7)
    assert message in str(err.value)
    assert str(err.value).startswith("feature 7")


def test_load_rejects_a_duplicate_id(tmp_path):
    path = write_collection(tmp_path / "v.geojson", [feature(vid="a"), feature(vid="a", lon=110.34)])
    with pytest.raises(DataError, match="duplicate venue id 'a'"):
        load_venues(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"type": "FeatureCollection", "features": [', "is not valid JSON"),
        ('{"type": "Feature"}', "is not a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": {}}', "'features' must be a list"),
        ("[]", "is not a GeoJSON FeatureCollection"),
    ],
)
def test_load_rejects_broken_geojson(tmp_path, text, message):
    path = tmp_path / "v.geojson"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_venues(path)


def test_load_rejects_non_utf8_and_missing_files(tmp_path):
    path = tmp_path / "gbk.geojson"
    path.write_bytes("职工之家".encode("gbk"))
    with pytest.raises(DataError, match="is not UTF-8"):
        load_venues(path)
    with pytest.raises(DataError, match="cannot read"):
        load_venues(tmp_path / "missing.geojson")


def test_shipped_venues_load_and_match_published_counts():
    from collections import Counter

    from locator.categories import PUBLISHED_COUNTS

    from .conftest import GEODATA

    venues = load_venues(GEODATA / "venues.geojson")
    assert Counter(v.category for v in venues) == PUBLISHED_COUNTS
    assert all("演示数据" in v.source for v in venues)
