"""Composition optimizers: closed forms, invariants, agreement with skfolio and Riskfolio-Lib.

The reference libraries get the same scenarios, the same covariance (Ledoit–Wolf, which
is also skfolio's) and the same constraints; objectives must agree within 1e-6 relative and
weights within 1e-4 (the optima here are unique).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoima.allocation.optimizers import OptimizationMethod, RiskMeasure, optimize
from qoima.allocation.problem import CompositionProblem, Constraints, GroupCap
from qoima.domain.errors import InvalidInput
from qoima.risk.factor_models import ledoit_wolf_covariance


def heavy_tailed(t: int, n: int, seed: int = 0) -> np.ndarray:
    """Student-t (4 dof) returns with a three-factor structure, daily scale."""
    rng = np.random.default_rng(seed)
    loadings = rng.normal(0.5, 0.3, (n, 3))
    factors = rng.standard_t(4, (t, 3)) * 0.01
    noise = rng.standard_t(4, (t, n)) * rng.uniform(0.005, 0.02, n)
    return 0.0003 + rng.normal(0, 0.0002, n) + factors @ loadings.T + noise


def codes(n: int) -> tuple[str, ...]:
    return tuple(f"A{i}" for i in range(n))


@pytest.fixture(scope="module")
def scenarios() -> np.ndarray:
    return heavy_tailed(2000, 8)


def problem(data: np.ndarray, upper: float = 0.25, **kwargs: object) -> CompositionProblem:
    return CompositionProblem(codes(data.shape[1]), data,
                              constraints=Constraints(upper=upper), **kwargs)  # type: ignore[arg-type]


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b))


# --- hand-checkable cases ---------------------------------------------------------------

TWO = np.array([[0.04, 0.006], [0.006, 0.01]])  # vols 20 % and 10 %, correlation 0.3


def two_asset_problem(upper: float = 1.0) -> CompositionProblem:
    data = heavy_tailed(200, 2, seed=3)
    return CompositionProblem(("X", "Y"), data, covariance=TWO,
                              constraints=Constraints(upper=upper))


def test_min_variance_two_assets_closed_form() -> None:
    s1, s2, s12 = TWO[0, 0], TWO[1, 1], TWO[0, 1]
    expected = (s2 - s12) / (s1 + s2 - 2 * s12)  # 0.1315...
    result = optimize(two_asset_problem(), OptimizationMethod.MIN_VARIANCE)
    assert result.weights[0] == pytest.approx(expected, abs=1e-7)
    assert result.objective == pytest.approx(float(result.weights @ TWO @ result.weights),
                                             rel=1e-9)


def test_risk_parity_two_assets_is_inverse_volatility() -> None:
    # with two assets the equal-risk mix is w1 = s2 / (s1 + s2), whatever the correlation
    result = optimize(two_asset_problem(), OptimizationMethod.RISK_PARITY)
    assert result.weights[0] == pytest.approx(0.1 / 0.3, abs=1e-12)
    assert result.solver == "newton-spinu"


def test_min_cvar_two_assets_by_brute_force() -> None:
    data = heavy_tailed(400, 2, seed=5)
    grid = np.linspace(0, 1, 100001)
    losses = -(data[:, :1] * grid + data[:, 1:] * (1 - grid))
    k = int(0.05 * 400)
    cvars = -np.sort(-losses, axis=0)[:k].mean(axis=0)
    result = optimize(problem(data, upper=1.0), OptimizationMethod.MIN_CVAR)
    assert result.cvar == pytest.approx(cvars.min(), rel=1e-6)
    assert result.weights[0] == pytest.approx(grid[np.argmin(cvars)], abs=1e-4)


# --- invariants -----------------------------------------------------------------------------

@pytest.mark.parametrize("method", list(OptimizationMethod))
def test_every_method_respects_constraints_and_sums_contributions(
        scenarios: np.ndarray, method: OptimizationMethod) -> None:
    groups = (GroupCap("issuer X", (0, 1, 2), 0.4),)
    spec = Constraints(upper=0.3, groups=groups)
    p = CompositionProblem(codes(8), scenarios, constraints=spec)
    params = {"risk_aversion": 2.0} if method is OptimizationMethod.MEAN_CVAR else {}
    result = optimize(p, method, **params)
    w = result.weights
    assert w.sum() == pytest.approx(1.0, abs=1e-8)
    assert w.min() >= -1e-8 and w.max() <= 0.3 + 1e-8
    assert w[:3].sum() <= 0.4 + 1e-8
    total = result.cvar if result.risk_measure is RiskMeasure.CVAR \
        else result.volatility ** 2
    assert result.risk_contributions.sum() == pytest.approx(total, rel=1e-9)
    assert result.provenance.method == f"allocation.{method.value}"
    assert "cvxpy" in result.provenance.versions
    assert result.codes == codes(8)


def test_risk_parity_contributions_equal_within_1e_8() -> None:
    rng = np.random.default_rng(11)
    data = heavy_tailed(600, 50, seed=11)
    result = optimize(CompositionProblem(codes(50), data), OptimizationMethod.RISK_PARITY)
    shares = result.risk_shares
    assert np.abs(shares - 1 / 50).max() < 1e-8
    budgets = rng.uniform(0.5, 2.0, 50)
    budgeted = optimize(CompositionProblem(codes(50), data), OptimizationMethod.RISK_PARITY,
                        budgets=budgets)
    assert np.abs(budgeted.risk_shares - budgets / budgets.sum()).max() < 1e-8


def test_risk_parity_falls_back_when_a_cap_binds(scenarios: np.ndarray) -> None:
    free = optimize(problem(scenarios, upper=1.0), OptimizationMethod.RISK_PARITY)
    cap = float(free.weights.max()) - 0.02
    capped = optimize(problem(scenarios, upper=cap), OptimizationMethod.RISK_PARITY)
    assert capped.solver == "cvxpy/clarabel"
    assert capped.weights.max() <= cap + 1e-7
    assert capped.findings[0].rule == "allocation.risk_parity.constrained"


def test_mean_cvar_target_return_is_met(scenarios: np.ndarray) -> None:
    p = problem(scenarios)
    floor = optimize(p, OptimizationMethod.MIN_CVAR)
    target = floor.expected_return + 0.5 * (float(p.expected_returns().max()) * 0.25
                                            - floor.expected_return)
    result = optimize(p, OptimizationMethod.MEAN_CVAR, target_return=target)
    assert result.expected_return >= target - 1e-9
    assert result.cvar >= floor.cvar - 1e-12


def test_bad_method_and_parameters(scenarios: np.ndarray) -> None:
    with pytest.raises(InvalidInput, match="unknown method"):
        optimize(problem(scenarios), "max_sharpe")
    with pytest.raises(InvalidInput, match="does not take"):
        optimize(problem(scenarios), OptimizationMethod.MIN_VARIANCE, budgets=[1] * 8)
    with pytest.raises(InvalidInput, match="exactly one"):
        optimize(problem(scenarios), OptimizationMethod.MEAN_CVAR)
    with pytest.raises(InvalidInput, match="risk budgets"):
        optimize(problem(scenarios), OptimizationMethod.RISK_PARITY, budgets=[-1] * 8)


# --- the fast min-CVaR equals the full Rockafellar–Uryasev LP -------------------------------

@settings(max_examples=25, deadline=None)
@given(t=st.integers(40, 400), n=st.integers(2, 9), seed=st.integers(0, 10_000),
       level=st.sampled_from([0.9, 0.95, 0.975]), slack=st.floats(0.0, 1.0))
def test_scenario_generation_equals_full_lp(t: int, n: int, seed: int, level: float,
                                            slack: float) -> None:
    data = heavy_tailed(t, n, seed=seed)
    upper = 1.0 / n + slack * (1.0 - 1.0 / n)
    p = CompositionProblem(codes(n), data, level=level, constraints=Constraints(upper=upper))
    fast = optimize(p, OptimizationMethod.MIN_CVAR)
    full = optimize(p, OptimizationMethod.MIN_CVAR, algorithm="full_lp")
    assert close(fast.objective, full.objective, rel=1e-7)
    assert fast.weights.sum() == pytest.approx(1.0, abs=1e-8)
    assert fast.weights.max() <= upper + 1e-8


# --- agreement with skfolio and Riskfolio-Lib -------------------------------------------------

skfolio = pytest.importorskip("skfolio")
#: skfolio solves with Clarabel's default 1e-8 tolerances, which on daily variances (1e-4)
#: leave its weights ~1e-4 from the exact optimum; the comparison uses tight ones
TIGHT = {"solver_params": {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}}


def _prior() -> object:
    from skfolio.moments import LedoitWolf
    from skfolio.prior import EmpiricalPrior

    return EmpiricalPrior(covariance_estimator=LedoitWolf())


def test_ledoit_wolf_matches_skfolio(scenarios: np.ndarray) -> None:
    from skfolio.moments import LedoitWolf

    reference = LedoitWolf().fit(scenarios).covariance_
    np.testing.assert_allclose(ledoit_wolf_covariance(scenarios)[0], reference, rtol=1e-12)


def test_min_cvar_matches_skfolio(scenarios: np.ndarray) -> None:
    from skfolio import RiskMeasure as SkRisk
    from skfolio.optimization import MeanRisk

    model = MeanRisk(risk_measure=SkRisk.CVAR, cvar_beta=0.95, max_weights=0.25,
                     **TIGHT).fit(scenarios)
    result = optimize(problem(scenarios), OptimizationMethod.MIN_CVAR)
    assert close(result.objective, model.predict(scenarios).cvar)
    np.testing.assert_allclose(result.weights, model.weights_, atol=1e-4)


def test_mean_cvar_matches_skfolio(scenarios: np.ndarray) -> None:
    from skfolio import RiskMeasure as SkRisk
    from skfolio.optimization import MeanRisk, ObjectiveFunction

    model = MeanRisk(risk_measure=SkRisk.CVAR, cvar_beta=0.95, max_weights=0.25,
                     objective_function=ObjectiveFunction.MAXIMIZE_UTILITY,
                     risk_aversion=0.2, **TIGHT).fit(scenarios)
    result = optimize(problem(scenarios), OptimizationMethod.MEAN_CVAR, risk_aversion=0.2)
    portfolio = model.predict(scenarios)
    assert close(result.objective, portfolio.mean - 0.2 * portfolio.cvar)
    np.testing.assert_allclose(result.weights, model.weights_, atol=1e-4)
    target = float(portfolio.mean)
    floor = MeanRisk(risk_measure=SkRisk.CVAR, cvar_beta=0.95, max_weights=0.25,
                     min_return=target, **TIGHT).fit(scenarios)
    targeted = optimize(problem(scenarios), OptimizationMethod.MEAN_CVAR, target_return=target)
    assert close(targeted.objective, floor.predict(scenarios).cvar)
    np.testing.assert_allclose(targeted.weights, floor.weights_, atol=1e-4)


def test_min_variance_matches_skfolio(scenarios: np.ndarray) -> None:
    from skfolio import RiskMeasure as SkRisk
    from skfolio.optimization import MeanRisk

    model = MeanRisk(risk_measure=SkRisk.VARIANCE, max_weights=0.25,
                     prior_estimator=_prior(), **TIGHT).fit(scenarios)
    result = optimize(problem(scenarios), OptimizationMethod.MIN_VARIANCE)
    cov = ledoit_wolf_covariance(scenarios)[0]
    exact = np.linalg.solve(cov, np.ones(8))  # no bound binds here: the closed form holds
    np.testing.assert_allclose(result.weights, exact / exact.sum(), atol=1e-8)
    assert close(result.objective, float(model.weights_ @ cov @ model.weights_))
    np.testing.assert_allclose(result.weights, model.weights_, atol=1e-4)


def test_risk_parity_matches_skfolio(scenarios: np.ndarray) -> None:
    from skfolio import RiskMeasure as SkRisk
    from skfolio.optimization import RiskBudgeting

    model = RiskBudgeting(risk_measure=SkRisk.VARIANCE, prior_estimator=_prior(),
                          **TIGHT).fit(scenarios)
    result = optimize(problem(scenarios, upper=1.0), OptimizationMethod.RISK_PARITY)
    np.testing.assert_allclose(result.weights, model.weights_, atol=1e-4)
    cov = ledoit_wolf_covariance(scenarios)[0]
    assert close(result.objective, float(model.weights_ @ cov @ model.weights_), rel=1e-5)


def test_max_diversification_matches_skfolio(scenarios: np.ndarray) -> None:
    from skfolio.optimization import MaximumDiversification

    model = MaximumDiversification(max_weights=0.25, prior_estimator=_prior(),
                                   **TIGHT).fit(scenarios)
    result = optimize(problem(scenarios), OptimizationMethod.MAX_DIVERSIFICATION)
    cov = ledoit_wolf_covariance(scenarios)[0]
    w = model.weights_
    ratio = float(np.sqrt(np.diag(cov)) @ w) / math.sqrt(float(w @ cov @ w))
    assert close(result.objective, ratio)
    np.testing.assert_allclose(result.weights, w, atol=1e-4)


def _riskfolio_portfolio(data: np.ndarray, upper: float) -> object:
    rp = pytest.importorskip("riskfolio")
    import pandas as pd

    n = data.shape[1]
    port = rp.Portfolio(returns=pd.DataFrame(data, columns=list(codes(n))))
    port.assets_stats(method_mu="hist", method_cov="hist")
    port.ainequality = np.eye(n)  # Riskfolio-Lib 7: A w <= B
    port.binequality = np.full((n, 1), upper)
    return port


def test_min_cvar_matches_riskfolio(scenarios: np.ndarray) -> None:
    port = _riskfolio_portfolio(scenarios, 0.25)
    weights = port.optimization(model="Classic", rm="CVaR", obj="MinRisk",  # type: ignore[attr-defined]
                                hist=True).to_numpy().ravel()
    result = optimize(problem(scenarios), OptimizationMethod.MIN_CVAR)
    np.testing.assert_allclose(result.weights, weights, atol=1e-4)
    from qoima.allocation.cvar import ru_cvar

    assert close(result.objective, ru_cvar(-(scenarios @ weights), 0.95)[1])


def test_risk_parity_matches_riskfolio(scenarios: np.ndarray) -> None:
    import pandas as pd

    port = _riskfolio_portfolio(scenarios, 1.0)
    cov = ledoit_wolf_covariance(scenarios)[0]
    port.cov = pd.DataFrame(cov, index=codes(8), columns=codes(8))  # type: ignore[attr-defined]
    weights = port.rp_optimization(model="Classic", rm="MV",  # type: ignore[attr-defined]
                                   hist=True).to_numpy().ravel()
    result = optimize(problem(scenarios, upper=1.0, covariance=cov),
                      OptimizationMethod.RISK_PARITY)
    np.testing.assert_allclose(result.weights, weights, atol=1e-4)
