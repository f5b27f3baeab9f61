"""Backtesting a VaR model: exceedances, Kupiec, Christoffersen and the Basel traffic light.

An *exceedance* (exception) is a period whose loss is larger than the VaR forecast for it:
``-realized[t] > var[t]`` (VaR as a positive loss; equal is not an exceedance). With ``n``
periods, ``x`` exceedances and ``p = 1 - level``:

* Kupiec's proportion of failures (1995): ``LR_pof = -2 ln[(1-p)^(n-x) p^x /
  ((1-x/n)^(n-x) (x/n)^x)]``, chi-squared with 1 degree of freedom under a correct model.
* Christoffersen's independence (1998), on the ``n - 1`` transitions of the hit sequence:
  ``LR_ind = -2 ln[(1-pi)^(n00+n10) pi^(n01+n11) / ((1-pi0)^n00 pi0^n01 (1-pi1)^n10
  pi1^n11)]``, ``pi0 = n01 / (n00 + n01)``, ``pi1 = n11 / (n10 + n11)``, ``pi = (n01 +
  n11) / (n - 1)``, chi-squared(1); conditional coverage ``LR_cc = LR_pof + LR_ind``,
  chi-squared(2) (the usual sum; LR_pof counts all n periods).
  Every ``0 * ln 0`` is 0 (``scipy.special.xlogy``), so no or all exceedances are fine.
* Basel traffic light (BCBS 1996, "Supervisory framework for the use of backtesting"): the
  yellow zone starts at the number of exceptions whose binomial(n, p) cumulative
  probability reaches 95 %, the red zone where it reaches 99.99 %. For 250 days at 99 %
  this gives green 0-4, yellow 5-9, red 10 or more, the table of the Basel document.

Every backtest needs ``minimum_observations(level)`` periods (``qoima.risk.measures``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from qoima.domain.errors import InvalidInput
from qoima.risk.checks import FloatArray, check_level, check_window
from qoima.risk.engine import ComputeEngine, default_engine
from qoima.risk.measures import historical_var, minimum_observations
from qoima.risk.provenance import Provenance, array_hash

BoolArray = npt.NDArray[np.bool_]
#: Basel's zone boundaries: cumulative binomial probability of the exception count.
YELLOW_PROBABILITY = 0.95
RED_PROBABILITY = 0.9999


class TrafficLight(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True, slots=True)
class LikelihoodRatioTest:
    """A likelihood-ratio statistic, its chi-squared degrees of freedom and p-value."""

    statistic: float
    dof: int
    p_value: float


@dataclass(frozen=True, slots=True)
class VarBacktest:
    """Outcome of one VaR backtest; ``exceedance_dates`` is empty when no dates were given."""

    series: str
    level: float
    n_obs: int
    n_exceedances: int
    expected_exceedances: float
    exceedance_rate: float
    kupiec: LikelihoodRatioTest
    independence: LikelihoodRatioTest
    conditional_coverage: LikelihoodRatioTest
    zone: TrafficLight
    exceedance_indices: tuple[int, ...]
    exceedance_dates: tuple[date, ...]
    provenance: Provenance


def exceedances(realized: npt.ArrayLike, var: npt.ArrayLike) -> BoolArray:
    """Where the loss ``-realized`` is larger than the VaR forecast (n_obs,) booleans."""
    returns, forecast = np.asarray(realized, np.float64), np.asarray(var, np.float64)
    if returns.ndim != 1 or returns.shape != forecast.shape:
        raise InvalidInput(f"realized {returns.shape} and VaR {forecast.shape} must be "
                           "1-D of the same length", field="var")
    return np.asarray(-returns > forecast)


def kupiec_pof(n_obs: int, n_exceedances: int, level: float) -> LikelihoodRatioTest:
    """Kupiec's proportion-of-failures test (module docstring)."""
    n, x, p = _counts(n_obs, n_exceedances), int(n_exceedances), 1.0 - check_level(level)
    rate = x / n
    null = special.xlogy(n - x, 1.0 - p) + special.xlogy(x, p)
    fitted = special.xlogy(n - x, 1.0 - rate) + special.xlogy(x, rate)
    return _chi2(-2.0 * (null - fitted), 1)


