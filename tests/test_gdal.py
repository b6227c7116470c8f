"""GDAL's OAPIF driver (what QGIS uses) pushes a layer's filter down to the server.

``ogrinfo`` from Debian's ``gdal-bin`` (``.ci/run`` installs it) is run against
a live server on a free loopback port; the test is skipped without it. GDAL
looks the items operation up in the OpenAPI document as
``/collections/venues/items`` relative to the server URL, and sends a
``-where`` equality on a property as a query parameter when the operation has
one of that name. Its debug log (``CPL_DEBUG=ON``) says when it could not and
filters on the client instead, after downloading every feature.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from locator.web.state import get_register

from .test_ogc import live_url  # noqa: F401  (fixture: the shared app served on a free loopback port)

pytestmark = [
    pytest.mark.readonly,
    pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="ogrinfo not installed (apt-get install gdal-bin)"),
]


def ogrinfo(url: str, where: str) -> str:
    """``ogrinfo``'s summary of the venues layer under ``where``, with GDAL's debug log."""
    done = subprocess.run(
        ["ogrinfo", "-ro", "-so", f"OAPIF:{url}", "venues", "-where", where],
        env={**os.environ, "CPL_DEBUG": "ON", "GDAL_HTTP_TIMEOUT": "60"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + done.stderr


@pytest.mark.parametrize(
    ("where", "sent", "keep"),
    [
        (
            "category = 'outdoor_station' AND district_code = '460106'",
            ("category=outdoor_station", "district_code=460106"),
            lambda v: v.category == "outdoor_station" and v.district_code == "460106",
        ),
        ("district_code = '469005'", ("district_code=469005",), lambda v: v.district_code == "469005"),
    ],
)
def test_ogrinfo_sends_the_filter_to_the_server(app, live_url, where, sent, keep):  # noqa: F811
    want = sum(1 for v in get_register(app).index.venues() if keep(v))
    assert want > 0
    log = ogrinfo(live_url.rstrip("/"), where)
    assert "evaluated on client side" not in log and "Only part of the filter" not in log
    fetched = re.findall(r"HTTP: Fetch\((\S+)\)", log)
    filtered = [u for u in fetched if "/collections/venues/items?" in u and all(s in u for s in sent)]
    assert filtered, fetched
    # every page after the first GDAL reads for the count carries the filter: nothing unfiltered is paged through
    assert not [u for u in fetched if "offset=" in u and u not in filtered]
    assert re.search(rf"^Feature Count: {want}$", log, re.MULTILINE), log[-3000:]
