"""VaR backtests: Kupiec and Christoffersen by hand, the Basel table, rolling forecasts."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
from scipy import stats

from qoima.domain.errors import DegenerateSeries, InsufficientHistory, InvalidInput
from qoima.risk import backtest as b
from qoima.risk.provenance import array_hash


def days(n: int) -> list[date]:
    return [date(2024, 1, 1) + timedelta(i) for i in range(n)]


# -- Basel traffic light ---------------------------------------------------------------------

def test_basel_table_for_250_days_at_99() -> None:
    assert b.traffic_light_bounds(250, 0.99) == (4, 9)
    zones = [b.traffic_light(250, x, 0.99) for x in range(13)]
    assert zones == [b.TrafficLight.GREEN] * 5 + [b.TrafficLight.YELLOW] * 5 + [
        b.TrafficLight.RED] * 3
    # the cumulative probabilities the Basel document prints beside 4, 5, 9 and 10
    cdf = stats.binom.cdf([4, 5, 9, 10], 250, 0.01)
    np.testing.assert_allclose(cdf, [0.8922, 0.9588, 0.9997, 0.99995], atol=5e-5)


@pytest.mark.parametrize(("n", "level"), [(500, 0.99), (250, 0.95), (1000, 0.975)])
def test_traffic_light_generalizes_by_binomial_probability(n: int, level: float) -> None:
    green, yellow = b.traffic_light_bounds(n, level)
    cdf = stats.binom.cdf(np.arange(n + 1), n, 1 - level)
    assert cdf[green] < 0.95 <= cdf[green + 1]
    assert cdf[yellow] < 0.9999 <= cdf[yellow + 1]


# -- Kupiec ----------------------------------------------------------------------------------

def test_kupiec_by_hand() -> None:
    n, x, p = 250, 5, 0.01
    by_hand = -2 * ((n - x) * math.log(1 - p) + x * math.log(p)) + 2 * (
        (n - x) * math.log(1 - x / n) + x * math.log(x / n))
    test = b.kupiec_pof(n, x, 0.99)
    assert test.statistic == pytest.approx(by_hand, rel=1e-13)
    assert test.statistic == pytest.approx(1.9568, abs=1e-4)  # the textbook value
    assert test.dof == 1
    assert test.p_value == pytest.approx(stats.chi2.sf(by_hand, 1), rel=1e-12)


def test_kupiec_with_no_or_all_exceedances() -> None:
    none = b.kupiec_pof(250, 0, 0.99)  # 0 * ln 0 = 0
    assert none.statistic == pytest.approx(-2 * 250 * math.log(0.99), rel=1e-13)
    every = b.kupiec_pof(250, 250, 0.99)
    assert every.statistic == pytest.approx(-2 * 250 * math.log(0.01), rel=1e-13)
    assert every.p_value < 1e-300 or every.p_value == 0.0
    exact = b.kupiec_pof(200, 2, 0.99)  # the observed rate is the model's: LR 0
    assert exact.statistic == pytest.approx(0.0, abs=1e-12) and exact.p_value == 1.0


# -- Christoffersen --------------------------------------------------------------------------

def test_independence_by_hand() -> None:
    # transitions of 0011000100: n00 4, n01 2, n10 2, n11 1 -> pi0 = pi1 = pi = 1/3, LR 0
    spread = np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)
    assert b.christoffersen_independence(spread).statistic == pytest.approx(0.0, abs=1e-12)
    # 0001110000: n00 5, n01 1, n10 1, n11 2 -> pi0 1/6, pi1 2/3, pi 1/3
    clustered = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    null = 6 * math.log(2 / 3) + 3 * math.log(1 / 3)
    fitted = (5 * math.log(5 / 6) + math.log(1 / 6) + math.log(1 / 3) + 2 * math.log(2 / 3))
    test = b.christoffersen_independence(clustered)
    assert test.statistic == pytest.approx(-2 * (null - fitted), rel=1e-13)
    assert test.p_value == pytest.approx(stats.chi2.sf(-2 * (null - fitted), 1), rel=1e-12)


def test_independence_with_no_or_all_exceedances() -> None:
    for hits in (np.zeros(30, dtype=bool), np.ones(30, dtype=bool)):
        test = b.christoffersen_independence(hits)
        assert test.statistic == 0.0 and test.p_value == 1.0
    single_last = np.zeros(30, dtype=bool)
    single_last[-1] = True  # n00 28, n01 1, no transition out of it: pi0 = pi, LR 0
    assert b.christoffersen_independence(single_last).statistic == pytest.approx(0, abs=1e-12)


# -- full backtests --------------------------------------------------------------------------

def test_backtest_counts_dates_and_coverage() -> None:
    realized = np.zeros(40)
    var = np.full(40, 0.02)
    realized[[3, 4, 20]] = -0.03
    realized[30] = -0.02  # a loss equal to the VaR is not an exceedance
    result = b.backtest_var(realized, var, 0.95, dates=days(40), series="BTC")
    assert result.n_exceedances == 3 and result.exceedance_indices == (3, 4, 20)
    assert result.exceedance_dates == (date(2024, 1, 4), date(2024, 1, 5), date(2024, 1, 21))
    assert result.expected_exceedances == pytest.approx(2.0)
    assert result.exceedance_rate == pytest.approx(3 / 40)
    assert result.kupiec == b.kupiec_pof(40, 3, 0.95)
    hits = np.zeros(40, dtype=bool)
    hits[[3, 4, 20]] = True
    assert result.independence == b.christoffersen_independence(hits)
    cc = result.kupiec.statistic + result.independence.statistic
    assert result.conditional_coverage.statistic == pytest.approx(cc)
    assert result.conditional_coverage.dof == 2
    assert result.conditional_coverage.p_value == pytest.approx(stats.chi2.sf(cc, 2))
    assert result.zone is b.traffic_light(40, 3, 0.95)
    assert result.provenance.inputs_hash == array_hash(realized, var)


def test_a_right_model_passes_and_a_wrong_one_fails() -> None:
    rng = np.random.default_rng(1)
    realized = 0.02 * rng.standard_normal(1000)
    right = np.full(1000, 0.02 * stats.norm.ppf(0.99))
    good = b.backtest_var(realized, right, 0.99)
    assert good.zone is b.TrafficLight.GREEN and good.kupiec.p_value > 0.05
    bad = b.backtest_var(realized, right / 2, 0.99)
    assert bad.zone is b.TrafficLight.RED and bad.kupiec.p_value < 1e-6


def test_rolling_historical_var_and_its_backtest() -> None:
    rng = np.random.default_rng(5)
    returns = 0.01 * rng.standard_t(4, size=400)
    forecast = b.rolling_historical_var(returns, 250, 0.99)
    expected = [-np.quantile(returns[i:i + 250], 1 - 0.99) for i in range(150)]
    np.testing.assert_allclose(forecast, expected, rtol=0, atol=1e-17)
    result = b.backtest_rolling_historical(returns, 250, 0.99, dates=days(400))
    assert result.n_obs == 150
    hits = np.flatnonzero(-returns[250:] > forecast)
    assert result.exceedance_indices == tuple(int(i) for i in hits)
    assert result.exceedance_dates == tuple(days(400)[250 + i] for i in hits)
    assert result.provenance.method == "risk.backtest.rolling-historical-250"


@pytest.mark.realdata
def test_bitcoin_rolling_backtest(real_series) -> None:
    bars = [bar for bar in real_series("BTC-USD").bars if bar.day.year >= 2020]
    closes = np.array([float(bar.close) for bar in bars])
    returns = np.diff(np.log(closes))
    result = b.backtest_rolling_historical(returns, 365, 0.99, dates=[x.day for x in bars[1:]],
                                           series="BTC-USD")
    assert result.n_obs == returns.size - 365
    assert 0 < result.n_exceedances < 0.05 * result.n_obs
    assert all(d.year >= 2021 for d in result.exceedance_dates)


# -- bad input -------------------------------------------------------------------------------

def test_bad_input() -> None:
    realized, var = np.zeros(300), np.full(300, 0.02)
    with pytest.raises(InsufficientHistory, match="at least 100"):
        b.backtest_var(realized[:99], var[:99], 0.99)
    with pytest.raises(InvalidInput, match="same length"):
        b.backtest_var(realized, var[:-1], 0.95)
    nan_forecast = var.copy()
    nan_forecast[7] = np.nan
    with pytest.raises(DegenerateSeries, match="NaN"):
        b.backtest_var(realized, nan_forecast, 0.95)
    with pytest.raises(InvalidInput, match="confidence level"):
        b.backtest_var(realized, var, 1.0)
    with pytest.raises(InvalidInput, match="dates"):
        b.backtest_var(realized, var, 0.95, dates=days(10))
    with pytest.raises(InvalidInput, match="too short"):
        b.rolling_historical_var(np.random.default_rng(0).normal(size=300), 50, 0.99)
    with pytest.raises(InsufficientHistory):
        b.rolling_historical_var(np.random.default_rng(0).normal(size=100), 100, 0.99)
    with pytest.raises(InvalidInput, match="exceedances"):
        b.kupiec_pof(10, 11, 0.99)
    with pytest.raises(InvalidInput, match="length >= 2"):
        b.christoffersen_independence(np.array([True]))
