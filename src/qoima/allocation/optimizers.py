"""Composition optimizers behind one interface: ``optimize(problem, method, **params)``.

=====================  =================================================  ====================
method                 what it solves                                     how
=====================  =================================================  ====================
MIN_CVAR               min CVaR_level(w)                                  dual scenario generation
                                                                          on the RU LP (HiGHS)
MEAN_CVAR              max mu·w − risk_aversion·CVaR, or                  same; the return enters
                       min CVaR s.t. mu·w >= target_return                as a linear term / row
MIN_VARIANCE           min wᵀΣw                                           QP, cvxpy + Clarabel
RISK_PARITY            w_i(Σw)_i ∝ b_i (equal when no budgets)            Newton (Spinu 2013);
                                                                          Clarabel if constrained
MAX_DIVERSIFICATION    max σ·w / sqrt(wᵀΣw)                               homogenized QP, Clarabel
=====================  =================================================  ====================

Every method first proves the constraints feasible (:mod:`qoima.allocation.feasibility`),
so an impossible policy is reported by the constraints that clash. CVaR is the
Rockafellar–Uryasev CVaR of the scenarios (:func:`qoima.allocation.cvar.ru_cvar`); Σ is
the problem's covariance (Ledoit–Wolf of the scenarios unless given). Risk contributions
are Euler contributions of the method's own risk measure — variance for the variance-based
methods, CVaR for the CVaR methods — and sum to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache
from typing import Any

import numpy as np

from qoima.allocation import cvar as cvar_lp
from qoima.allocation import parity
from qoima.allocation.cvar import CLARABEL_TOLERANCES, load_cvxpy
from qoima.allocation.feasibility import check_feasible
from qoima.allocation.problem import CompositionProblem, LinearConstraints, SolverFailure
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.risk.checks import FloatArray
from qoima.risk.provenance import Provenance, array_hash, library_versions

_LIBRARIES = ("numpy", "scipy", "cvxpy", "clarabel", "highspy")


class OptimizationMethod(StrEnum):
    MIN_CVAR = "min_cvar"
    MEAN_CVAR = "mean_cvar"
    MIN_VARIANCE = "min_variance"
    RISK_PARITY = "risk_parity"
    MAX_DIVERSIFICATION = "max_diversification"


class RiskMeasure(StrEnum):
    VARIANCE = "variance"
    CVAR = "cvar"


@dataclass(frozen=True, slots=True)
class OptimizationResult:
    """An optimized mix and its figures (arrays of shape ``(N,)`` in ``codes`` order).

    ``objective`` is the method's own: CVaR (MIN_CVAR, MEAN_CVAR with a target),
    ``mu·w − risk_aversion·CVaR`` (MEAN_CVAR with a risk aversion), variance (MIN_VARIANCE,
    RISK_PARITY), the diversification ratio (MAX_DIVERSIFICATION). ``expected_return``,
    ``volatility``, ``var`` and ``cvar`` are per scenario period, as fractions of the
    sleeve; VaR and CVaR are positive losses at ``level``. ``volatility`` is under Σ for
    the variance-based methods and the standard deviation of the portfolio's scenario
    returns for the CVaR methods (no covariance is estimated for them: at 100,000
    scenarios that would cost more than the optimization). ``risk_contributions`` are
    Euler contributions to ``risk_measure`` (they sum to it).
    """

    method: OptimizationMethod
    codes: tuple[str, ...]
    weights: FloatArray
    objective: float
    expected_return: float
    volatility: float
    level: float
    var: float
    cvar: float
    risk_measure: RiskMeasure
    risk_contributions: FloatArray
    solver: str
    iterations: int
    status: str
    provenance: Provenance
    findings: tuple[Finding, ...] = ()

    @property
    def risk_shares(self) -> FloatArray:
        """Risk contributions as fractions of the total (they sum to 1)."""
        total = float(self.risk_contributions.sum())
        return self.risk_contributions / total if total else np.zeros_like(self.weights)

    def weight_of(self, code: str) -> float:
        return float(self.weights[self.codes.index(code)])


@dataclass(frozen=True, slots=True)
class _Solved:
    weights: FloatArray
    objective: float | None  # None: the risk measure is the objective
    solver: str
    iterations: int
    status: str
    findings: tuple[Finding, ...] = ()


_Solver = Callable[[CompositionProblem, LinearConstraints, dict[str, Any]], _Solved]


def _min_cvar(problem: CompositionProblem, lin: LinearConstraints,
              params: dict[str, Any]) -> _Solved:
    return _cvar(problem, lin, params, linear=None)


def _cvar(problem: CompositionProblem, lin: LinearConstraints, params: dict[str, Any],
          linear: FloatArray | None) -> _Solved:
    algorithm = params.pop("algorithm", "scenario_generation")
    if algorithm == "scenario_generation":
        solution = cvar_lp.min_cvar_scenario_generation(problem.scenarios, problem.level, lin,
                                                        linear=linear)
    elif algorithm == "full_lp":
        solution = cvar_lp.min_cvar_full_lp(problem.scenarios, problem.level, lin,
                                            linear=linear,
                                            solver=str(params.pop("solver", "HIGHS")))
    else:
        raise InvalidInput(f"algorithm must be scenario_generation or full_lp, got "
                           f"{algorithm!r}", field="algorithm")
    return _Solved(solution.weights, None, solution.solver, solution.iterations,
                   solution.status)


def _mean_cvar(problem: CompositionProblem, lin: LinearConstraints,
               params: dict[str, Any]) -> _Solved:
    aversion = params.pop("risk_aversion", None)
    target = params.pop("target_return", None)
    if (aversion is None) == (target is None):
        raise InvalidInput("mean-CVaR needs exactly one of risk_aversion or target_return",
                           field="risk_aversion")
    mu = problem.expected_returns()
    if target is not None:  # already folded into the constraints by optimize()
        return _cvar(problem, lin, params, linear=None)
    lam = float(aversion)
    if not lam > 0 or not math.isfinite(lam):
        raise InvalidInput(f"risk_aversion must be positive, got {aversion!r}",
                           field="risk_aversion")
    solved = _cvar(problem, lin, params, linear=-mu / lam)
    _, cvar, _ = cvar_lp.ru_cvar(-(problem.scenarios @ solved.weights), problem.level)
    return _Solved(solved.weights, float(mu @ solved.weights) - lam * cvar, solved.solver,
                   solved.iterations, solved.status)


def _clarabel(objective: Any, constraints: list[Any], what: str) -> tuple[str, int]:
    cp = load_cvxpy()

    problem = cp.Problem(cp.Minimize(objective), constraints)
    problem.solve(solver=cp.CLARABEL, **CLARABEL_TOLERANCES)
    if problem.status != cp.OPTIMAL:
        raise SolverFailure(f"Clarabel stopped with status {problem.status} on {what}",
                            field="constraints")
    return str(problem.status), int(problem.solver_stats.num_iters or 0)


def _cholesky(covariance: FloatArray) -> FloatArray:
    """A factor ``L`` with ``L Lᵀ = Σ / mean(diag Σ)`` (eigen-clipped when Σ is only
    semidefinite). Scaled: daily variances near 1e-4 would meet Clarabel's absolute
    tolerances and leave weights 1e-4 off."""
    covariance = covariance / max(float(np.mean(np.diag(covariance))), 1e-300)
    try:
        return np.asarray(np.linalg.cholesky(covariance), dtype=np.float64)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(covariance)
        return np.asarray(vectors * np.sqrt(np.clip(values, 0.0, None)), dtype=np.float64)


def _min_variance(problem: CompositionProblem, lin: LinearConstraints,
                  params: dict[str, Any]) -> _Solved:
    cp = load_cvxpy()

    root = _cholesky(problem.covariance_matrix())
    w = cp.Variable(problem.n_instruments)
    status, iterations = _clarabel(cp.sum_squares(root.T @ w),
                                   cvar_lp.cvxpy_constraints(w, lin), "minimum variance")
    return _Solved(np.asarray(w.value, dtype=np.float64), None, "cvxpy/clarabel",
                   iterations, status)


def _max_diversification(problem: CompositionProblem, lin: LinearConstraints,
                         params: dict[str, Any]) -> _Solved:
    """``y = κ w``: maximizing σ·w/‖w‖_Σ is minimizing ‖y‖_Σ² with σ·y = 1 and every
    constraint multiplied by κ >= 0 (a QP)."""
    cp = load_cvxpy()

    cov = problem.covariance_matrix()
    vols = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    root = _cholesky(cov)
    y, kappa = cp.Variable(problem.n_instruments), cp.Variable(nonneg=True)
    constraints: list[Any] = [vols @ y == 1, lin.a_eq @ y == lin.b_eq * kappa]
    if lin.a_ub.shape[0]:
        constraints.append(lin.a_ub @ y <= lin.b_ub * kappa)
    low, up = np.isfinite(lin.lower), np.isfinite(lin.upper)
    if low.any():
        constraints.append(y[low] >= lin.lower[low] * kappa)
    if up.any():
        constraints.append(y[up] <= lin.upper[up] * kappa)
    status, iterations = _clarabel(cp.sum_squares(root.T @ y), constraints,
                                   "maximum diversification")
    weights = np.asarray(y.value, dtype=np.float64) / float(kappa.value)
    ratio = float(vols @ weights) / math.sqrt(float(weights @ cov @ weights))
    return _Solved(weights, ratio, "cvxpy/clarabel", iterations, status)


def _risk_parity(problem: CompositionProblem, lin: LinearConstraints,
                 params: dict[str, Any]) -> _Solved:
    n = problem.n_instruments
    budgets = parity.check_budgets(params.pop("budgets", None), n)
    cov = problem.covariance_matrix()
    budget = float(lin.b_eq[0])
    solution = parity.risk_parity_newton(cov, budgets)
    weights = solution.weights * budget
    if not parity.needs_constrained(lin, weights):
        return _Solved(weights, None, solution.solver, solution.iterations, solution.status)
    scaled = LinearConstraints(
        a_eq=lin.a_eq, b_eq=lin.b_eq / budget, eq_names=lin.eq_names, a_ub=lin.a_ub,
        b_ub=lin.b_ub / budget, ub_names=lin.ub_names, lower=lin.lower / budget,
        upper=lin.upper / budget, lower_names=lin.lower_names, upper_names=lin.upper_names)
    constrained = parity.risk_parity_constrained(cov, budgets, scaled)
    note = Finding(rule="allocation.risk_parity.constrained", severity=Severity.INFO,
                   subject="risk_parity",
                   message="the equal-risk mix breaks a bound or group cap; solved the "
                           "constrained risk-budgeting problem instead (contributions are "
                           "as close to the budgets as the constraints allow)")
    return _Solved(constrained.weights * budget, None, constrained.solver,
                   constrained.iterations, constrained.status, (note,))


_METHODS: Mapping[OptimizationMethod, tuple[_Solver, RiskMeasure, tuple[str, ...]]] = {
    OptimizationMethod.MIN_CVAR: (_min_cvar, RiskMeasure.CVAR, ("algorithm", "solver")),
    OptimizationMethod.MEAN_CVAR: (_mean_cvar, RiskMeasure.CVAR,
                                   ("risk_aversion", "target_return", "algorithm", "solver")),
    OptimizationMethod.MIN_VARIANCE: (_min_variance, RiskMeasure.VARIANCE, ()),
    OptimizationMethod.RISK_PARITY: (_risk_parity, RiskMeasure.VARIANCE, ("budgets",)),
    OptimizationMethod.MAX_DIVERSIFICATION: (_max_diversification, RiskMeasure.VARIANCE, ()),
}


def optimize(problem: CompositionProblem, method: OptimizationMethod | str,
             **params: Any) -> OptimizationResult:
    """Solve ``problem`` with ``method`` (module table); ``params`` are the method's own.

    Parameters
    ----------
    params : MIN_CVAR/MEAN_CVAR: ``algorithm`` ("scenario_generation", default, or
        "full_lp" through cvxpy with ``solver``, default "HIGHS"); MEAN_CVAR:
        ``risk_aversion`` or ``target_return``; RISK_PARITY: ``budgets`` (N,) positive.

    Raises
    ------
    Infeasible
        when no weights satisfy the constraints, naming those that conflict.
    """
    try:
        chosen = OptimizationMethod(method)
    except ValueError:
        raise InvalidInput(f"unknown method {method!r}; one of "
                           f"{', '.join(OptimizationMethod)}", field="method") from None
    solver, measure, accepted = _METHODS[chosen]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise InvalidInput(f"{chosen} does not take {', '.join(unknown)}", field=unknown[0])
    target = params.get("target_return")
    if chosen is OptimizationMethod.MEAN_CVAR and target is not None:
        floor = problem.constraints.min_return
        wanted = float(target) if floor is None else max(float(target), floor)
        problem = replace(problem, constraints=replace(problem.constraints,
                                                       min_return=wanted))
    lin = check_feasible(problem)
    if measure is RiskMeasure.VARIANCE and problem.covariance is None:
        problem = replace(problem, covariance=problem.covariance_matrix())  # once
    solved = solver(problem, lin, dict(params))
    return _result(problem, chosen, measure, solved, params)


def _result(problem: CompositionProblem, method: OptimizationMethod, measure: RiskMeasure,
            solved: _Solved, params: Mapping[str, Any]) -> OptimizationResult:
    weights = solved.weights
    returns = problem.scenarios @ weights
    var, cvar, q = cvar_lp.ru_cvar(-returns, problem.level)
    if measure is RiskMeasure.CVAR:
        contributions = weights * -(q @ problem.scenarios)
        risk = cvar
        variance = float(np.var(returns))
        cov_hash = array_hash(problem.covariance if problem.covariance is not None else [])
    else:
        cov = problem.covariance_matrix()
        variance = float(weights @ cov @ weights)
        contributions = weights * (cov @ weights)
        risk = variance
        cov_hash = array_hash(cov)
    spec = problem.constraints
    provenance = Provenance(
        method=f"allocation.{method.value}",
        inputs_hash=_inputs_hash(problem, cov_hash),
        parameters={"level": problem.level, "codes": list(problem.codes),
                    "lower": np.asarray(spec.lower, dtype=np.float64),
                    "upper": np.asarray(spec.upper, dtype=np.float64),
                    "groups": [[g.name, list(g.members), g.max_weight] for g in spec.groups],
                    "budget": spec.budget, "min_return": spec.min_return,
                    **{k: _plain(v) for k, v in params.items()}},
        versions=_versions(), warnings=solved.findings)
    return OptimizationResult(
        method=method, codes=problem.codes, weights=weights,
        objective=risk if solved.objective is None else solved.objective,
        expected_return=float(problem.expected_returns() @ weights),
        volatility=math.sqrt(max(variance, 0.0)), level=problem.level, var=var, cvar=cvar,
        risk_measure=measure, risk_contributions=contributions, solver=solved.solver,
        iterations=solved.iterations, status=solved.status, provenance=provenance,
        findings=solved.findings)


def _inputs_hash(problem: CompositionProblem, cov_hash: str) -> str:
    return array_hash(problem.scenarios, problem.expected_returns(),
                      np.frombuffer(bytes.fromhex(cov_hash), dtype=np.uint8))


@cache
def _version_table() -> tuple[tuple[str, str], ...]:
    return tuple(library_versions(_LIBRARIES).items())  # metadata reads are slow: once


def _versions() -> dict[str, str]:
    return dict(_version_table())


def _plain(value: Any) -> Any:
    return np.asarray(value, dtype=np.float64) if isinstance(value, list | tuple) else value
