"""Scenario VaR/CVaR convention, Euler contributions and incremental risk."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from scipy import stats

from qoima.domain.enums import InstrumentKind
from qoima.domain.errors import DegenerateSeries, InsufficientHistory, InvalidInput
from qoima.risk.contributions import (
    book_contributions,
    book_incremental_risk,
    incremental_risk,
    parametric_contributions,
    scenario_contributions,
    scenario_var_cvar,
    tail_estimate,
)
from qoima.risk.positions import FactorLoading, RiskBook, RiskPosition


def _gaussian_returns(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    covariance = np.array([[4.0, 1.2, -0.6], [1.2, 1.0, 0.3], [-0.6, 0.3, 2.25]]) * 1e-4
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(np.zeros(3), covariance, size=n), covariance


def test_unweighted_convention_is_numpy_linear_quantile_and_tail_mean() -> None:
    pnl = np.random.default_rng(3).standard_t(4, 2501) * 1e6
    var, cvar = scenario_var_cvar(pnl, 0.99)
    assert var == -np.quantile(pnl, 1 - 0.99)
    assert cvar == -pnl[pnl <= -var].mean()
    # 2501 scenarios: h = 25 exactly, so the quantile is the 26th smallest P&L
    assert var == pytest.approx(-np.sort(pnl)[25], rel=1e-14)
    assert cvar == pytest.approx(-np.sort(pnl)[:26].mean(), rel=1e-14)


def test_hand_example_ten_scenarios() -> None:
    pnl = np.array([-10.0, -7.0, -3.0, 1.0, 2.0, 4.0, 5.0, 6.0, 8.0, 9.0])
    estimate = tail_estimate(pnl, 0.9)  # h = 9 * 0.1 = 0.9: 0.1 * -10 + 0.9 * -7 = -7.3
    assert estimate.var == pytest.approx(7.3)
    assert estimate.cvar == pytest.approx(10.0)  # only -10 is at or beyond -7.3
    assert (estimate.lower, estimate.upper, estimate.fraction) == (0, 1, pytest.approx(0.9))
    assert scenario_var_cvar(pnl, 0.8)[1] == pytest.approx(8.5)  # VaR 6.2: -10 and -7


def test_unit_weights_reproduce_the_unweighted_numbers() -> None:
    pnl = np.random.default_rng(4).normal(size=3001)
    plain = tail_estimate(pnl, 0.975)
    weighted = tail_estimate(pnl, 0.975, weights=np.ones(3001))
    assert weighted.var == pytest.approx(plain.var, rel=1e-12)
    assert weighted.cvar == pytest.approx(plain.cvar, rel=1e-12)
    assert np.array_equal(weighted.tail, plain.tail)


def test_weighted_hand_example() -> None:
    # weights are likelihood ratios: scenario k has probability w_k / n. With n = 5 the
    # shares are .4 .2 .2 .2 .2; plotting positions (S - share) / (1 - .2) = 0 .5 .75 1 1.25
    pnl = np.array([-5.0, -4.0, -1.0, 0.0, 2.0])
    weights = np.array([2.0, 1.0, 1.0, 1.0, 1.0])
    at_60 = tail_estimate(pnl, 0.6, weights=weights)  # p = .4: -5 + (.4 / .5) * 1
    assert at_60.var == pytest.approx(4.2)
    assert at_60.cvar == pytest.approx(5.0)
    at_50 = tail_estimate(pnl, 0.5, weights=weights)  # p = .5: exactly -4; tail {-5, -4}
    assert at_50.var == pytest.approx(4.0)
    assert at_50.cvar == pytest.approx((2 * 5.0 + 4.0) / 3)
    assert at_50.tail_effective_scenarios == pytest.approx(9 / 5)  # (2 + 1)^2 / (4 + 1)


def test_importance_weights_give_the_true_tail() -> None:
    # draws from N(-2, 1) weighted by the likelihood ratio estimate the N(0, 1) tail
    z = np.random.default_rng(5).normal(size=200_000) - 2.0
    ratio = np.exp(2.0 * z + 2.0)  # phi(z) / phi(z + 2)
    var, cvar = scenario_var_cvar(z, 0.99, weights=ratio)
    assert var == pytest.approx(stats.norm.ppf(0.99), abs=0.01)
    assert cvar == pytest.approx(stats.norm.pdf(stats.norm.ppf(0.99)) / 0.01, abs=0.01)


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 1.5, float("nan")])
def test_bad_level(level: float) -> None:
    with pytest.raises(InvalidInput):
        scenario_var_cvar(np.arange(1000.0), level)


def test_bad_scenarios() -> None:
    with pytest.raises(InsufficientHistory):
        scenario_var_cvar(np.arange(99.0), 0.99)  # 100 needed for one tail scenario
    assert scenario_var_cvar(np.arange(100.0), 0.99)[0] == pytest.approx(-0.99)
    with pytest.raises(DegenerateSeries):
        scenario_var_cvar(np.r_[np.arange(200.0), np.nan], 0.99)
    with pytest.raises(InvalidInput):
        scenario_var_cvar(np.arange(200.0), 0.99, weights=np.ones(199))
    with pytest.raises(InvalidInput):
        scenario_var_cvar(np.arange(200.0), 0.99, weights=-np.ones(200))
    assert scenario_var_cvar(np.full(200, -3.0), 0.99) == (3.0, 3.0)  # constant P&L allowed


def test_two_position_hand_example() -> None:
    # five scenarios, returns per USD of two positions worth 100 and 50 USD
    returns = np.array([[-0.10, 0.02], [-0.04, -0.06], [0.01, 0.00], [0.03, 0.01],
                        [0.05, -0.02]])
    values = np.array([100.0, 50.0])
    # portfolio P&L: -9, -7, 1, 3.5, 4; level 0.75: h = 1, VaR = 7, tail = {-9, -7}
    result = scenario_contributions(returns, values, 0.75, keys=["A", "B"],
                                    var_method="quantile")
    assert (result.var, result.cvar) == (pytest.approx(7.0), pytest.approx(8.0))
    assert result.cvar_component == pytest.approx([7.0, 1.0])  # -(-10-4)/2, -(1-3)/2
    assert result.var_component == pytest.approx([4.0, 3.0])  # the scenario at VaR
    assert result.cvar_marginal_per_unit == pytest.approx([0.07, 0.02])
    assert result.var_percent == pytest.approx([4 / 7, 3 / 7])
    assert result.keys == ("A", "B")


def test_components_sum_to_the_totals_and_scale_with_the_book() -> None:
    returns, _ = _gaussian_returns(20_000)
    values = np.array([3e6, -1e6, 2e6])
    pnl = returns @ values
    for method in ("kernel", "quantile"):
        result = scenario_contributions(returns, values, 0.99, var_method=method)
        assert result.var == -np.quantile(pnl, 1 - 0.99)
        assert result.cvar == pytest.approx(-pnl[pnl <= -result.var].mean(), rel=1e-12)
        assert result.var_component.sum() == pytest.approx(result.var, rel=1e-12)
        assert result.cvar_component.sum() == pytest.approx(result.cvar, rel=1e-12)
        assert result.cvar_percent.sum() == pytest.approx(1.0)
        scaled = scenario_contributions(returns, 2.5 * values, 0.99, var_method=method)
        assert scaled.cvar_component == pytest.approx(2.5 * result.cvar_component)
        assert scaled.var_component == pytest.approx(2.5 * result.var_component)
        assert scaled.cvar_marginal_per_unit == pytest.approx(result.cvar_marginal_per_unit)


def test_kernel_contributions_approach_the_parametric_ones() -> None:
    returns, covariance = _gaussian_returns(400_000, seed=2)
    values = np.array([3e6, 1e6, 2e6])
    scenario = scenario_contributions(returns, values, 0.99)
    exact = parametric_contributions(values, covariance, 0.99)
    assert scenario.var == pytest.approx(exact.var, rel=0.02)
    assert scenario.cvar == pytest.approx(exact.cvar, rel=0.02)
    assert scenario.var_percent == pytest.approx(exact.var_percent, abs=0.03)
    assert scenario.cvar_percent == pytest.approx(exact.cvar_percent, abs=0.02)


def test_weighted_contributions_sum_to_the_weighted_totals() -> None:
    returns, _ = _gaussian_returns(5000, seed=6)
    weights = np.random.default_rng(7).uniform(0.5, 1.5, 5000)
    result = scenario_contributions(returns, [1.0, 2.0, 3.0], 0.95, weights=weights)
    var, cvar = scenario_var_cvar(returns @ [1.0, 2.0, 3.0], 0.95, weights=weights)
    assert (result.var, result.cvar) == (var, pytest.approx(cvar, rel=1e-12))
    assert result.cvar_component.sum() == pytest.approx(cvar, rel=1e-12)
    assert result.var_component.sum() == pytest.approx(var, rel=1e-12)


def test_parametric_normal_against_closed_form_and_gradient() -> None:
    _, covariance = _gaussian_returns(1)
    values = np.array([3e6, -1e6, 2e6])
    mean = np.array([1e-4, 0.0, -2e-4])
    result = parametric_contributions(values, covariance, 0.99, mean=mean, horizon_days=10)
    sigma = np.sqrt(values @ covariance @ values * 10)
    z = stats.norm.ppf(0.99)
    assert result.var == pytest.approx(z * sigma - 10 * values @ mean, rel=1e-12)
    assert result.cvar == pytest.approx(stats.norm.pdf(z) / 0.01 * sigma - 10 * values @ mean)
    assert result.var_component.sum() == pytest.approx(result.var, rel=1e-12)
    assert result.cvar_component.sum() == pytest.approx(result.cvar, rel=1e-12)

    def var_of(v: np.ndarray) -> float:
        return parametric_contributions(v, covariance, 0.99, mean=mean, horizon_days=10).var

    step = 1.0
    gradient = [(var_of(values + step * e) - var_of(values - step * e)) / (2 * step)
                for e in np.eye(3)]
    assert result.var_marginal_per_unit == pytest.approx(gradient, rel=1e-6)


def test_parametric_student_t_against_scipy() -> None:
    _, covariance = _gaussian_returns(1)
    values = np.array([1e6, 1e6, 1e6])
    result = parametric_contributions(values, covariance, 0.975, dof=5)
    sigma = np.sqrt(values @ covariance @ values)
    scale = sigma * np.sqrt(3 / 5)  # the t scaled to the portfolio's standard deviation
    assert result.var == pytest.approx(-stats.t.ppf(0.025, 5, scale=scale), rel=1e-10)
    tail = stats.t.expect(lambda x: x, args=(5,), scale=scale, ub=stats.t.ppf(0.025, 5) * scale,
                          conditional=True)
    assert result.cvar == pytest.approx(-tail, rel=1e-6)
    with pytest.raises(InvalidInput):
        parametric_contributions(values, covariance, 0.975, dof=2)
    with pytest.raises(InvalidInput):
        parametric_contributions(np.zeros(3), covariance, 0.975)


def test_incremental_risk() -> None:
    returns, _ = _gaussian_returns(10_000, seed=8)
    base = returns[:, 0] * 1e6
    assert incremental_risk(base, np.zeros(10_000), 0.99).var_added == 0.0
    hedge = incremental_risk(base, -0.5 * base, 0.99)
    assert hedge.var_with == pytest.approx(0.5 * hedge.var_without)
    assert hedge.cvar_added == pytest.approx(-0.5 * hedge.cvar_without)
    added = returns[:, 1] * 1e6
    result = incremental_risk(base, added, 0.99)
    assert result.var_with == -np.quantile(base + added, 1 - 0.99)
    with pytest.raises(InvalidInput):
        incremental_risk(base, added[:-1], 0.99)


def _position(key: str, value: float, loadings: dict[str, float], *, crypto: bool = False,
              residual: str | None = None) -> RiskPosition:
    return RiskPosition(key=key, instrument_code=key, instrument_kind=InstrumentKind.ETF,
                        vehicle_code="V1", value_usd=value,
                        loadings=tuple(FactorLoading(f, b) for f, b in loadings.items()),
                        residual=residual, crypto=crypto)


def _book() -> RiskBook:
    return RiskBook(date(2026, 6, 1), (
        _position("IBIT", 2e6, {"BTC": 1.0}, crypto=True),
        _position("MSTR", 1e6, {"BTC": 1.4, "SPX": 0.8}, crypto=True),
        _position("SPY", 5e6, {"SPX": 1.0}),
        _position("NEW", 0.0, {"BTC": 1.0}, crypto=True),
    ), usd_kzt=500.0)


def test_book_contributions_and_sleeve_increment() -> None:
    rng = np.random.default_rng(9)
    moves = rng.multivariate_normal([0, 0], [[16e-4, 4e-4], [4e-4, 1e-4]], size=20_000)
    book = _book()
    result = book_contributions(book, ["BTC", "SPX"], moves, 0.99)
    assert result.keys == ("IBIT", "MSTR", "SPY", "NEW")
    assert result.cvar_component.sum() == pytest.approx(result.cvar, rel=1e-12)
    assert result.cvar_component[3] == 0.0
    # a position worth nothing still has a marginal: the same per USD as IBIT (pure BTC)
    assert result.cvar_marginal_per_unit[3] == pytest.approx(result.cvar_marginal_per_unit[0])
    pnl = moves @ np.array([2e6 + 1.4e6, 0.8e6 + 5e6])
    assert result.var == pytest.approx(-np.quantile(pnl, 1 - 0.99), rel=1e-12)
    sleeve = book_incremental_risk(book.select(crypto=False), book.select(crypto=True),
                                   ["BTC", "SPX"], moves, 0.99)
    assert sleeve.var_with == pytest.approx(result.var)
    assert sleeve.var_without == pytest.approx(-np.quantile(moves[:, 1] * 5e6, 1 - 0.99),
                                               rel=1e-12)
    with pytest.raises(InvalidInput):
        book_contributions(book, ["BTC"], moves[:, :1], 0.99)  # SPX exposure unpriced
