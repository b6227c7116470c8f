"""What the issue-14 security tests share: a writable app with one admin user, and form helpers."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from flask import Flask

from locator import create_app
from locator.io import accounts

from .conftest import TEST_CONFIG

PASSWORD = "correct horse battery"
VENUE = "460106-OS-036"  # an outdoor station in 龙华区 in the shipped data


def admin_app(register_template: Path, tmp_path: Path, **config: Any) -> Flask:
    """An app on a copy of the seeded register, with user ``ops`` (:data:`PASSWORD`) in its users file."""
    db = tmp_path / "r.sqlite3"
    shutil.copyfile(register_template, db)
    users = tmp_path / "users.json"
    if not users.exists():
        accounts.set_password(users, "ops", PASSWORD)
    return create_app({**TEST_CONFIG, "DATABASE": str(db), "ADMIN_USERS_FILE": str(users), **config})


def csrf(client: Any, url: str) -> str:
    """The CSRF token of the form at ``url``."""
    m = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True))
    assert m, url
    return m.group(1)
