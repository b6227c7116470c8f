"""Large text at phone size: the toggle scales the text, stays on after a reload, and nothing overflows sideways."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import PHONE, SHOTS

pytestmark = pytest.mark.browser

#: the widest element's right edge beyond the viewport (0 when nothing sticks out sideways)
OVERFLOW = """() => {
  const w = document.documentElement.clientWidth;
  let worst = document.documentElement.scrollWidth - w;
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width && r.height && getComputedStyle(e).visibility !== 'hidden' && !e.closest('.leaflet-pane, .sr-only'))
      worst = Math.max(worst, Math.ceil(r.right - w));
  }
  return worst;
}"""


def _sizes(page: Any) -> tuple[float, float]:
    return page.evaluate(
        "() => [parseFloat(getComputedStyle(document.documentElement).fontSize),"
        " parseFloat(getComputedStyle(document.querySelector('#near-btn')).fontSize)]"
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_large_text_stays_on_and_nothing_overflows_at_390px(make_page, lang: str) -> None:
    probe = make_page(PHONE, geolocation={"latitude": 20.03, "longitude": 110.33}, permissions=["geolocation"])
    page = probe.open(f"/?lang={lang}")
    button = page.locator("#text-size")
    assert button.inner_text() == ("字号 大" if lang == "zh" else "Larger text")
    root, near = _sizes(page)
    assert page.evaluate(OVERFLOW) <= 0
    button.click()
    assert page.locator("html.large-text").count() == 1
    page.reload()
    page.wait_for_selector("body[data-venues]")
    assert page.locator("html.large-text").count() == 1, "large text is remembered"
    assert button.inner_text() == ("字号 标准" if lang == "zh" else "Standard text")
    big_root, big_near = _sizes(page)
    assert big_root >= root * 1.2 and big_near >= near * 1.2, (root, near, big_root, big_near)
    # the list, the card and the filters too
    page.click("#near-btn")
    page.locator("#results-list li button").nth(0).click()
    page.wait_for_selector("#card:not([hidden])")
    page.locator("#filters summary").click()
    assert page.evaluate(OVERFLOW) <= 0, "sideways overflow with large text"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"phone-{lang}-large-text.png"), full_page=True)
    button.click()
    assert page.locator("html.large-text").count() == 0
    page.reload()
    page.wait_for_selector("body[data-venues]")
    assert page.locator("html.large-text").count() == 0, "standard text is remembered too"
    assert probe.errors == []
