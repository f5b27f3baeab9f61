"""Performance and drawdown statistics of simple returns, vectorized over series.

Definitions follow empyrical (and agree with quantstats where both define a statistic);
each is tested against them on the same data in ``tests/risk/test_performance.py``.
``returns`` are per-period *simple* returns (fractions), shape ``(n_obs,)`` or
``(n_obs, n_series)``; ``periods_per_year`` comes from the series' calendar
(:func:`periods_per_year`: 365 where there is a session every day, 252 for exchange-traded
and business-day calendars).

* annual return: ``prod(1 + r) ** (periods_per_year / n) - 1`` (CAGR, empyrical
  ``annual_return``; quantstats ``cagr`` computes the same);
* annual volatility: ``std(r, ddof=1) * sqrt(periods_per_year)``;
* Sharpe: ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(periods_per_year)`` with ``rf`` the
  risk-free return *per period* (empyrical; quantstats takes an annual rate and converts it
  to ``(1 + rf) ** (1 / periods) - 1`` per period: pass that per-period figure to match);
* Sortino: ``mean(r - t) * periods_per_year / downside``, ``downside =
  sqrt(mean(min(r - t, 0) ** 2)) * sqrt(periods_per_year)`` over *all* n periods
  (empyrical ``downside_risk``; quantstats' ``sortino`` is the same, its per-period rf
  playing ``t``);
* drawdown: the value path starts at 1 before the first return (as empyrical's anchor and
  quantstats' phantom baseline), ``dd_t = V_t / max(V_0..V_t) - 1``; max drawdown is its
  minimum, a negative fraction (-0.77 for a 77 % fall), 0 when the path never falls;
* Calmar: annual return / |max drawdown|.

Undefined ratios (no downside for Sortino, no drawdown for Calmar) are ``inf``/``nan`` in
the array functions, as empyrical gives them, and ``None`` in :class:`PerformanceStats`.
Deliberate differences from quantstats: the risk-free rate is per period (above); the input
is always returns (quantstats guesses whether it was given prices); NaN is an error, not
skipped (a gap must be dealt with upstream, in the alignment of returns).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from qoima.domain.errors import InvalidInput
from qoima.market.calendars import CalendarName
from qoima.risk.checks import FloatArray, as_matrix, check_level, check_window
from qoima.risk.measures import historical_tail, minimum_observations, normal_var_cvar
from qoima.risk.provenance import Provenance, array_hash

#: Calendars with a session on every calendar day.
_EVERY_DAY = frozenset({CalendarName.CRYPTO, CalendarName.DAILY})
#: Fewest returns any statistic accepts (a sample standard deviation needs two).
MIN_RETURNS = 2
#: Max drawdown runs time segments side by side once the batch is this wide.
_SEGMENT_MIN_SERIES = 64
_SEGMENT_TARGET_WIDTH = 16384
_SEGMENT_MIN_LENGTH = 32


def periods_per_year(calendar: CalendarName | str) -> int:
    """365 for calendars with a session every day (crypto, daily), 252 for the others."""
    try:
        name = CalendarName(calendar)
    except ValueError:
        raise InvalidInput(f"unknown calendar {calendar!r}", field="calendar") from None
    return 365 if name in _EVERY_DAY else 252


def _returns(returns: npt.ArrayLike, minimum: int = MIN_RETURNS) -> tuple[FloatArray, bool]:
    """Checked simple returns as a matrix (n_obs, n_series) and whether the input was 1-D.

    Two column reductions (min, max) prove the usual case clean: finite (NaN and inf show
    in them), not constant, not below -100 %; otherwise ``check_window`` names the fault.
    """
    matrix, one_d = as_matrix(returns, what="returns")
    clean = False
    if matrix.shape[0] >= minimum and matrix.size:
        low, high = matrix.min(axis=0), matrix.max(axis=0)
        clean = bool(np.isfinite(low).all() and np.isfinite(high).all() and (high > low).all())
    if not clean:
        matrix = check_window(matrix, minimum=minimum)
        low = matrix.min(axis=0, initial=0.0)
    if (low < -1.0).any():
        raise InvalidInput("simple returns cannot be below -100 %", field="returns")
    return matrix, one_d


def _ppy(periods: float) -> float:
    if not float(periods) > 0:
        raise InvalidInput(f"periods per year must be positive, got {periods!r}",
                           field="periods_per_year")
    return float(periods)


def _out(array: FloatArray, one_d: bool) -> float | FloatArray:
    return float(array[0]) if one_d else array


def _annual_return(matrix: FloatArray, periods: float) -> FloatArray:
    growth = np.prod(1.0 + matrix, axis=0)
    return np.asarray(growth ** (periods / matrix.shape[0]) - 1.0, dtype=np.float64)


def _mean_std(matrix: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Column means and sample standard deviations (ddof=1), two passes."""
    mean = matrix.mean(axis=0)
    centered = matrix - mean
    squares = np.einsum("ij,ij->j", centered, centered)
    return mean, np.sqrt(squares / (matrix.shape[0] - 1))


