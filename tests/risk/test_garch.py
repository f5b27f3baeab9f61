"""GARCH(1,1): the arch wrapper's units, the batch fitter against arch, its exact likelihood
and gradient, findings, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from arch import arch_model
from scipy.optimize import approx_fprime, minimize

import qoima.risk.garch as garch
from qoima.domain.errors import DegenerateSeries, InsufficientHistory, InvalidInput
from qoima.risk.garch import MIN_OBS, Distribution, fit_garch, fit_garch_batch


def simulate(n: int, seed: int, *, omega: float = 2e-5, alpha: float = 0.1,
             beta: float = 0.86, mu: float = 5e-4, df: int = 5) -> np.ndarray:
    """GARCH(1,1)-t daily returns at crypto scale (long-run vol ~2.2 %)."""
    rng = np.random.default_rng(seed)
    shocks = rng.standard_t(df, n) / np.sqrt(df / (df - 2))
    out, variance = np.empty(n), omega / (1 - alpha - beta)
    for t in range(n):
        residual = np.sqrt(variance) * shocks[t]
        out[t] = mu + residual
        variance = omega + alpha * residual**2 + beta * variance
    return out


def arch_fit(returns: np.ndarray, dist: Distribution = "normal"):  # type: ignore[no-untyped-def]
    return arch_model(100 * returns, rescale=False, dist=dist).fit(disp="off")


def test_fit_garch_reports_arch_in_the_input_units() -> None:
    returns = simulate(1500, 1)
    fit = fit_garch(returns)
    ref = arch_fit(returns)
    assert fit.scale == 100.0 and fit.dist == "normal" and fit.nu is None
    assert fit.mu == pytest.approx(ref.params["mu"] / 100, rel=1e-12)
    assert fit.omega == pytest.approx(ref.params["omega"] / 100**2, rel=1e-12)
    assert fit.alpha == pytest.approx(ref.params["alpha[1]"], rel=1e-12)
    assert fit.beta == pytest.approx(ref.params["beta[1]"], rel=1e-12)
    assert fit.log_likelihood == pytest.approx(ref.loglikelihood, rel=1e-14)
    np.testing.assert_allclose(fit.conditional_volatility, ref.conditional_volatility / 100,
                               rtol=1e-12)
    np.testing.assert_allclose(fit.standardized_residuals, ref.std_resid, rtol=1e-10)
    assert fit.converged and fit.findings == () and fit.n_obs == 1500
    # planted values recovered roughly
    assert 0.04 < fit.alpha < 0.2 and 0.75 < fit.beta < 0.95
    assert fit.persistence == pytest.approx(fit.alpha + fit.beta)
    assert fit.unconditional_volatility == pytest.approx(
        np.sqrt(fit.omega / (1 - fit.alpha - fit.beta)))
    assert fit.provenance.method == "garch11-arch"


def test_variance_forecast_equals_arch_analytic_forecast() -> None:
    returns = simulate(1200, 2)
    fit = fit_garch(returns)
    ref = arch_fit(returns).forecast(horizon=10, reindex=False).variance.to_numpy()[-1]
    np.testing.assert_allclose(fit.variance_forecast(10), ref / 100**2, rtol=1e-10)
    # by hand: h_{T+1} = omega + alpha e_T^2 + beta h_T, then geometric toward the long run
    e_last = fit.standardized_residuals[-1] * fit.conditional_volatility[-1]
    first = fit.omega + fit.alpha * e_last**2 + fit.beta * fit.conditional_volatility[-1]**2
    assert fit.variance_forecast(1)[0] == pytest.approx(first, rel=1e-12)
    long_run = fit.unconditional_volatility**2  # type: ignore[operator]
    k = np.arange(10)
    np.testing.assert_allclose(fit.variance_forecast(10),
                               long_run + fit.persistence**k * (first - long_run), rtol=1e-10)
    with pytest.raises(InvalidInput):
        fit.variance_forecast(0)


def test_student_t_fit_matches_arch() -> None:
    returns = simulate(1500, 3, df=4)
    fit = fit_garch(returns, dist="t")
    ref = arch_fit(returns, "t")
    assert fit.nu == pytest.approx(ref.params["nu"], rel=1e-12)
    assert 2.05 < fit.nu < 12  # type: ignore[operator]
    batch = fit_garch_batch(returns[:, None], dist="t")[0]
    assert batch.log_likelihood == pytest.approx(ref.loglikelihood, rel=1e-6)
    assert batch.nu == pytest.approx(ref.params["nu"], rel=1e-3)


@pytest.mark.parametrize("dist", ["normal", "t"])
def test_batch_reaches_arch_optimum_on_each_series(dist: Distribution) -> None:
    matrix = np.column_stack([simulate(1000, seed, alpha=a, beta=b, df=df) for seed, a, b, df
                              in ((10, 0.05, 0.93, 4), (11, 0.12, 0.85, 6),
                                  (12, 0.2, 0.7, 8), (13, 0.08, 0.9, 5))])
    fits = fit_garch_batch(matrix, dist=dist)
    assert len(fits) == 4
    for j, fit in enumerate(fits):
        ref = arch_fit(matrix[:, j], dist)
        assert fit.converged
        assert abs(fit.log_likelihood - ref.loglikelihood) <= 1e-6 * abs(ref.loglikelihood)
        assert fit.alpha == pytest.approx(ref.params["alpha[1]"], abs=2e-3)
        assert fit.beta == pytest.approx(ref.params["beta[1]"], abs=2e-3)
        np.testing.assert_allclose(fit.conditional_volatility,
                                   ref.conditional_volatility / 100, rtol=1e-2)
        assert fit.provenance.method == "garch11-batch"


def _problem(returns: np.ndarray, dist: Distribution = "normal") -> garch._Problem:
    return garch._Problem(100 * returns, dist)


@pytest.mark.parametrize("params", [
    (0.05, 0.04, 0.08, 0.9),  # ordinary
    (0.05, 1e-9, 0.1, 0.0),  # two dates under arch's lower bound: clip and restart the filter
    (0.05, 1e-9, 0.0, 0.0),  # every date at the floor: the vectorized clipping sweeps
    (0.05, 1e-9, 1e-7, 2e-7),  # tiny beta: the sweeps again
    (0.05, 1e-9, 0.0, 0.9),  # floor with beta near 1: the per-step recursion
    (0.05, 1.0, 0.5, 1.5),  # explosive trial point: damped above arch's upper bound
])
def test_variance_recursion_equals_arch_including_its_bounds(
        params: tuple[float, ...]) -> None:
    returns = simulate(800, 4)
    problem = _problem(returns)
    y = 100 * returns
    resids = y - params[0]
    # arch's own recursion on arch's own backcast and bounds
    model = arch_model(y, rescale=False)
    backcast = model.volatility.backcast(y - y.mean())
    bounds = model.volatility.variance_bounds(y - y.mean())
    expected = np.zeros(800)
    model.volatility.compute_variance(np.array(params[1:]), resids, expected, backcast, bounds)
    assert problem.backcast == pytest.approx(backcast, rel=1e-14)
    np.testing.assert_allclose(problem.lower, bounds[:, 0], rtol=1e-12)
    np.testing.assert_allclose(problem.upper, bounds[:, 1], rtol=1e-12)
    np.testing.assert_allclose(problem.variance(np.array(params)), expected, rtol=1e-12)


@pytest.mark.parametrize(("dist", "params"), [
    ("normal", [0.04, 0.05, 0.1, 0.85]),
    ("t", [0.04, 0.05, 0.1, 0.85, 6.0]),
])
def test_analytic_gradient_equals_numerical(dist: Distribution, params: list[float]) -> None:
    problem = _problem(simulate(600, 5), dist)
    x = np.array(params)
    numerical = approx_fprime(x, problem.negative_log_likelihood, 1e-7)
    np.testing.assert_allclose(problem.gradient(x), numerical, rtol=1e-4, atol=1e-3)
    # and the objective is arch's: -loglik at the same parameters (same backcast and bounds)
    fixed = arch_model(100 * simulate(600, 5), rescale=False, dist=dist).fix(x)
    assert problem.negative_log_likelihood(x) == pytest.approx(-fixed.loglikelihood, rel=1e-12)


def test_non_convergence_is_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    def one_step(*args, **kwargs):  # type: ignore[no-untyped-def]
        return minimize(*args, **kwargs, options={"maxiter": 1})

    monkeypatch.setattr(garch, "minimize", one_step)
    fit = fit_garch_batch(simulate(500, 6)[:, None], names=["BTC"])[0]
    assert not fit.converged
    assert [f.rule for f in fit.findings] == ["risk.garch_not_converged"]
    assert fit.findings[0].subject == "BTC"


def test_persistence_at_one_is_a_finding() -> None:
    # volatility that only rises: the best GARCH fit sits on alpha + beta = 1
    rng = np.random.default_rng(0)
    returns = rng.standard_normal(600) * np.linspace(0.005, 0.08, 600)
    for fit in (fit_garch(returns, name="BTC"), fit_garch_batch(returns[:, None])[0]):
        assert fit.persistence >= 1 - 1e-6
        assert "risk.garch_nonstationary" in [f.rule for f in fit.findings]
        assert fit.unconditional_volatility is None
    assert fit_garch(returns, name="BTC").findings[0].subject == "BTC"


def test_bad_input() -> None:
    good = simulate(300, 7)
    with pytest.raises(InsufficientHistory):
        fit_garch(good[: MIN_OBS - 1])
    with pytest.raises(InsufficientHistory):
        fit_garch_batch(good[: MIN_OBS - 1, None])
    spoiled = good.copy()
    spoiled[150] = np.nan
    with pytest.raises(DegenerateSeries):
        fit_garch(spoiled)
    with pytest.raises(DegenerateSeries):
        fit_garch_batch(np.column_stack([good, spoiled]))
    with pytest.raises(DegenerateSeries):
        fit_garch(np.full(300, 0.01))
    with pytest.raises(DegenerateSeries):
        fit_garch_batch(np.column_stack([good, np.zeros(300)]))
    with pytest.raises(InvalidInput):
        fit_garch(np.column_stack([good, good]))
    with pytest.raises(InvalidInput):
        fit_garch(good, dist="skewt")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        fit_garch_batch(good[:, None], names=["a", "b"])
