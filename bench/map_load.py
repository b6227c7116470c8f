"""The worker map's first load: bytes (gzip) and time until venues are visible.

    .venv/bin/python bench/map_load.py [--runs 5]

Prints each first-load resource (HTML, JS, CSS, the venue and district layers;
no tiles) with its raw size, its gzip-6 size and what the server actually sent
with ``Accept-Encoding: gzip``; then the time from navigation until the
clustered venues are on screen in headless Chromium (/usr/bin/chromium), on
loopback and under an emulated slow mobile link. Budgets: 300 KB, 1.5 s.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import re
import statistics
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from werkzeug.serving import make_server  # noqa: E402

from locator import create_app  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
SLOW = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 0.75e6 / 8}


def first_load_bytes(app) -> int:  # type: ignore[no-untyped-def]
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    urls = ["/"] + re.findall(r'(?:href|src)="(/static/[^"]+\.(?:js|css)[^"]*)"', html)
    urls += ["/api/v1/map/venues", "/api/v1/map/districts", "/static/img/amenities.svg", "/static/img/icon.svg"]
    total_gz = total_sent = 0
    print(f"{'resource':48} {'raw':>9} {'gzip-6':>9} {'sent':>9}")
    for url in urls:
        raw = client.get(url, headers={"Accept-Encoding": "identity"}).get_data()
        sent = len(client.get(url, headers={"Accept-Encoding": "gzip"}).get_data())
        gz = len(gzip.compress(raw, 6))
        total_gz += gz
        total_sent += sent
        print(f"{url:48} {len(raw):9,} {gz:9,} {sent:9,}")
    print(f"{'first load total':48} {'':9} {total_gz:9,} {total_sent:9,}   (budget 307,200)")
    return total_gz


def time_to_venues(base: str, runs: int, throttle: dict | None) -> list[float]:  # type: ignore[type-arg]
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for _ in range(runs):
            ctx = browser.new_context(viewport={"width": 390, "height": 844}, service_workers="block")
            page = ctx.new_page()
            if throttle:
                cdp = ctx.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.emulateNetworkConditions", throttle)
            page.goto(base + "/")
            page.wait_for_selector("body[data-drawn-ms]", timeout=60_000)
            assert page.locator(".marker-cluster").count() > 5
            times.append(float(page.get_attribute("body", "data-drawn-ms") or "nan"))
            ctx.close()
        browser.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE": f"{tmp}/bench.sqlite3", "TILES": "none"})
        first_load_bytes(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        for label, throttle in (("loopback", None), ("slow mobile (1.6 Mb/s, 150 ms RTT)", SLOW)):
            t = time_to_venues(base, args.runs, throttle)
            print(f"venues visible, {label}: median {statistics.median(t):.0f} ms, "
                  f"min {min(t):.0f}, max {max(t):.0f} over {len(t)} runs (budget 1500 ms on loopback)")  # fmt: skip
        server.shutdown()


if __name__ == "__main__":
    main()
