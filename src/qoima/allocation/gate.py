"""The stability gate: GO or WAIT for a date, with a plain reason for every signal.

:func:`evaluate_gate` judges one as-of date from the data dated on or before it;
:func:`gate_signal_series` gives the same judgement for every date of a calendar at once
(the deployment backtests need thousands), for the rolling signals. GARCH volatility and the
regime label need a model fit per date, so they are judged on the as-of date only: the
vectorized path leaves them out and lists them in ``excluded`` (the default gate uses GARCH
as information, never as a requirement). ``confirm_days`` counts consecutive observations of
the *anchor* series (the series of the first required rolling signal) on which every
required rolling signal passed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from qoima.allocation.gate_signals import (
    MAX_STALENESS_DAYS,
    ROLLING_KINDS,
    BoolArray,
    FloatArray,
    GateSeries,
    SignalCache,
    describe,
    history_needed,
    passes,
    rolling_percentile_bounds,
    rolling_values,
    run_lengths,
    threshold_text,
    verdict_sentence,
)
from qoima.domain.canonical import content_hash
from qoima.domain.enums import Severity
from qoima.domain.errors import QoimaError
from qoima.domain.findings import Finding
from qoima.policy.allocation import GateSignal, GateSignalKind, MissingData, StabilityGate
from qoima.risk.provenance import Provenance, array_hash

__all__ = [
    "GateDecision",
    "GateSeries",
    "GateSignalSeries",
    "GateVerdict",
    "SignalCache",
    "SignalReading",
    "evaluate_gate",
    "gate_go_matrix",
    "gate_hash",
    "gate_signal_series",
]


class GateVerdict(StrEnum):
    GO = "go"
    WAIT = "wait"


@dataclass(frozen=True, slots=True)
class SignalReading:
    """One signal on the as-of date.

    ``value`` is a fraction for volatility/drawdown/change (0.842 = 84.2 %), days for
    ``days_since_low``, the close for ``level``, USD for ``flows``, the label for ``regime``;
    None when not available. ``passed`` is None when the value is not available; ``blocks``
    says whether this reading makes the gate wait (required, and failed or missing with
    ``when_missing=wait``). ``data_as_of`` is the date of the last observation used.
    """

    id: str
    signal: GateSignalKind
    series: str
    value: float | str | None
    threshold: str
    passed: bool | None
    required: bool
    blocks: bool
    reason: str
    data_as_of: date | None


@dataclass(frozen=True, slots=True)
class GateDecision:
    """GO or WAIT on ``as_of``, every signal's reading, and why.

    ``passing_streak`` counts the consecutive anchor observations (up to ``confirm_days``)
    on which the required signals passed, the as-of date included. ``gate_hash`` is the
    content hash of the gate's canonical form; the provenance's inputs hash covers every
    observation read.
    """

    as_of: date
    verdict: GateVerdict
    readings: tuple[SignalReading, ...]
    reasons: tuple[str, ...]
    confirm_days: int
    passing_streak: int
    gate_hash: str
    provenance: Provenance

    @property
    def go(self) -> bool:
        return self.verdict is GateVerdict.GO


@dataclass(frozen=True, slots=True, eq=False)
class GateSignalSeries:
    """Every signal's value and verdict on each date of a calendar (rolling signals only).

    Attributes
    ----------
    dates : tuple of date, length n_dates
    signal_ids : tuple of str, length k (the gate's signals that were computed)
    values : ndarray of float64, shape (k, n_dates); NaN where not available
    passed, available : ndarray of bool, shape (k, n_dates)
    ok : ndarray of bool, shape (n_dates,)
        Every required signal passes (or is missing with ``when_missing=ignore``).
    go : ndarray of bool, shape (n_dates,)
        ``ok`` and confirmed over ``confirm_days`` anchor observations.
    excluded : tuple of str
        Signals left out (GARCH, regime, or series not supplied are kept: missing).
    """

    dates: tuple[date, ...]
    signal_ids: tuple[str, ...]
    values: FloatArray
    passed: BoolArray
    available: BoolArray
    ok: BoolArray
    go: BoolArray
    excluded: tuple[str, ...]
    provenance: Provenance


def gate_hash(gate: StabilityGate) -> str:
    """SHA-256 of the gate's canonical JSON: the version a decision was made under."""
    return content_hash(gate)


# -- one date ------------------------------------------------------------------------------


def evaluate_gate(gate: StabilityGate, series: Mapping[str, GateSeries], as_of: date, *,
                  regime_label: str | None = None) -> GateDecision:
    """GO or WAIT on ``as_of`` from data dated on or before it.

    Parameters
    ----------
    gate : StabilityGate
    series : mapping of name to GateSeries
        Every series a signal names; an absent one makes that signal missing.
    as_of : date
    regime_label : str, optional
        The risk engine's regime label for ``as_of`` (calm/stressed/crisis); when None a
        regime signal classifies its own series (Markov switching, a few seconds).
    """
    hashes: list[str] = []
    readings = tuple(_reading(signal, series, as_of, regime_label, hashes)
                     for signal in gate.signals)
    reasons = [r.reason for r in readings if r.blocks]
    streak = 0 if reasons else 1
    if not reasons and gate.confirm_days > 1:
        streak = _prior_streak(gate, series, as_of, hashes) + 1
        if streak < gate.confirm_days:
            reasons.append(f"the required signals have passed on {streak} consecutive "
                           f"observation(s); the gate needs {gate.confirm_days}")
    verdict = GateVerdict.WAIT if reasons else GateVerdict.GO
    findings = tuple(Finding("allocation.gate_signal_missing", Severity.INFO, r.id, r.reason)
                     for r in readings if r.passed is None)
    provenance = Provenance("stability-gate", content_hash(hashes),
                            {"as_of": as_of.isoformat(), "gate_hash": gate_hash(gate),
                             "regime_label": regime_label,
                             "max_staleness_days": MAX_STALENESS_DAYS},
                            warnings=findings)
    return GateDecision(as_of, verdict, readings, tuple(reasons), gate.confirm_days,
                        min(streak, gate.confirm_days), gate_hash(gate), provenance)


def _tail(signal: GateSignal, s: GateSeries, as_of: date) -> tuple[slice, str | None]:
    """The slice of ``s`` one reading on ``as_of`` uses, or why there is none."""
    stop = s.count_until(as_of)
    if stop == 0:
        return slice(0, 0), f"{s.name} has no data on or before {as_of}"
    last = s.dates[stop - 1]
    if (as_of - last).days > MAX_STALENESS_DAYS:
        return slice(0, 0), (f"{s.name} has no data within {MAX_STALENESS_DAYS} days before "
                             f"{as_of} (last {last})")
    need = history_needed(signal)
    if stop < need:
        return slice(0, 0), (f"{s.name} has {stop} observations up to {as_of}; "
                             f"{describe(signal)} needs {need}")
    return slice(stop - need, stop), None


def _rolling_at(signal: GateSignal, s: GateSeries, sl: slice
                ) -> tuple[float, float, bool, bool]:
    """(value, percentile bound, passed, available) at the end of ``s[sl]``."""
    values = rolling_values(signal, s.values[sl], s.ordinals[sl])
    bounds = rolling_percentile_bounds(signal, values)
    ok, available = passes(signal, values[-1:], bounds[-1:])
    return float(values[-1]), float(bounds[-1]), bool(ok[0]), bool(available[0])


def _reading(signal: GateSignal, series: Mapping[str, GateSeries], as_of: date,
             regime_label: str | None, hashes: list[str]) -> SignalReading:
    threshold = threshold_text(signal)
    s = series.get(signal.series)
    if signal.signal is GateSignalKind.REGIME and regime_label is not None:
        passed = regime_label not in signal.block_labels
        reason = verdict_sentence(signal, regime_label, passed, None)
        hashes.append(content_hash({"regime_label": regime_label}))
        return _made(signal, regime_label, threshold, passed, reason, as_of)
    if s is None:
        return _missing(signal, threshold, f"no series {signal.series!r} was supplied", None)
    sl, why = _tail(signal, s, as_of)
    if why is not None:
        return _missing(signal, threshold, why, None)
    data_as_of = s.dates[sl.stop - 1]
    hashes.append(array_hash(s.ordinals[sl], s.values[sl]))
    if signal.signal in ROLLING_KINDS:
        value, bound, passed, available = _rolling_at(signal, s, sl)
        if not available:
            return _missing(signal, threshold, f"{describe(signal)} is not available on "
                            f"{as_of}", data_as_of)
        reason = verdict_sentence(signal, value, passed, bound)
        return _made(signal, value, threshold, passed, reason, data_as_of)
    if signal.signal is GateSignalKind.GARCH_VOLATILITY:
        try:
            value_g, bound_g = _garch(signal, s.values[sl])
        except QoimaError as error:
            return _missing(signal, threshold, f"{describe(signal)}: {error}", data_as_of)
        passed_g = bool(passes(signal, np.array([value_g]), np.array([bound_g]))[0][0])
        reason = verdict_sentence(signal, value_g, passed_g, bound_g)
        return _made(signal, value_g, threshold, passed_g, reason, data_as_of)
    try:
        label = _regime(s, sl)
    except QoimaError as error:
        return _missing(signal, threshold, f"{describe(signal)}: {error}", data_as_of)
    passed_r = label not in signal.block_labels
    return _made(signal, label, threshold, passed_r,
                 verdict_sentence(signal, label, passed_r, None), data_as_of)


def _made(signal: GateSignal, value: float | str, threshold: str, passed: bool, reason: str,
          data_as_of: date | None) -> SignalReading:
    return SignalReading(signal.id, signal.signal, signal.series, value, threshold, passed,
                         signal.required, signal.required and not passed, reason, data_as_of)


def _missing(signal: GateSignal, threshold: str, why: str,
             data_as_of: date | None) -> SignalReading:
    waits = signal.when_missing is MissingData.WAIT
    consequence = ("the gate waits" if waits and signal.required else "ignored")
    return SignalReading(signal.id, signal.signal, signal.series, None, threshold, None,
                         signal.required, signal.required and waits,
                         f"{why} ({consequence})", data_as_of)


def _garch(signal: GateSignal, closes: FloatArray) -> tuple[float, float]:
    """Annualized one-day-ahead GARCH(1,1) volatility, and the ``max_percentile`` quantile
    of the fitted (annualized) conditional volatilities (NaN without a percentile)."""
    from qoima.risk.garch import fit_garch

    fit = fit_garch(closes[1:] / closes[:-1] - 1.0, name=signal.series)
    annualizer = math.sqrt(signal.annualization)
    value = math.sqrt(float(fit.variance_forecast(1)[0])) * annualizer
    bound = math.nan
    if signal.max_percentile is not None:
        bound = float(np.quantile(fit.conditional_volatility * annualizer,
                                  float(signal.max_percentile)))
    return value, bound


def _regime(s: GateSeries, sl: slice) -> str:
    from qoima.risk.regimes import classify_regimes

    stop = sl.stop
    closes = s.values[:stop]
    result = classify_regimes(closes[1:] / closes[:-1] - 1.0, dates=s.dates[1:stop])
    return str(result.current_label.value)


def _counts_ok(signal: GateSignal, passed: bool, available: bool) -> bool:
    """Whether a required signal lets the gate go: it passed, or it is missing and ignored."""
    return passed if available else signal.when_missing is MissingData.IGNORE


def _anchor(gate: StabilityGate, series: Mapping[str, GateSeries]) -> GateSeries | None:
    for signal in gate.signals:
        if signal.required and signal.signal in ROLLING_KINDS and signal.series in series:
            return series[signal.series]
    return None


def _prior_streak(gate: StabilityGate, series: Mapping[str, GateSeries], as_of: date,
                  hashes: list[str]) -> int:
    """Consecutive anchor observations before ``as_of`` (at most confirm_days - 1) on which
    every required rolling signal passed."""
    anchor = _anchor(gate, series)
    if anchor is None:
        return gate.confirm_days - 1
    before = anchor.count_until(as_of - timedelta(days=1))
    streak = 0
    for index in range(before - 1, max(before - gate.confirm_days, -1), -1):
        day = anchor.dates[index]
        for signal in gate.signals:
            if not signal.required or signal.signal not in ROLLING_KINDS:
                continue
            s = series.get(signal.series)
            ok = signal.when_missing is MissingData.IGNORE
            if s is not None:
                sl, why = _tail(signal, s, day)
                if why is None:
                    hashes.append(array_hash(s.ordinals[sl], s.values[sl]))
                    _, _, passed, available = _rolling_at(signal, s, sl)
                    ok = _counts_ok(signal, passed, available)
            if not ok:
                return streak
        streak += 1
    return streak


# -- every date ----------------------------------------------------------------------------


def gate_signal_series(gate: StabilityGate, series: Mapping[str, GateSeries],
                       dates: Sequence[date], *, cache: SignalCache | None = None
                       ) -> GateSignalSeries:
    """The gate on every date of ``dates`` (rolling signals), without look-ahead.

    Equal, date by date, to :func:`evaluate_gate` restricted to the rolling signals. Pass a
    shared :class:`SignalCache` when evaluating many gates on the same series.
    """
    store = cache if cache is not None else SignalCache(series)
    ordinals = np.fromiter((d.toordinal() for d in dates), dtype=np.int64, count=len(dates))
    kept = [s for s in gate.signals if s.signal in ROLLING_KINDS]
    excluded = tuple(s.id for s in gate.signals if s.signal not in ROLLING_KINDS)
    values, passed, available = _on_dates(kept, store, ordinals)
    ok = _ok(kept, passed, available)
    go = ok
    if gate.confirm_days > 1:
        anchor = _anchor(gate, series)
        if anchor is not None:
            _, a_passed, a_available = _on_dates(kept, store, anchor.ordinals)
            run = run_lengths(_ok(kept, a_passed, a_available))
            prior = np.searchsorted(anchor.ordinals, ordinals, side="left") - 1
            confirmed = np.zeros(len(dates), dtype=bool)
            has = prior >= 0
            confirmed[has] = run[prior[has]] >= gate.confirm_days - 1
            go = ok & confirmed
    findings = tuple(Finding("allocation.gate_signal_excluded", Severity.INFO, sid,
                             "GARCH and regime signals are judged on the as-of date only; "
                             "left out of the vectorized gate") for sid in excluded)
    used = sorted({s.series for s in kept if s.series in series})
    provenance = Provenance(
        "stability-gate-series",
        array_hash(ordinals, *[a for n in used for a in (series[n].ordinals,
                                                         series[n].values)]),
        {"gate_hash": gate_hash(gate), "max_staleness_days": MAX_STALENESS_DAYS},
        warnings=findings)
    return GateSignalSeries(tuple(dates), tuple(s.id for s in kept), values, passed,
                            available, ok, go, excluded, provenance)


def _on_dates(signals: list[GateSignal], store: SignalCache, ordinals: npt.NDArray[np.int64]
              ) -> tuple[FloatArray, BoolArray, BoolArray]:
    n = ordinals.shape[0]
    values = np.full((len(signals), n), np.nan)
    passed = np.zeros((len(signals), n), dtype=bool)
    available = np.zeros((len(signals), n), dtype=bool)
    for row, signal in enumerate(signals):
        if signal.series not in store.series:
            continue
        raw, bounds = store.arrays(signal)
        index, fresh = store.positions(signal.series, ordinals)
        ok, known = passes(signal, raw, bounds)
        available[row] = known[index] & fresh
        passed[row] = ok[index] & available[row]
        values[row] = np.where(available[row], raw[index], np.nan)
    return values, passed, available


def _ok(signals: list[GateSignal], passed: BoolArray, available: BoolArray) -> BoolArray:
    ok = np.ones(passed.shape[1], dtype=bool)
    for row, signal in enumerate(signals):
        if signal.required:
            ignore = signal.when_missing is MissingData.IGNORE
            ok &= passed[row] | (~available[row] & ignore)
    return ok


def gate_go_matrix(gates: Sequence[StabilityGate], series: Mapping[str, GateSeries],
                   dates: Sequence[date]) -> BoolArray:
    """GO of each gate on each date, shape (len(gates), len(dates)): the rows a deployment
    grid reads. The gates share one :class:`SignalCache`, so a grid of thresholds costs one
    rolling computation per distinct signal definition."""
    cache = SignalCache(series)
    return np.stack([gate_signal_series(gate, series, dates, cache=cache).go
                     for gate in gates])
