"""The published OpenAPI document is precise, and the server does what it says (issue 17).

schemathesis (tests/test_schemathesis.py) checks the whole document against a live server; these
pin the specific rules it found missing, so each has a fast test of its own: the register's own
district codes as an enum, code lists naming each code once, ``lang`` and ``filter-crs`` as
documented, export media types with one charset, and a compressed venue's ETag taken in If-Match.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest

from locator import create_app
from locator.web.state import get_register

EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
BOX = "110.2 19.9, 110.5 19.9, 110.5 20.1, 110.2 20.1, 110.2 19.9"
BOX_LAT_FIRST = "19.9 110.2, 19.9 110.5, 20.1 110.5, 20.1 110.2, 19.9 110.2"


def _doc(client):
    return client.get("/api/v1/openapi.json").get_json()


def _matched(client, query: str) -> int:
    r = client.get(f"/api/v1/collections/venues/items?limit=1&{query}")
    assert r.status_code == 200, r.get_json()
    return int(r.get_json()["numberMatched"])


@pytest.mark.readonly
def test_district_parameters_list_the_registers_own_adcodes(ro_app, ro_client):
    codes = get_register(ro_app).districts.codes
    params = _doc(ro_client)["components"]["parameters"]
    for name in ("district", "district_code"):
        assert params[name]["schema"]["items"]["enum"] == codes
        assert params[name]["schema"]["uniqueItems"] is True
    words = params["region"]["schema"]["anyOf"][0]["enum"]
    assert set(codes) <= set(words) and "province" in words
    r = ro_client.get("/api/v1/venues?district=460106,460106")
    assert r.status_code == 400 and "460106" in r.get_json()["invalid_params"][0]["reason"]


@pytest.mark.readonly
def test_lang_is_refused_outside_its_enum(ro_client):
    assert ro_client.get("/api/v1/collections?lang=en").status_code == 200
    r = ro_client.get("/api/v1/collections?lang=fr")
    assert r.status_code == 400 and r.get_json()["invalid_params"][0]["name"] == "lang"


@pytest.mark.readonly
def test_filter_crs_reads_the_filters_coordinates_in_that_crs(ro_client):
    crs84 = _matched(ro_client, "filter=" + quote(f"S_WITHIN(geometry, POLYGON(({BOX})))"))
    assert crs84 > 0
    lat_first = "filter=" + quote(f"S_WITHIN(geometry, POLYGON(({BOX_LAT_FIRST})))")
    assert _matched(ro_client, f"{lat_first}&filter-crs={quote(EPSG4326)}") == crs84
    assert _matched(ro_client, lat_first) == 0  # without filter-crs the same numbers are CRS84: the sea
    r = ro_client.get("/api/v1/collections/venues/items?filter-crs=EPSG:4326")
    assert r.status_code == 400 and r.get_json()["invalid_params"][0]["name"] == "filter-crs"
    params = _doc(ro_client)["components"]["parameters"]
    assert EPSG4326 in params["filterCrs"]["schema"]["enum"]


@pytest.mark.readonly
def test_exports_have_their_documented_media_types_and_one_charset(ro_client):
    content = _doc(ro_client)["paths"]["/export"]["get"]["responses"]["200"]["content"]
    r = ro_client.get("/api/v1/export?format=csv")
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.mimetype in content
    assert ro_client.get("/api/v1/export?format=").status_code == 400  # blank is not a format


def test_a_compressed_venues_etag_is_taken_in_if_match(tmp_path):
    token = "openapi-doc-token"
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "register.sqlite3"),
            "ADMIN_TOKENS": {hashlib.sha256(token.encode()).hexdigest(): "bot"},
        }
    )
    c = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    etag = c.get("/api/v1/admin/venues/460106-OS-036", headers=auth).headers["ETag"].strip('"')
    r = c.patch("/api/v1/admin/venues/460106-OS-036", json={"phone": "0898-1"}, headers={**auth, "If-Match": "x"})
    assert r.status_code == 412
    r = c.patch(
        "/api/v1/admin/venues/460106-OS-036", json={"phone": "0898-1"}, headers={**auth, "If-Match": f'"{etag}:br"'}
    )
    assert r.status_code == 200 and r.get_json()["properties"]["phone"] == "0898-1"
