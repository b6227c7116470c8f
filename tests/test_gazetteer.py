"""The gazetteer: place names to positions, and the most specific place in an address."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import shapely

from locator.districts import load_districts
from locator.errors import DataError
from locator.gazetteer import Gazetteer, Place, fold, load_gazetteer
from tests.conftest import GEODATA


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return load_gazetteer(GEODATA / "places.json")


@pytest.mark.parametrize(
    ("query", "name_zh", "district"),
    [
        ("三亚", "三亚市", "460203"),
        ("三亚市", "三亚市", "460203"),
        ("海口", "海口市", "460108"),
        ("那大", "那大镇", "460400"),
        ("那大镇", "那大镇", "460400"),
        ("Nada", "那大镇", "460400"),
        ("ｎａｄａ", "那大镇", "460400"),  # full-width Latin, as a phone keyboard may type it
        (" 那 大 ", "那大镇", "460400"),
        ("嘉积", "琼海市", "469002"),  # GeoNames has Jiaji only as the seat of Qionghai
        ("八所", "八所镇", "469007"),
        ("儋州", "那大镇", "460400"),  # a county-level city's name finds its seat
        ("琼中", "营根镇", "469030"),
        ("龙华区", "龙华区", "460106"),  # no GeoNames place: the district itself
        ("西沙", "西沙区", "460301"),
    ],
)
def test_lookup_finds_the_place(gaz, query, name_zh, district):
    found = gaz.lookup(query)
    assert found, query
    assert (found[0].name_zh, found[0].district_code) == (name_zh, district)


@pytest.mark.parametrize("query", ["", "   ", "不存在的地方", "Beijing", "那", "镇"])
def test_lookup_of_an_unknown_name_is_empty(gaz, query):
    assert gaz.lookup(query) == []


def test_lookup_can_be_kept_to_a_district(gaz):
    assert gaz.lookup("那大", district_code="460400")
    assert gaz.lookup("那大", district_code="460106") == []


@pytest.mark.parametrize(
    ("address", "district", "expected"),
    [
        ("海南省儋州市那大镇人民路1号", None, "那大镇"),
        ("海口市龙华区新坡镇", None, "新坡镇"),
        (
            "文昌市东郊镇椰林村委会",
            None,
            "东郊镇",
        ),  # not 椰林 (a town in 陵水): short forms are not matched in addresses
        ("琼中黎族苗族自治县营根镇", None, "营根镇"),
        ("三亚市吉阳区迎宾路", None, "三亚市"),  # no town named: the city's centre
        ("那大镇人民路", "460106", None),  # the row's district rules out 那大镇
        ("海南省某某路 8 号", None, None),
        ("", None, None),
    ],
)
def test_in_address_finds_the_most_specific_place(gaz, address, district, expected):
    place = gaz.in_address(address, district_code=district)
    assert (place.name_zh if place else None) == expected


def test_every_place_lies_in_its_district_or_on_its_shore(gaz):
    districts = load_districts(GEODATA / "districts.geojson")
    assert len(gaz) >= 200
    for p in gaz.places:
        d = districts.get(p.district_code)
        assert d is not None, p
        assert d.geometry.distance(shapely.Point(p.lon, p.lat)) < 0.05, p


def test_the_shipped_file_is_what_the_build_script_makes(tmp_path):
    out = tmp_path / "places.json"
    r = subprocess.run(
        [sys.executable, str(GEODATA / "build_places.py"), "--output", str(out)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert "0 outside every district" in r.stdout
    assert out.read_bytes() == (GEODATA / "places.json").read_bytes()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"id": "x"}, "malformed place"),
        ({"id": "x", "kind": "planet", "lon": 1, "lat": 1, "district_code": "1"}, "unknown kind 'planet'"),
        ({"id": "x", "kind": "town", "lon": 200, "lat": 1, "district_code": "1"}, "out of range"),
        ({"id": "x", "kind": "town", "lon": "east", "lat": 1, "district_code": "1"}, "malformed place"),
    ],
)
def test_a_malformed_gazetteer_is_refused_with_the_value_quoted(tmp_path, raw, message):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"places": [raw]}), encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_gazetteer(path)


def test_an_unreadable_gazetteer_names_the_file(tmp_path):
    with pytest.raises(DataError, match="cannot read the gazetteer"):
        load_gazetteer(tmp_path / "missing.json")


def test_fold_makes_full_width_and_spaced_names_equal():
    assert fold("Ｎａｄａ 镇") == fold("nada镇")
    assert isinstance(Place, type)
