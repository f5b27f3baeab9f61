"""VaR and CVaR: the stated quantile convention against numpy, the peers' tails, parametric
closed forms against scipy, horizons, the result table and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from qoima.domain.errors import DegenerateSeries, InsufficientHistory, InvalidInput
from qoima.risk import measures as m
from qoima.risk.provenance import array_hash

# ten returns, shuffled; sorted: -0.05, -0.04, ..., 0.04
SMALL = np.array([0.01, -0.03, 0.04, -0.05, 0.0, 0.02, -0.01, -0.04, 0.03, -0.02])


def t_returns(shape: tuple[int, ...], seed: int = 7) -> np.ndarray:
    return 0.0004 + 0.012 * np.random.default_rng(seed).standard_t(4, size=shape)


# -- historical: the convention ------------------------------------------------------------

def test_small_array_by_hand() -> None:
    # level 0.9: position (n-1)(1-a) = 0.9 -> q = -0.05 + 0.9 * 0.01 = -0.041; tail {-0.05}
    var, cvar = m.historical_var_cvar(SMALL, 0.9)
    assert var == pytest.approx(0.041, abs=1e-15)
    assert cvar == pytest.approx(0.05, abs=1e-15)
    # level 0.8: position 1.8 -> q = -0.04 + 0.8 * 0.01 = -0.032; tail {-0.05, -0.04}
    var, cvar = m.historical_var_cvar(SMALL, 0.8)
    assert var == pytest.approx(0.032, abs=1e-15)
    assert cvar == pytest.approx(0.045, abs=1e-15)


@pytest.mark.parametrize("shape", [(250,), (250, 3), (3000, 70)])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.975, 0.99])
def test_historical_var_is_minus_numpy_quantile(shape: tuple[int, ...], level: float) -> None:
    returns = t_returns(shape)
    expected = -np.quantile(returns, 1 - level, axis=0)
    np.testing.assert_array_equal(m.historical_var(returns, level), expected)


@pytest.mark.parametrize("method", sorted(m.QUANTILE_METHODS))
def test_every_numpy_method(method: str) -> None:
    returns = t_returns((400, 4), seed=3)
    expected = -np.quantile(returns, 1 - 0.95, axis=0, method=method)
    var, cvar = m.historical_var_cvar(returns, 0.95, method=method)
    np.testing.assert_allclose(var, expected, rtol=0, atol=1e-17)
    tail_means = [-returns[returns[:, j] <= -var[j], j].mean() for j in range(4)]
    np.testing.assert_allclose(cvar, np.maximum(tail_means, var), rtol=1e-14)


def test_cvar_matches_empyrical_and_quantstats_historical() -> None:
    import empyrical as ep
    import quantstats as qs

    returns = t_returns((1500, 6), seed=11)
    cvar = m.historical_cvar(returns, 0.95)
    for j in range(6):
        column = returns[:, j]
        assert cvar[j] == pytest.approx(-ep.conditional_value_at_risk(column, 1 - 0.95),
                                        rel=1e-14)
        series = pd.Series(column, index=pd.date_range("2020-01-01", periods=1500))
        assert cvar[j] == pytest.approx(-qs.stats.cvar(series, confidence=0.95,
                                                       method="historical"), rel=1e-14)


def test_selection_prefilter_falls_back_exactly() -> None:
    # the every-8th-value sample holds the lowest values: its threshold keeps too few
    returns = t_returns((2048, 5), seed=5)
    returns[::8] = -1.0 - np.abs(returns[::8])
    for level in (0.95, 0.99):
        np.testing.assert_array_equal(m.historical_var(returns, level),
                                      -np.quantile(returns, 1 - level, axis=0))


def test_ties_at_the_quantile() -> None:
    # returns rounded to whole basis points: many equal values around the quantile
    returns = np.round(t_returns((3000, 8), seed=9), 3)
    var, cvar = m.historical_var_cvar(returns, 0.95)
    np.testing.assert_array_equal(var, -np.quantile(returns, 1 - 0.95, axis=0))
    expected = [-returns[returns[:, j] <= -var[j], j].mean() for j in range(8)]
    np.testing.assert_allclose(cvar, expected, rtol=1e-13)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), level=st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.975, 0.99]))
def test_cvar_never_below_var(data: st.DataObject, level: float) -> None:
    n = data.draw(st.integers(m.minimum_observations(level), m.minimum_observations(level) + 80))
    values = np.array(data.draw(st.lists(
        st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False), min_size=n, max_size=n)))
    assume(np.ptp(values) > 0)
    var, cvar = m.historical_var_cvar(values, level)
    assert var == -np.quantile(values, 1 - level)
    assert cvar >= var
    for fn in (m.normal_var_cvar, m.cornish_fisher_var_cvar):
        var, cvar = fn(values, level)
        assert cvar >= var
    var, cvar = m.student_t_var_cvar(values, level, dof=5.0)
    assert cvar >= var


# -- parametric ----------------------------------------------------------------------------

def test_normal_matches_scipy_and_quantstats() -> None:
    import quantstats as qs

    returns = t_returns((800, 3), seed=2)
    var, cvar = m.normal_var_cvar(returns, 0.99)
    mean, std = returns.mean(axis=0), returns.std(axis=0, ddof=1)
    np.testing.assert_allclose(var, -stats.norm.ppf(0.01, mean, std), rtol=1e-13)
    expected_es = [-stats.norm.expect(lambda x: x, loc=mu, scale=sd, conditional=True,
                                      ub=stats.norm.ppf(0.01, mu, sd))
                   for mu, sd in zip(mean, std, strict=True)]
    np.testing.assert_allclose(cvar, expected_es, rtol=1e-8)
    series = pd.Series(returns[:, 0])
    assert var[0] == pytest.approx(-qs.stats.value_at_risk(series, confidence=0.99), rel=1e-13)
    assert cvar[0] == pytest.approx(-qs.stats.cvar(series, confidence=0.99), rel=1e-13)


def test_normal_ten_days_scales_mean_and_sigma() -> None:
    returns = t_returns((500,), seed=4)
    var10, cvar10 = m.normal_var_cvar(returns, 0.95, horizon_days=10)
    mu, sd = returns.mean() * 10, returns.std(ddof=1) * math.sqrt(10)
    assert var10 == pytest.approx(-stats.norm.ppf(0.05, mu, sd), rel=1e-13)
    z = stats.norm.ppf(0.95)
    assert cvar10 == pytest.approx(sd * stats.norm.pdf(z) / 0.05 - mu, rel=1e-13)


def test_student_t_given_dof_matches_scipy() -> None:
    returns = t_returns((600,), seed=8)
    var, cvar = m.student_t_var_cvar(returns, 0.99, dof=4.0, horizon_days=10)
    loc = returns.mean() * 10
    scale = returns.std(ddof=1) * math.sqrt(2 / 4) * math.sqrt(10)
    assert var == pytest.approx(-stats.t.ppf(0.01, 4.0, loc, scale), rel=1e-12)
    es = -stats.t.expect(lambda x: x, args=(4.0,), loc=loc, scale=scale, conditional=True,
                         ub=stats.t.ppf(0.01, 4.0, loc, scale))
    assert cvar == pytest.approx(es, rel=1e-7)


def test_student_t_fit_is_maximum_likelihood() -> None:
    returns = t_returns((1500,), seed=12)
    dofs, locs, scales = m.student_t_parameters(returns[:, None])
    dof, loc, scale = stats.t.fit(returns)
    assert dofs[0] == pytest.approx(dof, rel=2e-3)
    assert locs[0] == pytest.approx(loc, abs=2e-5)
    assert scales[0] == pytest.approx(scale, rel=2e-3)
    var, cvar = m.student_t_var_cvar(returns, 0.975)
    assert var == pytest.approx(-stats.t.ppf(0.025, dofs[0], locs[0], scales[0]), rel=1e-12)
    assert 3 < dofs[0] < 6  # drawn with 4 degrees of freedom


def test_cornish_fisher_by_hand_and_by_integration() -> None:
    z = np.random.default_rng(6).standard_normal(1200)
    returns = 0.02 * (z - 0.25 * (z**2 - 1))  # skewed to the left (S -1.3, K 2.1)
    level = 0.95
    var, cvar = m.cornish_fisher_var_cvar(returns, level)
    s, k = stats.skew(returns), stats.kurtosis(returns)
    mu, sd = returns.mean(), returns.std(ddof=1)
    z = stats.norm.ppf(0.05)
    adjusted = (z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24
                - (2 * z**3 - 5 * z) * s**2 / 36)
    assert var == pytest.approx(-(mu + sd * adjusted), rel=1e-12)
    # ES = -(1/(1-a)) * integral over p in (0, 1-a) of the Cornish-Fisher quantile
    returns2 = t_returns((1200,), seed=13)
    var2, cvar2 = m.cornish_fisher_var_cvar(returns2, 0.99)
    s2, k2 = stats.skew(returns2), stats.kurtosis(returns2)
    mu2, sd2 = returns2.mean(), returns2.std(ddof=1)

    def quantile(p: float) -> float:
        return float(mu2 + sd2 * m.cornish_fisher_quantile(stats.norm.ppf(p), s2, k2))

    integral, _ = integrate.quad(quantile, 0, 0.01, limit=200)
    assert m.cornish_fisher_monotone(np.array([s2]), np.array([k2]), 0.99).all()
    assert cvar2 == pytest.approx(-integral / 0.01, rel=1e-7)
    assert cvar >= var > m.normal_var_cvar(returns, level)[0]  # the left skew adds risk


def test_cornish_fisher_without_skew_or_kurtosis_is_normal() -> None:
    z = stats.norm.ppf([0.01, 0.05, 0.3])
    np.testing.assert_array_equal(m.cornish_fisher_quantile(z, 0.0, 0.0), z)
    mean, std = np.array([0.001]), np.array([0.02])
    zero = np.zeros(1)
    cf = m._cornish_fisher(mean, std, zero, zero, 0.99, 10)
    normal = (std * math.sqrt(10) * stats.norm.ppf(0.99) - mean * 10,
              std * math.sqrt(10) * stats.norm.pdf(stats.norm.ppf(0.99)) / 0.01 - mean * 10)
    np.testing.assert_allclose(cf, normal, rtol=1e-12)


def test_cornish_fisher_warns_where_not_monotone() -> None:
    returns = np.concatenate([np.full(190, 0.001), np.linspace(-0.5, -0.2, 10)])
    (result,) = m.var_table(returns, (0.95,), (1,), ("cornish-fisher",))
    assert [w.rule for w in result.provenance.warnings] == [m.CF_NOT_MONOTONE]


# -- horizons ------------------------------------------------------------------------------

def test_aggregation_overlapping_and_blocks() -> None:
    returns = t_returns((103, 2), seed=1)
    frame = pd.DataFrame(returns)
    np.testing.assert_allclose(m.aggregate_horizon(returns, 10, kind="log"),
                               frame.rolling(10).sum().dropna().to_numpy(), rtol=1e-12)
    compounded = (1 + frame).rolling(10).apply(np.prod, raw=True).dropna().to_numpy() - 1
    np.testing.assert_allclose(m.aggregate_horizon(returns, 10, kind="simple"), compounded,
                               rtol=1e-12)
    blocks = m.aggregate_horizon(returns, 10, kind="pnl", overlapping=False)
    assert blocks.shape == (10, 2)  # the oldest 3 dropped, blocks end at the last value
    np.testing.assert_allclose(blocks[-1], returns[-10:].sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(blocks[0], returns[3:13].sum(axis=0), rtol=1e-13)
    assert m.aggregate_horizon(returns[:9], 10).shape == (0, 2)  # no complete window
    np.testing.assert_array_equal(m.aggregate_horizon(returns, 1, kind="simple"), returns)


def test_ten_day_historical_and_sqrt_rule() -> None:
    returns = t_returns((1000,), seed=21)
    table = m.var_table(returns, (0.99,), (1, 10), ("historical",), kind="log")
    one, ten = table
    sums = np.lib.stride_tricks.sliding_window_view(returns, 10).sum(axis=1)
    assert (one.horizon_days, ten.horizon_days) == (1, 10)
    assert ten.var == -np.quantile(sums, 1 - 0.99)
    sqrt_rule = m.var_table(returns, (0.99,), (10,), ("historical", "normal"), scaling="sqrt")
    assert sqrt_rule[0].var == pytest.approx(one.var * math.sqrt(10), rel=1e-14)
    assert sqrt_rule[0].cvar == pytest.approx(one.cvar * math.sqrt(10), rel=1e-14)
    normal_1 = m.normal_var_cvar(returns, 0.99)
    assert sqrt_rule[1].var == pytest.approx(normal_1[0] * math.sqrt(10), rel=1e-14)


# -- the result table ----------------------------------------------------------------------

def test_var_table_covers_every_combination_in_order() -> None:
    returns = t_returns((600, 2), seed=30)
    table = m.var_table(returns, names=("BTC", "IBIT"), dof=5.0)
    assert len(table) == 2 * 4 * 2 * 2
    keys = [(r.series, r.method, r.level, r.horizon_days) for r in table]
    assert keys == [(s, meth, a, h) for s in ("BTC", "IBIT") for meth in m.VarMethod
                    for a in (0.95, 0.99) for h in (1, 10)]
    first = table[0]
    assert first.method is m.VarMethod.HISTORICAL and first.n_obs == 600
    assert first.var == m.historical_var(returns[:, 0], 0.95)
    assert first.provenance.inputs_hash == array_hash(returns)
    assert first.provenance.parameters["kind"] == "log"
    assert all(r.cvar >= r.var for r in table)
    normal = next(r for r in table if r.series == "IBIT" and r.method == "normal"
                  and r.level == 0.99 and r.horizon_days == 10)
    assert normal.var == pytest.approx(
        m.normal_var_cvar(returns[:, 1], 0.99, horizon_days=10)[0], rel=1e-14)
    single = m.value_at_risk(returns[:, 1], 0.99, method="student-t", dof=5.0,
                             horizon_days=10, name="IBIT")
    in_table = next(r for r in table if r.series == "IBIT" and r.level == 0.99
                    and r.method == "student-t" and r.horizon_days == 10)
    assert (single.var, single.cvar) == pytest.approx((in_table.var, in_table.cvar), rel=1e-14)
    assert single.provenance.parameters.keys() == in_table.provenance.parameters.keys()
    assert single.provenance.parameters["dof"] == 5.0
    assert single.provenance.inputs_hash == array_hash(returns[:, 1])


@pytest.mark.realdata
def test_bitcoin_history(real_series) -> None:
    btc = real_series("BTC-USD")
    closes = np.array([float(b.close) for b in btc.bars if b.day.year >= 2021])
    returns = np.diff(np.log(closes))
    table = {(r.method, r.level, r.horizon_days): r for r in m.var_table(returns)}
    hist = table[("historical", 0.99, 1)]
    assert hist.var == -np.quantile(returns, 1 - 0.99)
    assert 0.04 < hist.var < 0.12  # a daily 99 % loss of several percent
    assert table[("historical", 0.99, 10)].var > hist.var
    assert table[("student-t", 0.99, 1)].provenance.parameters["dof"] < 6  # heavy tails


# -- bad input -----------------------------------------------------------------------------

def test_minimum_observations() -> None:
    assert [m.minimum_observations(a) for a in (0.5, 0.95, 0.99, 0.999)] == [10, 20, 100, 1000]


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.1, float("nan")])
def test_level_outside_unit_interval(level: float) -> None:
    with pytest.raises(InvalidInput, match="confidence level"):
        m.historical_var(t_returns((300,)), level)


@pytest.mark.parametrize("fn", [m.historical_var_cvar, m.normal_var_cvar,
                                m.student_t_var_cvar, m.cornish_fisher_var_cvar])
def test_bad_windows(fn) -> None:
    with pytest.raises(InsufficientHistory, match="at least 100"):
        fn(t_returns((99,)), 0.99)
    nan_inside = t_returns((300,))
    nan_inside[150] = np.nan
    with pytest.raises(DegenerateSeries, match="NaN"):
        fn(nan_inside, 0.95)
    with pytest.raises(DegenerateSeries, match="constant"):
        fn(np.full((300, 2), 0.01), 0.95)


def test_other_bad_input() -> None:
    returns = t_returns((300,))
    with pytest.raises(InvalidInput, match="quantile method"):
        m.historical_var(returns, 0.95, method="fancy")
    with pytest.raises(InvalidInput, match="1-D or 2-D"):
        m.historical_var(returns.reshape(3, 10, 10), 0.95)
    with pytest.raises(InvalidInput, match="exceed 2"):
        m.student_t_var_cvar(returns, 0.95, dof=2.0)
    with pytest.raises(InvalidInput, match="horizon"):
        m.normal_var_cvar(returns, 0.95, horizon_days=0)
    with pytest.raises(InvalidInput, match="one series"):
        m.value_at_risk(t_returns((300, 2)), 0.95)
    with pytest.raises(InvalidInput, match="names"):
        m.var_table(t_returns((300, 2)), names=("one",))
    with pytest.raises(InvalidInput, match="below -100"):
        m.aggregate_horizon(np.array([0.1, -1.5, 0.2]), 2, kind="simple")
    # 105 days give 96 overlapping 10-day sums: too few for 99 %
    with pytest.raises(InsufficientHistory, match="10-day"):
        m.var_table(t_returns((105,)), (0.99,), (10,), ("historical",))
