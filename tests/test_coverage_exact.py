"""/api/v1/coverage/suggestions?exact=true: greedy and exact in people, bounded before solving."""

from __future__ import annotations

import pytest

from locator import create_app
from locator.planning.siting.problem import estimate_size
from locator.web.coverage import EXACT_MAX_SIZE, EXACT_TIME_LIMIT_S

URL = "/api/v1/coverage/suggestions?category=outdoor_station&radius=1000"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("exact") / "test.sqlite3"
    app = create_app({"TESTING": True, "DATABASE": str(db), "INDEX_REFRESH_SECONDS": 0, "TILES": "none"})
    return app.test_client()


def test_without_exact_there_is_no_exact_block(client):
    doc = client.get(URL + "&n=3&region=460106").get_json()
    assert doc["exact"] is None


def test_exact_for_one_district_reports_the_real_ratio_in_people(client):
    doc = client.get(URL + "&n=5&region=460106&exact=true").get_json()
    ex = doc["exact"]
    assert ex["status"] in ("optimal", "time limit") and ex["unit"] == "people"
    greedy_gain = doc["covered_after"] - doc["covered_before"]
    assert ex["greedy_gain_measured"] == pytest.approx(greedy_gain, abs=0.01)
    assert ex["greedy_gain_measured"] == pytest.approx(sum(f["properties"]["population_gain"] for f in doc["features"]))
    assert ex["exact_gain_measured"] == pytest.approx(ex["covered_after"] - doc["covered_before"], abs=0.01)
    assert ex["greedy_over_exact_measured"] == pytest.approx(
        ex["greedy_gain_measured"] / ex["exact_gain_measured"], rel=1e-5
    )
    # on the grid model both solve, greedy can never beat the MILP's optimum
    if ex["status"] == "optimal":
        assert ex["greedy_gain"] <= ex["gain"] + 1e-6
    assert len(ex["sites"]) == 5 and {s["adcode"] for s in ex["sites"]} == {"460106"}
    assert ex["candidates"] * ex["demand_cells"] <= EXACT_MAX_SIZE


def test_the_size_estimate_is_at_or_above_the_built_problem(client):
    from locator.web.coverage import get_analyzer

    ex = client.get(URL + "&n=2&region=460106&exact=true").get_json()["exact"]
    with client.application.app_context():
        districts = get_analyzer().districts
    built = ex["candidates"] * ex["demand_cells"]
    assert built <= estimate_size(districts, 1000.0, "460106") <= 2 * built


def test_too_big_a_problem_is_refused_before_solving(client):
    r = client.get(URL + "&n=10&exact=true")  # the whole province at 1 km
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["status"] == 422
    assert [p["name"] for p in body["invalid_params"]] == ["exact"]
    assert f"{EXACT_MAX_SIZE:,}" in body["detail"] and "before building" in body["detail"]


@pytest.mark.parametrize("value", ["maybe", "2", "yes please"])
def test_a_bad_exact_is_a_400_naming_it(client, value):
    r = client.get(URL + f"&n=2&region=460106&exact={value}")
    assert r.status_code == 400
    assert [p["name"] for p in r.get_json()["invalid_params"]] == ["exact"]


def test_the_openapi_document_states_the_bounds(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    text = str(doc)
    assert f"{EXACT_TIME_LIMIT_S:g} s" in text and f"{EXACT_MAX_SIZE:,}" in text
