"""The ``locator`` command line: a thin shell over the domain modules.

Every error a user can cause ends as one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections import Counter
from typing import Any

import click

from locator.categories import CATEGORIES, CATEGORY_CODES, PUBLISHED_COUNTS
from locator.cli.common import open_register, table
from locator.errors import LocatorError

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


def _categories(values: tuple[str, ...]) -> list[str] | None:
    cats = [c.strip() for v in values for c in v.split(",") if c.strip()]
    for c in cats:
        if c not in CATEGORY_CODES:
            raise click.BadParameter(
                f"unknown category {c!r}; expected one of {', '.join(CATEGORY_CODES)}", param_hint="'--category'"
            )
    return cats or None


@click.group(cls=OneLineGroup)
@click.version_option(package_name="hainan-venue-locator")
def main() -> None:
    """Hainan worker service venue locator (海南职工服务阵地查询)."""


@main.command()
@click.option("--lat", type=float, required=True, help="Latitude, WGS-84 degrees.")
@click.option("--lon", type=float, required=True, help="Longitude, WGS-84 degrees.")
@click.option("-k", type=click.IntRange(1, 1000), default=5, show_default=True, help="How many venues.")
@click.option("--category", multiple=True, help="Category code(s), repeatable or comma-separated.")
@click.option("--max-distance", type=click.FloatRange(min=0), default=None, help="Metres.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "geojson"]), default="table", show_default=True)
def nearest(lat: float, lon: float, k: int, category: tuple[str, ...], max_distance: float | None, fmt: str) -> None:
    """The k venues nearest to a point, by geodesic distance."""
    from locator.index import validate_point
    from locator.venues import venue_to_feature

    cats = _categories(category)
    try:
        validate_point(lon, lat)
    except LocatorError as exc:
        raise click.BadParameter(str(exc).split(": ", 1)[1], param_hint=f"'--{str(exc).split(':')[0]}'") from None
    hits = open_register().index.nearest(lon, lat, k, cats, max_distance)
    if fmt == "table":
        rows = [
            [
                str(i),
                f"{h.distance_m:,.0f}",
                h.venue.id,
                CATEGORIES[h.venue.category].name_zh,
                h.venue.name,
                h.venue.address,
            ]
            for i, h in enumerate(hits, 1)
        ]
        click.echo(table(rows, ["#", "metres", "id", "category", "name", "address"]) if rows else "no venue found")
        return
    if fmt == "json":
        out: Any = [
            {**h.venue.as_dict(), "distance_m": round(h.distance_m, 1), "bearing_deg": round(h.bearing_deg, 1)}
            for h in hits
        ]
    else:
        feats = []
        for h in hits:
            f = venue_to_feature(h.venue)
            f["properties"]["distance_m"] = round(h.distance_m, 1)
            feats.append(f)
        out = {"type": "FeatureCollection", "features": feats}
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))


@main.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1 or $HOST")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=lambda: int(os.environ.get("PORT", "5000")),
    show_default="5000 or $PORT",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=lambda: int(os.environ.get("WEB_WORKERS", "2")),
    show_default="2 or $WEB_WORKERS",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=lambda: int(os.environ.get("WEB_THREADS", "1")),
    show_default="1 or $WEB_THREADS",
)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the map and API under gunicorn (a production WSGI server)."""
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if gunicorn is None:
        raise click.ClickException("gunicorn is not installed; run 'make serve' or pip install gunicorn")
    open_register()  # fail fast, with one line, on bad data or config (and seed the register once)
    argv = [
        gunicorn,
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        # No gunicorn access log: the app writes its own JSON-lines one (locator/http.py).
        "locator:create_app()",
    ]
    click.echo(f"serving on http://{host}:{port}/ with {workers} workers × {threads} threads", err=True)
    os.execv(gunicorn, argv)


@main.group()
def data() -> None:
    """Inspect and validate the venue register."""


