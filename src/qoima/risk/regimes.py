"""Volatility regimes: where volatility stands now against its own history, and which
regime (calm / stressed / crisis) each date belongs to, with probabilities.

* :func:`realized_volatility`: rolling standard deviation over a window, annualized with the
  calendar's periods per year (365 for crypto, 252 for exchange-traded), and its percentile
  rank against its own history.
* :func:`volatility_state`: that plus the GARCH(1,1) view (:mod:`qoima.risk.garch`): the
  next day's conditional volatility, annualized, and its rank among the fitted ones.
* :func:`classify_regimes`: a Markov-switching regression (statsmodels ``MarkovRegression``:
  constant mean, regime-switching variance, Hamilton filter and Kim smoother) with three
  regimes, ordered by variance into calm < stressed < crisis. When it fails (the optimizer
  does not converge, or a regime is left empty) it falls back to two regimes (calm <
  stressed), then to fixed realized-volatility percentile bands (calm below the 60th
  percentile, stressed up to the 90th, crisis from the 90th), each step a Finding.
  Deterministic: statsmodels' start values are fixed; an optional random start search is
  seeded.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.risk.checks import check_window
from qoima.risk.garch import Distribution, GarchFit, fit_garch
from qoima.risk.provenance import Provenance, array_hash

FloatArray = npt.NDArray[np.float64]


class RegimeLabel(StrEnum):
    CALM = "calm"
    STRESSED = "stressed"
    CRISIS = "crisis"


LABELS = tuple(RegimeLabel)
#: Fewest returns a classifier accepts.
MIN_OBS = 100
#: Default cap on the classified window: about two years of daily crypto returns, which
#: the three-regime fit handles in a few seconds.
DEFAULT_MAX_OBS = 730
DEFAULT_WINDOW = 30
#: Percentile bands of the fallback classifier: calm < 60 <= stressed < 90 <= crisis.
FALLBACK_BANDS = (60.0, 90.0)
#: A fitted regime holding less than this share of the dates is treated as a failed fit.
MIN_REGIME_SHARE = 0.005
_EM_ITER = 50
_MAX_ITER = 300
_SCALE = 100.0  # returns in percent for the optimizer; variances scaled back


@dataclass(frozen=True, slots=True, eq=False)
class RealizedVolatility:
    """Rolling realized volatility, annualized, and its rank in its own history.

    Attributes
    ----------
    values : ndarray of float64, shape (n_obs - window + 1,)
        ``std(r[i : i + window], ddof=1) * sqrt(periods_per_year)``; entry ``i`` belongs to
        the window's last observation ``i + window - 1``.
    percentile_ranks : ndarray of float64, same shape
        Percent of all ``values`` at or below each one (weak rank, 0-100], as
        ``scipy.stats.percentileofscore(values, v, kind="weak")``.
    current, current_percentile : float
        The last value and its rank: where volatility stands today.
    """

    window: int
    periods_per_year: float
    values: FloatArray
    percentile_ranks: FloatArray
    current: float
    current_percentile: float
    provenance: Provenance


@dataclass(frozen=True, slots=True, eq=False)
class VolatilityState:
    """Realized and GARCH volatility today, each against its own history.

    ``garch_volatility`` is the GARCH forecast for the next period, annualized; its
    percentile is its weak rank among the fitted conditional volatilities.
    """

    garch: GarchFit
    realized: RealizedVolatility
    garch_volatility: float
    garch_percentile: float
    periods_per_year: float
    provenance: Provenance


@dataclass(frozen=True, slots=True, eq=False)
class RegimeResult:
    """Regime of each date with probabilities.

    Attributes
    ----------
    labels : tuple of RegimeLabel, length n_obs
        The most probable regime of each date (smoothed probabilities).
    probabilities : ndarray of float64, shape (n_obs, 3)
        Smoothed probabilities (using the whole window), columns calm, stressed, crisis;
        a column the model lacks is zero; one-hot for the percentile fallback.
    filtered_probabilities : ndarray of float64, shape (n_obs, 3)
        Probabilities using data up to each date only (what was knowable then).
    regime_volatility : Mapping[RegimeLabel, float]
        Per-period volatility of each fitted regime (fraction); for the fallback, the mean
        realized volatility (per period) of the dates in each band. Absent labels are left
        out.
    dates : tuple of date or None
        Dates of the classified observations, when given.
    method : str
        ``markov-switching-3``, ``markov-switching-2`` or ``realized-vol-percentile``.
    current_label, current_probability :
        The last date's label and its probability (smoothed = filtered there).
    """

    labels: tuple[RegimeLabel, ...]
    probabilities: FloatArray
    filtered_probabilities: FloatArray
    regime_volatility: Mapping[RegimeLabel, float]
    dates: tuple[date, ...] | None
    method: str
    current_label: RegimeLabel
    current_probability: float
    provenance: Provenance

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.provenance.warnings


def realized_volatility(returns: npt.ArrayLike, *, window: int = DEFAULT_WINDOW,
                        periods_per_year: float) -> RealizedVolatility:
    """Rolling annualized volatility of ``returns`` (shape (n_obs,), fractions).

    ``periods_per_year`` is required: 365 for crypto calendars, 252 for exchange-traded.
    """
    series = _series(returns, minimum=_check_window_length(window))
    per_year = float(periods_per_year)
    if not per_year > 0 or not math.isfinite(per_year):
        raise InvalidInput(f"periods_per_year must be positive, got {periods_per_year!r}",
                           field="periods_per_year")
    windows = np.lib.stride_tricks.sliding_window_view(series, window)
    values = windows.std(axis=1, ddof=1) * math.sqrt(per_year)
    ranks = _weak_ranks(values, values)
    provenance = Provenance("realized-volatility", array_hash(series),
                            {"window": window, "periods_per_year": repr(per_year),
                             "ddof": 1})
    return RealizedVolatility(window, per_year, values, ranks, float(values[-1]),
                              float(ranks[-1]), provenance)


def volatility_state(returns: npt.ArrayLike, *, periods_per_year: float,
                     window: int = DEFAULT_WINDOW,
                     dist: Distribution = "normal") -> VolatilityState:
    """GARCH(1,1) and realized volatility today, annualized, with their percentile ranks."""
    realized = realized_volatility(returns, window=window, periods_per_year=periods_per_year)
    fit = fit_garch(returns, dist=dist)
    next_volatility = math.sqrt(float(fit.variance_forecast(1)[0]))
    rank = float(_weak_ranks(fit.conditional_volatility, np.array([next_volatility]))[0])
    annualizer = math.sqrt(realized.periods_per_year)
    provenance = Provenance("volatility-state", fit.provenance.inputs_hash,
                            {"window": window, "periods_per_year":
                             repr(realized.periods_per_year), "dist": dist},
                            warnings=fit.findings)
    return VolatilityState(fit, realized, next_volatility * annualizer, rank,
                           realized.periods_per_year, provenance)


def classify_regimes(returns: npt.ArrayLike, *, dates: Sequence[date] | None = None,
                     k_regimes: int = 3, max_obs: int = DEFAULT_MAX_OBS,
                     window: int = DEFAULT_WINDOW, search_reps: int = 0,
                     seed: int = 0) -> RegimeResult:
    """Label each date calm / stressed / crisis with probabilities.

    Parameters
    ----------
    returns : array_like, shape (n_obs,)
        Daily returns (fractions), oldest first; the last ``max_obs`` are classified.
    dates : sequence of date, length n_obs, optional
    k_regimes : 3 or 2
        Regimes of the Markov-switching model tried first (3 falls back to 2).
    max_obs : int
        Cap on the window (the fit's cost grows with it).
    window : int
        Realized-volatility window of the percentile fallback.
    search_reps : int
        Random start-value searches before EM (0: statsmodels' fixed start values).
    seed : int
        Seed of that search (used only when ``search_reps > 0``).
    """
    if k_regimes not in (2, 3):
        raise InvalidInput(f"k_regimes must be 2 or 3, got {k_regimes!r}", field="k_regimes")
    if int(max_obs) != max_obs or max_obs < MIN_OBS:
        raise InvalidInput(f"max_obs must be a whole number >= {MIN_OBS}, got {max_obs!r}",
                           field="max_obs")
    series = np.asarray(returns, dtype=np.float64)
    if series.ndim != 1:
        raise InvalidInput(f"returns must be 1-D, got shape {series.shape}", field="returns")
    if dates is not None and len(dates) != series.shape[0]:
        raise InvalidInput(f"{len(dates)} dates for {series.shape[0]} returns", field="dates")
    series = _series(series[-int(max_obs):], minimum=MIN_OBS)
    kept = tuple(dates[-int(max_obs):]) if dates is not None else None
    _check_window_length(window)
    findings: list[Finding] = []
    fitted: tuple[FloatArray, FloatArray, FloatArray] | None = None
    used = k_regimes
    for used in range(k_regimes, 1, -1):
        fitted = _markov_switching(series, used, search_reps, seed)
        if fitted is not None:
            break
        findings.append(Finding(
            "risk.regime_fit_failed", Severity.WARNING, f"markov-switching-{used}",
            f"the {used}-regime Markov-switching fit did not converge or left a regime "
            f"empty; falling back to {'2 regimes' if used == 3 else 'percentile bands'}",
            kept[-1] if kept else None))
    if fitted is not None:
        smoothed, filtered, volatility = fitted
        method = f"markov-switching-{used}"
    else:
        smoothed, volatility = _percentile_bands(series, window)
        filtered, method = smoothed, "realized-vol-percentile"
    labels = tuple(LABELS[i] for i in np.argmax(smoothed, axis=1))
    parameters: dict[str, Any] = {
        "k_regimes": k_regimes, "max_obs": int(max_obs), "window": window,
        "search_reps": search_reps, "em_iter": _EM_ITER, "maxiter": _MAX_ITER,
        "fallback_bands": [repr(band) for band in FALLBACK_BANDS], "n_obs": len(series)}
    provenance = Provenance(method, array_hash(series), parameters,
                            seed=seed if search_reps > 0 else None, warnings=tuple(findings))
    return RegimeResult(labels, smoothed, filtered,
                        {LABELS[i]: float(v) for i, v in enumerate(volatility)
                         if not math.isnan(v)}, kept, method,
                        labels[-1], float(np.max(smoothed[-1])), provenance)


# -- machinery ---------------------------------------------------------------------------


def _series(returns: npt.ArrayLike, *, minimum: int) -> FloatArray:
    series = np.asarray(returns, dtype=np.float64)
    if series.ndim != 1:
        raise InvalidInput(f"returns must be 1-D, got shape {series.shape}", field="returns")
    return check_window(series, minimum=minimum)


def _check_window_length(window: int) -> int:
    if int(window) != window or window < 2:
        raise InvalidInput(f"window must be a whole number >= 2, got {window!r}",
                           field="window")
    return int(window)


def _weak_ranks(history: FloatArray, values: FloatArray) -> FloatArray:
    """Percent of ``history`` at or below each of ``values``."""
    ordered = np.sort(history)
    counts = np.searchsorted(ordered, values, side="right")
    ranks: FloatArray = 100.0 * counts / ordered.shape[0]
    return ranks


def _markov_switching(series: FloatArray, k: int, search_reps: int,
                      seed: int) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """Smoothed and filtered probabilities (n, 3) and per-regime volatility (k,), regimes
    ordered by variance; None when the fit fails."""
    from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

    model = MarkovRegression(_SCALE * series, k_regimes=k, trend="c", switching_trend=False,
                             switching_variance=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # judged below from the optimizer's own flag
            result = model.fit(em_iter=_EM_ITER, maxiter=_MAX_ITER, disp=False,
                               search_reps=search_reps,
                               rng=np.random.Generator(np.random.PCG64(seed)))
    except (ValueError, np.linalg.LinAlgError):
        return None
    names = list(model.param_names)
    params = np.asarray(result.params, dtype=np.float64)
    variance = np.array([params[names.index(f"sigma2[{i}]")] for i in range(k)])
    smoothed_k = np.asarray(result.smoothed_marginal_probabilities, dtype=np.float64)
    filtered_k = np.asarray(result.filtered_marginal_probabilities, dtype=np.float64)
    converged = bool(result.mle_retvals.get("converged", False))
    finite = bool(np.all(np.isfinite(params)) and np.all(np.isfinite(smoothed_k)))
    if not (converged and finite) or np.any(variance <= 0):
        return None
    if np.min(smoothed_k.mean(axis=0)) < MIN_REGIME_SHARE:
        return None
    order = np.argsort(variance)
    smoothed = np.zeros((series.shape[0], len(LABELS)))
    filtered = np.zeros_like(smoothed)
    smoothed[:, :k] = smoothed_k[:, order]
    filtered[:, :k] = filtered_k[:, order]
    return smoothed, filtered, np.sqrt(variance[order]) / _SCALE


def _percentile_bands(series: FloatArray, window: int) -> tuple[FloatArray, FloatArray]:
    """One-hot probabilities (n, 3) from the realized-volatility percentile bands, and the
    mean realized volatility (per period) within each band (NaN where a band is empty,
    left out of the result).

    The first ``window - 1`` dates, which have no full window yet, take the first window's
    value.
    """
    windows = np.lib.stride_tricks.sliding_window_view(series, window)
    realized = windows.std(axis=1, ddof=1)
    realized = np.concatenate([np.full(window - 1, realized[0]), realized])
    ranks = _weak_ranks(realized, realized)
    band = np.searchsorted(np.asarray(FALLBACK_BANDS), ranks, side="right")
    probabilities = np.zeros((series.shape[0], len(LABELS)))
    probabilities[np.arange(series.shape[0]), band] = 1.0
    volatility = np.array([float(realized[band == i].mean()) if np.any(band == i)
                           else math.nan for i in range(len(LABELS))])
    return probabilities, volatility
