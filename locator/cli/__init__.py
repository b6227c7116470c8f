"""The ``locator`` command line: the click group and the commands it holds.

Each area's commands live in their own module (``venues``, ``register``,
``admin``, ``serve``, ``coverage``, ``map``); they share
``locator.cli.common`` and never import this package, so there is no cycle.
Every error a user can cause ends as one line on stderr and a documented
exit status, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from locator.cli.admin import admin_group
from locator.cli.backup import backup_command, restore_command
from locator.cli.common import EXIT_CODES, one_line
from locator.cli.coverage import coverage_command
from locator.cli.map import map_command
from locator.cli.register import export_command, import_command, rollback_command, versions_command
from locator.cli.serve import serve
from locator.cli.venues import data_group, nearest
from locator.errors import LocatorError
from locator.storage import store_errors

__all__ = ["main"]


class OneLineGroup(click.Group):
    """A click group whose errors print as one line, never a traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"locator: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("locator: aborted", err=True)
            sys.exit(1)
        except LocatorError as exc:
            click.echo(f"locator: error: {exc}", err=True)
            sys.exit(1)
        except store_errors() as exc:  # the register's disk is full, read-only, or it is unreachable
            click.echo(f"locator: error: the register failed: {one_line(exc)}; nothing was written", err=True)
            sys.exit(3)


EPILOG = "Exit status: " + "; ".join(f"{code} {what}" for code, what in EXIT_CODES.items()) + "."


@click.group(cls=OneLineGroup, epilog=EPILOG)
@click.version_option(package_name="hainan-venue-locator")
def main() -> None:
    """Hainan worker service venue locator (海南职工服务阵地查询)."""


for _command in (
    nearest,
    serve,
    data_group,
    import_command,
    export_command,
    versions_command,
    rollback_command,
    admin_group,
    coverage_command,
    map_command,
    backup_command,
    restore_command,
):
    main.add_command(_command)
