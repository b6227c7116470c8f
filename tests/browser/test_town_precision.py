"""A venue placed at its town's centre (an address-only register row) says so on its card."""

from __future__ import annotations

import pytest

from locator import create_app
from locator.venues import Venue
from locator.web.state import get_register

from .conftest import serve_in_thread

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def town_server(tmp_path_factory):
    db = tmp_path_factory.mktemp("town") / "t.sqlite3"
    app = create_app({"TESTING": True, "DATABASE": str(db), "TILES": "none", "ACCESS_LOG": False})
    reg = get_register(app)
    placed = Venue(
        id="town-1",
        name="那大镇职工书屋",
        category="reading_room",
        district_code="460400",
        lon=109.57895,
        lat=19.52134,
        address="儋州市那大镇",
        location_precision="town",
    )
    reg.store.merge([placed], note="a row placed at its town from its address")
    reg.refresh()
    yield from serve_in_thread(app)


@pytest.mark.parametrize(
    ("lang", "text"), [("zh", "位置为乡镇中心，仅供参考"), ("en", "Position is the town centre: approximate")]
)
def test_a_town_level_venue_says_its_position_is_approximate(browser, town_server, lang, text):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, service_workers="block")
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{town_server}/?venue=town-1&lang={lang}")
    page.wait_for_selector("#card:not([hidden])")
    assert page.locator("#card-town").is_visible() and page.locator("#card-town").inner_text() == text
    page.goto(f"{town_server}/?venue=460400-RR-001&lang={lang}")  # an exactly placed one: no note
    page.wait_for_selector("#card:not([hidden])")
    assert page.locator("#card-town").is_hidden()
    ctx.close()