def christoffersen_independence(hits: npt.ArrayLike) -> LikelihoodRatioTest:
    """Christoffersen's test that exceedances do not cluster (first-order Markov)."""
    sequence = np.asarray(hits, dtype=np.bool_)
    if sequence.ndim != 1 or sequence.size < 2:
        raise InvalidInput("the independence test needs a 1-D hit sequence of length >= 2",
                           field="hits")
    before, after = sequence[:-1], sequence[1:]
    n01 = int(np.count_nonzero(~before & after))
    n11 = int(np.count_nonzero(before & after))
    n00 = int(np.count_nonzero(~before & ~after))
    n10 = int(np.count_nonzero(before & ~after))
    pi = (n01 + n11) / (sequence.size - 1)
    pi0 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi1 = n11 / (n10 + n11) if n10 + n11 else 0.0
    null = special.xlogy(n00 + n10, 1.0 - pi) + special.xlogy(n01 + n11, pi)
    fitted = (special.xlogy(n00, 1.0 - pi0) + special.xlogy(n01, pi0)
              + special.xlogy(n10, 1.0 - pi1) + special.xlogy(n11, pi1))
    return _chi2(-2.0 * (null - fitted), 1)


def traffic_light_bounds(n_obs: int, level: float) -> tuple[int, int]:
    """The largest exception counts still green and still yellow for ``n_obs`` at ``level``:
    ``(4, 9)`` for 250 observations at 99 %."""
    n, p = _counts(n_obs, 0), 1.0 - check_level(level)
    counts = np.arange(n + 1)
    cumulative = stats.binom.cdf(counts, n, p)
    green = int(np.count_nonzero(cumulative < YELLOW_PROBABILITY)) - 1
    yellow = int(np.count_nonzero(cumulative < RED_PROBABILITY)) - 1
    return green, yellow


def traffic_light(n_obs: int, n_exceedances: int, level: float) -> TrafficLight:
    """Basel zone of ``n_exceedances`` exceptions in ``n_obs`` periods at ``level``."""
    x = int(n_exceedances)
    _counts(n_obs, x)
    green, yellow = traffic_light_bounds(n_obs, level)
    if x <= green:
        return TrafficLight.GREEN
    return TrafficLight.YELLOW if x <= yellow else TrafficLight.RED


def backtest_var(realized: npt.ArrayLike, var: npt.ArrayLike, level: float, *,
                 dates: Sequence[date] | None = None, series: str = "",
                 method: str = "given") -> VarBacktest:
    """Backtest a VaR forecast series ``var`` (positive losses) against ``realized`` returns
    or P&L, both (n_obs,) and aligned: ``var[t]`` is the forecast made before period t."""
    level = check_level(level)
    returns = check_window(np.asarray(realized, np.float64), minimum=minimum_observations(level),
                           what="realized", allow_constant=True)
    forecast = check_window(np.asarray(var, np.float64), minimum=1, what="var",
                            allow_constant=True)
    hits = exceedances(returns, forecast)
    if dates is not None and len(dates) != hits.size:
        raise InvalidInput(f"{len(dates)} dates for {hits.size} periods", field="dates")
    n, x = hits.size, int(np.count_nonzero(hits))
    kupiec = kupiec_pof(n, x, level)
    independence = christoffersen_independence(hits)
    coverage = _chi2(kupiec.statistic + independence.statistic, 2)
    where = tuple(int(i) for i in np.flatnonzero(hits))
    return VarBacktest(
        series=series, level=level, n_obs=n, n_exceedances=x,
        expected_exceedances=n * (1.0 - level), exceedance_rate=x / n, kupiec=kupiec,
        independence=independence, conditional_coverage=coverage,
        zone=traffic_light(n, x, level), exceedance_indices=where,
        exceedance_dates=tuple(dates[i] for i in where) if dates is not None else (),
        provenance=Provenance(method=f"risk.backtest.{method}",
                              inputs_hash=array_hash(returns, forecast),
                              parameters={"level": level, "forecast": method}))


