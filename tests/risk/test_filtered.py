"""Filtered historical simulation: hand-checked scenarios and quantiles, seeded bootstrap,
joint scenarios for several series, tracking of conditional volatility, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qoima.domain.errors import InvalidInput
from qoima.risk.filtered import fhs_scenarios, fhs_var, var_cvar
from qoima.risk.garch import GarchFit, fit_garch, fit_garch_batch
from qoima.risk.provenance import Provenance

Z = np.array([0.0, -2.0, 2.0, -1.0, 1.0])


def tiny_fit(shocks: np.ndarray = Z, mu: float = 0.001) -> GarchFit:
    """A fixed fit: sigma_T = 2 %, last shock z_T = 1, so e_T = 0.02 and
    h_{T+1} = 2e-5 + 0.1 * 0.02^2 + 0.85 * 0.02^2 = 4e-4: sigma_{T+1} = 2 % exactly."""
    volatility = np.full(shocks.shape[0], 0.02)
    return GarchFit("normal", 100.0, mu, 2e-5, 0.1, 0.85, None, -1.0, volatility, shocks,
                    True, Provenance("test", "0"))


def test_one_day_scenarios_and_quantiles_by_hand() -> None:
    fit = tiny_fit()
    scenarios = fhs_scenarios(fit)
    expected = [0.001, -0.039, 0.041, -0.019, 0.021]  # mu + 0.02 z
    np.testing.assert_allclose(scenarios.returns[:, 0], expected, rtol=1e-12)
    assert scenarios.next_volatility[0] == pytest.approx(0.02, rel=1e-12)
    assert scenarios.provenance.seed is None  # no randomness for one day
    risk = fhs_var(fit, levels=(0.75, 0.9))
    # sorted: -0.039, -0.019, 0.001, 0.021, 0.041
    # 25 %: position 0.25 * 4 = 1 -> -0.019; tail {-0.039, -0.019}
    # 10 %: position 0.4 -> -0.039 + 0.4 * 0.02 = -0.031; tail {-0.039}
    assert risk.at(0.75) == pytest.approx((0.019, 0.029), rel=1e-9)
    assert risk.at(0.9) == pytest.approx((0.031, 0.039), rel=1e-9)
    assert risk.next_volatility == pytest.approx(0.02) and risk.n_scenarios == 5
    with pytest.raises(InvalidInput):
        risk.at(0.99)


def test_sqrt_time_scales_the_one_day_scenarios() -> None:
    scenarios = fhs_scenarios(tiny_fit(), horizon_days=4, method="sqrt_time")
    np.testing.assert_allclose(scenarios.returns[:, 0], 4 * 0.001 + 2 * 0.02 * Z, rtol=1e-12)
    assert fhs_var(tiny_fit(), levels=(0.75,), horizon_days=4,
                   method="sqrt_time").var == pytest.approx((0.036,))


def test_bootstrap_paths_by_hand() -> None:
    fit = tiny_fit()
    scenarios = fhs_scenarios(fit, horizon_days=2, n_paths=3, seed=42)
    dates = np.random.Generator(np.random.PCG64(42)).integers(0, 5, size=(2, 3))
    for path in range(3):
        first = 0.02 * Z[dates[0, path]]
        variance = 2e-5 + 0.1 * first**2 + 0.85 * 0.02**2
        second = math.sqrt(variance) * Z[dates[1, path]]
        assert scenarios.returns[path, 0] == pytest.approx(0.002 + first + second, rel=1e-12)
    assert scenarios.provenance.seed == 42
    assert scenarios.provenance.parameters["n_paths"] == 3


def test_bootstrap_is_reproducible_with_its_seed() -> None:
    fit = fit_garch(_garch_path(800, 1))
    a = fhs_var(fit, horizon_days=10, n_paths=2000, seed=7)
    b = fhs_var(fit, horizon_days=10, n_paths=2000, seed=7)
    c = fhs_var(fit, horizon_days=10, n_paths=2000, seed=8)
    assert a.var == b.var and a.cvar == b.cvar
    assert a.var != c.var
    assert a.provenance.seed == 7 and a.levels == (0.95, 0.99)
    for var, cvar in zip(a.var, a.cvar, strict=True):
        assert cvar >= var > 0
    # ten days at least as risky as one, and roughly sqrt(10) times as wide
    one_day = fhs_var(fit).var[0]
    assert 2.0 < a.var[0] / one_day < 4.5


def test_var_cvar_uses_numpy_linear_quantile() -> None:
    x = np.random.default_rng(3).standard_t(4, 1001) * 0.02
    var, cvar = var_cvar(x, 0.99)
    assert var == -np.quantile(x, 0.01)
    assert cvar == pytest.approx(-x[x <= np.quantile(x, 0.01)].mean(), rel=1e-15)


def test_several_series_draw_the_same_past_dates() -> None:
    first, second = tiny_fit(), tiny_fit(mu=-0.002)
    one_day = fhs_scenarios([first, second])
    np.testing.assert_allclose(one_day.returns[:, 1] - one_day.returns[:, 0], -0.003)
    paths = fhs_scenarios([first, second], horizon_days=5, n_paths=500, seed=1)
    assert paths.returns.shape == (500, 2)
    # identical shocks and variances: the columns differ only by the drift, path by path
    np.testing.assert_allclose(paths.returns[:, 1] - paths.returns[:, 0], -0.015, atol=1e-12)
    single = fhs_scenarios(first, horizon_days=5, n_paths=500, seed=1)
    np.testing.assert_allclose(single.returns[:, 0], paths.returns[:, 0], rtol=1e-14)


def test_fhs_var_follows_conditional_volatility() -> None:
    returns = _garch_path(2400, 5)
    whole = fit_garch_batch(returns[:, None])[0]
    later = whole.conditional_volatility[1200:]
    calm_end = 1200 + int(np.argmin(later)) + 1
    wild_end = 1200 + int(np.argmax(later)) + 1
    calm, wild = fit_garch(returns[:calm_end]), fit_garch(returns[:wild_end])
    calm_var, wild_var = fhs_var(calm).var[1], fhs_var(wild).var[1]
    assert wild_var > 2 * calm_var
    # and the ratio is the ratio of the forecast volatilities, up to the different shocks
    ratio = math.sqrt(wild.variance_forecast(1)[0] / calm.variance_forecast(1)[0])
    assert wild_var / calm_var == pytest.approx(ratio, rel=0.1)


def test_bad_input() -> None:
    fit = tiny_fit()
    with pytest.raises(InvalidInput):
        fhs_var(fit, levels=(1.0,))
    with pytest.raises(InvalidInput):
        fhs_var(fit, levels=())
    with pytest.raises(InvalidInput):
        fhs_scenarios(fit, horizon_days=0)
    with pytest.raises(InvalidInput):
        fhs_scenarios(fit, horizon_days=2, n_paths=0)
    with pytest.raises(InvalidInput):
        fhs_scenarios(fit, method="cornish")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        fhs_scenarios([])
    with pytest.raises(InvalidInput):
        fhs_scenarios([fit, tiny_fit(np.array([0.5, -0.5, 1.0]))])


def _garch_path(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shocks = rng.standard_t(5, n) / math.sqrt(5 / 3)
    out, variance = np.empty(n), 4e-4
    for t in range(n):
        out[t] = 0.0005 + math.sqrt(variance) * shocks[t]
        variance = 1.6e-5 + 0.12 * (out[t] - 0.0005) ** 2 + 0.84 * variance
    return out
