"""Siting suggestions: where N new stations add the most coverage. Pure.

The pieces, one module each: :mod:`.problem` builds the maximal-covering
problem on a grid (demand cells, candidate sites, the sparse cover matrix),
:mod:`.greedy` picks sites one at a time, :mod:`.exact` solves the same MILP
with HiGHS under a time limit and reports its bound, and :mod:`.measure`
re-measures the chosen sites on the real geometry. :func:`suggest` is the entry
point that ties them together.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from locator.districts import District
from locator.gazetteer import Gazetteer
from locator.planning.population import PopGrid
from locator.planning.results import CurvePoint, ExactCheck, ExactSite, SitingResult, SuggestedSite
from locator.planning.siting.exact import ExactResult, ProblemTooLarge, solve_exact
from locator.planning.siting.greedy import greedy
from locator.planning.siting.measure import ExactMeasure
from locator.planning.siting.problem import SitingProblem, build_problem, distance_to_any_venue, estimate_size
from locator.planning.validation import validate_categories, validate_n, validate_radius, validate_region
from locator.venues import Venue

__all__ = ["ExactResult", "ProblemTooLarge", "SitingProblem", "build_problem", "greedy", "solve_exact", "suggest"]


def suggest(
    districts: Sequence[District],
    venues: Sequence[Venue],
    categories: object = None,
    radius_m: object = 1000.0,
    n: object = 10,
    *,
    region: object = None,
    popgrid: PopGrid | None = None,
    exact: bool = False,
    time_limit: float = 30.0,
    exact_budget: int | None = None,
    data_version: int | None = None,
    gazetteer: Gazetteer | None = None,
) -> SitingResult:
    """Greedy siting of ``n`` new stations, and optionally the exact MILP check.

    Parameters
    ----------
    districts, venues
        Districts (WGS-84) and venues; the active venues of ``categories`` stay fixed.
    categories, radius_m, n
        Category codes (None: all), service radius 50–20,000 m, new sites 1–200.
    region
        None for the province, a district adcode, or a bbox ``(w, s, e, n)``.
    popgrid
        Weight demand by people instead of km².
    exact
        Also solve the MILP (``time_limit`` seconds) and compare with greedy.

    time_limit
        Seconds for the whole request with ``exact`` (building the problem, greedy,
        the solver and re-measuring): HiGHS gets what is left, less an allowance for
        the work outside its clock, and is not started when too little is left
        (``exact.status`` is then ``time limit``, with greedy's sites and the bound).
    exact_budget
        The largest exact problem accepted, as candidates × demand cells; a bigger one
        raises :class:`ProblemTooLarge` (naming 'exact') before anything is solved: first on the
        estimate from the region's area (before the problem is built), then on the built size.
        None: no limit.
    gazetteer
        Names each site after its nearest town or place (``place_name``), so a planner reads
        "新坡镇（龙华区）" rather than bare coordinates.

    Returns
    -------
    SitingResult
        ``sites``: :class:`SuggestedSite` in the order chosen, gains re-measured
        exactly; ``curve``: the coverage for 0..k new sites; ``exact``: the
        :class:`ExactCheck` when asked.

    Raises
    ------
    InvalidParameter
        naming 'category', 'radius', 'n' or 'region', quoting the value.
    """
    started, started_cpu = time.perf_counter(), time.process_time()
    cats = validate_categories(categories)
    r = validate_radius(radius_m)
    nn = validate_n(n)
    reg = validate_region(region, districts)
    if exact and exact_budget is not None and (estimate := estimate_size(districts, r, reg)) > exact_budget:
        raise ProblemTooLarge(
            "exact",
            f"the exact problem would have about {estimate:,} candidates × demand cells (estimated from the "
            f"region's area, before building it), over the budget of {exact_budget:,}; "
            "choose a smaller region (one district) or a larger radius",
        )
    prob = build_problem(districts, venues, cats, r, region=reg, popgrid=popgrid)
    size = len(prob.cand_lon) * len(prob.weight)
    if exact and exact_budget is not None and size > exact_budget:
        raise ProblemTooLarge(
            "exact",
            f"the exact problem has {len(prob.cand_lon):,} candidates × {len(prob.weight):,} demand cells = {size:,}, "
            f"over the budget of {exact_budget:,}; choose a smaller region (one district) or a larger radius",
        )
    t0 = time.perf_counter()
    # By area, every open inland site adds the same disc, so ties are the rule: break
    # them toward where people already gather, i.e. nearest any existing venue.
    priority = None if popgrid is not None else -distance_to_any_venue(prob.cand_lon, prob.cand_lat, venues)
    picks, gains = greedy(prob.cover, prob.weight, nn, priority)
    t_greedy = time.perf_counter() - t0
    chosen = [v for v in venues if v.category in cats and v.status == "active"]
    t1 = time.perf_counter()
    measure = ExactMeasure(districts, chosen, r, reg, popgrid)
    exact_measure = measure.copy() if exact else None  # the MILP's sites are measured from the same start
    total = measure.total

    def pct(v: float) -> float:
        return round(100 * v / total, 3) if total else 0.0

    sites: list[SuggestedSite] = []
    cum = measure.before
    curve = [CurvePoint(0, round(cum, 3), pct(cum))]
    for rank, (j, g_grid) in enumerate(zip(picks, gains, strict=False), start=1):
        code = prob.cand_district[j]
        name_zh, name_en = prob.district_names.get(code, ("", ""))
        g = measure.add(float(prob.cand_lon[j]), float(prob.cand_lat[j]))
        near = None if gazetteer is None else gazetteer.nearest(float(prob.cand_lon[j]), float(prob.cand_lat[j]))
        sites.append(
            SuggestedSite(
                rank=rank,
                lon=round(float(prob.cand_lon[j]), 6),
                lat=round(float(prob.cand_lat[j]), 6),
                adcode=code,
                name_zh=name_zh,
                name_en=name_en,
                marginal_gain=round(g, 3),
                marginal_gain_grid=round(g_grid, 3),
                covered_before=round(cum, 3),
                covered_after=round(cum + g, 3),
                covered_after_pct=pct(cum + g),
                unit=prob.unit,
                district_code=code,
                population_gain=round(g, 1) if prob.unit == "people" else None,
                place_name="" if near is None else f"{near[0].label}附近（{name_zh}）",
                place_distance_m=None if near is None else round(near[1], 1),
            )
        )
        cum += g
        curve.append(CurvePoint(rank, round(cum, 3), pct(cum)))
    t_measure = time.perf_counter() - t1
    ex: ExactCheck | None = None
    if exact:
        # the time limit holds for the whole request: HiGHS gets what building, greedy and
        # measuring have left of it (see locator.planning.siting.exact)
        cpu = time.process_time() - started_cpu
        res = solve_exact(
            prob.cover,
            prob.weight,
            nn,
            time_limit=time_limit,
            warm_start=picks,
            deadline=started + time_limit,
            slowdown=(time.perf_counter() - started) / cpu if cpu > 0 else 1.0,
        )
        greedy_gain = float(sum(gains))
        assert exact_measure is not None
        exact_after = exact_measure.before + sum(
            exact_measure.add(float(prob.cand_lon[j]), float(prob.cand_lat[j])) for j in res.picks
        )
        ex = ExactCheck(
            status=res.status,
            gain=round(res.objective, 3),
            bound=None if res.bound is None else round(res.bound, 3),
            mip_gap=None if res.gap is None else round(res.gap, 6),
            unit_note="gains on the demand grid (the model both solve)",
            greedy_gain=round(greedy_gain, 3),
            greedy_over_exact=round(greedy_gain / res.objective, 6) if res.objective > 0 else None,
            greedy_over_bound=round(greedy_gain / res.bound, 6) if res.bound else None,
            covered_after=round(exact_after, 3),
            greedy_covered_after=round(cum, 3),
            unit=prob.unit,
            greedy_gain_measured=round(cum - measure.before, 3),
            exact_gain_measured=round(exact_after - measure.before, 3),
            greedy_over_exact_measured=(
                round((cum - measure.before) / (exact_after - measure.before), 6)
                if exact_after - measure.before > 0
                else None
            ),
            sites=tuple(
                ExactSite(round(float(prob.cand_lon[j]), 6), round(float(prob.cand_lat[j]), 6), prob.cand_district[j])
                for j in res.picks
            ),
            candidates=res.candidates,
            demand_cells=res.demand_cells,
            build_seconds=round(res.build_seconds, 3),
            solve_seconds=round(res.seconds, 3),
        )
    params = {
        "categories": list(cats),
        "radius_m": r,
        "n": nn,
        "region": list(reg) if isinstance(reg, tuple) else reg,
        "population_grid": None if popgrid is None else popgrid.source or popgrid.id,
        "data_version": data_version,
        "demand_cell_m": prob.cell_m,
        "candidate_spacing_m": round(prob.spacing_m, 1),
        "candidates": len(prob.cand_lon),
        "demand_cells_open": len(prob.weight),
    }
    return SitingResult(
        params=params,
        unit=prob.unit,
        total=total,
        covered_before=measure.before,
        sites=tuple(sites),
        curve=tuple(curve),
        exact=ex,
        seconds={"build": round(prob.seconds, 3), "greedy": round(t_greedy, 3), "measure": round(t_measure, 3)},
    )
