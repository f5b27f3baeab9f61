"""Minimum CVaR over many scenarios: exact scenario generation on the Rockafellar–Uryasev LP.

The Rockafellar–Uryasev (2000) LP for ``min_w a·w + CVaR_β(w)`` over ``T`` scenarios
``R (T, N)`` is::

    min  a·w + ζ + c Σ_t u_t     c = 1 / ((1 - β) T)
    s.t. u_t >= -R_t·w - ζ,  u_t >= 0,  w in W (budget, bounds, group caps, min return)

With ``T = 100,000`` it has 100,000 rows and a dense 100,000 × N block; a generic solver
takes minutes. Two facts make it fast here:

1. **Scenario generation.** At the optimum only the scenarios whose loss exceeds ``ζ``
   (about ``(1 - β) T`` of them) have ``u_t > 0``. Solving with a subset ``S`` of the rows
   is a relaxation (a dropped row is a dropped ``u_t >= 0`` term); if no dropped scenario
   has a loss above the relaxed ``ζ``, setting its ``u_t = 0`` is feasible and costs
   nothing, so the relaxed optimum *is* the full LP's optimum — the method is exact, not a
   heuristic. ``S`` starts with the ``3 (1 - β) T`` worst scenarios of an equal-weight and
   an inverse-volatility portfolio; each round adds every violated scenario (one matvec
   over all ``T``) and re-solves warm. Two to four rounds are typical.
2. **Solve the dual.** The LP with ``|S|`` rows has a basis of size ``|S|`` (≈ 15,000):
   slow simplex iterations. Its dual has one column per scenario (``q_t`` in
   ``[0, c]``, ``Σ q = 1``: the worst-case probability weights) and only ``N + 1`` rows
   (one per instrument and the ``Σ q`` row), so the basis is ``(N+1) × (N+1)`` and a
   round costs milliseconds; adding scenarios adds columns and the previous basis stays
   primal feasible (a warm start). ``w`` and ``ζ`` are the row duals. Measured on 2 cores
   with 100,000 t-distributed scenarios: the primal subset LP needed 5 s (N=30) and 12 s
   (N=100), the dual 0.3 s and 1.1 s (benchmarks/README.md). The dual is solved with
   HiGHS directly (``highspy``): building the model through cvxpy would cost more than
   the solve.

Cutting planes in the ``w`` space (Künzi-Bay & Mayer 2006) need no subset but many more
rounds, each with an aggregated dense cut; scenario generation on the dual was faster in
the measurements above and exact by the argument in 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import highspy as _highspy
import numpy as np
import numpy.typing as npt

from qoima.allocation.problem import LinearConstraints, SolverFailure
from qoima.risk.checks import FloatArray

IntArray = npt.NDArray[np.intp]
highspy: Any = _highspy  # untyped extension module
#: Tighter than Clarabel's defaults (1e-8): the reference comparisons need 1e-4 in weights
CLARABEL_TOLERANCES: dict[str, float] = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10,
                                         "tol_feas": 1e-10}


def load_cvxpy() -> Any:
    """cvxpy, imported on first use (its import costs about a second) and untyped."""
    import cvxpy

    return cvxpy

_INITIAL_MULTIPLE = 3.0  # initial subset: this many tail counts of worst scenarios
_MIN_INITIAL = 200
_MAX_ROUNDS = 200
_TOLERANCE = 1e-9  # HiGHS primal/dual feasibility tolerance


@dataclass(frozen=True, slots=True)
class CvarSolution:
    """Weights ``(N,)`` minimizing ``a·w + CVaR`` and how the solver got there.

    ``var`` is the RU ``ζ`` (the VaR at the level), ``cvar`` the exact CVaR of the weights
    over all scenarios, ``rounds`` the scenario-generation rounds, ``iterations`` the total
    simplex iterations, ``active_scenarios`` the size of the final subset.
    """

    weights: FloatArray
    var: float
    cvar: float
    rounds: int
    iterations: int
    active_scenarios: int
    solver: str
    status: str


def start_solver() -> None:
    """Create the process's first HiGHS instance, which prints a licence banner on standard
    output that no option silences; entry points call this with output redirected so the
    banner never lands in ``--json`` output."""
    highspy.Highs()


def ru_cvar(losses: FloatArray, level: float) -> tuple[float, float, FloatArray]:
    """``(VaR, CVaR, q)`` of a loss vector ``(T,)`` under the Rockafellar–Uryasev definition.

    ``CVaR = min_ζ ζ + Σ (L - ζ)+ / ((1 - β) T)``: the mean of the worst ``k = (1 - β) T``
    losses, the ``ceil(k)``-th counted with the fractional weight. ``q (T,)`` is the
    worst-case probability vector achieving it (``CVaR = q @ L``), whose use as
    ``-q @ R`` gives the Euler marginal contributions, summing exactly to the CVaR.
    """
    n = losses.shape[0]
    k = (1.0 - level) * n
    m = min(math.floor(k + 1e-9), n)
    count = min(math.ceil(k - 1e-9), n)
    order = np.argpartition(-losses, count - 1)[:count] if count < n else np.arange(n)
    ranked = order[np.argsort(-losses[order], kind="stable")]
    q = np.zeros(n)
    q[ranked[:m]] = 1.0 / k
    if count > m:
        q[ranked[m]] = (k - m) / k
    var = float(losses[ranked[count - 1]])
    return var, float(q @ losses), q


def _starting_subset(scenarios: FloatArray, level: float) -> IntArray:
    t, n = scenarios.shape
    k = int(min(t, max(_INITIAL_MULTIPLE * (1.0 - level) * t, _MIN_INITIAL)))
    volatility = scenarios.std(axis=0)
    inverse = 1.0 / np.where(volatility > 0, volatility, volatility.max() or 1.0)
    chosen = np.zeros(t, dtype=bool)
    for start in (np.full(n, 1.0 / n), inverse / inverse.sum()):
        losses = -(scenarios @ start)
        chosen[np.argpartition(losses, t - k)[t - k:] if k < t else slice(None)] = True
    return np.flatnonzero(chosen)


class _DualModel:
    """The dual of the RU LP over a growing scenario subset, held in one HiGHS instance.

    Rows ``0..N-1``: ``R_i·q + A_eq_i·ν - A_ub_i·π + α_i - γ_i = a_i``; row ``N``:
    ``Σ q = 1``. Objective (maximized): ``b_eq·ν - b_ub·π + lower·α - upper·γ``.
    """

    def __init__(self, scenarios: FloatArray, level: float, lin: LinearConstraints,
                 linear: FloatArray) -> None:
        self.scenarios = scenarios
        t, n = scenarios.shape
        self.n = n
        self.cap = 1.0 / ((1.0 - level) * t)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("presolve", "off")  # a warm-started re-solve needs no presolve
        h.setOptionValue("primal_feasibility_tolerance", _TOLERANCE)
        h.setOptionValue("dual_feasibility_tolerance", _TOLERANCE)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        inf = highspy.kHighsInf
        empty_i, empty_f = np.zeros(0, dtype=np.int32), np.zeros(0)
        h.addRows(n, linear, linear, 0, empty_i, empty_i, empty_f)
        h.addRow(1.0, 1.0, 0, empty_i, empty_f)
        for coefs, rhs, sign, free in ((lin.a_eq, lin.b_eq, 1.0, True),
                                       (lin.a_ub, lin.b_ub, -1.0, False)):
            for row, value in zip(coefs, rhs, strict=True):
                nz = np.flatnonzero(row).astype(np.int32)
                h.addCol(sign * value, -inf if free else 0.0, inf, nz.size, nz, sign * row[nz])
        finite_low = np.flatnonzero(np.isfinite(lin.lower)).astype(np.int32)
        finite_up = np.flatnonzero(np.isfinite(lin.upper)).astype(np.int32)
        for index, cost, entry in ((finite_low, lin.lower, 1.0), (finite_up, -lin.upper, -1.0)):
            m = index.size
            if m:
                h.addCols(m, cost[index], np.zeros(m), np.full(m, inf), m,
                          np.arange(m, dtype=np.int32), index, np.full(m, entry))
        self.highs = h

    def add(self, idx: IntArray) -> None:
        m, n = idx.size, self.n
        values = np.hstack([self.scenarios[idx], np.ones((m, 1))])
        rows = np.tile(np.arange(n + 1, dtype=np.int32), m)
        starts = (np.arange(m) * (n + 1)).astype(np.int32)
        self.highs.addCols(m, np.zeros(m), np.zeros(m), np.full(m, self.cap), m * (n + 1),
                           starts, rows, values.ravel())

    def solve(self, budget: float) -> tuple[FloatArray, float]:
        h = self.highs
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverFailure(f"HiGHS stopped with status {h.modelStatusToString(status)} "
                                "on the min-CVaR dual", field="scenarios")
        duals = np.asarray(h.getSolution().row_dual, dtype=np.float64)
        weights, zeta = duals[: self.n], float(duals[self.n])
        if abs(weights.sum() + budget) < abs(weights.sum() - budget):
            weights, zeta = -weights, -zeta  # HiGHS's sign convention for row duals
        return weights, zeta


def min_cvar_scenario_generation(scenarios: FloatArray, level: float, lin: LinearConstraints,
                                 *, linear: FloatArray | None = None) -> CvarSolution:
    """Minimize ``linear·w + CVaR_level(w)`` exactly by scenario generation (module doc).

    ``scenarios (T, N)`` simple returns; ``lin`` the constraints in matrix form, known to be
    feasible (:func:`qoima.allocation.feasibility.check_feasible`).
    """
    t, n = scenarios.shape
    a = np.zeros(n) if linear is None else linear
    model = _DualModel(scenarios, level, lin, a)
    active = np.zeros(t, dtype=bool)
    subset = _starting_subset(scenarios, level)
    active[subset] = True
    model.add(subset)
    rounds = 0
    while True:
        rounds += 1
        weights, zeta = model.solve(float(lin.b_eq[0]))
        losses = -(scenarios @ weights)
        slack = 1e-12 * max(1.0, float(np.abs(losses).max()))
        violated = np.flatnonzero((losses > zeta + slack) & ~active)
        if violated.size == 0:
            break
        if rounds >= _MAX_ROUNDS:
            raise SolverFailure(f"min-CVaR scenario generation did not settle in {rounds} "
                                "rounds", field="scenarios")
        active[violated] = True
        model.add(violated)
    var, cvar, _ = ru_cvar(losses, level)
    info = model.highs.getInfo()
    return CvarSolution(weights=weights, var=var, cvar=cvar, rounds=rounds,
                        iterations=int(info.simplex_iteration_count),
                        active_scenarios=int(active.sum()),
                        solver="highs-dual-simplex/scenario-generation", status="optimal")


def min_cvar_full_lp(scenarios: FloatArray, level: float, lin: LinearConstraints, *,
                     linear: FloatArray | None = None, solver: str = "HIGHS") -> CvarSolution:
    """The plain Rockafellar–Uryasev LP over all scenarios through cvxpy (reference path)."""
    cp = load_cvxpy()

    t, n = scenarios.shape
    w = cp.Variable(n)
    zeta = cp.Variable()
    a = np.zeros(n) if linear is None else linear
    objective = a @ w + zeta + cp.sum(cp.pos(-scenarios @ w - zeta)) / ((1.0 - level) * t)
    problem = cp.Problem(cp.Minimize(objective), cvxpy_constraints(w, lin))
    with np.errstate(invalid="ignore"):  # cvxpy's bound propagation meets inf * 0
        problem.solve(solver=solver)
    if problem.status != cp.OPTIMAL:
        raise SolverFailure(f"{solver} stopped with status {problem.status} on the "
                            "min-CVaR LP", field="scenarios")
    weights = np.asarray(w.value, dtype=np.float64)
    var, cvar, _ = ru_cvar(-(scenarios @ weights), level)
    stats = problem.solver_stats
    return CvarSolution(weights=weights, var=var, cvar=cvar, rounds=1,
                        iterations=int(stats.num_iters or 0), active_scenarios=t,
                        solver=f"cvxpy/{solver.lower()}", status=str(problem.status))


def cvxpy_constraints(w: Any, lin: LinearConstraints) -> list[Any]:
    """``lin`` as cvxpy constraints on the variable ``w`` (infinite bounds dropped)."""
    constraints: list[Any] = [lin.a_eq @ w == lin.b_eq]
    if lin.a_ub.shape[0]:
        constraints.append(lin.a_ub @ w <= lin.b_ub)
    low, up = np.isfinite(lin.lower), np.isfinite(lin.upper)
    if low.any():
        constraints.append(w[low] >= lin.lower[low])
    if up.any():
        constraints.append(w[up] <= lin.upper[up])
    return constraints

