"""The gate's input series and the rolling value of each signal kind, with no look-ahead.

Every rolling signal is computed for all observations of its series at once; entry ``t``
uses observations ``<= t`` only, and each window is reduced on its own, so a value does not
depend on how much history follows it. :func:`qoima.allocation.gate.evaluate_gate` reads
the last entry of the same arrays computed on the history up to the as-of date, and
:func:`qoima.allocation.gate.gate_signal_series` reads every entry: both paths share these
functions, which is why they agree.

Windows count *observations* of the series (sessions for VIX/DXY, days for BTC), as the
policy model says; ``days_since_low`` alone is in calendar days.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt

from qoima.domain.errors import InvalidInput
from qoima.policy.allocation import GateSignal, GateSignalKind

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Kinds computed here as rolling arrays; GARCH and REGIME need a model fit per date and
#: are evaluated on the as-of date only (see :mod:`qoima.allocation.gate`).
ROLLING_KINDS = frozenset({
    GateSignalKind.REALIZED_VOLATILITY, GateSignalKind.DRAWDOWN,
    GateSignalKind.DAYS_SINCE_LOW, GateSignalKind.LEVEL, GateSignalKind.CHANGE,
    GateSignalKind.FLOWS})
#: A series whose last observation is more than this many calendar days before the as-of
#: date is treated as missing: a week covers weekends and exchange holidays, not a feed
#: that has stopped.
MAX_STALENESS_DAYS = 7


@dataclass(frozen=True, slots=True, eq=False)
class GateSeries:
    """One series the gate reads: closes (or daily flows for ``flows``), oldest first.

    Attributes
    ----------
    name : str
        The name signals refer to (``GateSignal.series``), e.g. ``BTC``, ``VIX``, ``DXY``.
    dates : tuple of date, length n_obs
        Strictly increasing.
    values : ndarray of float64, shape (n_obs,)
        Finite; closes must be positive for the return-based kinds.
    ordinals : ndarray of int64, shape (n_obs,)
        ``date.toordinal()`` of each date (derived).
    """

    name: str
    dates: tuple[date, ...]
    values: FloatArray
    ordinals: IntArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        values = np.ascontiguousarray(np.asarray(self.values, dtype=np.float64))
        if values.ndim != 1 or values.shape[0] != len(self.dates):
            raise InvalidInput(f"series {self.name}: {len(self.dates)} dates for values of "
                               f"shape {values.shape}", field="values")
        if not np.all(np.isfinite(values)):
            bad = int(np.flatnonzero(~np.isfinite(values))[0])
            raise InvalidInput(f"series {self.name}: value on {self.dates[bad]} is not a "
                               "finite number", field="values")
        ordinals = np.fromiter((d.toordinal() for d in self.dates), dtype=np.int64,
                               count=len(self.dates))
        if ordinals.size > 1 and np.any(np.diff(ordinals) <= 0):
            bad = int(np.flatnonzero(np.diff(ordinals) <= 0)[0]) + 1
            raise InvalidInput(f"series {self.name}: dates must be strictly increasing "
                               f"(at {self.dates[bad]})", field="dates")
        values.setflags(write=False)
        object.__setattr__(self, "values", values)
        ordinals.setflags(write=False)
        object.__setattr__(self, "ordinals", ordinals)

    def count_until(self, as_of: date) -> int:
        """How many observations are dated on or before ``as_of``."""
        return int(np.searchsorted(self.ordinals, as_of.toordinal(), side="right"))


def history_needed(signal: GateSignal) -> int:
    """Observations of the series one value of ``signal`` needs (its percentile included)."""
    base = {
        GateSignalKind.REALIZED_VOLATILITY: signal.window_days + 1,
        GateSignalKind.CHANGE: signal.window_days + 1,
        GateSignalKind.FLOWS: signal.window_days,
        GateSignalKind.DRAWDOWN: signal.lookback_days,
        GateSignalKind.DAYS_SINCE_LOW: signal.lookback_days,
        GateSignalKind.LEVEL: 1,
        GateSignalKind.GARCH_VOLATILITY: signal.lookback_days + 1,
        GateSignalKind.REGIME: 2,
    }[signal.signal]
    if signal.max_percentile is not None and signal.signal in ROLLING_KINDS:
        base += signal.lookback_days - 1
    return base


def rolling_values(signal: GateSignal, values: FloatArray, ordinals: IntArray) -> FloatArray:
    """The signal's value at every observation, shape (n_obs,); NaN while history is short.

    ``values`` are the series' closes (flows for ``flows``), ``ordinals`` their dates.
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    kind = signal.signal
    if kind is GateSignalKind.LEVEL:
        out[:] = values
    elif kind is GateSignalKind.REALIZED_VOLATILITY:
        window = signal.window_days
        if n >= window + 1:
            returns = values[1:] / values[:-1] - 1.0
            windows = np.lib.stride_tricks.sliding_window_view(returns, window)
            out[window:] = windows.std(axis=1, ddof=1) * math.sqrt(signal.annualization)
    elif kind is GateSignalKind.CHANGE:
        window = signal.window_days
        if n >= window + 1:
            out[window:] = values[window:] / values[:-window] - 1.0
    elif kind is GateSignalKind.FLOWS:
        window = signal.window_days
        if n >= window:
            out[window - 1:] = np.lib.stride_tricks.sliding_window_view(
                values, window).sum(axis=1)
    elif kind is GateSignalKind.DRAWDOWN:
        lookback = signal.lookback_days
        if n >= lookback:
            peaks = np.lib.stride_tricks.sliding_window_view(values, lookback).max(axis=1)
            out[lookback - 1:] = 1.0 - values[lookback - 1:] / peaks
    elif kind is GateSignalKind.DAYS_SINCE_LOW:
        lookback = signal.lookback_days
        if n >= lookback:
            windows = np.lib.stride_tricks.sliding_window_view(values, lookback)
            # the latest occurrence of the low: argmin of the reversed window
            back = windows[:, ::-1].argmin(axis=1)
            ends = np.arange(lookback - 1, n)
            out[lookback - 1:] = ordinals[ends] - ordinals[ends - back]
    else:
        raise InvalidInput(f"gate signal {signal.id}: {kind} has no rolling form",
                           field="signal")
    return out


