"""``locator import``, ``export``, ``versions`` and ``rollback``: changing the register and undoing it."""

from __future__ import annotations

import sys

import click

from locator.cli.common import CliError, open_gazetteer, open_register, table
from locator.io.exporter import FORMATS, export_bytes
from locator.io.import_plan import OUTCOMES
from locator.io.render import write_atomic

__all__ = ["export_command", "import_command", "rollback_command", "versions_command"]


@click.command(
    "import",
    epilog="Exit status: " + "; ".join(f"{k} {v}" for k, v in OUTCOMES.items()) + ".",
)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--crs",
    type=click.Choice(["wgs84", "gcj02", "bd09"]),
    default=None,
    help="Datum of the file's coordinates: GPS/Tianditu give wgs84, Amap/Tencent gcj02, Baidu bd09. "
    "Without it the file is tested under all three, and refused if another than wgs84 fits clearly better.",
)
@click.option(
    "--mode",
    type=click.Choice(["replace", "merge"]),
    default="merge",
    show_default=True,
    help="replace: the file becomes the register; merge: insert or update by id.",
)
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Write the valid rows even when some rows are invalid.")
@click.option(
    "--force",
    is_flag=True,
    help="Write even where the file (an export) would overwrite venues edited in the register since it was taken.",
)
def import_command(file: str, crs: str | None, mode: str, dry_run: bool, skip_invalid: bool, force: bool) -> None:
    """Import a register file (CSV in UTF-8 or GBK, XLSX, GeoJSON) as offices keep it.

    Title rows, blank rows and a sign-off footer around the table are skipped;
    coordinates may be two columns or one (坐标), in decimals or degrees-minutes-seconds;
    Chinese opening hours are converted; rows with an address and no coordinates are
    placed at their town (flagged as town-level). The report prints one line per
    conversion and problem. Nothing is written unless every row is valid or
    --skip-invalid is given; the write is one transaction, and the previous register
    is kept as a version.
    """
    from locator.io.import_plan import apply_import, plan_import

    try:
        reg = open_register()
    except CliError as exc:
        raise CliError(exc.message, exit_code=3) from None
    gazetteer = open_gazetteer()  # the project's own data: failing to read it is exit 3, not the file's fault
    plan = plan_import(file, reg, crs, gazetteer, mode, force=force, dry_run=dry_run, skip_invalid=skip_invalid)
    for line in plan.lines:
        click.echo(line)
    if plan.error is not None:
        raise CliError(plan.error, exit_code=plan.outcome)
    if plan.write:
        result = apply_import(plan, reg.store)
        if not result.written:
            raise CliError(result.line, exit_code=result.outcome)
        click.echo(result.line)
    sys.exit(plan.outcome)


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File to write (default: stdout).")
@click.option("--include-closed/--active-only", default=True, show_default=True)
def export_command(fmt: str, output: str | None, include_closed: bool) -> None:
    """Export the register; the file imports again unchanged.

    Exit status: 0 written; 1 the file cannot be written; 2 a binary format without -o.
    """
    if not output and fmt in ("xlsx", "gpkg"):
        raise click.UsageError(f"--format {fmt} is binary: give -o FILE")
    reg = open_register()
    version, venues = reg.store.snapshot_venues(include_closed=include_closed)
    data = export_bytes(venues, fmt, version)  # the version lets a later import find the edits it would revert
    if output:
        try:
            write_atomic(output, data)
        except OSError as exc:
            raise CliError(f"cannot write {output!r}: {exc.strerror or exc}") from None
        click.echo(f"wrote {output} ({len(data):,} bytes)", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@click.command("versions")
def versions_command() -> None:
    """List the kept versions of the register (newest first)."""
    reg = open_register()
    rows = [[str(s.id), s.created_at, str(s.venue_count), str(s.data_version), s.note] for s in reg.store.versions()]
    click.echo(f"current: data version {reg.store.version()}, {len(reg.store.venues(include_closed=True))} venues")
    click.echo(
        table(rows, ["version", "kept at (UTC)", "venues", "data version", "note"])
        if rows
        else "no earlier versions kept"
    )


@click.command("rollback")
@click.argument("version", type=int)
def rollback_command(version: int) -> None:
    """Restore a kept version of the register (the current one is kept too)."""
    reg = open_register()
    new = reg.store.rollback(version)
    click.echo(f"restored version {version}; register data version {new}")
