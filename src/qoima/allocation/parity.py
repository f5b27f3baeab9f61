"""Risk parity (equal risk contribution, or given risk budgets) on a covariance matrix.

Spinu (2013): the risk-budgeting portfolio with budgets ``b`` (``b_i > 0``) is the
normalized minimizer of the strictly convex, self-concordant

    f(y) = ½ yᵀΣy − Σ_i b_i log y_i,   y > 0,

whose first-order condition ``y_i (Σy)_i = b_i`` says each instrument's variance
contribution is its budget; ``w = y / Σy`` keeps the contributions' proportions. Newton's
method with Spinu's damping (step ``Δ / (1 + λ)`` while the Newton decrement ``λ`` is
large) converges globally and then quadratically, so a few dozen ``N × N`` Cholesky solves
reach contributions equal to machine precision — no general-purpose solver needed.

Bounds or group caps make it a constrained problem: the same ``f`` minimized over the cone
of ``y`` whose normalization satisfies them (``y_i <= u_i Σy``, ``Σ_g y <= cap Σy``), a
convex exponential-cone program solved through cvxpy with Clarabel. Its contributions are
then as close to the budgets as the constraints allow, no longer equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qoima.allocation.cvar import CLARABEL_TOLERANCES, load_cvxpy
from qoima.allocation.problem import LinearConstraints, SolverFailure
from qoima.domain.errors import InvalidInput
from qoima.risk.checks import FloatArray

_MAX_NEWTON = 200
_DAMPING_SWITCH = 0.25  # Newton decrement above which the step is damped (Spinu 2013)


@dataclass(frozen=True, slots=True)
class ParitySolution:
    weights: FloatArray
    iterations: int
    solver: str
    status: str


def check_budgets(budgets: Any, n: int) -> FloatArray:
    """Risk budgets ``(n,)``, positive, normalized to sum to 1 (equal when None)."""
    if budgets is None:
        return np.full(n, 1.0 / n)
    array = np.asarray(budgets, dtype=np.float64)
    if array.shape != (n,) or not np.isfinite(array).all() or (array <= 0).any():
        raise InvalidInput(f"risk budgets must be {n} positive numbers", field="budgets")
    return np.asarray(array / array.sum(), dtype=np.float64)


def risk_parity_newton(covariance: FloatArray, budgets: FloatArray) -> ParitySolution:
    """Unconstrained (long-only, fully invested) risk budgeting by damped Newton."""
    scale = float(np.mean(np.diag(covariance)))
    if not scale > 0:
        raise InvalidInput("the covariance has no positive variance", field="covariance")
    sigma = covariance / scale  # conditioning only: w does not depend on the scale
    try:
        np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        raise InvalidInput("the covariance is not positive definite: risk parity needs "
                           "every portfolio to carry risk", field="covariance") from None
    y = budgets / math.sqrt(float(budgets @ sigma @ budgets))
    for iteration in range(1, _MAX_NEWTON + 1):
        sigma_y = sigma @ y
        gradient = sigma_y - budgets / y
        hessian = sigma + np.diag(budgets / (y * y))
        step = np.linalg.solve(hessian, gradient)
        decrement = math.sqrt(max(float(gradient @ step), 0.0))
        # damped while far (stays inside y > 0), then pure Newton (quadratic convergence)
        y = y - step / (1.0 + decrement) if decrement > _DAMPING_SWITCH else y - step
        if decrement < 1e-13:
            return ParitySolution(weights=y / y.sum(), iterations=iteration,
                                  solver="newton-spinu", status="optimal")
    raise SolverFailure(f"risk parity Newton did not converge in {_MAX_NEWTON} steps",
                        field="covariance")


def risk_parity_constrained(covariance: FloatArray, budgets: FloatArray,
                            lin: LinearConstraints) -> ParitySolution:
    """Risk budgeting under bounds and group caps (homogenized; module doc), via Clarabel."""
    cp = load_cvxpy()

    n = covariance.shape[0]
    if (lin.lower < 0).any():
        raise InvalidInput("risk parity is long-only: a negative lower bound is not allowed",
                           field="lower")
    if lin.eq_names and not np.allclose(lin.a_eq, 1.0):
        raise InvalidInput("risk parity supports only the budget equality", field="budget")
    scale = float(np.mean(np.diag(covariance)))
    root = np.linalg.cholesky(covariance / scale + 1e-12 * np.eye(n))
    y = cp.Variable(n, pos=True)
    total = cp.sum(y)
    constraints: list[Any] = []
    up = np.isfinite(lin.upper)
    if up.any():
        constraints.append(y[up] <= cp.multiply(lin.upper[up], total))
    low = lin.lower > 0
    if low.any():
        constraints.append(y[low] >= cp.multiply(lin.lower[low], total))
    if lin.a_ub.shape[0]:
        constraints.append(lin.a_ub @ y <= lin.b_ub * total)
    objective = 0.5 * cp.sum_squares(root.T @ y) - budgets @ cp.log(y)
    problem = cp.Problem(cp.Minimize(objective), constraints)
    problem.solve(solver=cp.CLARABEL, **CLARABEL_TOLERANCES)
    if problem.status != cp.OPTIMAL or y.value is None:
        raise SolverFailure(f"Clarabel stopped with status {problem.status} on constrained "
                            "risk parity", field="constraints")
    value = np.asarray(y.value, dtype=np.float64)
    return ParitySolution(weights=value / value.sum(),
                          iterations=int(problem.solver_stats.num_iters or 0),
                          solver="cvxpy/clarabel", status=str(problem.status))


def needs_constrained(lin: LinearConstraints, weights: FloatArray) -> bool:
    """Whether the unconstrained solution ``weights`` breaks a bound or group cap."""
    tolerance = 1e-10
    if (weights < lin.lower - tolerance).any() or (weights > lin.upper + tolerance).any():
        return True
    return bool(lin.a_ub.shape[0] and (lin.a_ub @ weights > lin.b_ub + tolerance).any())
