"""``locator coverage``: the coverage table, gap areas and siting suggestions.

A thin shell over :mod:`locator.planning`. Registered on the ``locator`` group
in ``locator/cli/__init__.py``.

Formats: ``table`` (terminal, English, this module's own), and through the one
renderer registry (:mod:`locator.io.render`) with the document of
:func:`locator.io.coverage_report.coverage_document`, exactly what the web
downloads give: ``csv`` (the districts table, UTF-8; with a byte-order mark
when written to a file, so Excel opens it right), ``json`` (params, summary,
districts, and suggestions if asked), ``geojson`` (districts, gap areas and
suggested sites, told apart by ``layer``), ``xlsx`` (sheets districts,
summary, and with ``--suggest`` suggestions and curve; needs ``-o``). Headers
are Chinese unless ``--lang en``. ``-o FILE`` is written atomically
(:func:`locator.io.render.write_atomic`).

Exit codes: 0 on success, 1 (click.ClickException) on a bad parameter, an
unreadable population grid or an unwritable output file, 2 on a usage error.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import click

from locator.cli.common import table
from locator.errors import LocatorError
from locator.io.coverage_report import coverage_document
from locator.io.render import render, write_atomic
from locator.planning import (
    CoverageAnalyzer,
    CoverageResult,
    SitingResult,
    load_popgrid,
    validate_categories,
    validate_n,
    validate_radius,
)
from locator.planning.targets import CategoryTarget, describe_target, parse_targets

__all__ = ["coverage_command", "render_table"]

FORMATS = ("table", "csv", "json", "geojson", "xlsx")


def _cell(v: Any, key: str = "") -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else ""
    if isinstance(v, float):
        return f"{v:,.0f}" if key.endswith("_m") else f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def render_table(
    result: CoverageResult,
    suggestions: SitingResult | None,
    *,
    targets: Mapping[str, CategoryTarget] | None = None,
    target_source: str = "COVERAGE_TARGETS",
) -> bytes:
    """The terminal table: the districts, the province's figures and any suggested sites.

    A district below its target is marked ``*`` after its name; the line under the
    table says which target that was (the category's from ``COVERAGE_TARGETS``, or
    the per-10,000 rate given by ``target_source``) and how many districts miss it.
    """
    cols = [
        ("adcode", "adcode"),
        ("name_zh", "district"),
        ("venues", "venues"),
        ("venues_per_10k", "per 10k"),
        ("area_km2", "km²"),
        ("covered_km2", "covered km²"),
        ("covered_pct", "%"),
        ("dist_median_m", "median m"),
        ("dist_p90_m", "p90 m"),
        ("dist_max_m", "max m"),
    ]
    if result.population_grid is not None:
        cols += [("population_covered", "people covered"), ("population_covered_pct", "people %")]
    body = []
    for r in result.rows:
        row = r.to_dict()
        body.append([_cell(row[k], k) + ("*" if k == "name_zh" and r.below_target else "") for k, _ in cols])
    s = result.summary
    lines = [
        table(body, [h for _, h in cols]),
        "",
        f"categories: {', '.join(result.categories)}; radius {result.radius_m:g} m; "
        f"province: {s.covered_km2:,.1f} of {s.area_km2:,.1f} km² within reach ({s.covered_pct:.2f} %)",
    ]
    if s.population_covered_pct is not None:
        lines.append(
            f"population within reach: {s.population_covered or 0:,.0f} of {s.population_grid or 0:,.0f} "
            f"({s.population_covered_pct:.2f} %)"
        )
    none = s.districts_without_venues
    lines.append("districts without a venue: " + (", ".join(f"{d.name_zh} ({d.adcode})" for d in none) or "none"))
    what = describe_target(
        result.categories, result.radius_m, result.target_per_10k, result.target_covered_pct, targets
    )
    if result.target_per_10k is None and result.target_covered_pct is None:
        lines.append(f"target: {what}")
    else:
        sources = ["COVERAGE_TARGETS"] if result.target_covered_pct is not None else []
        sources += [target_source] if result.target_per_10k is not None else []
        source = " and ".join(dict.fromkeys(sources))
        lines.append(f"* below the target ({what}; from {source}): {len(s.districts_below_target)} district(s)")
    if suggestions is not None:
        lines += ["", f"suggested sites ({suggestions.unit}):"]
        srows = [
            [
                str(x.rank),
                f"{x.lon:.6f}",
                f"{x.lat:.6f}",
                x.name_zh,
                f"{x.marginal_gain:,.3f}",
                f"{x.covered_after:,.3f}",
                f"{x.covered_after_pct:.3f}",
            ]
            for x in suggestions.sites
        ]
        lines.append(table(srows, ["#", "lon", "lat", "district", "gain", "covered after", "%"]))
        e = suggestions.exact
        if e is not None:
            lines.append(
                f"exact MILP ({e.status}): grid gain {e.gain:,.3f}, bound {e.bound}, gap {e.mip_gap}, "
                f"greedy/exact {e.greedy_over_exact} on the grid, {e.greedy_over_exact_measured} measured in "
                f"{e.unit}; solver {e.solve_seconds} s"
            )
    return ("\n".join(lines) + "\n").encode("utf-8")


@click.command("coverage")
@click.option("--category", multiple=True, help="Category code(s), repeatable or comma-separated; default all.")
@click.option("--radius", type=float, default=1000.0, show_default=True, help="Service radius, metres (50–20,000).")
@click.option(
    "--target",
    type=float,
    default=None,
    help="Flag districts below this many venues per 10,000 residents [default: COVERAGE_TARGET_PER_10K].",
)
@click.option(
    "--population-grid",
    type=click.Path(dir_okay=False),
    default=None,
    help="GeoTIFF or CSV (lon,lat,population) [default: POPULATION_GRID].",
)
@click.option("--suggest", "n", type=int, default=0, show_default=True, help="Suggest N new sites (1–200); 0: none.")
@click.option("--region", default=None, help="Siting region: a district adcode or 'west,south,east,north'.")
@click.option("--exact", is_flag=True, help="Also solve the exact maximal-covering MILP (HiGHS) and compare.")
@click.option(
    "--time-limit",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds the command may take with --exact: the MILP solver gets what the table, building and greedy left.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--lang", type=click.Choice(("zh", "en")), default="zh", show_default=True, help="Headers of csv and xlsx."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None, help="Write to FILE.")
def coverage_command(
    category: tuple[str, ...],
    radius: float,
    target: float | None,
    population_grid: str | None,
    n: int,
    region: str | None,
    exact: bool,
    time_limit: float,
    fmt: str,
    lang: str,
    output: str | None,
) -> None:
    """Coverage per district: venues, reach within the radius, gaps, and where new sites help most."""
    started = time.perf_counter()
    if fmt == "xlsx" and output is None:
        raise click.ClickException("--format xlsx needs -o FILE")
    cats = [c.strip() for v in category for c in v.split(",") if c.strip()] or None
    if time_limit <= 0 or time_limit != time_limit:
        raise click.ClickException(f"time-limit: must be a positive number of seconds, got {time_limit!r}")
    try:
        from locator.cli.common import config, open_gazetteer, open_register

        validate_categories(cats)
        validate_radius(radius)
        if n:
            validate_n(n)
        cfg = config()
        reg = open_register()
        grid_path = population_grid or cfg.get("POPULATION_GRID")
        popgrid = load_popgrid(grid_path) if grid_path else None
        source = "--target"
        if target is None:
            target, source = cfg.get("COVERAGE_TARGET_PER_10K"), "COVERAGE_TARGET_PER_10K"
        gazetteer = open_gazetteer()
        targets = parse_targets(cfg.get("COVERAGE_TARGETS"))
        analyzer = CoverageAnalyzer.from_register(
            reg, popgrid=popgrid, target_per_10k=target, targets=targets, gazetteer=gazetteer
        )
        result = analyzer.table(cats, radius)
        # --time-limit holds for the command: the siting gets what opening the register and the table left
        left = max(1e-3, time_limit - (time.perf_counter() - started))
        suggestions = analyzer.suggest(cats, radius, n, region=region, exact=exact, time_limit=left) if n else None
        if fmt == "table":
            data = render_table(
                result, suggestions, targets=targets, target_source=source if target is not None else "COVERAGE_TARGETS"
            )
        else:
            data = render(coverage_document(result, suggestions, reg.districts), fmt, lang)
    except LocatorError as exc:
        raise click.ClickException(str(exc)) from None
    if output is None:
        click.echo(data.decode("utf-8-sig"), nl=False)  # no byte-order mark on a terminal or pipe
        return
    try:
        write_atomic(output, data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output!r}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}", err=True)
