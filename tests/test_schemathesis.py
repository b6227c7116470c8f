"""schemathesis against the live API: the published OpenAPI document and the server agree (issue 17).

Starts the app on a free loopback port and runs schemathesis' Python API over every public
operation (the admin API is left out: it needs an account), with a bounded number of examples
each. Skipped where schemathesis is not installed (it is a test extra); marked ``slow``.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import pytest
from werkzeug.serving import make_server

from locator import create_app

# A local install beside the checkout (pip install --target .deps schemathesis), if any, is searched
# last: the project's own pinned packages always win.
_DEPS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".deps")
if os.path.isdir(_DEPS) and _DEPS not in sys.path:
    sys.path.append(_DEPS)

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

pytestmark = pytest.mark.slow

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))


def _live(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = tmp_path_factory.mktemp("schemathesis") / "locator.sqlite3"
    app = create_app(
        {"TESTING": True, "DATABASE": str(db), "ACCESS_LOG": False, "RATELIMIT_DEFAULT": "100000000 per minute"}
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _live(tmp_path_factory)


@pytest.mark.xfail(
    reason=(
        "open findings (2026-12-02, 25 examples per operation), all ST202 'schema-valid request rejected': "
        "district/district_code documented as any 6-digit code but only the register's adcodes accepted "
        "(/venues, venues items); coverage, coverage/gaps, coverage/suggestions: category documented as a free "
        "string; /places: q required but not documented so; districts items: bbox numbers without the "
        "longitude/latitude bounds. Remove this mark when they are fixed (strict=False: it then passes as XPASS)."
    ),
    strict=False,
)
def test_the_public_api_conforms_to_its_document(live: str) -> None:
    """Every public operation, MAX_EXAMPLES generated requests each: schemathesis' default checks, 0 failures.

    schemathesis' pytest plugin is not used (it may not match this project's pytest); each operation's
    strategy is driven by Hypothesis directly and every failure is collected, naming its operation.
    """
    schema = schemathesis.openapi.from_url(f"{live}/api/v1/openapi.json").exclude(path_regex="/admin")
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            case.call_and_validate()

        ran += 1
        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - each failure is reported with its operation
            failures.append(f"{operation.label}: {str(exc)[:300]}")
    assert ran >= 10
    assert failures == [], "\n\n".join(failures)
