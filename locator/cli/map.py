"""``locator map``: write a standalone map file a planner can put in a report."""

from __future__ import annotations

from pathlib import Path

import click

from locator.categories import CATEGORY_CODES

__all__ = ["map_command"]


@click.command("map")
@click.option(
    "--category",
    "categories",
    multiple=True,
    metavar="CODE",
    help=f"Only these categories (repeat or comma-separate): {', '.join(CATEGORY_CODES)}.",
)
@click.option(
    "--district",
    "districts",
    multiple=True,
    metavar="ADCODE|NAME",
    help="Only venues in these districts: adcode (460105) or name (秀英区, Xiuying).",
)
@click.option(
    "--tiles",
    default="osm",
    show_default=True,
    help="Base map: osm, tianditu (needs --tiles-key), amap, or none (outlines only).",
)
@click.option("--tiles-key", default="", envvar="LOCATOR_TIANDITU_KEY", help="Tianditu key (tk).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The HTML file to write."
)
def map_command(
    categories: tuple[str, ...], districts: tuple[str, ...], tiles: str, tiles_key: str, output: Path
) -> None:
    """Write a self-contained HTML map of the venues (works offline; tiles when online)."""
    from locator.cli.common import open_register
    from locator.io import maps
    from locator.tiles import tile_provider

    cats = [c.strip() for text in categories for c in text.split(",") if c.strip()]
    for c in cats:
        if c not in CATEGORY_CODES:
            raise click.BadParameter(
                f"unknown category {c!r}; expected one of {', '.join(CATEGORY_CODES)}", param_hint="--category"
            )
    try:
        tile_provider(tiles, tiles_key)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tiles") from None
    reg = open_register()
    wanted: set[str] = set()
    for text in districts:
        for name in (n.strip() for n in text.split(",") if n.strip()):
            found = [
                d
                for d in reg.districts
                if name in (d.adcode, d.name_zh, d.name_en)
                or name.lower() == d.name_en.lower()
                or d.name_en.lower().startswith(name.lower() + " ")
            ]
            if not found:
                raise click.BadParameter(f"unknown district {name!r}", param_hint="--district")
            wanted.update(d.adcode for d in found)
    venues = [
        v for v in reg.index.venues() if (not cats or v.category in cats) and (not wanted or v.district_code in wanted)
    ]
    shown = [d for d in reg.districts if not wanted or d.adcode in wanted]
    try:
        fmap = maps.build_map(venues, shown, tiles=tiles, tiles_key=tiles_key)
        output.write_text(fmap.get_root().render(), encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {str(output)!r}: {exc.strerror}") from None
    click.echo(f"wrote {output} ({len(venues)} venues)")
