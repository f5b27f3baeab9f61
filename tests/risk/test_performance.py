"""Performance and drawdown statistics against empyrical and quantstats on the same data,
by hand on small paths, and on Bitcoin's 2021-2022 fall."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from qoima.domain.errors import DegenerateSeries, InsufficientHistory, InvalidInput
from qoima.market.calendars import CalendarName
from qoima.risk import performance as p
from qoima.risk.provenance import array_hash


def t_returns(shape: tuple[int, ...], seed: int = 7) -> np.ndarray:
    return 0.0004 + 0.012 * np.random.default_rng(seed).standard_t(4, size=shape)


def days(n: int, first: date = date(2020, 1, 1)) -> list[date]:
    return [first + timedelta(i) for i in range(n)]


def test_periods_per_year_by_calendar() -> None:
    expected = {CalendarName.CRYPTO: 365, CalendarName.DAILY: 365, CalendarName.XNYS: 252,
                CalendarName.AIX: 252, CalendarName.KZ_VALUATION: 252,
                CalendarName.WEEKDAYS: 252, CalendarName.US_FEDERAL: 252}
    assert {name: p.periods_per_year(name) for name in CalendarName} == expected
    assert p.periods_per_year("crypto") == 365
    with pytest.raises(InvalidInput, match="unknown calendar"):
        p.periods_per_year("lunar")


# -- against empyrical -----------------------------------------------------------------------

# 10 series take the direct path, 130 the segmented one (n not a multiple of the segments)
@pytest.mark.parametrize("shape", [(2500,), (2500, 10), (3001, 130)])
def test_matches_empyrical(shape: tuple[int, ...]) -> None:
    import empyrical as ep

    returns = t_returns(shape, seed=shape[-1])
    for periods in (252, 365):
        np.testing.assert_allclose(p.annual_return(returns, periods),
                                   ep.annual_return(returns, annualization=periods),
                                   rtol=1e-12)
        np.testing.assert_allclose(p.annual_volatility(returns, periods),
                                   ep.annual_volatility(returns, annualization=periods),
                                   rtol=1e-13)
        np.testing.assert_allclose(
            p.sharpe_ratio(returns, periods, risk_free_per_period=1e-4),
            ep.sharpe_ratio(returns, risk_free=1e-4, annualization=periods), rtol=1e-12)
        np.testing.assert_allclose(
            p.sortino_ratio(returns, periods, required_return_per_period=2e-4),
            ep.sortino_ratio(returns, required_return=2e-4, annualization=periods),
            rtol=1e-12)
        np.testing.assert_allclose(
            p.downside_deviation(returns, periods),
            ep.downside_risk(returns, annualization=periods), rtol=1e-12)
    np.testing.assert_allclose(p.max_drawdown(returns), ep.max_drawdown(returns), rtol=1e-12)
    columns = returns.reshape(shape[0], -1)
    np.testing.assert_allclose(
        np.atleast_1d(p.calmar_ratio(returns, 252)),
        [ep.calmar_ratio(columns[:, j]) for j in range(columns.shape[1])], rtol=1e-12)


def test_matches_quantstats() -> None:
    import quantstats as qs

    returns = t_returns((1800,), seed=44)
    series = pd.Series(returns, index=pd.date_range("2019-01-01", periods=1800))
    assert p.annual_return(returns, 365) == pytest.approx(qs.stats.cagr(series, periods=365),
                                                          rel=1e-12)
    assert p.annual_volatility(returns, 365) == pytest.approx(
        qs.stats.volatility(series, periods=365), rel=1e-12)
    assert p.sharpe_ratio(returns, 365) == pytest.approx(qs.stats.sharpe(series, periods=365),
                                                         rel=1e-12)
    assert p.sortino_ratio(returns, 365) == pytest.approx(
        qs.stats.sortino(series, periods=365), rel=1e-12)
    assert p.max_drawdown(returns) == pytest.approx(qs.stats.max_drawdown(series), rel=1e-12)
    # quantstats takes an annual risk-free rate: its per-period equivalent gives the same
    annual_rf = 0.04
    per_period = (1 + annual_rf) ** (1 / 365) - 1
    assert p.sharpe_ratio(returns, 365, risk_free_per_period=per_period) == pytest.approx(
        qs.stats.sharpe(series, rf=annual_rf, periods=365), rel=1e-10)
    assert p.sortino_ratio(returns, 365, required_return_per_period=per_period) == (
        pytest.approx(qs.stats.sortino(series, rf=annual_rf, periods=365), rel=1e-10))


def test_max_drawdown_dates_match_pandas() -> None:
    returns = t_returns((1500,), seed=3)
    index = pd.date_range("2018-01-01", periods=1500)
    stats = p.performance_stats(returns, periods_per_year=365, dates=list(index.date),
                                start_date=date(2017, 12, 31))
    value = (1 + pd.Series(returns, index=index)).cumprod()
    drawdown = value / value.cummax().clip(lower=1.0) - 1
    trough = drawdown.idxmin()
    spell = stats.max_drawdown_spell
    assert spell is not None
    assert spell.trough_date == trough.date()
    assert spell.peak_date == value[:trough].idxmax().date()
    assert spell.depth == stats.max_drawdown == pytest.approx(drawdown.min(), rel=1e-12)
    recovered = value[trough:] >= value[:trough].max()
    expected_recovery = recovered.idxmax().date() if recovered.any() else None
    assert spell.recovery_date == expected_recovery


# -- by hand -------------------------------------------------------------------------------

def test_drawdown_spell_by_hand() -> None:
    # value path 1, 1.1, 0.55, 0.66, 1.32: peak after return 1, trough after 2, back at 4
    returns = np.array([0.1, -0.5, 0.2, 1.0])
    np.testing.assert_allclose(p.drawdown_path(returns), [0, 0, -0.5, -0.4, 0], atol=1e-15)
    stats = p.performance_stats(returns, periods_per_year=252, dates=days(5))
    spell = stats.max_drawdown_spell
    assert spell is not None
    assert (spell.peak_index, spell.trough_index, spell.recovery_index, spell.periods) == (
        1, 2, 4, 3)
    assert (spell.peak_date, spell.trough_date, spell.recovery_date) == (
        date(2020, 1, 2), date(2020, 1, 3), date(2020, 1, 5))
    assert stats.max_drawdown == pytest.approx(-0.5)
    assert stats.total_return == pytest.approx(0.32)
    assert stats.annual_return == pytest.approx(1.32 ** (252 / 4) - 1)
    assert stats.calmar_ratio == pytest.approx(stats.annual_return / 0.5)
    assert stats.current_underwater_periods == 0
    assert stats.provenance.inputs_hash == array_hash(returns)


def test_time_under_water_by_hand() -> None:
    # path 1, .9, .945, 1.0395, .8316, .91476: under water at 1-2 (back at 3), again 4-5
    returns = np.array([-0.1, 0.05, 0.1, -0.2, 0.1])
    stats = p.performance_stats(returns, periods_per_year=365)
    longest = stats.longest_underwater
    assert longest is not None
    assert (longest.peak_index, longest.recovery_index, longest.periods) == (0, 3, 3)
    assert longest.depth == pytest.approx(-0.1)
    assert stats.current_underwater_periods == 2
    spell = stats.max_drawdown_spell
    assert spell is not None
    assert (spell.peak_index, spell.trough_index, spell.recovery_index, spell.periods) == (
        3, 4, None, 2)
    assert spell.peak_date is None  # no dates given


def test_undefined_ratios_are_none() -> None:
    rising = np.array([0.01, 0.02, 0.005, 0.03, 0.01])
    stats = p.performance_stats(rising, calendar="crypto")
    assert stats.periods_per_year == 365
    assert stats.max_drawdown == 0.0
    assert stats.max_drawdown_spell is None and stats.longest_underwater is None
    assert stats.sortino_ratio is None and stats.calmar_ratio is None
    assert np.isinf(p.sortino_ratio(rising, 365)) and np.isnan(p.calmar_ratio(rising, 365))


def test_performance_table_matches_the_array_functions() -> None:
    returns = t_returns((900, 3), seed=19)
    table = p.performance_table(returns, calendar=CalendarName.XNYS, names=("a", "b", "c"),
                                risk_free_per_period=5e-5)
    assert [s.series for s in table] == ["a", "b", "c"]
    np.testing.assert_allclose([s.sharpe_ratio for s in table],
                               p.sharpe_ratio(returns, 252, risk_free_per_period=5e-5))
    np.testing.assert_allclose([s.max_drawdown for s in table], p.max_drawdown(returns))
    np.testing.assert_allclose([s.sortino_ratio for s in table], p.sortino_ratio(returns, 252))
    assert table[0].provenance.parameters["periods_per_year"] == 252.0


def test_risk_arrays_equal_the_separate_functions() -> None:
    from qoima.risk import measures

    returns = t_returns((1100, 70), seed=23)
    batch = p.risk_arrays(returns, 365, level=0.99, risk_free_per_period=1e-4,
                          required_return_per_period=2e-4)
    var, cvar = measures.historical_var_cvar(returns, 0.99)
    np.testing.assert_array_equal(batch.var, var)
    np.testing.assert_array_equal(batch.cvar, cvar)
    np.testing.assert_array_equal(batch.max_drawdown, p.max_drawdown(returns))
    np.testing.assert_allclose(batch.sharpe_ratio,
                               p.sharpe_ratio(returns, 365, risk_free_per_period=1e-4),
                               rtol=1e-14)
    np.testing.assert_allclose(batch.sortino_ratio,
                               p.sortino_ratio(returns, 365, required_return_per_period=2e-4),
                               rtol=1e-14)
    normal = p.risk_arrays(returns, 365, var_method="normal")
    np.testing.assert_array_equal(normal.var, measures.normal_var_cvar(returns, 0.95)[0])
    with pytest.raises(InvalidInput, match="var_method"):
        p.risk_arrays(returns, 365, var_method="student-t")
    with pytest.raises(InsufficientHistory, match="at least 100"):
        p.risk_arrays(returns[:99], 365, level=0.99)


# -- real history ----------------------------------------------------------------------------

@pytest.mark.realdata
def test_bitcoin_fall_from_november_2021(real_series) -> None:
    bars = [b for b in real_series("BTC-USD").bars
            if date(2021, 1, 1) <= b.day <= date(2023, 6, 30)]
    closes = np.array([float(b.close) for b in bars])
    stats = p.performance_stats(closes[1:] / closes[:-1] - 1, calendar="crypto",
                                dates=[b.day for b in bars])
    spell = stats.max_drawdown_spell
    assert spell is not None
    assert spell.peak_date == date(2021, 11, 8)
    assert spell.trough_date == date(2022, 11, 21)
    assert stats.max_drawdown == pytest.approx(-0.77, abs=0.01)
    assert spell.recovery_date is None  # back above 67k only in 2024, after the window


# -- bad input -----------------------------------------------------------------------------

def test_bad_input() -> None:
    returns = t_returns((100,))
    with pytest.raises(InvalidInput, match="below -100"):
        p.max_drawdown(np.array([0.1, -1.2, 0.3]))
    nan_inside = returns.copy()
    nan_inside[50] = np.nan
    with pytest.raises(DegenerateSeries, match="NaN"):
        p.sharpe_ratio(nan_inside, 252)
    nan_inside[50] = np.inf
    with pytest.raises(DegenerateSeries, match="infinite"):
        p.max_drawdown(np.column_stack([returns, nan_inside]))
    with pytest.raises(DegenerateSeries, match="constant"):
        p.sharpe_ratio(np.full(50, 0.001), 252)
    with pytest.raises(InsufficientHistory):
        p.annual_volatility(np.array([0.01]), 252)
    with pytest.raises(InvalidInput, match="positive"):
        p.annual_return(returns, 0)
    with pytest.raises(InvalidInput, match="either"):
        p.performance_stats(returns)
    with pytest.raises(InvalidInput, match="either"):
        p.performance_stats(returns, periods_per_year=252, calendar="xnys")
    with pytest.raises(InvalidInput, match="dates"):
        p.performance_stats(returns, periods_per_year=252, dates=days(50))
    with pytest.raises(InvalidInput, match="one series"):
        p.performance_stats(t_returns((100, 2)), periods_per_year=252)
