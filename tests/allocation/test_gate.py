"""The stability gate: hand-computed signal values, missing and stale data, confirmation,
and the vectorized series equal to the one-date evaluation on every date."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from qoima.allocation.gate import (
    GateVerdict,
    evaluate_gate,
    gate_go_matrix,
    gate_hash,
    gate_signal_series,
)
from qoima.allocation.gate_signals import GateSeries
from qoima.domain.canonical import content_hash
from qoima.domain.errors import InvalidInput
from qoima.policy.allocation import GateSignal, MissingData, StabilityGate
from qoima.policy.allocation import GateSignalKind as K

DAY0 = date(2021, 1, 1)


def _daily(name: str, values: list[float] | np.ndarray, start: date = DAY0) -> GateSeries:
    return GateSeries(name, tuple(start + timedelta(i) for i in range(len(values))),
                      np.asarray(values, dtype=float))


def _weekdays(name: str, values: np.ndarray, start: date = DAY0) -> GateSeries:
    days: list[date] = []
    d = start
    while len(days) < len(values):
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(1)
    return GateSeries(name, tuple(days), values)


def test_hand_computed_values_and_sentences() -> None:
    closes = [100.0, 120.0, 90.0, 95.0, 99.0, 80.0, 88.0]
    s = {"X": _daily("X", closes), "F": _daily("F", [1e6, -2e6, 3e6, 1e6, 0, 0, 5e5])}
    gate = StabilityGate((
        GateSignal("dd", K.DRAWDOWN, "X", lookback_days=5, max_value=Decimal("0.15")),
        GateSignal("low", K.DAYS_SINCE_LOW, "X", lookback_days=4, min_value=Decimal(2)),
        GateSignal("lvl", K.LEVEL, "X", max_value=Decimal(100)),
        GateSignal("chg", K.CHANGE, "X", window_days=2, min_value=Decimal("-0.5")),
        GateSignal("vol", K.REALIZED_VOLATILITY, "X", window_days=3, max_value=Decimal(9)),
        GateSignal("flows", K.FLOWS, "F", window_days=3, min_value=Decimal(0)),
    ))
    decision = evaluate_gate(gate, s, DAY0 + timedelta(6))
    values = {r.id: r.value for r in decision.readings}
    assert values["dd"] == pytest.approx(1 - 88 / 99)  # high of the last 5: 99
    assert values["low"] == 1.0  # low 80 one day earlier
    assert values["lvl"] == 88.0 and values["chg"] == pytest.approx(88 / 99 - 1)
    returns = np.array(closes[-4:][1:]) / np.array(closes[-4:][:-1]) - 1
    assert values["vol"] == pytest.approx(np.std(returns, ddof=1) * math.sqrt(365))
    assert values["flows"] == 5e5
    assert decision.verdict is GateVerdict.WAIT
    reasons = dict(zip([r.id for r in decision.readings if r.blocks], decision.reasons,
                       strict=True))
    assert set(reasons) == {"low"}
    assert reasons["low"] == "X days since its 4-day low 1 days is below the minimum of 2 days"
    assert decision.readings[0].reason.startswith("X drawdown from its 5-day high 11.1 % is "
                                                  "within <= 15.0 %")
    assert decision.readings[0].data_as_of == DAY0 + timedelta(6)
    assert decision.gate_hash == content_hash(gate) == gate_hash(gate)


def test_no_look_ahead_and_missing_data() -> None:
    closes = np.linspace(100, 50, 60)
    s = {"X": _daily("X", closes)}
    gate = StabilityGate((
        GateSignal("lvl", K.LEVEL, "X", max_value=Decimal(80)),
        GateSignal("vix", K.LEVEL, "VIX", max_value=Decimal(30),
                   when_missing=MissingData.IGNORE),
    ))
    as_of = DAY0 + timedelta(20)
    early = evaluate_gate(gate, s, as_of)
    assert early.readings[0].value == closes[20]  # later data never read
    assert early.readings[1].passed is None and not early.readings[1].blocks
    assert early.verdict is GateVerdict.WAIT  # 86.4 > 80
    strict = dataclasses.replace(gate, signals=(gate.signals[0], dataclasses.replace(
        gate.signals[1], when_missing=MissingData.WAIT)))
    late = evaluate_gate(strict, s, DAY0 + timedelta(50))
    assert late.verdict is GateVerdict.WAIT
    assert late.reasons == ("no series 'VIX' was supplied (the gate waits)",)
    stale = evaluate_gate(gate, s, DAY0 + timedelta(59 + 8))
    assert "no data within 7 days" in stale.readings[0].reason and stale.readings[0].blocks
    before = evaluate_gate(gate, s, DAY0 - timedelta(1))
    assert "no data on or before" in before.reasons[0]


def test_short_history_is_missing_with_the_count_needed() -> None:
    gate = StabilityGate((GateSignal("vol", K.REALIZED_VOLATILITY, "X", window_days=30,
                                     max_value=Decimal("0.8")),))
    decision = evaluate_gate(gate, {"X": _daily("X", np.full(20, 5.0))}, DAY0 + timedelta(19))
    assert decision.reasons == ("X has 20 observations up to 2021-01-20; X 30-day realized "
                                "volatility needs 31 (the gate waits)",)


def test_percentile_bound_is_the_quantile_of_the_signals_own_history() -> None:
    rng = np.random.default_rng(4)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, 200)))
    gate = StabilityGate((GateSignal("vol", K.REALIZED_VOLATILITY, "X", window_days=10,
                                     lookback_days=50, max_percentile=Decimal("0.8")),))
    s = {"X": _daily("X", closes)}
    returns = closes[1:] / closes[:-1] - 1
    vols = np.array([np.std(returns[i - 10:i], ddof=1) for i in range(10, 200)]) * math.sqrt(365)
    bound = np.quantile(vols[-50:], 0.8)
    decision = evaluate_gate(gate, s, DAY0 + timedelta(199))
    assert decision.readings[0].value == pytest.approx(vols[-1])
    assert decision.readings[0].passed is bool(vols[-1] <= bound)
    assert "80th percentile" in decision.readings[0].threshold


def test_confirmation_counts_consecutive_passing_observations() -> None:
    closes = [50.0] * 5 + [150.0] + [50.0] * 5
    gate = StabilityGate((GateSignal("lvl", K.LEVEL, "X", max_value=Decimal(100)),),
                         confirm_days=3)
    s = {"X": _daily("X", closes)}
    verdicts = [evaluate_gate(gate, s, DAY0 + timedelta(i)) for i in range(11)]
    assert [v.verdict is GateVerdict.GO for v in verdicts] == [
        False, False, True, True, True, False, False, False, True, True, True]
    assert verdicts[7].passing_streak == 2
    assert "passed on 2 consecutive observation(s); the gate needs 3" in verdicts[7].reasons[0]


def test_vectorized_series_equals_evaluate_gate_on_every_date() -> None:
    rng = np.random.default_rng(11)
    btc = _daily("BTC", 100 * np.exp(np.cumsum(rng.normal(0, 0.04, 400))))
    vix = _weekdays("VIX", 20 * np.exp(np.cumsum(rng.normal(0, 0.08, 280))))
    dxy = _weekdays("DXY", 100 * np.exp(np.cumsum(rng.normal(0, 0.005, 250))),
                    start=DAY0 + timedelta(30))
    gate = StabilityGate((
        GateSignal("vol", K.REALIZED_VOLATILITY, "BTC", window_days=20,
                   max_value=Decimal("0.75")),
        GateSignal("dd", K.DRAWDOWN, "BTC", lookback_days=60, max_value=Decimal("0.3")),
        GateSignal("low", K.DAYS_SINCE_LOW, "BTC", lookback_days=30, min_value=Decimal(3)),
        GateSignal("vix", K.LEVEL, "VIX", max_percentile=Decimal("0.9"), lookback_days=40,
                   when_missing=MissingData.IGNORE),
        GateSignal("dxy", K.CHANGE, "DXY", window_days=10, max_value=Decimal("0.02")),
        GateSignal("info", K.LEVEL, "BTC", max_value=Decimal(1), required=False),
    ), confirm_days=2)
    series = {"BTC": btc, "VIX": vix, "DXY": dxy}
    days = [DAY0 + timedelta(i) for i in range(-3, 420)]
    vectorized = gate_signal_series(gate, series, days)
    assert vectorized.excluded == ()
    for col, day in enumerate(days):
        decision = evaluate_gate(gate, series, day)
        assert vectorized.go[col] == decision.go, day
        for row, reading in enumerate(decision.readings):
            assert vectorized.available[row, col] == (reading.passed is not None)
            if reading.passed is not None:
                assert vectorized.passed[row, col] == reading.passed
                assert vectorized.values[row, col] == pytest.approx(reading.value, rel=1e-12)
    assert 0 < vectorized.go.sum() < len(days)
    matrix = gate_go_matrix([gate, dataclasses.replace(gate, confirm_days=1)], series, days)
    np.testing.assert_array_equal(matrix[0], vectorized.go)
    assert (matrix[1] >= matrix[0]).all()


def test_garch_and_regime_signals_on_the_as_of_date() -> None:
    from qoima.risk.garch import fit_garch

    rng = np.random.default_rng(2)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, 300)))
    gate = StabilityGate((
        GateSignal("garch", K.GARCH_VOLATILITY, "BTC", lookback_days=200,
                   max_value=Decimal("5")),
        GateSignal("regime", K.REGIME, "BTC", block_labels=("crisis",)),
    ))
    s = {"BTC": _daily("BTC", closes)}
    as_of = DAY0 + timedelta(299)
    decision = evaluate_gate(gate, s, as_of, regime_label="crisis")
    tail = closes[-201:]
    fit = fit_garch(tail[1:] / tail[:-1] - 1)
    expected = math.sqrt(float(fit.variance_forecast(1)[0]) * 365)
    assert decision.readings[0].value == pytest.approx(expected, rel=1e-12)
    assert decision.readings[1].value == "crisis" and decision.readings[1].blocks
    assert decision.reasons == ("BTC volatility regime is crisis, a blocked label (crisis)",)
    computed = evaluate_gate(gate, s, as_of)  # classifies the series itself
    assert computed.readings[1].value in ("calm", "stressed", "crisis")
    assert gate_signal_series(gate, s, [as_of]).excluded == ("garch", "regime")


def test_gate_series_rejects_bad_input() -> None:
    with pytest.raises(InvalidInput, match="strictly increasing"):
        GateSeries("X", (DAY0, DAY0), np.array([1.0, 2.0]))
    with pytest.raises(InvalidInput, match="not a finite number"):
        GateSeries("X", (DAY0,), np.array([np.nan]))
    with pytest.raises(InvalidInput, match="2 dates"):
        GateSeries("X", (DAY0, DAY0 + timedelta(1)), np.array([1.0]))
