"""Correlation structures against pandas on the same data; Fisher z and betas by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from qoima.domain.errors import DegenerateSeries, InsufficientHistory, InvalidInput
from qoima.market.calendars import get_calendar
from qoima.market.returns import AlignmentRule, align_closes, changes, log_returns
from qoima.market.series import Series
from qoima.risk.correlation import (
    REGIME_LEFT_OUT,
    WINDOWS_LEFT_OUT,
    ReturnsPanel,
    conditional_factor_correlations,
    correlation_matrix,
    factor_correlations,
    fisher_z_test,
    rolling_factor_correlations,
)
from tests.risk.conftest import MARKET

EXPOSURES = ("BTC", "ETH", "COIN")
FACTORS = ("DXY", "GOLD", "WTI", "SPX", "DGS10")


def _panel(n: int = 600, seed: int = 11) -> ReturnsPanel:
    rng = np.random.default_rng(seed)
    factors = rng.normal(0.0, 0.01, (n, len(FACTORS)))
    btc = 0.8 * factors[:, 3] - 0.5 * factors[:, 0] + rng.standard_t(4, n) * 0.01
    eth = 1.2 * btc + rng.normal(0.0, 0.02, n)
    coin = 1.5 * btc + 1.0 * factors[:, 3] + rng.normal(0.0, 0.03, n)
    values = np.column_stack([btc, eth, coin, factors])
    days = [date(2021, 1, 1) + timedelta(days=i) for i in range(n)]
    return ReturnsPanel.from_arrays(values, EXPOSURES + FACTORS, days)


def _frame(panel: ReturnsPanel) -> pd.DataFrame:
    return pd.DataFrame(np.array(panel.values), columns=list(panel.names),
                        index=pd.DatetimeIndex(panel.dates))


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_full_sample_matrix_equals_pandas(method: str) -> None:
    panel = _panel()
    result = correlation_matrix(panel, method=method)  # type: ignore[arg-type]
    reference = _frame(panel).corr(method=method)
    np.testing.assert_allclose(result.correlation, reference.to_numpy(), atol=1e-12)
    assert result.n_obs == 600 and result.names == panel.names
    assert (result.start_date, result.end_date) == (panel.dates[0], panel.dates[-1])
    assert result.value("BTC", "SPX") == pytest.approx(reference.loc["BTC", "SPX"], abs=1e-12)


def test_spearman_with_ties_equals_pandas() -> None:
    rng = np.random.default_rng(2)
    values = np.round(rng.normal(0, 1, (200, 3)), 1)  # many ties
    days = [date(2020, 1, 1) + timedelta(days=i) for i in range(200)]
    panel = ReturnsPanel.from_arrays(values, ["A", "B", "C"], days)
    result = factor_correlations(panel, ["A"], ["B", "C"], method="spearman")
    reference = _frame(panel).corr(method="spearman")
    np.testing.assert_allclose(result.correlation[0], reference.loc["A", ["B", "C"]],
                               atol=1e-12)


def test_exposure_factor_block_and_betas_by_hand() -> None:
    panel = _panel()
    result = factor_correlations(panel, EXPOSURES, FACTORS)
    reference = _frame(panel).corr().loc[list(EXPOSURES), list(FACTORS)]
    np.testing.assert_allclose(result.correlation, reference.to_numpy(), atol=1e-12)
    for exposure in EXPOSURES:
        for factor in FACTORS:
            x, f = panel.column(exposure), panel.column(factor)
            expected = np.cov(x, f, ddof=1)[0, 1] / np.var(f, ddof=1)
            assert result.beta_of(exposure, factor) == pytest.approx(expected, rel=1e-10)
    assert result.correlation.shape == (3, 5) and not result.beta.flags.writeable
    # the planted structure shows: BTC loads on SPX positively and on DXY negatively
    assert result.beta_of("BTC", "SPX") > 0.5 and result.beta_of("BTC", "DXY") < -0.25


def test_rolling_equals_pandas_rolling() -> None:
    panel = _panel(n=400)
    frame = _frame(panel)
    result = rolling_factor_correlations(panel, ["BTC", "COIN"], ["SPX", "GOLD"], window=90)
    for exposure in ("BTC", "COIN"):
        for factor in ("SPX", "GOLD"):
            pair = result.pair(exposure, factor)
            corr = frame[exposure].rolling(90).corr(frame[factor]).dropna()
            beta = (frame[exposure].rolling(90).cov(frame[factor])
                    / frame[factor].rolling(90).var()).dropna()
            assert pair.dates == tuple(d.date() for d in corr.index)
            assert len(pair.dates) == 400 - 90 + 1 and pair.windows_left_out == 0
            np.testing.assert_allclose(pair.correlation, corr.to_numpy(), atol=1e-10)
            np.testing.assert_allclose(pair.beta, beta.to_numpy(), rtol=1e-9)
    assert result.provenance.warnings == ()


def test_rolling_leaves_out_windows_with_nan_or_flat_series() -> None:
    panel = _panel(n=300)
    values = np.array(panel.values)
    ibit = values[:, 2].copy()
    ibit[:50] = np.nan  # an ETF that starts late
    values[:, 2] = ibit
    values[200:240, 3] = 0.0  # DXY flat for 40 sessions
    panel = ReturnsPanel.from_arrays(values, panel.names, panel.dates)
    result = rolling_factor_correlations(panel, ["BTC", "COIN"], ["DXY", "SPX"], window=30)
    late = result.pair("COIN", "SPX")
    frame = _frame(panel)
    reference = frame["COIN"].rolling(30).corr(frame["SPX"]).dropna()
    assert late.dates == tuple(d.date() for d in reference.index)
    assert late.dates[0] == panel.dates[50 + 29] and late.windows_left_out == 50
    np.testing.assert_allclose(late.correlation, reference.to_numpy(), atol=1e-10)
    flat = result.pair("BTC", "DXY")
    assert flat.windows_left_out == 40 - 30 + 1
    assert panel.dates[239] not in flat.dates and panel.dates[240] in flat.dates
    assert all(np.isfinite(p.correlation).all() and np.isfinite(p.beta).all()
               for p in result.pairs)
    rules = {(w.rule, w.subject) for w in result.provenance.warnings}
    assert rules == {(WINDOWS_LEFT_OUT, "COIN/SPX"), (WINDOWS_LEFT_OUT, "COIN/DXY"),
                     (WINDOWS_LEFT_OUT, "BTC/DXY")}


def test_conditional_split_and_fisher_z_by_hand() -> None:
    rng = np.random.default_rng(5)
    n = 900
    labels = np.array(["calm"] * 500 + ["stressed"] * 300 + ["crisis"] * 100)
    rng.shuffle(labels)
    spx = rng.normal(0, 0.01, n)
    rho = np.where(labels == "calm", 0.1, 0.6)  # correlation rises in stress
    btc = rho * spx / 0.01 * 0.03 + np.sqrt(1 - rho**2) * rng.normal(0, 0.03, n)
    days = [date(2018, 1, 1) + timedelta(days=i) for i in range(n)]
    panel = ReturnsPanel.from_arrays(np.column_stack([btc, spx]), ["BTC", "SPX"], days)
    result = conditional_factor_correlations(panel, ["BTC"], ["SPX"], list(labels))
    frame = _frame(panel)
    for label in ("calm", "stressed", "crisis"):
        block = result.regime(label)
        rows = frame[labels == label]
        assert block.n_obs == int((labels == label).sum())
        assert block.correlation[0, 0] == pytest.approx(rows.corr().loc["BTC", "SPX"],
                                                        abs=1e-12)
        assert block.beta[0, 0] == pytest.approx(
            rows["BTC"].cov(rows["SPX"]) / rows["SPX"].var(), rel=1e-10)
    pooled = result.regime("crisis+stressed")
    assert pooled.n_obs == 400
    r1, r2 = result.regime("calm").correlation[0, 0], result.regime("stressed").correlation[0, 0]
    z = (np.arctanh(r2) - np.arctanh(r1)) / np.sqrt(1 / (500 - 3) + 1 / (300 - 3))
    comparison = result.comparison("stressed")
    assert comparison.z[0, 0] == pytest.approx(z, rel=1e-12)
    assert comparison.p_value[0, 0] == pytest.approx(2 * (1 - _normal_cdf(abs(z))), abs=1e-12)
    assert comparison.difference[0, 0] == pytest.approx(r2 - r1, abs=1e-15)
    assert (comparison.base, comparison.n_base, comparison.n_other) == ("calm", 500, 300)
    assert comparison.p_value[0, 0] < 1e-6  # the planted rise is detected
    assert {c.other for c in result.comparisons} == {"stressed", "crisis", "crisis+stressed"}


def _normal_cdf(x: float) -> float:
    from math import erf, sqrt
    return 0.5 * (1 + erf(x / sqrt(2)))


def test_fisher_z_symmetric_and_null() -> None:
    z, p = fisher_z_test(0.3, 100, 0.3, 50)
    assert z == 0.0 and p == pytest.approx(1.0)
    z1, _ = fisher_z_test(0.2, 80, 0.5, 60)
    z2, _ = fisher_z_test(0.5, 60, 0.2, 80)
    assert z1 == pytest.approx(-z2)
    with pytest.raises(InsufficientHistory):
        fisher_z_test(0.1, 3, 0.2, 50)


def test_conditional_regime_too_short_is_a_finding() -> None:
    panel = _panel(n=200)
    labels = ["calm"] * 190 + ["crisis"] * 10
    result = conditional_factor_correlations(panel, ["BTC"], ["SPX"], labels)
    assert [b.regime for b in result.regimes] == ["calm"]
    assert result.comparisons == ()
    assert [(w.rule, w.subject) for w in result.provenance.warnings] == [
        (REGIME_LEFT_OUT, "crisis")]
    no_base = conditional_factor_correlations(panel, ["BTC"], ["SPX"], ["stressed"] * 200)
    assert no_base.comparisons == () and no_base.provenance.warnings[0].subject == "calm"
    with pytest.raises(InvalidInput):
        conditional_factor_correlations(panel, ["BTC"], ["SPX"], labels[:-1])


def test_bad_input() -> None:
    panel = _panel(n=100)
    values = np.array(panel.values)
    values[40, 1] = np.nan
    holed = ReturnsPanel.from_arrays(values, panel.names, panel.dates)
    with pytest.raises(DegenerateSeries, match=f"ETH has no finite return on {panel.dates[40]}"):
        factor_correlations(holed, ["ETH"], ["SPX"])
    with pytest.raises(DegenerateSeries):
        correlation_matrix(holed)
    with pytest.raises(DegenerateSeries):
        conditional_factor_correlations(holed, ["ETH"], ["SPX"], ["calm"] * 100)
    values = np.array(panel.values)
    values[:, 3] = 0.002
    flat = ReturnsPanel.from_arrays(values, panel.names, panel.dates)
    with pytest.raises(DegenerateSeries, match="DXY is constant"):
        factor_correlations(flat, ["BTC"], ["DXY"])
    with pytest.raises(InsufficientHistory):
        factor_correlations(panel.between(panel.dates[0], panel.dates[9]), ["BTC"], ["SPX"])
    with pytest.raises(InsufficientHistory):
        rolling_factor_correlations(panel, ["BTC"], ["SPX"], window=101)
    with pytest.raises(InvalidInput):
        rolling_factor_correlations(panel, ["BTC"], ["SPX"], window=2)
    with pytest.raises(InvalidInput):
        factor_correlations(panel, ["BTC"], ["NOPE"])
    with pytest.raises(InvalidInput):
        factor_correlations(panel, ["BTC"], ["SPX"], method="kendall")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        ReturnsPanel.from_arrays(panel.values, panel.names, panel.dates[::-1])
    with pytest.raises(InvalidInput):
        ReturnsPanel.from_arrays(panel.values[:, 0], ["BTC"], panel.dates)


def _aligned(real_series: Callable[[str], Series], stems: dict[str, str], start: date,
             end: date, rule: AlignmentRule) -> object:
    return align_closes({name: real_series(stem) for name, stem in stems.items()},
                        get_calendar("xnys"), start, end, rule=rule)


def _pandas_reference(stems: dict[str, str], start: str, end: str) -> pd.DataFrame:
    """Closes read by pandas, BTC and gold taken as of each S&P 500 trading day."""
    def closes(stem: str) -> pd.Series:
        frame = pd.read_csv(MARKET / f"{stem}.csv", parse_dates=["date"], index_col="date")
        return frame["close"].astype(float)

    spx = closes("SPX").loc[start:end]
    prices = pd.DataFrame({name: closes(stem).reindex(spx.index, method="ffill")
                           for name, stem in stems.items()})
    return np.log(prices).diff().dropna()


@pytest.mark.realdata
def test_real_btc_gold_and_spx_correlations_match_pandas(
        real_series: Callable[[str], Series]) -> None:
    stems = {"BTC": "BTC-USD", "GOLD": "GOLD", "GLD": "GLD", "SPX": "SPX"}
    start, end = date(2020, 1, 1), date(2024, 12, 31)
    prices = align_closes({name: real_series(stem) for name, stem in stems.items()},
                          get_calendar("xnys"), start, end, rule=AlignmentRule.COMPOUND)
    panel = ReturnsPanel.from_aligned(log_returns(prices))
    result = factor_correlations(panel, ["BTC"], ["GOLD", "GLD", "SPX"])
    reference = _pandas_reference(stems, "2020-01-01", "2024-12-31")
    assert panel.dates == tuple(d.date() for d in reference.index)
    assert result.n_obs == len(reference) > 1200
    expected = reference.corr()
    for factor in ("GOLD", "GLD", "SPX"):
        assert result.value("BTC", factor) == pytest.approx(expected.loc["BTC", factor],
                                                             abs=1e-10)
    assert 0.3 < result.value("BTC", "SPX") < 0.45
    assert abs(result.value("BTC", "GOLD")) < 0.3


@pytest.mark.realdata
def test_real_macro_panel_with_yield_changes(real_series: Callable[[str], Series]) -> None:
    start, end = date(2021, 1, 1), date(2024, 12, 31)
    calendar = get_calendar("xnys")
    prices = align_closes({"BTC": real_series("BTC-USD"), "ETH": real_series("ETH-USD"),
                           "DXY": real_series("DXY"), "GOLD": real_series("GOLD"),
                           "WTI": real_series("WTI"), "SPX": real_series("SPX")},
                          calendar, start, end, rule=AlignmentRule.COMPOUND)
    rates = align_closes({"DGS10": real_series("DGS10")}, calendar, start, end,
                         rule=AlignmentRule.LAST_OBSERVATION)
    panel = ReturnsPanel.from_aligned(log_returns(prices), changes(rates))
    assert panel.units[-1] == "percentage points"
    structure = factor_correlations(panel, ["BTC", "ETH"], ["DXY", "GOLD", "WTI", "SPX",
                                                            "DGS10"])
    assert np.isfinite(structure.correlation).all() and np.isfinite(structure.beta).all()
    assert structure.value("BTC", "DXY") < 0 < structure.value("BTC", "SPX")
    assert structure.value("ETH", "SPX") > 0.2
    rolling = rolling_factor_correlations(panel, ["BTC"], ["SPX", "DXY"], window=90)
    assert len(rolling.pair("BTC", "SPX").dates) == len(panel.dates) - 89
    frame = _frame(panel)
    np.testing.assert_allclose(rolling.pair("BTC", "DXY").correlation,
                               frame["BTC"].rolling(90).corr(frame["DXY"]).dropna(),
                               atol=1e-10)
