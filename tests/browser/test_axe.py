"""Accessibility audit with axe-core at phone size: no serious or critical violation on the public pages.

axe-core is a test-only tool, a devDependency in package.json (pinned exactly; ``make test`` runs
``npm ci --include=dev``), never served by the app (views.VENDOR_FILES does not list it). The test
loads it from ``LOCATOR_AXE`` (a path to ``axe.min.js``), else from ``node_modules/axe-core`` or
``/tmp/axe/node_modules/axe-core`` (where ``npm i --no-save --prefix /tmp/axe axe-core`` puts it), and
skips when none exists.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from locator.web.state import get_register

from .conftest import PHONE

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = [
    Path(os.environ["LOCATOR_AXE"]) if os.environ.get("LOCATOR_AXE") else None,
    ROOT / "node_modules/axe-core/axe.min.js",
    Path("/tmp/axe/node_modules/axe-core/axe.min.js"),
]
AXE = next((p for p in CANDIDATES if p is not None and p.exists()), None)

PAGES = [
    "/",
    "/?lang=en",
    "/coverage",
    "/embed",
    "/embed?category=outdoor_station&district=460106&nearest=1",
    "/embed/builder",
    "/report/{venue}",
    "/report/{venue}?lang=en",
    "/admin/login",
]

STRUCTURE = {"region", "landmark-one-main", "page-has-heading-one", "heading-order", "landmark-unique"}


def _ready(page: Any, path: str) -> None:
    if path.startswith("/embed/builder"):
        page.wait_for_selector("#preview iframe, iframe", state="attached")
    elif path.startswith(("/coverage", "/report/", "/admin/")):
        page.wait_for_load_state("networkidle")
    else:
        page.wait_for_selector("body[data-venues]")


@pytest.mark.skipif(AXE is None, reason="axe-core not found (set LOCATOR_AXE to axe.min.js)")
@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_serious_or_critical_violation(make_page, live_app: Any, path: str) -> None:
    assert AXE is not None
    if "{venue}" in path:  # an ordinary venue of the live app's register
        venue = sorted(v.id for v in get_register(live_app).store.venues() if not v.id.startswith("xss-"))[0]
        path = path.format(venue=venue)
    probe = make_page(PHONE, bypass_csp=True)  # the page's CSP refuses the injected axe script, rightly
    page = probe.page
    page.goto(probe.base + path)
    _ready(page, path)
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => (await axe.run(document)).violations.map(v => ({id: v.id, impact: v.impact, "
        "help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    for v in result:
        print(path, v["impact"], v["id"], v["help"], v["nodes"])
    assert bad == [], bad
    # landmarks and headings on every page, though axe rates these "moderate"
    structure = [v["id"] for v in result if v["id"] in STRUCTURE]
    assert structure == [], structure
