"""``locator nearest`` and ``locator data check``: reading the register."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click

from locator.categories import CATEGORIES, PUBLISHED_COUNTS
from locator.cli.common import CliError, open_register, parse_categories, table
from locator.errors import LocatorError

__all__ = ["data_group", "nearest"]


@click.command()
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

    cats = parse_categories(category)
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


@click.group("data")
def data_group() -> None:
    """Inspect and validate the venue register."""


@data_group.command("check")
def data_check() -> None:
    """Validate the register: counts, ids, categories, points inside districts.

    Exit status: 0 no problem found; 1 problems found (listed on stderr).
    """
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
        raise CliError(f"{len(problems)} problem(s) found in the register")
    click.echo("ok: every venue has a unique id, a known category, and lies inside its district")
