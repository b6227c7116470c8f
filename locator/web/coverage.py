"""Blueprint for coverage planning: the ``/coverage`` page, its downloads, and the API.

- ``/coverage``: choropleth of the districts (Leaflet, fed by the JSON in the
  page), gap areas and suggested sites as layers, a sortable table, controls
  whose state lives in the query string; ``/coverage/download.<fmt>`` with
  ``fmt`` in csv (UTF-8 with a BOM), xlsx, geojson, gpkg.
- ``/api/v1/coverage`` (the table as JSON), ``/api/v1/coverage/gaps`` and
  ``/api/v1/coverage/suggestions`` (GeoJSON).

Parameters are parsed with :mod:`locator.params`, so every bad value becomes
one ``InvalidParameter`` and one problem document. The analysis is
:class:`locator.planning.CoverageAnalyzer`, one per app in its
``AppState`` (``locator.web.state``), built on first use and cached by data version.
Every download is :func:`locator.io.coverage_report.coverage_document` rendered
by the one registry, :func:`locator.io.render.render`, headers in the page's
language (Chinese; English with ``?lang=en``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from locator import params
from locator.categories import CATEGORIES, CATEGORY_CODES
from locator.errors import InvalidParameter, NotFound
from locator.hours import TZ
from locator.io import maps
from locator.io.coverage_report import DISTRICT_COLUMNS, coverage_document
from locator.io.district_map import district_svg
from locator.io.render import render
from locator.planning import (
    MAX_RADIUS_M,
    MIN_RADIUS_M,
    CoverageAnalyzer,
    CoverageResult,
    validate_region,
)
from locator.planning.budget import OverBudget, check_siting_budget, round_radius
from locator.planning.siting import ProblemTooLarge
from locator.web import places
from locator.web.i18n import current_language, gettext, label
from locator.web.pages import base_page_config
from locator.web.problems import ApiError, problem
from locator.web.state import CoverageCache, app_state, get_register, get_settings

__all__ = ["KEY", "bp", "coverage_state", "get_analyzer", "parse_query"]

bp = Blueprint("coverage", __name__)

KEY = "coverage"
GEOJSON = "application/geo+json"
DEFAULT_CATEGORY = "outdoor_station"
DEFAULT_RADIUS = 1000.0
DEFAULT_PAGE_N = 5
MAX_PAGE_N = 50
MAX_API_N = 200
#: ``exact=true`` on /api/v1/coverage/suggestions: HiGHS's own time limit, seconds. Past it the
#: answer says ``status: "time limit"`` with the best sites found and the solver's bound.
EXACT_TIME_LIMIT_S = 5.0
#: The largest exact problem the API accepts, candidates × demand cells, checked before solving
#: (a bigger one is a 422 naming ``exact``). Every single district at 1 km fits (儋州市, the
#: largest: 5,563 × 20,603 ≈ 1.15e8); the province at 1 km (≈ 6.4e9) does not.
EXACT_MAX_SIZE = 150_000_000
RADIUS_CHOICES = (500, 1000, 1500, 2000, 3000, 5000)
MEASURES = ("covered_pct", "venues_per_10k", "dist_median_m")
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": GEOJSON,
    "gpkg": "application/geopackage+sqlite3",
}

#: Column headers of the page's table, Chinese source text (see ``_label``); the
#: downloads' headers, in both languages, live with the report document.
COLUMNS: dict[str, str] = {c.key: c.zh for c in DISTRICT_COLUMNS}

AREA_NOTE = (
    "Suggestions are weighted by area (km²), not by people: no population grid is configured "
    "(POPULATION_GRID). Every candidate site on open land adds the same π r², so among such ties "
    "the site nearest an existing venue of any category (where people already gather: towns, "
    "workplaces) is chosen. Treat the sites as places where coverage is missing near activity, "
    "and configure a population grid (e.g. WorldPop) for people-weighted suggestions."
)
POPULATION_NOTE = "Suggestions are weighted by the people of the configured population grid."


# -- per-app state ------------------------------------------------------------
def coverage_state(app: Flask | None = None) -> CoverageCache:
    """The app's analyzer and outlines, kept in its ``AppState`` (``locator.web.state``)."""
    return app_state(app).coverage


