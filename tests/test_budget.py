"""Every siting request is bounded before it grids anything (issue 13): estimate, refuse with 422, round the radius.

The refusals are checked by status and body, never by time: the estimate
reads only the districts' areas, so a refused request never reaches the grid
(``build_problem`` is replaced by one that fails the test if it is called).
"""

from __future__ import annotations

import pytest

from locator.errors import InvalidParameter
from locator.planning import budget
from locator.planning.budget import (
    MAX_SITING_CELLS,
    RADIUS_STEP_M,
    OverBudget,
    check_siting_budget,
    round_radius,
    siting_cost,
)
from locator.planning.grid import district_area_m2
from locator.web.state import get_register

pytestmark = pytest.mark.readonly

HEAVY = "/api/v1/coverage/suggestions?n=1&radius=50&region=108.5,18.1,111.1,20.2"


@pytest.fixture
def no_gridding(monkeypatch):
    import locator.planning.siting as siting

    def refuse(*a, **kw):
        raise AssertionError("the request reached the grid: its cost was not estimated first")

    monkeypatch.setattr(siting, "build_problem", refuse)


@pytest.mark.parametrize(
    "url, name",
    [
        (HEAVY, "radius"),
        ("/api/v1/coverage/suggestions?n=1&radius=50", "radius"),
        ("/api/v1/coverage/suggestions?n=3&radius=100&region=460400", "radius"),
        ("/coverage/download.geojson?n=2&radius=60&region=108.5,18.1,111.1,20.2", "radius"),
    ],
)
def test_a_request_over_budget_is_refused_with_422_naming_the_parameter_and_the_limit(
    ro_client, no_gridding, url, name
):
    r = ro_client.get(url, headers={"Accept": "application/json"})  # a download answers HTML to a browser
    assert r.status_code == 422 and r.mimetype == "application/problem+json", r.get_data(as_text=True)
    doc = r.get_json()
    assert doc["status"] == 422 and doc["invalid_params"][0]["name"] == name
    assert doc["invalid_params"][0]["limit"] == str(MAX_SITING_CELLS) and f"{MAX_SITING_CELLS:,}" in doc["detail"]
    assert "demand cells" in doc["detail"]


def test_the_estimate_matches_the_projected_area_and_the_default_fits(ro_app):
    districts = get_register(ro_app).districts
    for d in districts[:5]:  # the cheap area is the projected one to within 2 %
        assert budget.approx_area_m2(d) == pytest.approx(district_area_m2(d), rel=0.02)
    province = siting_cost(districts, None, 1000)
    assert province.cell_m == 400 and 200_000 < province.cells < MAX_SITING_CELLS
    assert check_siting_budget(districts, "460108", 300).cells < MAX_SITING_CELLS  # an ordinary request passes
    heavy = siting_cost(districts, (108.5, 18.1, 111.1, 20.2), 50)
    assert heavy.cell_m == 20 and heavy.cells > 100 * MAX_SITING_CELLS
    with pytest.raises(OverBudget) as err:
        check_siting_budget(districts, None, 50)
    assert isinstance(err.value, InvalidParameter) and err.value.limit == MAX_SITING_CELLS


@pytest.mark.parametrize(
    "given, rounded",
    [(1000.0, 1000.0), (1000.1, 1000.0), (1004.9, 1000.0), (1005.1, 1010.0), (50.2, 50.0), (19_999.0, 20_000.0)],
)
def test_radius_rounds_to_the_documented_step(given, rounded):
    assert RADIUS_STEP_M == 10 and round_radius(given) == rounded


def test_radius_noise_shares_one_cached_result(ro_client):
    a = ro_client.get("/api/v1/coverage?radius=1000.1").get_json()
    b = ro_client.get("/api/v1/coverage?radius=999.96").get_json()
    assert a == b and a["params"]["radius_m"] == 1000
