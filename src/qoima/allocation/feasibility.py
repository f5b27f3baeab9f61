"""Is there any admissible mix? If not, which constraints clash.

Cheap checks first, each naming its culprits in words a committee reads: the upper bounds
cannot reach the budget, the lower bounds overshoot it, a bound pair crosses, a group cap
sits below its members' floors, every instrument is excluded, the return target is above
what the bounds allow. What those miss (interactions of several group caps, a return target
blocked by caps) goes to an elastic phase-1 LP: every constraint gets a non-negative slack
and the LP minimizes their sum. A positive optimum proves infeasibility, and the
constraints with a non-zero dual price in it are a Farkas certificate — a set of
constraints that cannot hold together — so they are the ones reported.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from qoima.allocation.problem import (
    CompositionProblem,
    Infeasible,
    LinearConstraints,
    SolverFailure,
    linear_constraints,
)
from qoima.risk.checks import FloatArray

_TOLERANCE = 1e-9


def check_feasible(problem: CompositionProblem) -> LinearConstraints:
    """The constraints in matrix form, after proving some weights satisfy them.

    Raises
    ------
    Infeasible
        with ``conflicts``: the names of the constraints that cannot hold together.
    """
    lin = linear_constraints(problem)
    _cheap_checks(problem, lin)
    if lin.a_ub.shape[0]:  # bounds and the budget alone are settled by the cheap checks
        _elastic_check(lin)
    return lin


def _cheap_checks(problem: CompositionProblem, lin: LinearConstraints) -> None:
    budget = float(lin.b_eq[0])
    budget_name = lin.eq_names[0]
    crossed = np.flatnonzero(lin.lower > lin.upper + _TOLERANCE)
    if crossed.size:
        i = int(crossed[0])
        raise Infeasible(f"{problem.codes[i]}: lower bound {lin.lower[i]:g} is above its "
                         f"upper bound {lin.upper[i]:g}",
                         conflicts=(lin.lower_names[i], lin.upper_names[i]))
    if (lin.upper <= 0).all():
        raise Infeasible("every instrument is excluded (all upper bounds are 0) but the "
                         f"budget is {budget:g}", conflicts=(budget_name, *lin.upper_names))
    top = float(lin.upper.sum())
    if top < budget - _TOLERANCE:
        raise Infeasible(f"the upper bounds sum to {top:g}, below the budget {budget:g}",
                         conflicts=(budget_name, *lin.upper_names))
    floors = np.where(np.isfinite(lin.lower), lin.lower, 0.0)
    if float(lin.lower.sum()) > budget + _TOLERANCE:
        positive = tuple(n for n, v in zip(lin.lower_names, lin.lower, strict=True) if v > 0)
        raise Infeasible(f"the lower bounds sum to {float(lin.lower.sum()):g}, above the "
                         f"budget {budget:g}", conflicts=(budget_name, *positive))
    for group in problem.constraints.groups:
        members = list(group.members)
        floor = float(floors[members].sum())
        if floor > group.max_weight + _TOLERANCE:
            named = tuple(lin.lower_names[i] for i in members if floors[i] > 0)
            raise Infeasible(f"group {group.name!r} is capped at {group.max_weight:g} but its "
                             f"members' lower bounds sum to {floor:g}",
                             conflicts=(group.name, *named))
    target = problem.constraints.min_return
    if target is not None and np.isfinite(lin.upper).all() and np.isfinite(lin.lower).all():
        best = _best_return(problem.expected_returns(), lin.lower, lin.upper, budget)
        if best < target - _TOLERANCE:
            name = next(n for n in lin.ub_names if n.startswith("minimum expected return"))
            raise Infeasible(f"the expected-return target {target:g} is above the best "
                             f"{best:g} the bounds allow", conflicts=(name, budget_name,
                                                                     *lin.upper_names))


def _best_return(mu: FloatArray, lower: FloatArray, upper: FloatArray, budget: float) -> float:
    """Highest ``mu @ w`` over the bounds and the budget: floors, then fill by ``mu``."""
    weights = lower.copy()
    left = budget - float(weights.sum())
    for i in np.argsort(-mu, kind="stable"):
        add = min(float(upper[i] - lower[i]), left)
        weights[i] += add
        left -= add
        if left <= 0:
            break
    return float(mu @ weights)


def _elastic_check(lin: LinearConstraints) -> None:
    """Phase 1 with one slack per constraint; raise naming the certificate's constraints."""
    n = lin.lower.shape[0]
    rows: list[FloatArray] = []
    rhs: list[float] = []
    names: list[str] = []
    for row, value, name in zip(lin.a_ub, lin.b_ub, lin.ub_names, strict=True):
        rows.append(row)
        rhs.append(float(value))
        names.append(name)
    for i in range(n):
        if np.isfinite(lin.upper[i]):
            rows.append(np.eye(1, n, i)[0])
            rhs.append(float(lin.upper[i]))
            names.append(lin.upper_names[i])
        if np.isfinite(lin.lower[i]):
            rows.append(-np.eye(1, n, i)[0])
            rhs.append(-float(lin.lower[i]))
            names.append(lin.lower_names[i])
    m, k = len(rows), lin.a_eq.shape[0]
    # variables: w (free), one slack per inequality, two per equality
    a_ub = np.hstack([np.vstack(rows), -np.eye(m), np.zeros((m, 2 * k))]) if m else None
    a_eq = np.hstack([lin.a_eq, np.zeros((k, m)), np.eye(k), -np.eye(k)])
    cost = np.concatenate([np.zeros(n), np.ones(m + 2 * k)])
    bounds = [(None, None)] * n + [(0, None)] * (m + 2 * k)
    result = linprog(cost, A_ub=a_ub, b_ub=np.asarray(rhs) if m else None, A_eq=a_eq,
                     b_eq=lin.b_eq, bounds=bounds, method="highs")
    if result.status != 0:
        raise SolverFailure(f"the feasibility LP stopped: {result.message}",
                            field="constraints")
    if result.fun <= _TOLERANCE * max(1.0, float(np.abs(lin.b_eq).sum())):
        return
    duals = np.abs(result.ineqlin.marginals) if m else np.zeros(0)
    eq_duals = np.abs(result.eqlin.marginals)
    conflicts = tuple(lin.eq_names[j] for j in range(k) if eq_duals[j] > _TOLERANCE)
    conflicts += tuple(names[j] for j in range(m) if duals[j] > _TOLERANCE)
    raise Infeasible(f"no weights satisfy the constraints (total violation "
                     f"{result.fun:.6g} at best)", conflicts=conflicts)
