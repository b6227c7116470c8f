"""The exact maximal-covering MILP, on SciPy's HiGHS (``scipy.optimize.milp``). Pure.

Why HiGHS through SciPy: it ships with SciPy (no solver binary to install), it
takes the sparse constraint matrix as it is (no per-variable Python model to
build, which made the old PuLP/CBC model slower to build than to solve on the
province), it honours a time limit, and it reports its own best bound and gap
on the result object, so nothing is scraped from a log.

Presolve is off: on this model it removes nothing (every row is a distinct
cover set) yet took 100 s on the province with a 30 s limit, because HiGHS
checks the clock only between presolve passes.

The time limit holds for the whole request, not only inside HiGHS (the CLI's
province solve once ran 67 s against its 30 s limit). Given a ``deadline``
(``time.perf_counter()`` seconds, which :func:`~locator.planning.siting.suggest`
sets ``time_limit`` after the request began, so building the problem, greedy
and the re-measures count), HiGHS gets what is left less :func:`overhead_s`:
what may run past HiGHS's own limit. SciPy hands the model over one Python
object per variable; HiGHS looks at its clock only between stretches of work
(on the province the first stretch is some 3 s of CPU whatever the limit); and
the MILP's sites are re-measured afterwards. The allowance grows with the model
and with how slowly this process is running (``slowdown``, wall over CPU time so
far: 3–4 on a shared machine under load). When too little is left, HiGHS is not
started at all; on a loaded machine the province's solve then needs a limit of
some 20 s to start.

What is reported: ``status`` ``optimal`` when HiGHS proved optimality (to its
default relative gap of 1e-4), ``time limit`` when it stopped at its limit or
was not started because the deadline left too little. Then the answer is the better of the solver's
incumbent and the warm start (greedy's picks, which SciPy cannot pass to HiGHS
as a starting point, so they are compared afterwards), and ``bound`` is the
smaller of two valid upper bounds on the optimum: HiGHS's dual bound
(``mip_dual_bound``), and the sum of the n largest single-candidate gains
(coverage is subadditive, so no n sites add more) — the second is the useful
one when the solver stops before its root LP is solved, as it does on the
province. ``bound`` is never below ``objective``. When the warm start already
reaches the second bound it is optimal, and HiGHS is not called (area-weighted
siting on open land, where n disjoint discs fit, is usually such a case).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from locator.errors import InvalidParameter
from locator.planning.grid import FloatArray

__all__ = ["MIN_SOLVE_S", "ExactResult", "ProblemTooLarge", "overhead_s", "solve_exact"]

#: Below this many seconds left before the deadline, HiGHS is not started (it could not
#: even read the model): the answer is the warm start, with the subadditive bound.
MIN_SOLVE_S = 0.2


class ProblemTooLarge(InvalidParameter):
    """The exact problem is over the caller's size budget; raised before solving (the web answers 422)."""


@dataclass(frozen=True)
class ExactResult:
    """The solver's answer: picked candidate rows, covered weight, bound, gap, timings."""

    status: str
    picks: list[int]
    objective: float
    bound: float | None
    gap: float | None
    seconds: float
    build_seconds: float
    candidates: int
    demand_cells: int


def _covered(cover: sparse.csr_matrix, w: FloatArray, picks: Sequence[int]) -> float:
    if not len(picks):
        return 0.0
    return float(w[np.unique(cover[list(picks)].indices)].sum())


def overhead_s(variables: int, nonzeros: int, slowdown: float = 1.0) -> float:
    """Seconds a MILP of this size may take beyond the time limit HiGHS is given.

    HiGHS looks at its clock only now and then: on the province's model (240,000
    variables, 730,000 nonzeros) a call with a 0.01 s limit returned after 0.5 s
    of CPU, one with a 1 s limit after 3.1 s of CPU (11 s on a loaded machine); add
    SciPy's handover of the model (one Python object per variable) and the
    re-measure of the MILP's sites. This allows 2 µs per variable and 4 µs per
    nonzero (3.6 s for the province, 0.05 s for one district) plus 0.2 s, times
    ``slowdown`` (wall over CPU seconds so far: HiGHS's limit is wall time).
    """
    return (0.2 + 2e-6 * variables + 4e-6 * nonzeros) * max(1.0, slowdown)


