"""``locator coverage``: the coverage table, gap areas and siting suggestions.

A thin shell over :mod:`locator.planning.coverage` and :mod:`locator.planning.siting`.
Registered on the ``locator`` group in ``locator/cli.py``.

Formats: ``table`` (terminal), ``csv`` (UTF-8; with a BOM when written to a
file, so Excel opens it right), ``json`` (params, summary, districts, and
suggestions if asked), ``geojson`` (gap areas, plus suggested sites as points
with ``layer`` = ``gap`` / ``suggestion``), ``xlsx`` (sheets: districts,
summary, suggestions, curve; needs ``-o``). ``-o FILE`` is written
atomically (temporary file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import click

from locator.errors import LocatorError

__all__ = ["coverage_command", "render"]

FORMATS = ("table", "csv", "json", "geojson", "xlsx")


def _atomic_write(path: Path, data: bytes) -> None:
    folder = path.resolve().parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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


def render(result: Any, suggestions: Any, fmt: str, to_file: bool) -> bytes:
    """Render a CoverageResult (and optional SitingResult) as bytes in ``fmt``."""
    from locator.planning.coverage import ROW_KEYS

    rows = result.rows
    if fmt == "json":
        doc = result.to_dict()
        if suggestions is not None:
            doc["suggestions"] = suggestions.to_dict()
        return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "geojson":
        gaps = result.gaps_geojson()
        feats = [{**f, "properties": {"layer": "gap", **f["properties"]}} for f in gaps["features"]]
        if suggestions is not None:
            feats += [
                {**f, "id": f"site-{f['id']}", "properties": {"layer": "suggestion", **f["properties"]}}
                for f in suggestions.to_geojson()["features"]
            ]
        doc = {"type": "FeatureCollection", "params": result.params(), "features": feats}
        return (json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8")
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(ROW_KEYS), lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)
        return ("\ufeff" if to_file else "").encode("utf-8") + buf.getvalue().encode("utf-8")
    if fmt == "xlsx":
        return _xlsx(result, suggestions)
    # table
    from locator.cli.common import table

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
        cols.append(("population_covered", "people covered"))
    body = [
        [_cell(r[k], k) + ("*" if k == "venues_per_10k" and r["below_target"] else "") for k, _ in cols] for r in rows
    ]
    s = result.summary
    lines = [
        table(body, [h for _, h in cols]),
        "",
        f"categories: {', '.join(result.categories)}; radius {result.radius_m:g} m; "
        f"province: {s['covered_km2']:,.1f} of {s['area_km2']:,.1f} km² within reach ({s['covered_pct']:.2f} %)",
    ]
    if s["population_covered_pct"] is not None:
        lines.append(
            f"population within reach: {s['population_covered']:,.0f} of {s['population_grid']:,.0f} "
            f"({s['population_covered_pct']:.2f} %)"
        )
    none = s["districts_without_venues"]
    lines.append("districts without a venue: " + (", ".join(f"{d['name_zh']} ({d['adcode']})" for d in none) or "none"))
    if result.target_per_10k is not None:
        lines.append(
            f"* below the target of {result.target_per_10k:g} per 10,000 residents: "
            f"{len(s['districts_below_target'])} district(s)"
        )
    if suggestions is not None:
        sd = suggestions.to_dict()
        lines += ["", f"suggested sites ({sd['unit']}):"]
        srows = [
            [
                str(x["rank"]),
                f"{x['lon']:.6f}",
                f"{x['lat']:.6f}",
                x["name_zh"],
                f"{x['marginal_gain']:,.3f}",
                f"{x['covered_after']:,.3f}",
                f"{x['covered_after_pct']:.3f}",
            ]
            for x in sd["sites"]
        ]
        lines.append(table(srows, ["#", "lon", "lat", "district", "gain", "covered after", "%"]))
        if sd["exact"] is not None:
            e = sd["exact"]
            lines.append(
                f"exact MILP ({e['status']}): grid gain {e['gain']:,.3f}, bound {e['bound']}, "
                f"greedy/exact {e['greedy_over_exact']}"
            )
    return ("\n".join(lines) + "\n").encode("utf-8")


def _xlsx(result: Any, suggestions: Any) -> bytes:
    from openpyxl import Workbook

    from locator.planning.coverage import ROW_KEYS

    wb = Workbook()
    ws = wb.active
    ws.title = "districts"
    ws.append(list(ROW_KEYS))
    for r in result.rows:
        ws.append([r[k] for k in ROW_KEYS])
    ws.freeze_panes = "A2"
    sm = wb.create_sheet("summary")
    for k, v in {**result.params(), **result.summary}.items():
        if isinstance(v, list):
            v = "; ".join(
                (f"{x.get('name_zh', '')} ({x.get('adcode', '')})" if isinstance(x, dict) else str(x)) for x in v
            )
        sm.append([k, v])
    if suggestions is not None:
        sd = suggestions.to_dict()
        ss = wb.create_sheet("suggestions")
        keys = list(sd["sites"][0]) if sd["sites"] else ["rank"]
        ss.append(keys)
        for x in sd["sites"]:
            ss.append([x[k] for k in keys])
        cv = wb.create_sheet("curve")
        cv.append(["sites", "covered", "covered_pct"])
        for x in sd["curve"]:
            cv.append([x["sites"], x["covered"], x["covered_pct"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


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
@click.option("--exact", is_flag=True, help="Also solve the exact maximal-covering MILP (CBC) and compare.")
@click.option("--time-limit", type=float, default=30.0, show_default=True, help="Seconds for the exact MILP.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
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
    output: str | None,
) -> None:
    """Coverage per district: venues, reach within the radius, gaps, and where new sites help most."""
    if fmt == "xlsx" and output is None:
        raise click.ClickException("--format xlsx needs -o FILE")
    cats = [c.strip() for v in category for c in v.split(",") if c.strip()] or None
    try:
        from locator import create_app
        from locator.planning.coverage import CoverageAnalyzer, validate_categories, validate_radius
        from locator.planning.population import load_popgrid
        from locator.web.state import get_register

        validate_categories(cats)
        validate_radius(radius)
        if n:
            from locator.planning.siting import validate_n

            validate_n(n)
        app = create_app()
        reg = get_register(app)
        grid_path = population_grid or app.config.get("POPULATION_GRID")
        popgrid = load_popgrid(grid_path) if grid_path else None
        if target is None:
            target = app.config.get("COVERAGE_TARGET_PER_10K")
        analyzer = CoverageAnalyzer.from_register(reg, popgrid=popgrid, target_per_10k=target)
        result = analyzer.table(cats, radius)
        suggestions = (
            analyzer.suggest(cats, radius, n, region=region, exact=exact, time_limit=time_limit) if n else None
        )
        data = render(result, suggestions, fmt, to_file=output is not None)
    except LocatorError as exc:
        raise click.ClickException(str(exc)) from None
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
        return
    try:
        _atomic_write(Path(output), data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output!r}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}", err=True)