def rolling_historical_var(returns: npt.ArrayLike, window: int, level: float, *,
                           quantile_method: str = "linear") -> FloatArray:
    """Historical VaR forecasts from the previous ``window`` values: element ``i`` uses
    ``returns[i : i + window]`` and forecasts period ``i + window``; shape (n_obs - window,).
    """
    level = check_level(level)
    window = int(window)
    if window < minimum_observations(level):
        raise InvalidInput(f"a window of {window} is too short at level {level}; at least "
                           f"{minimum_observations(level)}", field="window")
    values = check_window(np.asarray(returns, np.float64), minimum=window + 1,
                          what="returns", allow_constant=True)
    if values.ndim != 1:
        raise InvalidInput("rolling VaR takes one series", field="returns")
    windows = np.lib.stride_tricks.sliding_window_view(values[:-1], window)
    return np.asarray(historical_var(windows.T, level, method=quantile_method),
                      dtype=np.float64)


def backtest_rolling_historical(returns: npt.ArrayLike, window: int, level: float, *,
                                dates: Sequence[date] | None = None, series: str = "",
                                quantile_method: str = "linear") -> VarBacktest:
    """Backtest rolling-window historical VaR on ``returns`` (n_obs,): the periods after
    the first ``window`` are tested; ``dates`` (n_obs) date the returns."""
    values = np.asarray(returns, np.float64)
    forecast = rolling_historical_var(values, window, level, quantile_method=quantile_method)
    tested_dates = None if dates is None else _tail(dates, values.shape[0], int(window))
    return backtest_var(values[int(window):], forecast, level, dates=tested_dates,
                        series=series, method=f"rolling-historical-{int(window)}")


@dataclass(frozen=True, slots=True)
class BacktestTask:
    """One backtest of a grid: a series, a rolling window and a level (picklable)."""

    series: str
    values: FloatArray
    dates: tuple[date, ...] | None
    window: int
    level: float


def run_backtest_task(task: BacktestTask) -> VarBacktest:
    return backtest_rolling_historical(task.values, task.window, task.level, dates=task.dates,
                                       series=task.series)


def backtest_grid(series: Mapping[str, tuple[npt.ArrayLike, Sequence[date] | None]],
                  windows: Sequence[int], levels: Sequence[float], *,
                  engine: ComputeEngine | None = None) -> tuple[VarBacktest, ...]:
    """Every series × window × level backtest, in that order, in-process or on ``engine``
    (each backtest is deterministic, so every engine gives the same results)."""
    tasks = [BacktestTask(name, np.asarray(values, np.float64),
                          None if dates is None else tuple(dates), int(window),
                          check_level(level))
             for name, (values, dates) in series.items()
             for window in windows for level in levels]
    return tuple(default_engine(engine).map(run_backtest_task, tasks))


def _tail(dates: Sequence[date], n: int, window: int) -> Sequence[date]:
    if len(dates) != n:
        raise InvalidInput(f"{len(dates)} dates for {n} returns", field="dates")
    return dates[window:]


def _counts(n_obs: int, n_exceedances: int) -> int:
    n = int(n_obs)
    if n < 1 or not 0 <= int(n_exceedances) <= n:
        raise InvalidInput(f"need 0 <= exceedances ({n_exceedances}) <= observations "
                           f"({n_obs}) and at least one observation", field="n_exceedances")
    return n


def _chi2(statistic: float, dof: int) -> LikelihoodRatioTest:
    value = max(float(statistic), 0.0)  # rounding can leave -1e-15 where the fit is exact
    return LikelihoodRatioTest(statistic=value, dof=dof,
                               p_value=float(stats.chi2.sf(value, dof)))

