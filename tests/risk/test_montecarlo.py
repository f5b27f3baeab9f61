"""Monte Carlo scenarios: the model's distribution, seeds, horizons, importance sampling."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

import numpy as np
import pytest
from scipy import stats

from qoima.domain.enums import InstrumentKind
from qoima.domain.errors import DegenerateSeries, InsufficientHistory, InvalidInput
from qoima.market.calendars import get_calendar
from qoima.market.returns import AlignmentRule, align_closes, log_returns
from qoima.market.series import Series
from qoima.risk.contributions import scenario_var_cvar
from qoima.risk.engine import NumpyEngine
from qoima.risk.factor_models import (
    StudentTModel,
    fit_copula,
    fit_student_t,
    ledoit_wolf_covariance,
    student_t_model,
)
from qoima.risk.montecarlo import (
    book_monte_carlo_risk,
    monte_carlo_risk,
    simulate_pnl,
    simulate_scenarios,
    tune_importance,
)
from qoima.risk.positions import USD_KZT, FactorLoading, RiskBook, RiskPosition

FACTORS = ("BTC", "SPX", "GOLD")
CORRELATION = np.array([[1.0, 0.4, 0.1], [0.4, 1.0, -0.2], [0.1, -0.2, 1.0]])
VOLS = np.array([0.04, 0.01, 0.008])
EXPOSURE = np.array([5e6, 2e6, 1e6])


def _model(dof: float = 4.0, mean: tuple[float, ...] = (0.0, 0.0, 0.0),
           log_returns: tuple[bool, ...] | None = None) -> StudentTModel:
    return student_t_model(FACTORS, np.array(mean), correlation=CORRELATION, vols=VOLS,
                           dof=dof, log_returns=log_returns)


def _exact_t(model: StudentTModel, exposure: np.ndarray, level: float,
             horizon_days: int = 1) -> tuple[float, float]:
    """VaR/CVaR of a linear portfolio of a multivariate t: a scaled univariate t."""
    nu = model.dof
    scale = math.sqrt(exposure @ model.covariance @ exposure * (nu - 2) / nu * horizon_days)
    q = stats.t.ppf(level, nu)
    shortfall = stats.t.pdf(q, nu) * (nu + q * q) / ((nu - 1) * (1 - level))
    location = horizon_days * float(exposure @ model.mean)
    return scale * q - location, scale * shortfall - location


def test_model_validation() -> None:
    with pytest.raises(InvalidInput):
        _model(dof=2.0)
    with pytest.raises(InvalidInput):
        student_t_model(FACTORS, np.zeros(3))  # no covariance
    with pytest.raises(InvalidInput):
        student_t_model(FACTORS, np.zeros(2), covariance=np.eye(3))
    with pytest.raises(InvalidInput):
        student_t_model(FACTORS, np.zeros(3), covariance=np.array(
            [[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))  # not PSD
    with pytest.raises(InvalidInput):
        _model(log_returns=(True,))
    with pytest.raises(InvalidInput):
        simulate_scenarios(_model(), 0, seed=1)
    with pytest.raises(InvalidInput):
        simulate_scenarios(_model(), 10, seed=-1)
    with pytest.raises(InvalidInput):
        simulate_scenarios(_model(), 10, seed=1, horizon_days=0)
    # a semidefinite covariance (two identical factors) is fine
    twin = student_t_model(("A", "B"), np.zeros(2), covariance=np.full((2, 2), 1e-4), dof=5)
    moves = simulate_scenarios(twin, 1000, seed=1).moves
    assert np.allclose(moves[:, 0], moves[:, 1])


def test_moments_and_marginal_match_the_model() -> None:
    model = _model(dof=5.0, mean=(1e-3, 0.0, -5e-4))
    moves = simulate_scenarios(model, 200_000, seed=3).moves
    assert moves.shape == (200_000, 3)
    assert moves.mean(axis=0) == pytest.approx(model.mean, abs=3e-4)
    assert np.cov(moves.T) == pytest.approx(model.covariance, rel=0.08, abs=2e-6)
    # each factor is a t with 5 degrees of freedom scaled to its vol
    standard = (moves[:, 0] - 1e-3) / (VOLS[0] * math.sqrt(3 / 5))
    assert stats.kstest(standard, "t", args=(5,)).pvalue > 1e-3
    assert stats.kstest(standard, "norm").pvalue < 1e-10


def test_same_seed_same_numbers_whatever_the_workers() -> None:
    model = _model()
    one = simulate_scenarios(model, 50_000, seed=42, chunk_rows=4096)
    two = simulate_scenarios(model, 50_000, seed=42, chunk_rows=4096, engine=NumpyEngine(2))
    assert np.array_equal(one.moves, two.moves)
    assert not np.array_equal(one.moves, simulate_scenarios(model, 50_000, seed=43,
                                                            chunk_rows=4096).moves)
    # a longer run extends a shorter one: the first chunks are the same
    longer = simulate_scenarios(model, 60_000, seed=42, chunk_rows=4096)
    assert np.array_equal(longer.moves[:49_152], one.moves[:49_152])
    assert one.provenance.seed == 42
    assert one.provenance.parameters["chunk_rows"] == 4096


def test_square_root_of_time_and_sum_of_days() -> None:
    model = _model(dof=6.0, mean=(1e-3, 0.0, 0.0))
    day = simulate_scenarios(model, 20_000, seed=5).moves
    ten = simulate_scenarios(model, 20_000, seed=5, horizon_days=10).moves
    assert ten == pytest.approx(10 * model.mean + math.sqrt(10) * (day - model.mean),
                                abs=1e-15)
    summed = simulate_scenarios(model, 100_000, seed=5, horizon_days=10,
                                horizon_scaling="sum_of_days").moves
    assert summed.mean(axis=0) == pytest.approx(10 * model.mean, abs=1.5e-3)
    assert np.cov(summed.T) == pytest.approx(10 * model.covariance, rel=0.05, abs=1e-5)
    # a sum of ten t draws is closer to normal than one t draw scaled by sqrt(10)
    assert stats.kurtosis(summed[:, 0]) < stats.kurtosis(ten[:, 0]) / 2
    with pytest.raises(InvalidInput):
        simulate_scenarios(model, 10, seed=1, horizon_scaling="linear")


def test_log_returns_come_back_as_simple_returns() -> None:
    logs = simulate_scenarios(_model(), 10_000, seed=7).moves
    mixed = simulate_scenarios(_model(log_returns=(True, False, True)), 10_000, seed=7).moves
    assert mixed[:, 0] == pytest.approx(np.expm1(logs[:, 0]), rel=1e-14)
    assert np.array_equal(mixed[:, 1], logs[:, 1])
    assert mixed.min() > -1.0 or logs.min() <= -1.0


def test_pnl_path_matches_the_scenarios() -> None:
    for flags in (None, (True, True, False)):
        model = _model(log_returns=flags)
        scenarios = simulate_scenarios(model, 30_000, seed=8, chunk_rows=8192)
        pnl = simulate_pnl(model, EXPOSURE, 30_000, seed=8, chunk_rows=8192)
        assert pnl.pnl.shape == (30_000, 1)
        assert pnl.pnl[:, 0] == pytest.approx(scenarios.moves @ EXPOSURE, rel=1e-9, abs=1e-6)
    two_rows = simulate_pnl(_model(), np.vstack([EXPOSURE, -EXPOSURE]), 1000, seed=1)
    assert np.array_equal(two_rows.pnl[:, 0], -two_rows.pnl[:, 1])
    with pytest.raises(InvalidInput):
        simulate_pnl(_model(), [1.0, 2.0], 100, seed=1)


def test_plain_monte_carlo_follows_the_quantile_convention() -> None:
    model = _model()
    risk = monte_carlo_risk(model, EXPOSURE, 0.99, 40_000, seed=9, importance=None)
    pnl = simulate_pnl(model, EXPOSURE, 40_000, seed=9).pnl[:, 0]
    assert risk.var == -np.quantile(pnl, 1 - 0.99)
    assert risk.cvar == -pnl[pnl <= -risk.var].mean()
    assert risk.importance is None and risk.currency == "USD"
    assert risk.tail_effective_scenarios == pytest.approx(400, abs=1)


@pytest.mark.parametrize(("dof", "level", "horizon"), [(4.0, 0.99, 1), (8.0, 0.95, 10),
                                                        (math.inf, 0.99, 1)])
def test_importance_sampling_is_unbiased_against_the_closed_form(
        dof: float, level: float, horizon: int) -> None:
    model = _model(dof=dof, mean=(5e-4, 2e-4, 0.0))
    exact_var, exact_cvar = _exact_t(model, EXPOSURE, level, horizon) if math.isfinite(dof) \
        else _exact_normal(model, level)
    estimates = np.array([
        (r.var, r.cvar) for r in (monte_carlo_risk(model, EXPOSURE, level, 20_000, seed=s,
                                                   horizon_days=horizon) for s in range(8))])
    assert estimates[:, 0].mean() == pytest.approx(exact_var, rel=0.01)
    assert estimates[:, 1].mean() == pytest.approx(exact_cvar, rel=0.01)


def _exact_normal(model: StudentTModel, level: float) -> tuple[float, float]:
    sigma = math.sqrt(EXPOSURE @ model.covariance @ EXPOSURE)
    z = stats.norm.ppf(level)
    mu = float(EXPOSURE @ model.mean)
    return z * sigma - mu, stats.norm.pdf(z) / (1 - level) * sigma - mu


def test_importance_sampling_reduces_the_standard_error() -> None:
    model = _model(dof=4.0)
    tilt = tune_importance(model, EXPOSURE, 0.99, seed=1)
    assert tilt.shift > 1.0 and 0.05 <= tilt.mixing_scale < 1.0
    assert np.linalg.norm(tilt.direction) == pytest.approx(1.0)
    plain = [monte_carlo_risk(model, EXPOSURE, 0.99, 10_000, seed=s, importance=None).cvar
             for s in range(12)]
    tilted = [monte_carlo_risk(model, EXPOSURE, 0.99, 10_000, seed=s, importance=tilt).cvar
              for s in range(12)]
    assert np.std(tilted) < np.std(plain) / 3
    # the likelihood ratios re-weight to the model's measure: the tail beyond the exact VaR
    # has probability 1 %, while most tilted draws land there
    tilted_pnl = simulate_pnl(model, EXPOSURE, 100_000, seed=2, importance=tilt)
    assert tilted_pnl.weights is not None
    beyond = tilted_pnl.pnl[:, 0] <= -_exact_t(model, EXPOSURE, 0.99)[0]
    assert beyond.mean() > 0.3
    assert tilted_pnl.weights[beyond].sum() / 100_000 == pytest.approx(0.01, rel=0.03)


def test_float32_precision_agrees_with_float64() -> None:
    model = _model()
    double = monte_carlo_risk(model, EXPOSURE, 0.99, 50_000, seed=4)
    single = monte_carlo_risk(model, EXPOSURE, 0.99, 50_000, seed=4, precision="float32")
    assert single.cvar == pytest.approx(double.cvar, rel=0.05)
    with pytest.raises(InvalidInput):
        monte_carlo_risk(model, EXPOSURE, 0.99, 100, seed=4, precision="float16")


def test_ledoit_wolf_against_the_paper_formulas() -> None:
    x = np.random.default_rng(10).standard_t(5, size=(60, 8)) * np.linspace(1, 3, 8)
    covariance, intensity = ledoit_wolf_covariance(x)
    # Ledoit & Wolf (2004), norms ||A||^2 = tr(A A') / p, sample covariance over n
    n, p = x.shape
    c = x - x.mean(axis=0)
    s = c.T @ c / n
    m = np.trace(s) / p
    d2 = np.sum((s - m * np.eye(p)) ** 2) / p
    b2 = min(sum(np.sum((np.outer(r, r) - s) ** 2) / p for r in c) / n**2, d2)
    assert intensity == pytest.approx(b2 / d2, rel=1e-10)
    assert covariance == pytest.approx((1 - b2 / d2) * s + b2 / d2 * m * np.eye(p), rel=1e-10)
    assert 0.0 < intensity < 1.0
    # i.i.d. factors are the target itself: strong shrinkage; with many observations of
    # correlated factors there is little to shrink
    rng = np.random.default_rng(11)
    assert ledoit_wolf_covariance(rng.normal(size=(200, 4)))[1] > 0.5
    correlated = rng.multivariate_normal(np.zeros(3), CORRELATION * np.outer(VOLS, VOLS),
                                         size=20_000)
    assert ledoit_wolf_covariance(correlated)[1] < 0.01


def test_fit_student_t_recovers_the_model() -> None:
    truth = _model(dof=5.0, mean=(1e-3, 0.0, 0.0))
    history = simulate_scenarios(truth, 20_000, seed=12).moves
    fitted = fit_student_t(FACTORS, history)
    assert 4.3 < fitted.dof < 5.8
    vols = np.sqrt(np.diag(fitted.covariance))
    assert vols == pytest.approx(VOLS, rel=0.05)
    assert fitted.covariance / np.outer(vols, vols) == pytest.approx(CORRELATION, abs=0.03)
    assert fitted.provenance.method == "montecarlo.student_t.fit"
    normal = fit_student_t(FACTORS, np.random.default_rng(1).normal(size=(5000, 3)))
    assert normal.dof > 30
    assert fit_student_t(FACTORS, history, dof=6.0, zero_mean=True).mean.tolist() == [0, 0, 0]


def test_fit_bad_input() -> None:
    history = np.random.default_rng(1).normal(size=(100, 3)) * 0.01
    with pytest.raises(InsufficientHistory):
        fit_student_t(FACTORS, history[:29])
    with_nan = history.copy()
    with_nan[50, 1] = np.nan
    with pytest.raises(DegenerateSeries):
        fit_student_t(FACTORS, with_nan)
    constant = history.copy()
    constant[:, 2] = 0.001
    with pytest.raises(DegenerateSeries):
        fit_copula(FACTORS, constant)
    with pytest.raises(InvalidInput):
        fit_student_t(("BTC",), history)


def test_copula_uses_the_empirical_marginals_and_the_dependence() -> None:
    rng = np.random.default_rng(13)
    latent = rng.multivariate_normal(np.zeros(3), CORRELATION, size=3000)
    history = np.column_stack([np.expm1(0.04 * latent[:, 0]) ** 3, 0.01 * latent[:, 1],
                               stats.t.ppf(stats.norm.cdf(latent[:, 2]), 3) * 0.01])
    for dof in (math.inf, 6.0):
        model = fit_copula(FACTORS, history, dof=dof)
        assert model.correlation == pytest.approx(CORRELATION, abs=0.05)
        moves = simulate_scenarios(model, 40_000, seed=14).moves
        assert (moves.min(axis=0) >= history.min(axis=0)).all()
        assert (moves.max(axis=0) <= history.max(axis=0)).all()
        for j in range(3):
            # uniform in probability: each history quantile cuts off its share of draws
            cuts = np.quantile(history[:, j], [0.05, 0.5, 0.95])
            shares = [(moves[:, j] <= cut).mean() for cut in cuts]
            assert shares == pytest.approx([0.05, 0.5, 0.95], abs=0.006)
        tau = stats.kendalltau(moves[:5000, 0], moves[:5000, 1]).statistic
        assert tau == pytest.approx(2 / math.pi * math.asin(CORRELATION[0, 1]), abs=0.04)
    with pytest.raises(InvalidInput):
        monte_carlo_risk(model, EXPOSURE, 0.99, 1000, seed=1, importance=tune_importance(
            _model(), EXPOSURE, 0.99, seed=1))
    assert monte_carlo_risk(model, EXPOSURE, 0.99, 1000, seed=1).importance is None


def _book() -> RiskBook:
    def position(key: str, value: float, factor: str, *, local: str = "USD") -> RiskPosition:
        return RiskPosition(key=key, instrument_code=key, instrument_kind=InstrumentKind.ETF,
                            vehicle_code="V1", value_usd=value,
                            loadings=(FactorLoading(factor, 1.0),), local_currency=local)
    return RiskBook(date(2026, 6, 1), (position("IBIT", 5e6, "BTC"), position("SPY", 2e6, "SPX"),
                                       position("GLD", 1e6, "GOLD")), usd_kzt=500.0)


def test_book_risk_goes_through_scenario_pnl() -> None:
    model = _model()
    scenarios = simulate_scenarios(model, 20_000, seed=15)
    risk = book_monte_carlo_risk(_book(), scenarios, 0.99)
    assert (risk.var, risk.cvar) == pytest.approx(
        scenario_var_cvar(scenarios.moves @ EXPOSURE, 0.99), rel=1e-12)
    assert risk.provenance.seed == 15
    tilted = simulate_scenarios(model, 20_000, seed=15,
                                importance=tune_importance(model, EXPOSURE, 0.99, seed=15))
    assert book_monte_carlo_risk(_book(), tilted, 0.99).cvar == pytest.approx(
        _exact_t(model, EXPOSURE, 0.99)[1], rel=0.03)
    with_fx = student_t_model((*FACTORS, USD_KZT), np.zeros(4), covariance=np.diag(
        [*(VOLS**2), 0.01**2]), dof=5)
    kzt = book_monte_carlo_risk(_book(), simulate_scenarios(with_fx, 20_000, seed=1), 0.99,
                                currency="KZT")
    assert kzt.currency == "KZT" and kzt.var > 0


@pytest.mark.realdata
def test_real_history_fit_and_risk(real_series: Callable[[str], Series]) -> None:
    prices = align_closes({"BTC": real_series("BTC-USD"), "SPX": real_series("SPX"),
                           "GOLD": real_series("GOLD")}, get_calendar("xnys"),
                          date(2020, 1, 1), date(2024, 12, 31), rule=AlignmentRule.COMPOUND)
    history = log_returns(prices).values
    model = fit_student_t(FACTORS, history, log_returns=(True, True, True))
    assert 2.5 < model.dof < 6  # daily returns are fat-tailed
    assert math.sqrt(model.covariance[0, 0]) == pytest.approx(history[:, 0].std(), rel=0.05)
    risk = monte_carlo_risk(model, EXPOSURE, 0.99, 50_000, seed=1)
    realised = scenario_var_cvar(np.expm1(history) @ EXPOSURE, 0.99)
    assert risk.var == pytest.approx(realised[0], rel=0.25)
    assert risk.cvar == pytest.approx(realised[1], rel=0.3)


def test_shrinkage_keeps_variances_and_hedges_across_scales() -> None:
    from qoima.risk.factor_models import fit_student_t as fit

    rng = np.random.default_rng(5)
    btc = rng.standard_t(5, 300) * 0.03
    gold = rng.normal(0, 0.009, 300)
    yields = -0.9 * gold / 0.009 * 0.05 + rng.normal(0, 0.02, 300)  # pp, hedges gold
    data = np.column_stack([btc, gold, yields])
    model = fit(["BTC", "XAU", "DGS10"], data)
    sample = np.cov(data.T)
    np.testing.assert_allclose(np.diag(model.covariance), np.diag(sample), rtol=1e-12)
    shrunk = model.covariance / np.sqrt(np.outer(np.diag(sample), np.diag(sample)))
    raw = sample / np.sqrt(np.outer(np.diag(sample), np.diag(sample)))
    off = ~np.eye(3, dtype=bool)
    assert (np.abs(shrunk[off]) <= np.abs(raw[off]) + 1e-12).all()
    # a gold position hedged by a short-duration bond keeps (about) its hedged variance
    exposure = np.array([0.0, 1.0, 0.18])
    hedged_sample = exposure @ sample @ exposure
    assert exposure @ model.covariance @ exposure < 2 * hedged_sample
