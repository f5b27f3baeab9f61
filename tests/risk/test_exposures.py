"""Exposure mapping and scenario P&L: planted betas, exact reconstruction, KZT translation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from qoima.domain.enums import InstrumentKind, Severity, Venue
from qoima.domain.errors import InsufficientHistory, InvalidInput, RiskError
from qoima.domain.reference import Instrument, UnderlyingExposure
from qoima.portfolio.snapshot import PositionValue
from qoima.risk.exposures import ExposureSettings, map_exposures
from qoima.risk.history import FactorHistory
from qoima.risk.positions import FactorLoading, RiskBook, RiskPosition, scenario_pnl

D = Decimal
AS_OF = date(2026, 10, 30)
N = 300
INSTRUMENTS = {i.code: i for i in (
    Instrument("USD", "US dollar", InstrumentKind.CASH, 2, "USD"),
    Instrument("KZT", "Tenge", InstrumentKind.CASH, 2, "KZT"),
    Instrument("BTC", "Bitcoin", InstrumentKind.TOKEN, 8),
    Instrument("IBIT", "iShares Bitcoin", InstrumentKind.ETF, 0, venue=Venue.NASDAQ,
               issuer="BlackRock", underlying=UnderlyingExposure("BTC", D("0.000568"))),
    Instrument("NEWETF", "A new ETF", InstrumentKind.ETF, 0,
               underlying=UnderlyingExposure("BTC", D("0.001"))),
    Instrument("COIN", "Coinbase", InstrumentKind.EQUITY, 0),
    Instrument("NOHIST", "A fresh listing", InstrumentKind.EQUITY, 0),
    Instrument("UST-2034", "Note", InstrumentKind.BOND, 2, price_factor=D("0.01"),
               maturity="2034-11-15"),
    Instrument("HF-LP", "Hedge fund", InstrumentKind.HEDGE_FUND_INTEREST, 6),
    Instrument("VC-LP", "Venture fund", InstrumentKind.VENTURE_FUND_INTEREST, 6),
)}


def _history() -> FactorHistory:
    rng = np.random.default_rng(7)
    btc = rng.standard_t(4, N) * 0.03
    spx = rng.normal(0, 0.01, N)
    coin = 1.4 * btc + 1.2 * spx + rng.normal(0, 0.01, N)
    ibit = btc + rng.normal(0, 0.0005, N)
    kzt = rng.normal(0, 0.004, N)
    dgs10 = rng.normal(0, 0.05, N)
    dates = tuple(AS_OF - timedelta(days=N - 1 - i) for i in range(N))
    values = np.column_stack([btc, spx, coin, ibit, kzt, dgs10])
    return FactorHistory(dates, ("BTC", "SPX", "COIN", "IBIT", "USD/KZT", "DGS10"), values,
                         "xnys", 252)


def _position(code: str, value: str | None, vehicle: str = "fund") -> PositionValue:
    instrument = INSTRUMENTS[code]
    usd = None if value is None else D(value)
    return PositionValue(f"holding:{vehicle}:{code}", vehicle, None, None, code,
                         instrument.kind, D(1), None, None, None, usd, None, None, None, None)


def test_crypto_equity_betas_are_estimated_and_its_residual_rebuilds_its_returns() -> None:
    history = _history()
    result = map_exposures([_position("COIN", "1000")], INSTRUMENTS, history, as_of=AS_OF,
                           usd_kzt=500.0, settings=ExposureSettings(beta_window=250))
    estimate = result.estimate("COIN")
    assert estimate.method == "regression"
    assert estimate.n_obs == 250
    betas = {lo.factor: lo.beta for lo in estimate.loadings}
    assert betas["BTC"] == pytest.approx(1.4, abs=0.05)
    assert betas["SPX"] == pytest.approx(1.2, abs=0.15)
    # the same regression by numpy over the same window
    y, x = history.column("COIN")[-250:], np.column_stack(
        [np.ones(250), history.column("BTC")[-250:], history.column("SPX")[-250:]])
    reference = np.linalg.lstsq(x, y, rcond=None)[0]
    assert betas["BTC"] == pytest.approx(reference[1], rel=1e-9)
    # loadings + residual (+ alpha) reproduce the equity's own returns in the window
    window = result.history.complete_window(result.book.factors, 250)
    pnl = scenario_pnl(result.book, window.names, window.values)[:, 0]
    np.testing.assert_allclose(pnl / 1000 + reference[0], history.column("COIN")[-250:],
                               atol=1e-12)


def test_etf_maps_to_its_underlying_with_tracking_measured() -> None:
    history = _history()
    result = map_exposures([_position("IBIT", "500"), _position("NEWETF", "100")],
                           INSTRUMENTS, history, as_of=AS_OF, usd_kzt=None)
    ibit = result.estimate("IBIT")
    assert ibit.loadings == (FactorLoading("BTC", 1.0),)
    assert ibit.residual == "IBIT:resid"
    assert ibit.tracking_error_annual == pytest.approx(0.0005 * np.sqrt(252), rel=0.15)
    assert ibit.units_per_share == pytest.approx(0.000568)
    fresh = result.estimate("NEWETF")
    assert fresh.residual is None and fresh.loadings == (FactorLoading("BTC", 1.0),)
    assert any(f.subject == "NEWETF" for f in result.findings)
    window = result.history.complete_window(result.book.factors, 200)
    pnl = scenario_pnl(result.book, window.names, window.values)
    np.testing.assert_allclose(pnl[:, 0] / 500, history.column("IBIT")[-200:], atol=1e-15)


def test_cash_bonds_funds_and_proxies() -> None:
    result = map_exposures(
        [_position("USD", "10"), _position("KZT", "10"), _position("UST-2034", "10"),
         _position("HF-LP", "10"), _position("VC-LP", "10"), _position("NOHIST", "10")],
        INSTRUMENTS, _history(), as_of=AS_OF, usd_kzt=500.0,
        reported={"HF-LP": {"BTC": 0.25, "ETH": 0.1}})
    assert result.estimate("USD").loadings == ()
    assert result.estimate("KZT").loadings == (FactorLoading("USD/KZT", -1.0),)
    bond = result.estimate("UST-2034").loadings[0]
    assert bond.factor == "DGS10"
    assert bond.beta == pytest.approx(-(date(2034, 11, 15) - AS_OF).days / 365.25 / 100)
    assert result.estimate("HF-LP").method == "reported"
    assert {lo.factor: lo.beta for lo in result.estimate("HF-LP").loadings} == {
        "BTC": 0.25, "ETH": 0.1}
    assert result.estimate("VC-LP").method == "proxy"
    assert result.estimate("NOHIST").method == "proxy"
    crypto = {p.instrument_code for p in result.book.positions if p.crypto}
    assert crypto == {"HF-LP", "VC-LP", "NOHIST"}


def test_unvalued_position_is_left_out_with_a_finding() -> None:
    result = map_exposures([_position("BTC", None), _position("BTC", "5", "other")],
                           INSTRUMENTS, _history(), as_of=AS_OF, usd_kzt=None)
    assert [p.vehicle_code for p in result.book.positions] == ["other"]
    assert [f.rule for f in result.findings] == ["risk.unvalued_position"]
    assert result.findings[0].severity is Severity.WARNING


def test_missing_factor_history_is_a_clear_error() -> None:
    history = _history()
    short = FactorHistory(history.dates, ("SPX",), history.values[:, 1:2], "xnys", 252)
    with pytest.raises(RiskError, match="BTC"):
        map_exposures([_position("BTC", "1")], INSTRUMENTS, short, as_of=AS_OF, usd_kzt=None)


def test_complete_window_names_the_short_factor() -> None:
    history = _history()
    values = history.values.copy()
    values[:200, 3] = np.nan  # IBIT listed late
    late = FactorHistory(history.dates, history.names, values, "xnys", 252)
    assert len(late.complete_window(["BTC", "IBIT"], 100).dates) == 100
    with pytest.raises(InsufficientHistory, match="IBIT"):
        late.complete_window(["BTC", "IBIT"], 150)


def test_kzt_pnl_translates_usd_assets_and_leaves_tenge_assets_alone() -> None:
    book = RiskBook(AS_OF, (
        RiskPosition("a", "BTC", InstrumentKind.TOKEN, "v", 100.0, (FactorLoading("BTC", 1),)),
        RiskPosition("b", "KZT", InstrumentKind.CASH, "v", 50.0,
                     (FactorLoading("USD/KZT", -1),), local_currency="KZT"),
    ), usd_kzt=500.0)
    moves = np.array([[-0.10, 0.20]])  # BTC -10 %, tenge weakens 20 %
    usd = scenario_pnl(book, ("BTC", "USD/KZT"), moves)
    assert usd.tolist() == [[-10.0, -10.0]]
    kzt = scenario_pnl(book, ("BTC", "USD/KZT"), moves, currency="KZT")
    # BTC: 100 USD = 50,000 KZT -> 90 USD at 600 = 54,000 KZT; tenge cash unchanged
    np.testing.assert_allclose(kzt, [[4000.0, 0.0]])
    with pytest.raises(InvalidInput, match="USD/KZT"):
        scenario_pnl(book, ("BTC",), moves[:, :1], currency="KZT")
    with pytest.raises(InvalidInput, match="factor"):
        scenario_pnl(book, ("BTC", "ETH"), moves)