def solve_exact(
    cover: sparse.csr_matrix,
    weight: FloatArray,
    n: int,
    *,
    time_limit: float = 30.0,
    warm_start: Sequence[int] | None = None,
    deadline: float | None = None,
    slowdown: float = 1.0,
) -> ExactResult:
    """The maximal-covering MILP: ``n`` rows of ``cover`` covering the most weight.

    max Σ wᵢ yᵢ  s.t.  yᵢ ≤ Σ_{j covers i} xⱼ,  Σ xⱼ ≤ n,  x binary, 0 ≤ y ≤ 1.

    Parameters
    ----------
    cover
        Candidates × demand cells, nonzero where the candidate covers the cell.
    weight
        Each demand cell's weight (km² or people).
    n
        How many candidates may be chosen.
    time_limit
        Seconds HiGHS may spend (passed as its ``time_limit`` option).
    warm_start
        A known solution (greedy's picks); kept if HiGHS finds nothing better.
    deadline
        ``time.perf_counter()`` by which everything must be done: HiGHS's limit is cut
        to what is left less :func:`overhead_s`, and HiGHS is not started with less
        than :data:`MIN_SOLVE_S` left. None: only ``time_limit``.
    slowdown
        Wall over CPU seconds of the work so far (scales :func:`overhead_s`).

    Returns
    -------
    ExactResult
        ``objective`` is the weight the picks cover (recomputed from the
        picks); ``bound`` an upper bound on the optimum; ``gap`` is
        ``(bound - objective) / bound``.
    """
    t0 = time.perf_counter()
    cover = sparse.csr_matrix(cover)
    w = np.asarray(weight, dtype=np.float64)
    # only candidates that cover something, and demand that some candidate can cover
    useful_c = np.flatnonzero(np.asarray(cover @ (w > 0).astype(float)).ravel() > 0)
    sub = cover[useful_c]
    useful_d = np.flatnonzero((np.asarray(sub.sum(axis=0)).ravel() > 0) & (w > 0))
    sub = sub[:, useful_d]
    wd = w[useful_d]
    nc, nd = len(useful_c), len(useful_d)
    usable = set(useful_c.tolist())
    incumbent = [int(j) for j in (warm_start or ()) if int(j) in usable]
    if nc == 0 or nd == 0:
        return ExactResult("optimal", [], 0.0, 0.0, 0.0, 0.0, time.perf_counter() - t0, nc, nd)
    # the subadditive bound: no n sites add more than the n largest single gains
    singles = np.sort(np.asarray(sub @ wd).ravel())[::-1]
    cheap = float(min(singles[:n].sum(), wd.sum()))
    warm = _covered(cover, w, incumbent)
    if warm >= cheap * (1 - 1e-12):
        # the warm start reaches the bound, so it is optimal: nothing for the solver to do
        # (the rule on open land weighted by area, where n disjoint discs fit)
        return ExactResult("optimal", sorted(incumbent), warm, cheap, 0.0, 0.0, time.perf_counter() - t0, nc, nd)
    # variables: x (nc, binary) then y (nd, continuous); milp minimises, so negate
    c = np.concatenate((np.zeros(nc), -wd))
    cells = sparse.hstack((-(sub.T > 0).astype(np.float64), sparse.identity(nd, format="csr")), format="csr")
    budget = sparse.csr_matrix(np.concatenate((np.ones(nc), np.zeros(nd)))[None, :])
    constraints = [
        LinearConstraint(cells, -np.inf, 0.0),
        LinearConstraint(budget, 0.0, float(n)),
    ]
    integrality = np.concatenate((np.ones(nc), np.zeros(nd)))
    build = time.perf_counter() - t0
    limit = max(float(time_limit), 1e-3)
    if deadline is not None:
        left = deadline - time.perf_counter() - overhead_s(nc + nd, cells.nnz + nc, slowdown)
        if left < MIN_SOLVE_S:
            # too little time left to hand HiGHS the model: keep the warm start, report the bound
            gap = 0.0 if cheap <= 0 else max(0.0, (cheap - warm) / cheap)
            return ExactResult("time limit", sorted(incumbent), warm, max(cheap, warm), gap, 0.0, build, nc, nd)
        limit = min(limit, left)
    t1 = time.perf_counter()
    res = milp(
        c,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": limit, "disp": False, "presolve": False},
    )
    secs = time.perf_counter() - t1
    picks: list[int] = []
    if res.x is not None:
        picks = [int(useful_c[k]) for k in np.flatnonzero(res.x[:nc] > 0.5)]
    objective = _covered(cover, w, picks)
    if warm > objective:
        picks, objective = incumbent, warm
    optimal = res.status == 0
    bound = cheap
    dual = getattr(res, "mip_dual_bound", None)
    if dual is not None and math.isfinite(dual):
        bound = min(bound, -float(dual))  # milp minimised the negated weight
    bound = max(bound, objective)
    gap = 0.0 if bound <= 0 else max(0.0, (bound - objective) / bound)
    if optimal:
        status = "optimal"
    elif res.status == 1:
        status = "time limit"
    else:
        status = f"solver stopped: {res.message}"
    return ExactResult(status, sorted(picks), objective, bound, gap, secs, build, nc, nd)
