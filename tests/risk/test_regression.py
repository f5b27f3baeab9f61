"""OLS betas against statsmodels and by hand; tracking difference by hand; bad input."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
import statsmodels.api as sm

from qoima.domain.errors import DegenerateSeries, InsufficientHistory, InvalidInput
from qoima.risk.regression import estimate_betas, tracking_difference


def _crypto_equity(n: int = 500, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    btc = rng.standard_t(4, n) * 0.03
    spx = 0.3 * btc + rng.normal(0.0, 0.01, n)
    coin = 0.0004 + 1.6 * btc + 0.8 * spx + rng.normal(0.0, 0.02, n)
    return coin, np.column_stack([btc, spx])


def test_betas_equal_statsmodels_ols() -> None:
    y, x = _crypto_equity()
    fit = estimate_betas(y, x, ["BTC", "SPX"])
    reference = sm.OLS(y, sm.add_constant(x)).fit()
    np.testing.assert_allclose(fit.alpha, reference.params[0], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(fit.betas, reference.params[1:], rtol=1e-10)
    np.testing.assert_allclose(fit.alpha_standard_error, reference.bse[0], rtol=1e-10)
    np.testing.assert_allclose(fit.standard_errors, reference.bse[1:], rtol=1e-10)
    np.testing.assert_allclose(fit.t_stats, reference.tvalues[1:], rtol=1e-9)
    np.testing.assert_allclose(fit.alpha_t_stat, reference.tvalues[0], rtol=1e-9)
    assert fit.r_squared == pytest.approx(reference.rsquared, rel=1e-12)
    assert fit.adjusted_r_squared == pytest.approx(reference.rsquared_adj, rel=1e-12)
    assert fit.residual_std == pytest.approx(np.sqrt(reference.scale), rel=1e-12)
    np.testing.assert_allclose(fit.residuals, reference.resid, atol=1e-14)
    assert fit.n_obs == 500 and fit.names == ("BTC", "SPX")
    assert fit.beta("SPX") == pytest.approx(reference.params[2], rel=1e-10)
    # the planted loadings are recovered within a few standard errors
    assert abs(fit.beta("BTC") - 1.6) < 4 * fit.standard_errors[0]


def test_single_regressor_by_hand_and_window_dates() -> None:
    x = np.array([0.01, -0.02, 0.03, 0.00, -0.01, 0.02])
    y = np.array([0.02, -0.03, 0.05, 0.01, -0.02, 0.03])
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(6)]
    fit = estimate_betas(y, x, ["BTC"], dates=days, min_obs=3)
    beta = np.cov(x, y, ddof=1)[0, 1] / np.var(x, ddof=1)
    alpha = y.mean() - beta * x.mean()
    residuals = y - alpha - beta * x
    sigma2 = residuals @ residuals / (6 - 2)
    se = np.sqrt(sigma2 / np.sum((x - x.mean()) ** 2))
    assert fit.betas[0] == pytest.approx(beta, rel=1e-12)
    assert fit.alpha == pytest.approx(alpha, rel=1e-10)
    assert fit.standard_errors[0] == pytest.approx(se, rel=1e-12)
    assert (fit.start_date, fit.end_date) == (days[0], days[-1])
    assert fit.provenance.parameters["start_date"] == "2024-01-01"
    assert not fit.residuals.flags.writeable


def test_failure_paths() -> None:
    y, x = _crypto_equity(n=40)
    with pytest.raises(InsufficientHistory):
        estimate_betas(y[:20], x[:20], ["BTC", "SPX"])  # default minimum 30
    with pytest.raises(InsufficientHistory):
        estimate_betas(y[:3], x[:3], ["BTC", "SPX"], min_obs=1)  # k + 2 = 4 at least
    bad = y.copy()
    bad[5] = np.nan
    with pytest.raises(DegenerateSeries, match="NaN"):
        estimate_betas(bad, x, ["BTC", "SPX"])
    x_nan = x.copy()
    x_nan[7, 1] = np.inf
    with pytest.raises(DegenerateSeries, match="NaN or infinite"):
        estimate_betas(y, x_nan, ["BTC", "SPX"])
    flat = x.copy()
    flat[:, 1] = 0.001
    with pytest.raises(DegenerateSeries, match="'SPX' is constant"):
        estimate_betas(y, flat, ["BTC", "SPX"])
    collinear = np.column_stack([x[:, 0], 2.0 * x[:, 0] + 0.5])
    with pytest.raises(DegenerateSeries, match="linear combination"):
        estimate_betas(y, collinear, ["BTC", "BTC2"])
    with pytest.raises(DegenerateSeries, match="constant"):
        estimate_betas(np.full(40, 0.01), x, ["BTC", "SPX"])
    with pytest.raises(InvalidInput):
        estimate_betas(y, x, ["BTC"])  # names do not match the columns
    with pytest.raises(InvalidInput):
        estimate_betas(y[:-1], x, ["BTC", "SPX"])
    with pytest.raises(InvalidInput):
        estimate_betas(y, x, ["BTC", "SPX"], dates=[date(2024, 1, 1)])


def test_tracking_difference_by_hand() -> None:
    rng = np.random.default_rng(3)
    btc = rng.normal(0.0005, 0.03, 750)
    fee_per_day = 0.0025 / 252
    etf = btc - fee_per_day + rng.normal(0.0, 0.00005, 750)
    result = tracking_difference(etf, btc, 252)
    diff = etf - btc
    assert result.mean_difference_annual == pytest.approx(diff.mean() * 252, rel=1e-12)
    assert result.fee_drag_annual == pytest.approx(-diff.mean() * 252, rel=1e-12)
    assert result.tracking_error_annual == pytest.approx(diff.std(ddof=1) * np.sqrt(252),
                                                         rel=1e-12)
    assert result.cumulative_difference == pytest.approx(diff.sum(), rel=1e-12)
    assert result.beta == pytest.approx(np.polyfit(btc, etf, 1)[0], rel=1e-10)
    assert result.n_obs == 750 and result.periods_per_year == 252.0
    # the planted 25 bp fee is recovered within 3 standard errors of the annualized mean
    assert abs(result.fee_drag_annual - 0.0025) < 3 * 0.00005 * 252 / np.sqrt(750)


def test_tracking_difference_failure_paths() -> None:
    a = np.linspace(-0.01, 0.01, 50)
    with pytest.raises(InvalidInput):
        tracking_difference(a, a[:-1], 252)
    with pytest.raises(InvalidInput):
        tracking_difference(a, a, 0)
    with pytest.raises(InsufficientHistory):
        tracking_difference(a[:10], a[:10], 252)
    b = a.copy()
    b[3] = np.nan
    with pytest.raises(DegenerateSeries):
        tracking_difference(a, b, 252)
    with pytest.raises(DegenerateSeries):
        tracking_difference(a, np.zeros(50), 252)