def get_analyzer(app: Flask | None = None) -> CoverageAnalyzer:
    """The app's :class:`CoverageAnalyzer`, built once (thread-safe) from the register and config."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    st = coverage_state(app)
    if st.analyzer is None:
        with st.lock:
            if st.analyzer is None:
                from locator.planning.population import load_popgrid

                settings = get_settings(app)
                grid_path = settings.population_grid
                st.analyzer = CoverageAnalyzer.from_register(
                    get_register(app),
                    popgrid=load_popgrid(grid_path) if grid_path else None,
                    target_per_10k=settings.coverage_target_per_10k,
                    targets=settings.coverage_targets,
                    gazetteer=places.gazetteer(app),
                )
    return st.analyzer


@dataclass(frozen=True)
class Query:
    """A validated coverage request: what the page, the downloads and the API share."""

    categories: tuple[str, ...]
    radius: float
    n: int
    region: str | None
    measure: str

    def args(self, **override: Any) -> dict[str, Any]:
        """Query-string arguments that reproduce this request; an override of None drops the key."""
        out: dict[str, Any] = {
            "category": ",".join(self.categories),
            "radius": f"{self.radius:g}",
            "n": self.n,
            "region": self.region,
            "measure": self.measure,
        }
        out.update(override)
        return {k: v for k, v in out.items() if v is not None}


def gaps_geojson(result: CoverageResult) -> dict[str, Any]:
    """The gap areas of ``result`` (computed once per result, in :mod:`locator.planning.results`)."""
    return result.gaps_geojson()


def parse_query(args: Any, *, max_n: int, default_n: int, allow_zero_n: bool, form: bool = False) -> Query:
    """Category (comma list), radius (50–20,000 m), n, region and measure from the query string.

    Any parameter given twice is an error, except that the page's form
    (``form=True``) sends one ``category`` per ticked box.
    """
    if form and len(args.getlist("category")) > 1:
        joined = ",".join(args.getlist("category"))
        args = MultiDict([(k, v) for k, v in args.items(multi=True) if k != "category"])
        args.add("category", joined)
    params.reject_repeats(args)
    cats = params.categories_param(args) or [DEFAULT_CATEGORY]
    chosen = tuple(c for c in CATEGORY_CODES if c in cats)
    radius = params.float_param(args, "radius", default=DEFAULT_RADIUS, low=MIN_RADIUS_M, high=MAX_RADIUS_M)
    assert radius is not None
    radius = round_radius(radius)  # to RADIUS_STEP_M: noise in the parameter shares one cached result
    n = params.int_param(args, "n", default=default_n, low=0 if allow_zero_n else 1, high=max_n)
    region = params.one(args, "region") or None
    if region is not None and region.strip().lower() in ("province", "all"):
        region = None  # the whole province, the default
    if region is not None:
        validate_region(region, get_register().districts)
    measure = params.one(args, "measure", "covered_pct") or "covered_pct"
    if measure not in MEASURES:
        raise InvalidParameter("measure", f"unknown measure {measure[:40]!r}; expected one of {', '.join(MEASURES)}")
    return Query(chosen, radius, n, region, measure)


def _json(body: Any, mimetype: str = "application/json") -> Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Response(data, mimetype=mimetype)


def within_budget(q: Query) -> Query:
    """``q`` if its siting fits the budget (``locator.planning.budget``), estimated before any gridding; else 422."""
    check_siting_budget(get_register().districts, validate_region(q.region, get_register().districts), q.radius)
    return q


@bp.errorhandler(OverBudget)
def _over_budget(exc: OverBudget) -> Response:
    return problem(
        422, "Request too costly", str(exc), [{"name": exc.name, "reason": exc.reason, "limit": str(exc.limit)}]
    )


def _suggestions_doc(q: Query, exact: bool = False) -> dict[str, Any]:
    within_budget(q)
    analyzer = get_analyzer()
    try:
        res = analyzer.suggest(
            q.categories,
            q.radius,
            q.n,
            region=q.region,
            exact=exact,
            time_limit=EXACT_TIME_LIMIT_S,
            exact_budget=EXACT_MAX_SIZE,
        )
    except ProblemTooLarge as e:
        raise ApiError(422, "Problem too large", str(e), [{"name": e.name, "reason": e.reason}]) from e
    doc = res.to_geojson()
    sd = res.to_dict()
    weighting = "population" if analyzer.popgrid is not None else "area"
    doc.update(
        unit=sd["unit"],
        total=sd["total"],
        covered_before=sd["covered_before"],
        covered_after=sd["covered_after"],
        curve=sd["curve"],
        weighting=weighting,
        note=POPULATION_NOTE if weighting == "population" else AREA_NOTE,
        exact=sd["exact"],
    )
    return doc


# -- API -------------------------------------------------------------------------
@bp.get("/api/v1/coverage")
def api_table() -> Response:
    """The coverage table: params, summary (incl. districts without venues) and district rows."""
    q = parse_query(request.args, max_n=MAX_API_N, default_n=10, allow_zero_n=True)
    return _json(get_analyzer().table(q.categories, q.radius).to_dict())


@bp.get("/api/v1/coverage/gaps")
def api_gaps() -> Response:
    """Parts of each district beyond the radius, a GeoJSON FeatureCollection (WGS-84)."""
    q = parse_query(request.args, max_n=MAX_API_N, default_n=10, allow_zero_n=True)
    return _json(gaps_geojson(get_analyzer().table(q.categories, q.radius)), GEOJSON)


@bp.get("/api/v1/coverage/suggestions")
def api_suggestions() -> Response:
    """``n`` (1–200, default 10) suggested new sites, each with its marginal gain, and the curve."""
    q = parse_query(request.args, max_n=MAX_API_N, default_n=10, allow_zero_n=False)
    return _json(_suggestions_doc(q, exact=params.bool_param(request.args, "exact")), GEOJSON)


# -- the page ----------------------------------------------------------------------
def _label(key: str) -> str:
    return gettext(COLUMNS[key])


def _outlines() -> dict[str, Any]:
    st = coverage_state()
    with st.lock:
        if st.outlines is None:
            st.outlines = maps.district_outlines(get_register().districts, tolerance=0.002)
        return st.outlines


@bp.get("/coverage")
def page() -> Response:
    """Coverage for planners: map, table, downloads; all state in the query string."""
    q = parse_query(request.args, max_n=MAX_PAGE_N, default_n=DEFAULT_PAGE_N, allow_zero_n=True, form=True)
    lang = current_language()
    analyzer = get_analyzer()
    result = analyzer.table(q.categories, q.radius)
    api_args = q.args(measure=None, n=None)
    cfg = base_page_config(lang)  # tiles (?tiles=, TILES) and their CSP hosts: locator.web.pages
    cfg |= {
        "measure": q.measure,
        "n": q.n,
        "target": result.target_per_10k,
        "target_covered_pct": result.target_covered_pct,
        "districts": _outlines(),
        "rows": {r.adcode: r.to_dict() for r in result.rows},
        "urls": {
            "gaps": url_for("coverage.api_gaps", **api_args),
            "suggestions": url_for("coverage.api_suggestions", **q.args(measure=None)) if q.n else None,
            "venues": url_for("api.venues", category=",".join(q.categories)),
        },
    }
    cats = {c: label(CATEGORIES[c]) for c in CATEGORY_CODES}
    downloads = {fmt: url_for("coverage.download", fmt=fmt, **q.args(measure=None)) for fmt in FORMATS}
    html = render_template(
        "coverage.html",
        lang=lang,
        q=q,
        cfg=cfg,
        result=result,
        rows=result.rows,
        summary=result.summary,
        cats=cats,
        columns={k: _label(k) for k in COLUMNS},
        radius_choices=RADIUS_CHOICES,
        measures=MEASURES,
        max_n=MAX_PAGE_N,
        district_choices=[(d.adcode, label(d)) for d in get_register().districts],
        downloads=downloads,
        weighting="population" if analyzer.popgrid is not None else "area",
        lang_url=url_for("coverage.page", **q.args(lang="zh" if lang == "en" else "en")),
        generated=datetime.now(TZ).strftime("%Y-%m-%d %H:%M"),
        min_radius=int(MIN_RADIUS_M),
        max_radius=int(MAX_RADIUS_M),
    )
    resp = Response(html, mimetype="text/html")  # security headers: locator.web.security
    resp.headers["Vary"] = "Cookie"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/coverage/district/<adcode>")
def district_report(adcode: str) -> Response:
    """One district on one printable A4 page: its map (SVG, no tiles) and its figures, people first."""
    q = parse_query(request.args, max_n=MAX_PAGE_N, default_n=DEFAULT_PAGE_N, allow_zero_n=True, form=True)
    district = next((d for d in get_register().districts if d.adcode == adcode), None)
    if district is None:
        raise NotFound(f"no district with adcode {adcode[:20]!r}")
    lang = current_language()
    analyzer = get_analyzer()
    result = analyzer.table(q.categories, q.radius)
    row = next(r for r in result.rows if r.adcode == adcode)
    gaps = next((f["geometry"] for f in result.gaps_geojson()["features"] if f["properties"]["adcode"] == adcode), None)
    sites = analyzer.suggest(q.categories, q.radius, q.n, region=adcode) if q.n and not row.offshore else None
    venues = [(v.lon, v.lat) for v in analyzer.current()[1] if v.category in q.categories and v.status == "active"]
    svg = district_svg(
        district.geometry, gaps, venues, [(s.lon, s.lat, str(s.rank)) for s in sites.sites] if sites else []
    )
    args = q.args(measure=None, n=None, region=None)
    html = render_template(
        "coverage_district.html",
        lang=lang,
        q=q,
        row=row,
        result=result,
        district=district,
        svg=svg,
        sites=sites.sites if sites else (),
        cats=[label(CATEGORIES[c]) for c in q.categories],
        population_source=result.summary.population_source,
        back_url=url_for("coverage.page", **q.args(region=None, lang=lang)),
        lang_url=url_for("coverage.district_report", adcode=adcode, **args, lang="zh" if lang == "en" else "en"),
        generated=datetime.now(TZ).strftime("%Y-%m-%d %H:%M"),
    )
    resp = Response(html, mimetype="text/html")
    resp.headers["Vary"] = "Cookie"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


# -- downloads ---------------------------------------------------------------------
def _filename(q: Query, fmt: str) -> tuple[str, str]:
    """ASCII and Chinese file names for a download."""
    radius = f"{q.radius:g}"
    ascii_name = f"hainan-coverage-{'+'.join(q.categories)}-{radius}m.{fmt}"
    zh = "+".join(CATEGORIES[c].name_zh for c in q.categories)
    return ascii_name, f"海南职工服务阵地覆盖-{zh}-{radius}米.{fmt}"


def _disposition(q: Query, fmt: str) -> str:
    ascii_name, utf8_name = _filename(q, fmt)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(utf8_name, safe='')}"


@bp.get("/coverage/download.<fmt>")
def download(fmt: str) -> Response:
    """The table (csv, xlsx), districts + gaps (+ sites) as GeoJSON, or a GeoPackage for QGIS."""
    if fmt not in FORMATS:
        raise InvalidParameter("format", f"unknown download format {fmt[:20]!r}; expected one of {', '.join(FORMATS)}")
    q = parse_query(request.args, max_n=MAX_API_N, default_n=0, allow_zero_n=True)
    analyzer = get_analyzer()
    result = analyzer.table(q.categories, q.radius)
    suggestions = analyzer.suggest(q.categories, q.radius, q.n, region=q.region) if q.n and within_budget(q) else None
    doc = coverage_document(result, suggestions, get_register().districts)
    data = render(doc, fmt, current_language())
    resp = Response(data, mimetype=FORMATS[fmt])
    resp.headers["Content-Disposition"] = _disposition(q, fmt)
    resp.headers["Cache-Control"] = "no-store"
    return resp
