"""``locator admin``: admin users and API tokens, stored hashed where the server reads them."""

from __future__ import annotations

from pathlib import Path

import click

from locator.cli.common import config
from locator.io.accounts import new_token, set_password, users_file

__all__ = ["admin_group"]

MIN_PASSWORD = 10


def _users_file() -> Path:
    cfg = config()
    return users_file(cfg, cfg.root_path)


@click.group("admin")
def admin_group() -> None:
    """Manage admin users and API tokens (stored hashed in the instance folder)."""


@admin_group.command("add-user")
@click.argument("name")
@click.password_option("--password", help="Prompted for (twice) when not given.")
def admin_add_user(name: str, password: str) -> None:
    """Add an admin user, or change a user's password."""
    if len(password) < MIN_PASSWORD:
        raise click.BadParameter(f"must be at least {MIN_PASSWORD} characters", param_hint="'--password'")
    set_password(_users_file(), name, password)
    click.echo(f"user {name!r} saved (password stored as a salted hash)")


@admin_group.command("new-token")
@click.argument("name")
def admin_new_token(name: str) -> None:
    """Make a bearer token for the admin API; it is shown once, only its hash is kept."""
    click.echo(new_token(_users_file(), name))
