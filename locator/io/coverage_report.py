"""The coverage report as one :class:`~locator.io.render.Document`, for every format.

The CLI (csv, json, geojson, xlsx) and the web downloads (csv, xlsx, geojson,
gpkg) both build this document and hand it to :func:`locator.io.render.render`;
nothing else writes a coverage file. Column headers are held here in both
languages, so the language is a render argument: Chinese by default, English on
request, on every sheet (the web download used to translate only the districts
sheet). The English labels are the ones the page shows
(``locator.web.translations.EN``); a test keeps the two in step.

Sheets: ``districts`` (the table, the CSV's content), ``summary`` (one row:
the parameters and the province's figures), and with suggestions
``suggestions`` and ``curve``. Layers: ``districts`` (outlines with the row's
measures), ``gaps`` (the parts out of reach) and ``suggestions`` (points);
polygon rings run counter-clockwise (RFC 7946). ``body`` is the API's JSON
(params, summary, districts) with ``suggestions`` added when there are any.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import shapely
from shapely.geometry import mapping

from locator.districts import District
from locator.io.render import Column, Document, Layer, Sheet
from locator.planning import CoverageResult, SitingResult, ccw

__all__ = [
    "CURVE_COLUMNS",
    "DISTRICT_COLUMNS",
    "SITE_COLUMNS",
    "SUMMARY_COLUMNS",
    "coverage_document",
]

#: The districts sheet: every key of :class:`locator.planning.DistrictRow`, in order.
DISTRICT_COLUMNS: tuple[Column, ...] = (
    Column("adcode", "区划代码", "Adcode"),
    Column("name_zh", "市县区", "District"),
    Column("name_en", "英文名", "English name"),
    Column("population_2020", "常住人口（2020）", "Population (2020)"),
    Column("population_estimated", "人口为估计值", "Population is an estimate"),
    Column("venues", "场所数", "Venues"),
    Column("venues_per_10k", "每万人场所数", "Venues per 10,000 residents"),
    Column("area_km2", "面积（平方公里）", "Area (km²)"),
    Column("covered_km2", "覆盖面积（平方公里）", "Area within reach (km²)"),
    Column("covered_pct", "覆盖率（%）", "Area covered (%)"),
    Column("dist_median_m", "到最近场所距离中位数（米）", "Median distance to nearest venue (m)"),
    Column("dist_p90_m", "到最近场所距离90%分位（米）", "90th percentile distance (m)"),
    Column("dist_max_m", "到最近场所最远距离（米）", "Maximum distance (m)"),
    Column("population_covered", "覆盖人口", "People within reach"),
    Column("population_grid", "人口网格总人口", "Population on the grid"),
    Column("no_venues", "无场所", "no venue"),
    Column("below_target", "低于目标", "below target"),
    Column("population", "常住人口", "Residents"),
    Column("population_covered_pct", "覆盖人口比例（%）", "People within reach (%)"),
    Column("people_dist_median_m", "半数居民到最近场所距离（米，模型）", "Half of residents live within (m, modelled)"),
    Column("people_dist_p90_m", "90%居民到最近场所距离（米，模型）", "90 % of residents live within (m, modelled)"),
    Column("offshore", "海岛区（无步行半径统计）", "Offshore (no walking-radius figures)"),
)

_SAME = {c.key: c for c in DISTRICT_COLUMNS}

#: The summary sheet: the analysis parameters, then the figures for all districts
#: (the figures the district table also has keep its headers).
SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column("categories", "类别", "Categories"),
    Column("radius_m", "服务半径（米）", "Service radius (m)"),
    Column("target_per_10k", "目标（每万人场所数）", "Target (venues per 10,000 residents)"),
    Column("cell_m", "网格边长（米）", "Grid cell (m)"),
    Column("data_version", "数据版本", "Data version"),
    Column("population_grid_source", "人口网格", "Population grid"),
    Column("districts", "市县区数", "Districts"),
    _SAME["venues"],
    Column("venues_outside_districts", "区划外场所数", "Venues outside the districts"),
    *(_SAME[k] for k in ("population_2020", "venues_per_10k", "area_km2", "covered_km2", "covered_pct")),
    Column("districts_without_venues", "无场所的市县区", "Districts without a venue"),
    Column("districts_below_target", "低于目标的市县区", "Districts below the target"),
    _SAME["population_covered"],
    _SAME["population_grid"],
    _SAME["population_covered_pct"],
    Column("weighting", "加权方式", "Weighting"),
    Column("population_source", "人口数据来源", "Population source"),
    _SAME["population"],
    Column("population_offshore", "海岛区常住人口", "Residents of offshore districts"),
)

#: The suggestions sheet: every key of :class:`locator.planning.SuggestedSite`, in order.
SITE_COLUMNS: tuple[Column, ...] = (
    Column("rank", "序号", "Rank"),
    Column("lon", "经度", "Longitude"),
    Column("lat", "纬度", "Latitude"),
    *(_SAME[k] for k in ("adcode", "name_zh", "name_en")),
    Column("marginal_gain", "边际增益", "Marginal gain"),
    Column("marginal_gain_grid", "网格上的边际增益", "Marginal gain on the grid"),
    Column("covered_before", "新增前覆盖", "Covered before"),
    Column("covered_after", "新增后覆盖", "Covered after"),
    Column("covered_after_pct", "新增后覆盖率（%）", "Covered after (%)"),
    Column("unit", "单位", "Unit"),
    Column("district_code", "所在区县代码", "District code"),
    Column("population_gain", "新增覆盖居民（模型）", "People newly within reach (modelled)"),
    Column("place_name", "附近地名", "Nearest place"),
    Column("place_distance_m", "到该地名距离（米）", "Distance to that place (m)"),
)

#: The curve sheet: coverage with the first k suggested sites.
CURVE_COLUMNS: tuple[Column, ...] = (
    Column("sites", "新增站点数", "New sites"),
    Column("covered", "覆盖", "Covered"),
    Column("covered_pct", "覆盖率（%）", "Covered (%)"),
)


def _names(refs: Iterable[Any]) -> str:
    return "; ".join(f"{d.name_zh} ({d.adcode})" for d in refs)


def _summary_row(result: CoverageResult) -> dict[str, Any]:
    s = result.summary
    row = {**result.params(), **s.to_dict()}
    row["categories"] = ", ".join(result.categories)
    row["population_grid_source"] = result.population_grid
    row["population_grid"] = s.population_grid
    row["districts_without_venues"] = _names(s.districts_without_venues)
    row["districts_below_target"] = _names(s.districts_below_target)
    return row


def _district_features(result: CoverageResult, districts: Iterable[District]) -> list[dict[str, Any]]:
    """One feature per row (by adcode): the district's outline (1e-6°) with the row's measures."""
    by_code = {d.adcode: d for d in districts}
    feats = []
    for row in sorted(result.rows, key=lambda r: r.adcode):
        d = by_code.get(row.adcode)
        geom = None if d is None else mapping(ccw(shapely.set_precision(d.geometry, 1e-6)))
        feats.append({"type": "Feature", "id": row.adcode, "geometry": geom, "properties": row.to_dict()})
    return feats


def coverage_document(
    result: CoverageResult, suggestions: SitingResult | None, districts: Iterable[District]
) -> Document:
    """The coverage table, summary, suggestions and map layers as one document.

    Parameters
    ----------
    result
        The analysis (:meth:`locator.planning.CoverageAnalyzer.table`).
    suggestions
        Suggested sites, or None (then no suggestions sheet, curve or layer).
    districts
        The districts whose outlines the ``districts`` layer draws (by adcode).

    Returns
    -------
    Document
        Ready for :func:`locator.io.render.render` in any format and language.
    """
    sheets = [
        Sheet("districts", DISTRICT_COLUMNS, [r.to_dict() for r in result.rows]),
        Sheet("summary", SUMMARY_COLUMNS, [_summary_row(result)]),
    ]
    layers = [
        Layer("districts", _district_features(result, districts), item="district"),
        Layer("gaps", result.gaps_geojson()["features"], item="gap"),
    ]
    body = result.to_dict()
    if suggestions is not None:
        sheets += [
            Sheet("suggestions", SITE_COLUMNS, [s.to_dict() for s in suggestions.sites]),
            Sheet("curve", CURVE_COLUMNS, [c.to_dict() for c in suggestions.curve]),
        ]
        layers.append(Layer("suggestions", suggestions.to_geojson()["features"], item="suggestion"))
        body["suggestions"] = suggestions.to_dict()
    return Document(name="coverage", sheets=sheets, layers=layers, body=body, meta={"params": result.params()})
