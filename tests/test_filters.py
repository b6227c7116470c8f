"""CQL2 filters, sortby and properties on the in-memory register (OGC API – Features Part 3), as a table."""

from __future__ import annotations

import json

import pytest

from locator.errors import InvalidParameter
from locator.filters import parse_filter, queryables_schema
from locator.queryables import VENUE_QUERYABLES, parse_properties, parse_sortby, venue_record
from locator.venues import Venue

VENUES = [
    Venue("a", "龙华职工书屋", "reading_room", "460106", 110.33, 20.03, amenities=("toilet", "wifi")),
    Venue("b", "秀英户外劳动者服务站", "outdoor_station", "460105", 110.28, 20.00, amenities=("toilet",)),
    Venue("c", "三亚职工之家", "workers_home", "460203", 109.51, 18.25, status="closed", opening_hours="24/7"),
    Venue("d", "Outdoor Rest Stop", "outdoor_station", "460106", 110.35, 20.05, operator="x%y"),
]
RECORDS = [venue_record(v, open_now=(v.id in ("a", "c"))) for v in VENUES]


def ids(text: str, lang: str = "cql2-text") -> list[str]:
    f = parse_filter(text, lang, VENUE_QUERYABLES)
    return [r["id"] for r in RECORDS if f(r)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("category = 'outdoor_station'", ["b", "d"]),
        ("category = 'outdoor_station' AND district_code = '460106'", ["d"]),
        ("category <> 'outdoor_station'", ["a", "c"]),
        ("category IN ('reading_room', 'workers_home')", ["a", "c"]),
        ("category NOT IN ('reading_room', 'workers_home')", ["b", "d"]),
        ("name LIKE '%职工%'", ["a", "c"]),
        ("name LIKE 'outdoor%'", []),  # LIKE is case-sensitive
        ("CASEI(name) LIKE CASEI('outdoor%')", ["d"]),
        ("name LIKE '_亚%'", ["c"]),
        ("operator LIKE 'x\\%y'", ["d"]),  # an escaped wildcard is a literal
        ("NOT (status = 'closed')", ["a", "b", "d"]),
        ("status = 'closed' OR open_now = true", ["a", "c"]),
        ("opening_hours IS NULL", ["a", "b", "d"]),
        ("opening_hours IS NOT NULL", ["c"]),
        ("S_INTERSECTS(geometry, BBOX(110.3, 20.0, 110.4, 20.1))", ["a", "d"]),
        ("S_WITHIN(geometry, POLYGON((109 18, 110 18, 110 19, 109 19, 109 18)))", ["c"]),
        ("S_DISJOINT(geometry, BBOX(110.3, 20.0, 110.4, 20.1))", ["b", "c"]),
        ("district_code > '460200'", ["c"]),
    ],
)
def test_cql2_text(text, expected):
    assert ids(text) == expected


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"op": "=", "args": [{"property": "category"}, "outdoor_station"]}, ["b", "d"]),
        ({"op": "a_contains", "args": [{"property": "amenities"}, ["toilet"]]}, ["a", "b"]),
        ({"op": "a_contains", "args": [{"property": "amenities"}, ["toilet", "wifi"]]}, ["a"]),
        ({"op": "a_overlaps", "args": [{"property": "amenities"}, ["wifi", "drinking_water"]]}, ["a"]),
        ({"op": "a_containedby", "args": [{"property": "amenities"}, ["toilet"]]}, ["b", "c", "d"]),
        # a bbox in CQL2 JSON is [minx, miny, maxx, maxy]
        ({"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [110.3, 20.0, 110.4, 20.1]}]}, ["a", "d"]),
    ],
)
def test_cql2_json(doc, expected):
    assert ids(json.dumps(doc), "cql2-json") == expected


@pytest.mark.parametrize(
    ("text", "lang", "message"),
    [
        ("colour = 'red'", "cql2-text", "unknown property 'colour'; queryables: id, name"),
        ("category = 3", "cql2-text", "3 is not a string"),
        ("open_now = 'yes'", "cql2-text", "'yes' is not a boolean"),
        ("category = ", "cql2-text", "is not valid cql2-text"),
        ("{not json", "cql2-json", "is not valid cql2-json"),
        ("", "cql2-text", "the filter is empty"),
        ("x" * 5000, "cql2-text", "5,000 characters; at most 4,096"),
        ("S_INTERSECTS(name, BBOX(1,2,3,4))", "cql2-text", "compares the geometry property"),
        ("S_CROSSES(geometry, BBOX(1,2,3,4))", "cql2-text", "S_CROSSES is not supported on points"),
        ("amenities = 'toilet'", "cql2-text", "property 'amenities' is a array"),
        ("foo(name) = 'a'", "cql2-text", "function 'foo' is not supported"),
        (" OR ".join(["category = 'other'"] * 80), "cql2-text", "more than 200 terms"),
    ],
)
def test_bad_filters_name_the_parameter_and_quote_the_problem(text, lang, message):
    with pytest.raises(InvalidParameter) as err:
        parse_filter(text, lang, VENUE_QUERYABLES)
    assert err.value.name == "filter" and message in err.value.reason


def test_an_unknown_filter_lang_names_filter_lang():
    with pytest.raises(InvalidParameter) as err:
        parse_filter("category = 'x'", "ecql", VENUE_QUERYABLES)
    assert err.value.name == "filter-lang" and "'ecql'" in err.value.reason


def test_a_bad_array_value_is_named():
    doc = {"op": "a_contains", "args": [{"property": "amenities"}, ["jacuzzi"]]}
    with pytest.raises(InvalidParameter, match="no value 'jacuzzi'"):
        parse_filter(json.dumps(doc), "cql2-json", VENUE_QUERYABLES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name", (("name", False),)),
        ("-name", (("name", True),)),
        ("+category,-district_code", (("category", False), ("district_code", True))),
        ("name DESC", (("name", True),)),
    ],
)
def test_sortby(text, expected):
    assert parse_sortby(text, VENUE_QUERYABLES) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("colour", "cannot sort by 'colour'"), ("geometry", "cannot sort by 'geometry'"), ("name,,id", "empty sort key")],
)
def test_bad_sortby(text, message):
    with pytest.raises(InvalidParameter, match=message) as err:
        parse_sortby(text, VENUE_QUERYABLES)
    assert err.value.name == "sortby"


def test_properties():
    assert parse_properties("name, category,name", VENUE_QUERYABLES) == ("name", "category")
    with pytest.raises(InvalidParameter, match="unknown property 'colour'") as err:
        parse_properties("name,colour", VENUE_QUERYABLES)
    assert err.value.name == "properties"


def test_queryables_schema_is_json_schema_with_enums():
    doc = queryables_schema(VENUE_QUERYABLES, "Venues", "https://x/collections/venues/queryables")
    assert doc["$schema"].endswith("2020-12/schema") and doc["additionalProperties"] is False
    assert doc["properties"]["category"]["enum"][0] == "workers_home"
    assert doc["properties"]["amenities"]["items"]["enum"]
    assert doc["properties"]["geometry"]["format"] == "geometry-point"
