"""The default gate on real history: WAIT on the crisis days, with the reasons; the
vectorized series agrees with the one-date evaluation on real data."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from qoima.allocation.gate import GateVerdict, evaluate_gate, gate_signal_series
from qoima.allocation.gate_signals import GateSeries
from qoima.policy.allocation import DEFAULT_GATE

pytestmark = pytest.mark.realdata
MARKET = Path(__file__).resolve().parents[3] / "shared" / "data" / "market"


@cache
def _load() -> dict[str, GateSeries]:
    import pandas as pd  # type: ignore[import-untyped]

    out = {}
    for name, stem in (("BTC", "BTC-USD"), ("VIX", "VIX"), ("DXY", "DXY")):
        frame = pd.read_csv(MARKET / f"{stem}.csv", usecols=["date", "close"]).dropna()
        out[name] = GateSeries(name, tuple(date.fromisoformat(d) for d in frame["date"]),
                               frame["close"].to_numpy(dtype=float))
    return out


@pytest.fixture
def market() -> dict[str, GateSeries]:
    if not MARKET.is_dir():
        pytest.skip("../shared/data/market is absent")
    return _load()


@pytest.mark.parametrize(("day", "failing"), [
    (date(2020, 3, 12), {"btc-volatility", "btc-drawdown", "btc-new-low", "vix"}),
    (date(2022, 6, 13), {"btc-volatility", "btc-drawdown", "btc-new-low", "vix"}),
    (date(2022, 11, 9), {"btc-drawdown", "btc-new-low"}),
])
def test_default_gate_waits_on_crisis_days(market: dict[str, GateSeries], day: date,
                                           failing: set[str]) -> None:
    decision = evaluate_gate(DEFAULT_GATE, market, day)
    assert decision.verdict is GateVerdict.WAIT
    assert {r.id for r in decision.readings if r.blocks} == failing
    assert len(decision.reasons) == len(failing)
    low = next(r for r in decision.readings if r.id == "btc-new-low")
    assert low.value == 0.0  # a new 90-day low that very day
    assert low.reason == ("BTC days since its 90-day low 0 days is below the minimum of "
                          "30 days")
    assert all(r.data_as_of is not None and r.data_as_of <= day for r in decision.readings
               if r.passed is not None)


def test_crisis_reasons_read_as_sentences(market: dict[str, GateSeries]) -> None:
    decision = evaluate_gate(DEFAULT_GATE, market, date(2020, 3, 12))
    assert ("BTC 30-day realized volatility 137.8 % is above the maximum of 80.0 %"
            in decision.reasons)
    assert "VIX level 75.47 is above the maximum of 30.00" in decision.reasons


def test_vectorized_default_gate_equals_evaluate_gate(market: dict[str, GateSeries]) -> None:
    days = [date(2019, 12, 1) + timedelta(d) for d in range(0, 2200, 9)]
    vectorized = gate_signal_series(DEFAULT_GATE, market, days)
    assert vectorized.excluded == ("btc-garch",)  # informative only
    for col, day in enumerate(days):
        decision = evaluate_gate(DEFAULT_GATE, market, day)
        assert vectorized.go[col] == decision.go, day
    btc = market["BTC"]
    full = gate_signal_series(DEFAULT_GATE, market, btc.dates)
    years = np.array([d.year for d in btc.dates])
    for year in (2023, 2024, 2025):
        assert 0.3 < full.go[years == year].mean() < 0.95