def rolling_percentile_bounds(signal: GateSignal, signal_values: FloatArray) -> FloatArray:
    """The ``max_percentile`` quantile of the signal's own last ``lookback_days`` values
    (linear interpolation, as ``numpy.quantile``), shape (n_obs,); NaN until that many
    values exist."""
    n = signal_values.shape[0]
    out = np.full(n, np.nan)
    if signal.max_percentile is None:
        return out
    lookback = signal.lookback_days
    if n >= lookback:
        windows = np.lib.stride_tricks.sliding_window_view(signal_values, lookback)
        complete = ~np.isnan(windows).any(axis=1)
        if complete.any():
            quantiles = np.quantile(windows[complete], float(signal.max_percentile), axis=1)
            tail = out[lookback - 1:]
            tail[complete] = quantiles
    return out


def passes(signal: GateSignal, value: FloatArray, percentile_bound: FloatArray
           ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """(passed, available), each shaped like ``value``: the bounds of ``signal`` applied.

    A value is available when it is finite and, for a percentile bound, so is the bound.
    """
    available = np.isfinite(value)
    ok = available.copy()
    if signal.max_value is not None:
        ok &= value <= float(signal.max_value)
    if signal.min_value is not None:
        ok &= value >= float(signal.min_value)
    if signal.max_percentile is not None:
        bound_known = np.isfinite(percentile_bound)
        available &= bound_known
        ok &= bound_known & (value <= percentile_bound)
    return ok & available, available


# -- plain sentences -----------------------------------------------------------------------


def describe(signal: GateSignal) -> str:
    """What the signal measures, in words: ``BTC 30-day realized volatility``."""
    name, kind = signal.series, signal.signal
    return {
        GateSignalKind.REALIZED_VOLATILITY:
            f"{name} {signal.window_days}-day realized volatility",
        GateSignalKind.GARCH_VOLATILITY:
            f"{name} GARCH(1,1) volatility (fit on {signal.lookback_days} days)",
        GateSignalKind.REGIME: f"{name} volatility regime",
        GateSignalKind.DRAWDOWN: f"{name} drawdown from its {signal.lookback_days}-day high",
        GateSignalKind.DAYS_SINCE_LOW:
            f"{name} days since its {signal.lookback_days}-day low",
        GateSignalKind.LEVEL: f"{name} level",
        GateSignalKind.CHANGE: f"{name} {signal.window_days}-day change",
        GateSignalKind.FLOWS: f"{name} {signal.window_days}-day net flows",
    }[kind]


def format_value(signal: GateSignal, value: float) -> str:
    """A value in the signal's unit: percent, days, USD or the plain number."""
    kind = signal.signal
    if kind in (GateSignalKind.REALIZED_VOLATILITY, GateSignalKind.GARCH_VOLATILITY,
                GateSignalKind.DRAWDOWN):
        return f"{value * 100:.1f} %"
    if kind is GateSignalKind.CHANGE:
        return f"{value * 100:+.1f} %"
    if kind is GateSignalKind.DAYS_SINCE_LOW:
        return f"{value:.0f} days"
    if kind is GateSignalKind.FLOWS:
        return f"USD {value / 1e6:,.1f}M"
    return f"{value:,.2f}"


def _bound(signal: GateSignal, value: float) -> str:
    text = format_value(signal, value)
    return text.replace("+", "") if signal.signal is GateSignalKind.CHANGE else text


def threshold_text(signal: GateSignal) -> str:
    """The signal's pass condition: ``<= 80.0 %``, ``>= 30 days``, ``not in crisis``."""
    if signal.signal is GateSignalKind.REGIME:
        return "not " + " / ".join(signal.block_labels)
    parts = []
    if signal.min_value is not None:
        parts.append(">= " + _bound(signal, float(signal.min_value)))
    if signal.max_value is not None:
        parts.append("<= " + _bound(signal, float(signal.max_value)))
    if signal.max_percentile is not None:
        parts.append(f"<= its {float(signal.max_percentile) * 100:g}th percentile over "
                     f"{signal.lookback_days} observations")
    return " and ".join(parts)


def verdict_sentence(signal: GateSignal, value: float | str, passed: bool,
                     percentile_bound: float | None) -> str:
    """``BTC 30-day realized volatility 84.2 % is above the maximum of 80.0 %``."""
    subject = describe(signal)
    if isinstance(value, str):
        blocked = ", ".join(signal.block_labels)
        return (f"{subject} is {value}, a blocked label ({blocked})" if not passed
                else f"{subject} is {value}, not blocked ({blocked} block)")
    shown = format_value(signal, value)
    if passed:
        return f"{subject} {shown} is within {threshold_text(signal)}"
    if signal.max_value is not None and value > float(signal.max_value):
        limit = _bound(signal, float(signal.max_value))
        return f"{subject} {shown} is above the maximum of {limit}"
    if signal.min_value is not None and value < float(signal.min_value):
        limit = _bound(signal, float(signal.min_value))
        return f"{subject} {shown} is below the minimum of {limit}"
    pct = float(signal.max_percentile or 0) * 100
    bound = "n/a" if percentile_bound is None else _bound(signal, percentile_bound)
    return (f"{subject} {shown} is above its {pct:g}th percentile over the last "
            f"{signal.lookback_days} observations ({bound})")


# -- shared by the vectorized gate ------------------------------------------------------


class SignalCache:
    """Rolling values and percentile bounds per (series, signal definition), shared by the
    many gates of a parameter grid, which differ in thresholds only."""

    def __init__(self, series: Mapping[str, GateSeries]) -> None:
        self.series = series
        self._values: dict[tuple[object, ...], tuple[FloatArray, FloatArray]] = {}
        self._positions: dict[tuple[str, bytes], tuple[npt.NDArray[np.int64], BoolArray]] = {}

    def arrays(self, signal: GateSignal) -> tuple[FloatArray, FloatArray]:
        key = (signal.series, signal.signal, signal.window_days, signal.lookback_days,
               signal.annualization, signal.max_percentile)
        if key not in self._values:
            s = self.series[signal.series]
            values = rolling_values(signal, s.values, s.ordinals)
            self._values[key] = (values, rolling_percentile_bounds(signal, values))
        return self._values[key]

    def positions(self, name: str, ordinals: npt.NDArray[np.int64]
                  ) -> tuple[npt.NDArray[np.int64], BoolArray]:
        """Index of the last observation on or before each date, and whether it is fresh."""
        key = (name, ordinals.tobytes())
        if key not in self._positions:
            s = self.series[name]
            index = np.searchsorted(s.ordinals, ordinals, side="right") - 1
            fresh = index >= 0
            fresh[fresh] = ordinals[fresh] - s.ordinals[index[fresh]] <= MAX_STALENESS_DAYS
            self._positions[key] = (np.maximum(index, 0), fresh)
        return self._positions[key]


def run_lengths(flags: BoolArray) -> npt.NDArray[np.int64]:
    """Length of the run of True ending at each index (0 where False)."""
    index = np.arange(flags.shape[0])
    last_false = np.maximum.accumulate(np.where(flags, -1, index))
    return np.asarray(index - last_false, dtype=np.int64)
