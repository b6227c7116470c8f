"""/coverage/district/<adcode>: the printable one-page report of one district."""

from __future__ import annotations

import re
from html import unescape

import pytest

from locator import create_app
from locator.web.state import get_register


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    db = tmp_path_factory.mktemp("report") / "test.sqlite3"
    return create_app({"TESTING": True, "DATABASE": str(db), "INDEX_REFRESH_SECONDS": 0, "TILES": "none"})


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def _cell(html, cell_id):
    m = re.search(rf'<td id="{cell_id}">(.*?)</td>', html, re.S)
    assert m, cell_id
    return unescape(m.group(1))


def test_report_shows_the_figures_the_api_gives(client):
    api = client.get("/api/v1/coverage?category=outdoor_station&radius=1000").get_json()
    row = next(r for r in api["districts"] if r["adcode"] == "460106")
    r = client.get("/coverage/district/460106?category=outdoor_station&radius=1000&n=3")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "龙华区" in html and "覆盖报告" in html and "模型估计" in html
    assert _cell(html, "f-population") == f"{row['population']:,}"
    assert _cell(html, "f-population-covered") == (
        f"{row['population_covered']:,.0f} ({row['population_covered_pct']:.2f}%)"
    )
    assert _cell(html, "f-people-median") == f"{row['people_dist_median_m']:,.0f} 米"
    assert _cell(html, "f-area") == f"{row['area_km2']:,.1f} 平方公里"
    # people first, land area second
    assert html.index('id="f-population-covered"') < html.index('id="f-area"')
    # the map: outline, gaps, the venues of the district, the three suggested sites
    assert re.search(r'<path class="outline" d="M[\d. L]+Z', html)
    assert '<path class="gaps"' in html
    assert html.count('class="venue"') >= row["venues"]
    assert html.count('<g class="site">') == 3
    assert len(re.findall(r"<li>", html.split('id="report-sites"')[1])) == 3


def test_report_in_english(client):
    html = client.get("/coverage/district/460106?lang=en&n=0").get_data(as_text=True)
    assert "Longhua" in html and "Coverage report" in html and "(modelled)" in html
    assert 'lang="en"' in html and "覆盖报告" not in html


def test_offshore_report_has_no_walking_figures(client):
    html = client.get("/coverage/district/460301").get_data(as_text=True)
    assert 'id="offshore-note"' in html and 'id="f-people-median"' not in html and 'class="site"' not in html


def test_report_escapes_district_names(app, client):
    reg = get_register(app)
    d = next(x for x in reg.districts if x.adcode == "460106")
    names = d.name_zh, d.name_en
    object.__setattr__(d, "name_zh", '<script>alert("x")</script>龙华区')
    object.__setattr__(d, "name_en", '<script>alert("y")</script>Longhua')
    try:
        pages = [client.get(f"/coverage/district/460106?n=0&lang={lg}").get_data(as_text=True) for lg in ("zh", "en")]
    finally:
        object.__setattr__(d, "name_zh", names[0])
        object.__setattr__(d, "name_en", names[1])
    for html, tag in zip(pages, "xy", strict=True):
        assert "<script>alert" not in html
        assert f"&lt;script&gt;alert(&#34;{tag}&#34;)" in html


@pytest.mark.parametrize(
    ("path", "status"), [("/coverage/district/999999", 404), ("/coverage/district/460106?radius=5", 400)]
)
def test_bad_requests(client, path, status):
    r = client.get(path)
    assert r.status_code == status
    assert "<script" not in r.get_data(as_text=True)


def test_coverage_table_links_to_each_report(client):
    html = client.get("/coverage?category=outdoor_station&radius=1000").get_data(as_text=True)
    links = re.findall(r'href="(/coverage/district/\d{6}[^"]*)"', html)
    assert len(links) == 26
    target = unescape(next(u for u in links if "/460106?" in u))
    assert "category=outdoor_station" in target and "radius=1000" in target
    assert client.get(target).status_code == 200