@data.command("check")
def data_check() -> None:
    """Validate the register: counts, ids, categories, points inside districts."""
    reg = open_register()
    venues = reg.store.venues()
    problems: list[str] = []
    ids = Counter(v.id for v in venues)
    problems += [f"duplicate id {i!r}" for i, n in ids.items() if n > 1]
    counts = Counter(v.category for v in venues)
    problems += [f"venue {v.id!r}: unknown category {v.category!r}" for v in venues if v.category not in CATEGORIES]
    for v in venues:
        if reg.districts.get(v.district_code) is None:
            problems.append(f"venue {v.id!r}: unknown district {v.district_code!r}")
        elif not reg.districts.contains(v.district_code, v.lon, v.lat):
            problems.append(f"venue {v.id!r} ({v.lon}, {v.lat}) lies outside its district {v.district_code}")
    rows = [[c.code, c.name_zh, str(counts.get(c.code, 0)), str(PUBLISHED_COUNTS[c.code])] for c in CATEGORIES.values()]
    rows.append(["total", "合计", str(len(venues)), str(sum(PUBLISHED_COUNTS.values()))])
    click.echo(table(rows, ["category", "名称", "count", "published"]))
    click.echo(f"districts: {len(reg.districts)}; register version {reg.store.version()}")
    for p in problems[:20]:
        click.echo(f"problem: {p}", err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found in the register")
    click.echo("ok: every venue has a unique id, a known category, and lies inside its district")


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--crs",
    type=click.Choice(["wgs84", "gcj02", "bd09"]),
    default="wgs84",
    show_default=True,
    help="Datum of the file's coordinates: Amap/Tencent give gcj02, Baidu bd09.",
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
def import_command(file: str, crs: str, mode: str, dry_run: bool, skip_invalid: bool) -> None:
    """Import a register file (CSV in UTF-8 or GBK, XLSX, GeoJSON).

    Exit status: 0 every row valid; 1 some rows invalid; 2 the file cannot be read.
    Nothing is written unless every row is valid or --skip-invalid is given;
    the write is one transaction, and the previous register is kept as a version.
    """
    from locator.io.importer import read_register

    reg = open_register()
    try:
        report = read_register(file, reg.districts, crs)
    except LocatorError as exc:
        click.echo(f"locator: error: {exc}", err=True)
        sys.exit(2)
    for line in report.lines():
        click.echo(line)
    if not report.venues:
        click.echo("nothing written: no valid rows")
        sys.exit(1 if report.rows else 2)
    if dry_run:
        click.echo("dry run: nothing written")
    elif not report.ok and not skip_invalid:
        click.echo("nothing written: fix the invalid rows, or pass --skip-invalid to write the valid ones")
    else:
        note = f"import {os.path.basename(file)} ({mode})"
        if mode == "replace":
            version = reg.store.replace_all(report.venues, note=note)
        else:
            version = reg.store.merge(report.venues, note=note)
        click.echo(
            f"wrote {len(report.venues)} venues ({mode}); register version {version}; "
            f"the previous register is kept (locator versions)"
        )
    sys.exit(0 if report.ok else 1)


@main.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx", "geojson", "gpkg"]), default="csv", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File to write (default: stdout).")
@click.option("--include-closed/--active-only", default=True, show_default=True)
def export_command(fmt: str, output: str | None, include_closed: bool) -> None:
    """Export the register; the file imports again unchanged."""
    from locator.io.exporter import export_bytes
    from locator.io.render import write_atomic

    reg = open_register()
    data = export_bytes(reg.store.venues(include_closed=include_closed), fmt)
    if output:
        try:
            write_atomic(output, data)
        except OSError as exc:
            raise click.ClickException(f"cannot write {output!r}: {exc.strerror or exc}") from None
        click.echo(f"wrote {output} ({len(data):,} bytes)", err=True)
    elif fmt in ("xlsx", "gpkg"):
        raise click.UsageError(f"--format {fmt} is binary: give -o FILE")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@main.command("versions")
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


@main.command("rollback")
@click.argument("version", type=int)
def rollback_command(version: int) -> None:
    """Restore a kept version of the register (the current one is kept too)."""
    reg = open_register()
    new = reg.store.rollback(version)
    click.echo(f"restored version {version}; register data version {new}")


@main.group("admin")
def admin_group() -> None:
    """Manage admin users and API tokens (stored hashed in the instance folder)."""


def _users_file() -> Any:
    from locator import create_app
    from locator.web.auth import users_file

    return users_file(create_app())


@admin_group.command("add-user")
@click.argument("name")
@click.password_option("--password", help="Prompted for (twice) when not given.")
def admin_add_user(name: str, password: str) -> None:
    """Add an admin user, or change a user's password."""
    from locator.web.auth import set_password

    if len(password) < 10:
        raise click.BadParameter("must be at least 10 characters", param_hint="'--password'")
    set_password(_users_file(), name, password)
    click.echo(f"user {name!r} saved (password stored as a salted hash)")


@admin_group.command("new-token")
@click.argument("name")
def admin_new_token(name: str) -> None:
    """Make a bearer token for the admin API; it is shown once, only its hash is kept."""
    from locator.web.auth import new_token

    click.echo(new_token(_users_file(), name))


from locator.cli.coverage import coverage_command  # noqa: E402
from locator.cli.map import map_command  # noqa: E402

main.add_command(coverage_command)
main.add_command(map_command)
