"""``locator admin``: admin users and API tokens, stored hashed where the server reads them.

Changing a password or removing a user ends that user's sessions at once
(the session generation in the users file, checked by the server on every
request); removing a user also revokes its tokens.
"""

from __future__ import annotations

from pathlib import Path

import click

from locator.cli.common import CliError, config
from locator.io.accounts import UnknownUser, new_token, remove_user, revoke_tokens, set_password, users_file

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
    """Add an admin user, or change a user's password (which ends the user's sessions)."""
    if len(password) < MIN_PASSWORD:
        raise click.BadParameter(f"must be at least {MIN_PASSWORD} characters", param_hint="'--password'")
    set_password(_users_file(), name, password)
    click.echo(f"user {name!r} saved (password stored as a salted hash)")


@admin_group.command("new-token")
@click.argument("name")
def admin_new_token(name: str) -> None:
    """Make a bearer token for an existing admin user; it is shown once, only its hash is kept."""
    try:
        click.echo(new_token(_users_file(), name, known_users=config().get("ADMIN_USERS") or {}))
    except UnknownUser:
        raise CliError(f"no admin user {name!r}; add one first with 'locator admin add-user {name}'") from None


@admin_group.command("revoke-token")
@click.argument("name")
def admin_revoke_token(name: str) -> None:
    """Revoke every API token of NAME kept in the users file."""
    count = revoke_tokens(_users_file(), name)
    if not count:
        raise CliError(f"no token of {name!r} in the users file")
    click.echo(f"{count} token(s) of {name!r} revoked")


@admin_group.command("remove-user")
@click.argument("name")
def admin_remove_user(name: str) -> None:
    """Remove admin user NAME: its password, its tokens and (at once) its sessions."""
    try:
        tokens = remove_user(_users_file(), name)
    except UnknownUser:
        raise CliError(f"no admin user {name!r} in the users file") from None
    click.echo(f"user {name!r} removed, with {tokens} token(s); its sessions have ended")
