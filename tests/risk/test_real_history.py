"""The whole chain on real history: files → aligned factors → exposure map → stress and VaR."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from qoima.app.risk_inputs import HistorySettings, build_history
from qoima.domain.enums import InstrumentKind, Venue
from qoima.domain.reference import Instrument, UnderlyingExposure
from qoima.market.series import Series
from qoima.portfolio.snapshot import PositionValue
from qoima.risk.exposures import map_exposures
from qoima.risk.scenarios import get_scenario
from qoima.risk.stress import run_stress

pytestmark = pytest.mark.realdata
AS_OF = date(2026, 5, 29)
IBIT = Instrument("IBIT", "iShares Bitcoin Trust", InstrumentKind.ETF, 0, venue=Venue.NASDAQ,
                  underlying=UnderlyingExposure("BTC", Decimal("0.000568")))
COIN = Instrument("COIN", "Coinbase", InstrumentKind.EQUITY, 0, venue=Venue.NASDAQ)


def _position(instrument: Instrument, value: str) -> PositionValue:
    return PositionValue(f"holding:sleeve:{instrument.code}", "sleeve", None, None,
                         instrument.code, instrument.kind, Decimal(1), None, None, None,
                         Decimal(value), None, None, None, None)


def _closes(series: Series) -> tuple[list[date], np.ndarray]:
    return [b.day for b in series.bars], np.array([float(b.close) for b in series.bars])


def test_ftx_loss_on_a_btc_etf_is_the_underlying_move_within_tracking(
        real_series: Callable[[str], Series]) -> None:
    loaded = {"BTC": real_series("BTC-USD"), "IBIT": real_series("IBIT"),
              "SPX": real_series("SPX")}
    history = build_history(loaded, HistorySettings(), date(2019, 1, 1), AS_OF)
    mapped = map_exposures([_position(IBIT, "1000000")], {"IBIT": IBIT}, history, as_of=AS_OF,
                           usd_kzt=None)
    estimate = mapped.estimate("IBIT")
    assert estimate.method == "underlying" and estimate.residual == "IBIT:resid"
    assert estimate.tracking_error_annual is not None
    assert estimate.tracking_difference_annual is not None
    assert estimate.tracking_error_annual < 0.25  # US close vs UTC midnight: noisy, not biased
    prices = {name: _closes(series) for name, series in loaded.items()}
    result = run_stress(mapped.book, get_scenario("ftx-2022"), history=prices)
    btc_dates, btc = prices["BTC"]
    start = btc[btc_dates.index(date(2022, 11, 6))]
    end = btc[btc_dates.index(date(2022, 11, 21))]
    underlying = end / start - 1
    days = (date(2022, 11, 21) - date(2022, 11, 6)).days
    allowance = abs(estimate.tracking_difference_annual) * days / 365 + 1e-9
    assert result.total_pnl_usd / 1_000_000 == pytest.approx(underlying, abs=allowance)
    assert underlying == pytest.approx(-0.246, abs=0.002)


def test_crypto_equity_betas_from_real_history(real_series: Callable[[str], Series]) -> None:
    loaded = {"BTC": real_series("BTC-USD"), "COIN": real_series("COIN"),
              "SPX": real_series("SPX")}
    history = build_history(loaded, HistorySettings(), date(2023, 1, 1), AS_OF)
    mapped = map_exposures([_position(COIN, "1000000")], {"COIN": COIN}, history, as_of=AS_OF,
                           usd_kzt=None)
    estimate = mapped.estimate("COIN")
    betas = {lo.factor: lo.beta for lo in estimate.loadings}
    assert estimate.method == "regression" and estimate.n_obs == 250
    assert 0.5 < betas["BTC"] < 2.5
    assert 0.3 < betas["SPX"] < 3.5
    assert estimate.r_squared is not None and 0.2 < estimate.r_squared < 0.9
