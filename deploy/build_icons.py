"""Render the app icons from static/img/icon.svg, once, with Chromium (Playwright): run after changing the SVG.

    .venv/bin/python deploy/build_icons.py

Writes static/img/icon-192.png, icon-512.png, apple-touch-icon.png (180 px, on
white: iOS fills transparency with black) and favicon.ico (16, 32 and 48 px
PNGs in one ICO container, the format every browser reads). The PNGs are
committed: the server never renders anything.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from playwright.sync_api import sync_playwright

IMG = Path(__file__).resolve().parents[1] / "static" / "img"
CHROMIUM = os.environ.get("LOCATOR_CHROMIUM", "/usr/bin/chromium")


def render(page, svg: str, size: int, background: str | None) -> bytes:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": size, "height": size})
    bg = f"background:{background};" if background else "background:transparent;"
    sized = svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
    page.set_content(f'<html><body style="margin:0;{bg}"><div style="width:{size}px;height:{size}px">{sized}</div></body></html>')
    return page.screenshot(omit_background=background is None, clip={"x": 0, "y": 0, "width": size, "height": size})


def ico(pngs: list[tuple[int, bytes]]) -> bytes:
    """An ICO file holding PNG images (Windows Vista and every browser read these)."""
    head = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, data = b"", b""
    for size, png in pngs:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset + len(data))
        data += png
    return head + entries + data


def main() -> None:
    svg = (IMG / "icon.svg").read_text("utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(device_scale_factor=1)
        for size in (192, 512):
            (IMG / f"icon-{size}.png").write_bytes(render(page, svg, size, None))
        (IMG / "apple-touch-icon.png").write_bytes(render(page, svg, 180, "#ffffff"))
        (IMG / "favicon.ico").write_bytes(ico([(s, render(page, svg, s, None)) for s in (16, 32, 48)]))
        browser.close()


if __name__ == "__main__":
    main()