def _sharpe(matrix: FloatArray, periods: float, risk_free: float,
            mean_std: tuple[FloatArray, FloatArray] | None = None) -> FloatArray:
    mean, std = mean_std or _mean_std(matrix)  # the excess has the returns' dispersion
    return np.asarray((mean - risk_free) / std * math.sqrt(periods), dtype=np.float64)


def _downside(matrix: FloatArray, periods: float, required: float) -> FloatArray:
    shortfall = np.minimum(matrix - required if required else matrix, 0.0)
    squares = np.einsum("ij,ij->j", shortfall, shortfall)
    return np.asarray(np.sqrt(squares / matrix.shape[0] * periods), dtype=np.float64)


def _sortino(matrix: FloatArray, periods: float, required: float,
             mean: FloatArray | None = None) -> FloatArray:
    excess_mean = (matrix.mean(axis=0) if mean is None else mean) - required
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(excess_mean * periods / _downside(matrix, periods, required),
                          dtype=np.float64)


def annual_return(returns: npt.ArrayLike, periods_per_year: float) -> float | FloatArray:
    """Compound annual growth rate per series (module docstring)."""
    matrix, one_d = _returns(returns)
    return _out(_annual_return(matrix, _ppy(periods_per_year)), one_d)


def annual_volatility(returns: npt.ArrayLike, periods_per_year: float) -> float | FloatArray:
    matrix, one_d = _returns(returns)
    return _out(_mean_std(matrix)[1] * math.sqrt(_ppy(periods_per_year)), one_d)


def sharpe_ratio(returns: npt.ArrayLike, periods_per_year: float, *,
                 risk_free_per_period: float = 0.0) -> float | FloatArray:
    """Annualized Sharpe ratio of the excess over a per-period risk-free return."""
    matrix, one_d = _returns(returns)
    return _out(_sharpe(matrix, _ppy(periods_per_year), float(risk_free_per_period)), one_d)


def downside_deviation(returns: npt.ArrayLike, periods_per_year: float, *,
                       required_return_per_period: float = 0.0) -> float | FloatArray:
    """Annualized root mean square of ``min(r - required, 0)`` over all periods."""
    matrix, one_d = _returns(returns)
    return _out(_downside(matrix, _ppy(periods_per_year), float(required_return_per_period)),
                one_d)


def sortino_ratio(returns: npt.ArrayLike, periods_per_year: float, *,
                  required_return_per_period: float = 0.0) -> float | FloatArray:
    """Annualized mean excess over ``required`` divided by the downside deviation."""
    matrix, one_d = _returns(returns)
    return _out(_sortino(matrix, _ppy(periods_per_year), float(required_return_per_period)),
                one_d)


def drawdown_path(returns: npt.ArrayLike) -> FloatArray:
    """Drawdowns of the value path, shape (n_obs + 1,) or (n_obs + 1, n_series); row 0 is
    the starting value (drawdown 0)."""
    matrix, one_d = _returns(returns)
    path = _drawdowns(matrix)
    return path[:, 0] if one_d else path


