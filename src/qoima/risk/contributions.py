"""Scenario VaR/CVaR and their Euler allocation to positions; incremental risk.

Conventions (shared with historical simulation and Monte Carlo):

* ``pnl`` is profit and loss per scenario (a loss is negative); VaR and CVaR are **positive
  losses**. Without weights, ``VaR = -np.quantile(pnl, 1 - level)`` (numpy's default linear
  interpolation) and ``CVaR = -mean(pnl[pnl <= -VaR])``: the mean of the losses at or beyond
  VaR.
* With scenario ``weights`` (importance-sampling likelihood ratios: scenario ``k`` stands
  for probability ``w_k / n``, so the weights average about one), the quantile is the
  weighted analogue of numpy's linear rule: the sorted P&L ``x_k`` sits at plotting position
  ``(S_k - s_k) * n / (n - 1)`` with ``s = w / n`` and ``S`` its cumulative sum (all weights 1
  give numpy's ``k / (n - 1)``); CVaR is the weighted mean of the tail,
  ``-sum(w pnl) / sum(w)`` over ``pnl <= -VaR``. Only the tail's weights enter, which keeps
  the estimate stable when the likelihood ratios of the gains are huge.

Euler allocation: risk ``R`` is homogeneous of degree one in the position values ``v``, so
``R = sum_i v_i dR/dv_i``. With ``r_i`` the P&L per USD of position ``i`` in a scenario:

* CVaR: ``dR/dv_i = -E[r_i | tail]`` over the same tail scenarios, so components sum to the
  total exactly;
* VaR: ``dR/dv_i = -E[r_i | pnl = -VaR]``. ``var_method="quantile"`` reads it from the one
  or two scenarios the interpolated quantile sits between (same interpolation weights:
  exactly additive, noisy); ``"kernel"`` (default) averages scenarios near the quantile with
  a Gaussian kernel (Silverman bandwidth unless given) and rescales the components so they
  sum to the VaR exactly — less noise, a small smoothing bias;
* parametric: ``dR/dv_i = k (Σv)_i / σ_p - μ_i`` with ``k`` the normal or Student-t
  quantile (VaR) or shortfall (CVaR) multiplier.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import stats

from qoima.domain.errors import InvalidInput
from qoima.risk.checks import FloatArray, check_horizon, check_level, check_window
from qoima.risk.positions import RiskBook, scenario_pnl
from qoima.risk.provenance import Provenance, array_hash

_VAR_METHODS = ("kernel", "quantile")


@dataclass(frozen=True, slots=True)
class TailEstimate:
    """VaR and CVaR of one P&L vector and where its tail is (shapes ``(n_scenarios,)``)."""

    level: float
    var: float
    cvar: float
    tail: npt.NDArray[np.bool_]  # pnl <= -VaR
    lower: int  # scenario index just below (or at) the interpolated quantile
    upper: int  # scenario index just above it
    fraction: float  # quantile = (1 - fraction) * pnl[lower] + fraction * pnl[upper]
    tail_effective_scenarios: float  # Kish effective count of the tail scenarios


def _check_weights(weights: npt.ArrayLike | None, n: int) -> FloatArray | None:
    if weights is None:
        return None
    array = np.asarray(weights, dtype=np.float64)
    if array.shape != (n,) or not np.isfinite(array).all() or (array < 0).any() \
            or array.sum() <= 0:
        raise InvalidInput(f"weights must be {n} finite non-negative numbers with a positive "
                           "sum", field="weights")
    return array


def tail_estimate(pnl: npt.ArrayLike, level: float, *,
                  weights: npt.ArrayLike | None = None) -> TailEstimate:
    """VaR, CVaR (positive losses) and the tail of ``pnl`` (module doc for the convention).

    Needs at least ``ceil(1 / (1 - level))`` scenarios (and 2), so that the tail is not
    empty by construction; a constant P&L is allowed (its VaR is minus that constant).
    """
    alpha = check_level(level)
    needed = max(2, math.ceil(1.0 / (1.0 - alpha) - 1e-9))
    values = check_window(pnl, minimum=needed, what="pnl", allow_constant=True)
    if values.ndim != 1:
        raise InvalidInput(f"pnl must be 1-D, got shape {values.shape}", field="pnl")
    n = values.shape[0]
    w = _check_weights(weights, n)
    p = 1.0 - alpha
    if w is None:
        quantile = float(np.quantile(values, p))
        h = (n - 1) * p
        j = min(math.floor(h), n - 2)
        order = np.argpartition(values, [j, j + 1])
        lower, upper, fraction = int(order[j]), int(order[j + 1]), h - j
    else:
        order = np.argsort(values)
        share = w[order] / n  # likelihood ratios: a scenario's probability is w / n
        # numpy's plotting positions k / (n - 1) when all weights are 1; unlike a
        # normalisation by the total weight, far-away scenarios (large likelihood ratios
        # among the gains) do not move the lower tail
        positions = (np.cumsum(share) - share) * (n / (n - 1))
        k = min(max(int(np.searchsorted(positions, p, side="right")) - 1, 0), n - 2)
        lower, upper = int(order[k]), int(order[k + 1])
        span = positions[k + 1] - positions[k]
        fraction = float(min(max((p - positions[k]) / span, 0.0), 1.0)) if span > 0 else 0.0
        quantile = float(values[lower] + fraction * (values[upper] - values[lower]))
    var = -quantile
    tail = values <= quantile
    tail_w = np.ones(int(tail.sum())) if w is None else w[tail]
    cvar = float(-np.sum(tail_w * values[tail]) / tail_w.sum()) if tail_w.sum() > 0 else var
    effective = float(tail_w.sum() ** 2 / np.sum(tail_w**2)) if tail_w.sum() > 0 else 0.0
    return TailEstimate(alpha, var, cvar, tail, lower, upper, float(fraction), effective)


def scenario_var_cvar(pnl: npt.ArrayLike, level: float, *,
                      weights: npt.ArrayLike | None = None) -> tuple[float, float]:
    """``(VaR, CVaR)`` of a P&L vector as positive losses (module doc for the convention)."""
    estimate = tail_estimate(pnl, level, weights=weights)
    return estimate.var, estimate.cvar


@dataclass(frozen=True, slots=True)
class EulerContributions:
    """Per-position Euler allocation of VaR and CVaR (arrays of shape ``(n_positions,)``).

    ``*_component`` is each position's share of the total in currency units (they sum to
    the total); ``*_marginal_per_unit`` is ``dRisk/dValue`` per unit of position value (per
    USD); ``var_percent``/``cvar_percent`` are fractions of the total (0 when the total is 0).
    """

    keys: tuple[str, ...]
    level: float
    horizon_days: int
    var: float
    cvar: float
    var_component: FloatArray
    cvar_component: FloatArray
    var_marginal_per_unit: FloatArray
    cvar_marginal_per_unit: FloatArray
    provenance: Provenance

    @property
    def var_percent(self) -> FloatArray:
        return _share(self.var_component, self.var)

    @property
    def cvar_percent(self) -> FloatArray:
        return _share(self.cvar_component, self.cvar)


def _share(component: FloatArray, total: float) -> FloatArray:
    if total == 0.0:
        return np.zeros_like(component)
    return component / total


def _keys(keys: Sequence[str] | None, n: int) -> tuple[str, ...]:
    names = tuple(str(k) for k in keys) if keys is not None else tuple(str(k) for k in range(n))
    if len(names) != n:
        raise InvalidInput(f"{len(names)} keys for {n} positions", field="keys")
    return names


def _silverman(values: FloatArray, w: FloatArray) -> float:
    mean = float(np.sum(w * values) / w.sum())
    spread = math.sqrt(float(np.sum(w * (values - mean) ** 2) / w.sum()))
    q25, q75 = np.quantile(values, [0.25, 0.75])
    robust = min(spread, float(q75 - q25) / 1.349) or spread
    effective = float(w.sum() ** 2 / np.sum(w**2))
    return float(0.9 * robust * effective**-0.2)


def scenario_contributions(returns_per_unit: npt.ArrayLike, values: npt.ArrayLike,
                           level: float, *, weights: npt.ArrayLike | None = None,
                           keys: Sequence[str] | None = None, horizon_days: int = 1,
                           var_method: str = "kernel", bandwidth: float | None = None
                           ) -> EulerContributions:
    """Euler contributions from scenarios (historical or Monte Carlo).

    Parameters
    ----------
    returns_per_unit : (n_scenarios, n_positions) P&L per unit of position value (per USD,
        in the measurement currency), so the P&L of position ``i`` is
        ``values[i] * returns_per_unit[:, i]``
    values : (n_positions,) position values (USD)
    weights : (n_scenarios,) importance weights, or None for equal weights
    var_method : "kernel" or "quantile" (module doc)
    bandwidth : kernel bandwidth in P&L units; Silverman's rule when None
    """
    if var_method not in _VAR_METHODS:
        raise InvalidInput(f"var_method must be one of {_VAR_METHODS}, got {var_method!r}",
                           field="var_method")
    returns = np.asarray(returns_per_unit, dtype=np.float64)
    sizes = np.asarray(values, dtype=np.float64)
    if returns.ndim != 2 or sizes.shape != (returns.shape[1],):
        raise InvalidInput(f"returns {returns.shape} and values {sizes.shape} do not match "
                           "(n_scenarios, n_positions) and (n_positions,)", field="values")
    if not np.isfinite(sizes).all():
        raise InvalidInput("position values must be finite", field="values")
    check_window(returns, minimum=1, what="returns_per_unit", allow_constant=True)
    pnl = returns @ sizes
    estimate = tail_estimate(pnl, level, weights=weights)
    n = returns.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)

    tail_w = w[estimate.tail]
    cvar_marginal = -(tail_w @ returns[estimate.tail]) / tail_w.sum()
    if var_method == "quantile":
        f = estimate.fraction
        var_marginal = -((1 - f) * returns[estimate.lower] + f * returns[estimate.upper])
        used_bandwidth = 0.0
    else:
        used_bandwidth = float(bandwidth) if bandwidth is not None else _silverman(pnl, w)
        if not used_bandwidth > 0:
            raise InvalidInput(f"kernel bandwidth must be positive, got {used_bandwidth!r}",
                               field="bandwidth")
        kernel = w * np.exp(-0.5 * ((pnl + estimate.var) / used_bandwidth) ** 2)
        var_marginal = -(kernel @ returns) / kernel.sum()
        smoothed = float(var_marginal @ sizes)
        if smoothed != 0.0 and estimate.var != 0.0:
            var_marginal = var_marginal * (estimate.var / smoothed)  # exactly additive
    provenance = Provenance(
        method=f"euler.scenario.{var_method}",
        inputs_hash=array_hash(returns, sizes, w),
        parameters={"level": estimate.level, "var_method": var_method,
                    "bandwidth": used_bandwidth, "weighted": weights is not None,
                    "horizon_days": horizon_days})
    return EulerContributions(
        keys=_keys(keys, sizes.shape[0]), level=estimate.level,
        horizon_days=check_horizon(horizon_days), var=estimate.var, cvar=estimate.cvar,
        var_component=sizes * var_marginal, cvar_component=sizes * cvar_marginal,
        var_marginal_per_unit=var_marginal, cvar_marginal_per_unit=cvar_marginal,
        provenance=provenance)


def _unit_returns(book: RiskBook, factors: Sequence[str], moves: npt.ArrayLike,
                  currency: str) -> FloatArray:
    """P&L per USD of every position (every position revalued at 1 USD)."""
    unit = replace(book, positions=tuple(replace(p, value_usd=1.0) for p in book.positions))
    return scenario_pnl(unit, factors, moves, currency=currency)


def book_contributions(book: RiskBook, factors: Sequence[str], moves: npt.ArrayLike,
                       level: float, *, weights: npt.ArrayLike | None = None,
                       currency: str = "USD", horizon_days: int = 1,
                       var_method: str = "kernel") -> EulerContributions:
    """Euler contributions of every position of ``book`` over scenario ``moves``.

    ``moves`` is (n_scenarios, n_factors) with columns named by ``factors``; P&L goes
    through :func:`~qoima.risk.positions.scenario_pnl` (USD or KZT). Marginals are per USD
    of position value, also for positions worth 0.
    """
    if not book.positions:
        raise InvalidInput("the book has no positions", field="book")
    returns = _unit_returns(book, factors, moves, currency)
    return scenario_contributions(returns, book.values_usd, level, weights=weights,
                                  keys=[p.key for p in book.positions],
                                  horizon_days=horizon_days, var_method=var_method)


def parametric_contributions(values: npt.ArrayLike, covariance: npt.ArrayLike, level: float,
                             *, mean: npt.ArrayLike | None = None, dof: float | None = None,
                             horizon_days: int = 1, keys: Sequence[str] | None = None
                             ) -> EulerContributions:
    """Euler contributions under a normal (``dof=None``) or Student-t model of returns.

    Parameters
    ----------
    values : (n_positions,) position values (USD)
    covariance : (n_positions, n_positions) daily covariance of the per-USD returns
    mean : (n_positions,) daily mean return, zero when None
    dof : Student-t degrees of freedom (> 2); the t is scaled to the given covariance
    horizon_days : mean and covariance are scaled by the horizon (square-root-of-time rule)
    """
    alpha = check_level(level)
    h = check_horizon(horizon_days)
    sizes = np.asarray(values, dtype=np.float64)
    cov = np.asarray(covariance, dtype=np.float64) * h
    n = sizes.shape[0]
    mu = np.zeros(n) if mean is None else np.asarray(mean, dtype=np.float64) * h
    if sizes.ndim != 1 or cov.shape != (n, n) or mu.shape != (n,):
        raise InvalidInput(f"values {sizes.shape}, covariance {cov.shape} and mean "
                           f"{mu.shape} do not match", field="covariance")
    if not (np.isfinite(sizes).all() and np.isfinite(cov).all() and np.isfinite(mu).all()):
        raise InvalidInput("values, covariance and mean must be finite", field="covariance")
    sigma_v = cov @ sizes
    variance = float(sizes @ sigma_v)
    if variance <= 0:
        raise InvalidInput("the portfolio variance is not positive: the contributions are "
                           "undefined", field="covariance")
    sigma = math.sqrt(variance)
    if dof is None:
        z = float(stats.norm.ppf(alpha))
        var_k, cvar_k = z, float(stats.norm.pdf(z)) / (1 - alpha)
    else:
        nu = float(dof)
        if not nu > 2:
            raise InvalidInput(f"degrees of freedom must exceed 2, got {dof!r}", field="dof")
        t = float(stats.t.ppf(alpha, nu))
        scale = math.sqrt((nu - 2) / nu)  # a unit-variance t
        var_k = scale * t
        cvar_k = scale * float(stats.t.pdf(t, nu)) * (nu + t * t) / ((nu - 1) * (1 - alpha))
    var_marginal = var_k * sigma_v / sigma - mu
    cvar_marginal = cvar_k * sigma_v / sigma - mu
    provenance = Provenance(
        method="euler.parametric.normal" if dof is None else "euler.parametric.student_t",
        inputs_hash=array_hash(sizes, cov, mu),
        parameters={"level": alpha, "dof": dof, "horizon_days": h})
    return EulerContributions(
        keys=_keys(keys, n), level=alpha, horizon_days=h,
        var=var_k * sigma - float(sizes @ mu), cvar=cvar_k * sigma - float(sizes @ mu),
        var_component=sizes * var_marginal, cvar_component=sizes * cvar_marginal,
        var_marginal_per_unit=var_marginal, cvar_marginal_per_unit=cvar_marginal,
        provenance=provenance)


@dataclass(frozen=True, slots=True)
class IncrementalRisk:
    """Risk of a base portfolio without and with an addition, on the same scenarios."""

    level: float
    var_without: float
    var_with: float
    cvar_without: float
    cvar_with: float
    provenance: Provenance

    @property
    def var_added(self) -> float:
        return self.var_with - self.var_without

    @property
    def cvar_added(self) -> float:
        return self.cvar_with - self.cvar_without


def incremental_risk(base_pnl: npt.ArrayLike, added_pnl: npt.ArrayLike, level: float, *,
                     weights: npt.ArrayLike | None = None) -> IncrementalRisk:
    """What ``added_pnl`` does to the VaR and CVaR of ``base_pnl`` (both ``(n_scenarios,)``).

    Both are measured on the same scenarios (and weights), so the difference carries little
    simulation noise.
    """
    base = np.asarray(base_pnl, dtype=np.float64)
    added = np.asarray(added_pnl, dtype=np.float64)
    if base.shape != added.shape or base.ndim != 1:
        raise InvalidInput(f"base {base.shape} and added {added.shape} P&L must be 1-D of "
                           "the same length", field="added_pnl")
    without = tail_estimate(base, level, weights=weights)
    with_ = tail_estimate(base + added, level, weights=weights)
    return IncrementalRisk(
        level=without.level, var_without=without.var, var_with=with_.var,
        cvar_without=without.cvar, cvar_with=with_.cvar,
        provenance=Provenance(method="incremental.scenario",
                              inputs_hash=array_hash(base, added,
                                                     [] if weights is None else weights),
                              parameters={"level": without.level,
                                          "weighted": weights is not None}))


def book_incremental_risk(base: RiskBook, added: RiskBook, factors: Sequence[str],
                          moves: npt.ArrayLike, level: float, *,
                          weights: npt.ArrayLike | None = None,
                          currency: str = "USD") -> IncrementalRisk:
    """Risk of ``base`` without and with the positions of ``added`` on the same scenarios.

    For what the crypto sleeve adds to the whole reserve:
    ``book_incremental_risk(book.select(crypto=False), book.select(crypto=True), ...)``.
    """
    def total(book: RiskBook) -> FloatArray:
        n = np.asarray(moves).shape[0]
        if not book.positions:
            return np.zeros(n)
        return np.asarray(scenario_pnl(book, factors, moves, currency=currency).sum(axis=1),
                          dtype=np.float64)

    return incremental_risk(total(base), total(added), level, weights=weights)