def _drawdowns(matrix: FloatArray) -> FloatArray:
    value = np.ones((matrix.shape[0] + 1, matrix.shape[1]))
    np.cumprod(1.0 + matrix, axis=0, out=value[1:])
    return np.asarray(value / np.maximum.accumulate(value, axis=0) - 1.0, dtype=np.float64)


def _max_drawdown(matrix: FloatArray) -> FloatArray:
    """Max drawdown per column. Wide batches split time into segments run side by side
    (one ufunc call covers every segment of every series), then chain the segments: within
    segment s, starting at value C and after a peak P so far,
    ``min_t C w_t / max(P, C m_t) = min(C min_t w_t / P, min_t w_t / m_t)``."""
    n, n_series = matrix.shape
    segments = min(-(-_SEGMENT_TARGET_WIDTH // n_series), n // _SEGMENT_MIN_LENGTH)
    if n_series < _SEGMENT_MIN_SERIES or segments < 2:
        return np.asarray(_drawdowns(matrix).min(axis=0), dtype=np.float64)
    length = -(-n // segments)
    growth = np.empty((segments * length, n_series))
    np.add(matrix, 1.0, out=growth[:n])
    growth[n:] = 1.0  # zero returns pad the last segment: no effect
    steps = growth.reshape(segments, length, n_series)
    value, peak, worst, low, ratio = (np.ones((segments, n_series)) for _ in range(5))
    for i in range(length):
        np.multiply(value, steps[:, i], out=value)
        np.maximum(peak, value, out=peak)
        np.divide(value, peak, out=ratio)
        np.minimum(worst, ratio, out=worst)
        np.minimum(low, value, out=low)
    start, high = np.ones(n_series), np.ones(n_series)
    result = np.ones(n_series)
    for s in range(segments):
        np.minimum(result, np.minimum(start * low[s] / high, worst[s]), out=result)
        np.maximum(high, start * peak[s], out=high)
        start = start * value[s]
    return result - 1.0


def max_drawdown(returns: npt.ArrayLike) -> float | FloatArray:
    """Largest fall of the value path from a previous peak, a fraction <= 0, per series."""
    matrix, one_d = _returns(returns)
    return _out(_max_drawdown(matrix), one_d)


def calmar_ratio(returns: npt.ArrayLike, periods_per_year: float) -> float | FloatArray:
    """Annual return / |max drawdown|; nan where the path never falls."""
    matrix, one_d = _returns(returns)
    depth = -_max_drawdown(matrix)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(depth > 0, _annual_return(matrix, _ppy(periods_per_year)) / depth,
                         np.nan)
    return _out(np.asarray(ratio, dtype=np.float64), one_d)


class RiskArrays(NamedTuple):
    """Five measures of many series, each an array (n_series,) (:func:`risk_arrays`)."""

    var: FloatArray
    cvar: FloatArray
    max_drawdown: FloatArray
    sharpe_ratio: FloatArray
    sortino_ratio: FloatArray


def risk_arrays(returns: npt.ArrayLike, periods_per_year: float, *, level: float = 0.95,
                var_method: str = "historical", risk_free_per_period: float = 0.0,
                required_return_per_period: float = 0.0) -> RiskArrays:
    """VaR and CVaR at ``level`` (``var_method`` "historical" or "normal", as in
    :mod:`qoima.risk.measures`), max drawdown, Sharpe and Sortino of every column of
    ``returns`` (n_obs, n_series) in one call: the input is checked once and the mean is
    shared. Plain arrays for screening many series; per-series results with provenance are
    :func:`performance_table` and :func:`qoima.risk.measures.var_table`."""
    level = check_level(level)
    matrix, _ = _returns(returns, max(MIN_RETURNS, minimum_observations(level)))
    periods = _ppy(periods_per_year)
    mean_std = _mean_std(matrix)
    if var_method == "historical":
        var, cvar = historical_tail(matrix, level)
    elif var_method == "normal":
        var, cvar = (np.asarray(x, dtype=np.float64) for x in normal_var_cvar(matrix, level))
    else:
        raise InvalidInput(f"var_method must be historical or normal, got {var_method!r}",
                           field="var_method")
    return RiskArrays(
        var=var, cvar=cvar, max_drawdown=_max_drawdown(matrix),
        sharpe_ratio=_sharpe(matrix, periods, float(risk_free_per_period), mean_std),
        sortino_ratio=_sortino(matrix, periods, float(required_return_per_period),
                               mean_std[0]))


# -- per-series statistics with dates --------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DrawdownSpell:
    """A spell under water, from a peak of the value path to its recovery.

    Indices point into the value path of ``n_obs + 1`` points (0: the starting value; i:
    after the i-th return). ``recovery_index`` None: not recovered by the last observation.
    ``periods`` counts return periods from the peak to the recovery, or to the last
    observation when not recovered; ``depth`` is the spell's worst drawdown (< 0).
    """

    depth: float
    peak_index: int
    trough_index: int
    recovery_index: int | None
    periods: int
    peak_date: date | None
    trough_date: date | None
    recovery_date: date | None


@dataclass(frozen=True, slots=True)
class PerformanceStats:
    """Performance and drawdown statistics of one return series (module docstring).

    ``sortino_ratio`` is None when no period falls short of the required return,
    ``calmar_ratio`` and ``max_drawdown_spell`` when the value path never falls,
    ``longest_underwater`` likewise; ``current_underwater_periods`` is 0 at a peak.
    """

    series: str
    n_obs: int
    periods_per_year: float
    total_return: float
    annual_return: float
    annual_volatility: float
    sharpe_ratio: float
    sortino_ratio: float | None
    max_drawdown: float
    max_drawdown_spell: DrawdownSpell | None
    longest_underwater: DrawdownSpell | None
    current_underwater_periods: int
    calmar_ratio: float | None
    provenance: Provenance


def performance_table(returns: npt.ArrayLike, *, periods_per_year: float | None = None,
                      calendar: CalendarName | str | None = None,
                      dates: Sequence[date] | None = None, start_date: date | None = None,
                      risk_free_per_period: float = 0.0,
                      required_return_per_period: float = 0.0,
                      names: Sequence[str] | None = None) -> tuple[PerformanceStats, ...]:
    """:class:`PerformanceStats` for each column of ``returns`` (n_obs,) or (n_obs, n_series).

    Give ``periods_per_year`` or the series' ``calendar``. ``dates`` are the periods' end
    dates (n_obs of them, the starting value dated ``start_date``) or the value path's
    dates (n_obs + 1, the first one being the start); without them the spells carry
    indices only.
    """
    matrix, one_d = _returns(returns)
    periods = _periods(periods_per_year, calendar)
    n, n_series = matrix.shape
    path_dates = _path_dates(dates, start_date, n)
    if names is None:
        labels = ("",) if one_d else tuple(str(i) for i in range(n_series))
    elif len(names) != n_series:
        raise InvalidInput(f"{len(names)} names for {n_series} series", field="names")
    else:
        labels = tuple(names)
    rf, required = float(risk_free_per_period), float(required_return_per_period)
    growth = np.prod(1.0 + matrix, axis=0)
    annual = _annual_return(matrix, periods)
    mean_std = _mean_std(matrix)
    volatility = mean_std[1] * math.sqrt(periods)
    sharpe = _sharpe(matrix, periods, rf, mean_std)
    sortino = _sortino(matrix, periods, required, mean_std[0])
    drawdowns = _drawdowns(matrix)
    inputs_hash = array_hash(matrix[:, 0] if one_d else matrix)  # the input as given
    parameters = {"periods_per_year": periods, "risk_free_per_period": rf,
                  "required_return_per_period": required,
                  "calendar": None if calendar is None else str(calendar)}
    stats = []
    for column, label in enumerate(labels):
        path = drawdowns[:, column]
        worst = float(path.min())
        spell = _spell_at(path, int(np.argmin(path)), path_dates) if worst < 0 else None
        longest, current = _underwater(path, path_dates)
        stats.append(PerformanceStats(
            series=label, n_obs=n, periods_per_year=periods,
            total_return=float(growth[column] - 1.0), annual_return=float(annual[column]),
            annual_volatility=float(volatility[column]), sharpe_ratio=float(sharpe[column]),
            sortino_ratio=float(sortino[column]) if math.isfinite(sortino[column]) else None,
            max_drawdown=worst, max_drawdown_spell=spell, longest_underwater=longest,
            current_underwater_periods=current,
            calmar_ratio=float(annual[column]) / -worst if worst < 0 else None,
            provenance=Provenance(method="risk.performance", inputs_hash=inputs_hash,
                                  parameters=parameters)))
    return tuple(stats)


def performance_stats(returns: npt.ArrayLike, *, periods_per_year: float | None = None,
                      calendar: CalendarName | str | None = None,
                      dates: Sequence[date] | None = None, start_date: date | None = None,
                      risk_free_per_period: float = 0.0,
                      required_return_per_period: float = 0.0,
                      name: str = "") -> PerformanceStats:
    """:class:`PerformanceStats` of one series ``returns`` (n_obs,); see performance_table."""
    array = np.asarray(returns, dtype=np.float64)
    if array.ndim != 1:
        raise InvalidInput(f"performance_stats takes one series, got shape {array.shape}; "
                           "use performance_table for several", field="returns")
    (result,) = performance_table(
        array, periods_per_year=periods_per_year, calendar=calendar, dates=dates,
        start_date=start_date, risk_free_per_period=risk_free_per_period,
        required_return_per_period=required_return_per_period, names=(name,))
    return result


def _periods(periods: float | None, calendar: CalendarName | str | None) -> float:
    if (periods is None) == (calendar is None):
        raise InvalidInput("give either periods_per_year or calendar", field="calendar")
    return _ppy(periods) if periods is not None else float(periods_per_year(str(calendar)))


def _path_dates(dates: Sequence[date] | None, start_date: date | None, n: int
                ) -> tuple[date | None, ...] | None:
    if dates is None:
        return None
    if len(dates) == n + 1:
        return tuple(dates)
    if len(dates) == n:
        return (start_date, *dates)
    raise InvalidInput(f"{len(dates)} dates for {n} returns: give n or n + 1", field="dates")


def _spell_at(path: FloatArray, trough: int, dates: tuple[date | None, ...] | None
              ) -> DrawdownSpell:
    """The spell containing ``trough``: the last peak before it, the first recovery after."""
    at_peak = np.flatnonzero(path[: trough + 1] >= 0.0)
    peak = int(at_peak[-1])
    after = np.flatnonzero(path[trough:] >= 0.0)
    recovery = int(trough + after[0]) if after.size else None
    end = recovery if recovery is not None else path.size - 1
    spell_low = peak + int(np.argmin(path[peak: end + 1]))

    def day(index: int | None) -> date | None:
        return None if dates is None or index is None else dates[index]

    return DrawdownSpell(depth=float(path[spell_low]), peak_index=peak,
                         trough_index=spell_low, recovery_index=recovery, periods=end - peak,
                         peak_date=day(peak), trough_date=day(spell_low),
                         recovery_date=day(recovery))


def _underwater(path: FloatArray, dates: tuple[date | None, ...] | None
                ) -> tuple[DrawdownSpell | None, int]:
    """The longest spell under water (the first of equal ones) and the current spell's
    length in periods (0 at a peak)."""
    below = np.concatenate(([False], path < 0.0, [False])).astype(np.int8)
    edges = np.diff(below)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if starts.size == 0:
        return None, 0
    # spell i: peak at starts[i] - 1, recovery at ends[i]; ends[i] == path.size: none yet,
    # counted to the last observation (path.size - 1)
    open_ended = ends == path.size
    lengths = ends - starts + 1 - open_ended
    longest = int(np.argmax(lengths))
    current = int(lengths[-1]) if open_ended[-1] else 0
    return _spell_at(path, int(starts[longest]), dates), current
