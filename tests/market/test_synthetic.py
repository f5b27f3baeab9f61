"""The synthetic market reproduces the stylized facts, on ten years of one fixed seed."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from numpy.typing import NDArray

from qoima.domain.errors import InvalidInput
from qoima.market.calendars import get_calendar
from qoima.market.series import SeriesKind
from qoima.market.synthetic import Regime, SyntheticMarket, generate_market

START, END, SEED = date(2015, 1, 1), date(2024, 12, 31), 0
Floats = NDArray[np.float64]


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return generate_market(START, END, seed=SEED)


def closes(market: SyntheticMarket, code: str) -> dict[date, float]:
    return {bar.day: float(bar.close) for bar in market.get(code).bars}


def paired_returns(market: SyntheticMarket, a: str, b: str
                   ) -> tuple[list[date], Floats, Floats]:
    """Log returns of ``a`` and ``b`` between the dates both are quoted on (a weekend's
    crypto moves fold into Monday), with the date each return ends on."""
    first, second = closes(market, a), closes(market, b)
    days = sorted(first.keys() & second.keys())
    x = np.diff(np.log([first[d] for d in days]))
    y = np.diff(np.log([second[d] for d in days]))
    return days[1:], x, y


def corr(x: Floats, y: Floats) -> float:
    return float(np.corrcoef(x, y)[0, 1])


def test_crypto_factor_structure(market: SyntheticMarket) -> None:
    _, btc, eth = paired_returns(market, "BTC", "ETH")
    _, btc2, bnb = paired_returns(market, "BTC", "BNB")
    assert 0.7 <= corr(btc, eth) <= 0.9
    assert 0.6 <= corr(btc2, bnb) <= 0.8


def test_fat_tails_and_volatility_clustering(market: SyntheticMarket) -> None:
    _, btc, _ = paired_returns(market, "BTC", "BTC")
    centered = btc - btc.mean()
    assert float(np.mean(centered**4) / np.var(btc) ** 2) - 3 > 3
    squared = btc**2
    clustered = corr(squared[:-1], squared[1:])
    shuffled = np.random.Generator(np.random.PCG64(1)).permutation(squared)
    assert clustered > 0.1
    assert clustered > corr(shuffled[:-1], shuffled[1:]) + 0.05


def test_crypto_equity_correlation_rises_in_turbulence(market: SyntheticMarket) -> None:
    days, btc, spx = paired_returns(market, "BTC", "SPX")
    regime = np.array([market.regime_on(d) for d in days])
    calm, turbulent = regime == Regime.CALM, regime == Regime.TURBULENT
    assert calm.sum() > 250 and turbulent.sum() > 250
    assert corr(btc[turbulent], spx[turbulent]) > corr(btc[calm], spx[calm]) + 0.1


def test_crypto_equity_beta(market: SyntheticMarket) -> None:
    _, btc, coin = paired_returns(market, "BTC", "COIN")
    design = np.column_stack([np.ones_like(btc), btc])
    beta = np.linalg.lstsq(design, coin, rcond=None)[0][1]
    assert 1.2 <= beta <= 1.8


def test_tenge_weakens_when_oil_falls(market: SyntheticMarket) -> None:
    _, oil, usd_kzt = paired_returns(market, "WTI", "fx:USD/KZT")
    assert corr(oil, usd_kzt) < -0.2


def test_etfs_track_their_underlying_on_exchange_days_only(market: SyntheticMarket) -> None:
    xnys = get_calendar("xnys")
    for etf, underlying in (("IBIT", "BTC"), ("FBTC", "BTC"), ("ETHA", "ETH")):
        series = market.get(etf)
        assert series.calendar == "xnys"
        assert all(xnys.is_session(bar.day) for bar in series.bars)
        assert not any(bar.day.weekday() >= 5 for bar in series.bars)
        facts = next(f for f in market.etf_facts if f.instrument_code == etf)
        days, under, fund = paired_returns(market, underlying, etf)
        assert float(np.std(fund - under)) < 0.003  # daily tracking error under 30 bp
        price, level = closes(market, etf), closes(market, underlying)
        ratio = np.array([price[d] / (level[d] * float(facts.units_per_share)) for d in days])
        years = np.array([(d - START).days / 365 for d in days])
        drag = np.exp(-float(facts.expense_ratio) * years)
        assert np.all(np.abs(ratio / drag - 1) < 0.01)


def test_fed_funds_moves_in_quarter_points(market: SyntheticMarket) -> None:
    upper = [bar.close for bar in market.get("rate:DFEDTARU").bars]
    changes = [b - a for a, b in itertools.pairwise(upper) if b != a]
    assert changes and all(c % Decimal("0.25") == 0 for c in changes)
    assert len(changes) < 8 * 10  # at most one move per scheduled meeting
    assert all(s.id.kind is SeriesKind.RATE for s in market.series.values()
               if s.id.code in ("DFEDTARU", "DGS2", "DGS10"))


def test_ohlc_is_consistent_and_volume_positive(market: SyntheticMarket) -> None:
    checked = 0
    for series in market.series.values():
        for bar in series.bars:
            assert bar.close > 0
            if bar.open is not None:
                assert bar.high is not None and bar.low is not None
                assert bar.high >= max(bar.open, bar.close)
                assert bar.low <= min(bar.open, bar.close) and bar.low > 0
                checked += 1
            if bar.volume is not None:
                assert bar.volume > 0
    assert checked > 30_000
    for code in ("BTC", "IBIT", "COIN", "WTI"):
        assert all(bar.volume is not None for bar in market.get(code).bars)


def test_calendars_and_sources(market: SyntheticMarket) -> None:
    expected = {"BTC": "crypto", "SPX": "xnys", "XAU": "xnys", "fx:USD/KZT": "kz-valuation",
                "rate:DGS10": "us-federal", "AIX-BTC": "aix"}
    for code, calendar in expected.items():
        series = market.get(code)
        assert series.calendar == calendar
        sessions = get_calendar(calendar)
        assert all(sessions.is_session(bar.day) for bar in series.bars)
    assert len(market.get("BTC").bars) == (END - START).days + 1
    assert all(s.is_synthetic and s.source.startswith("synthetic") for s in
               market.series.values())
    assert all(f.source.startswith("synthetic") for f in market.etf_facts)


def test_same_seed_same_series_other_seed_other_series(market: SyntheticMarket) -> None:
    start, end = date(2024, 1, 1), date(2024, 12, 31)
    again = generate_market(start, end, seed=SEED)
    twice = generate_market(start, end, seed=SEED)
    other = generate_market(start, end, seed=SEED + 1)
    assert again.series == twice.series and again.regimes == twice.regimes
    assert again.get("BTC").bars != other.get("BTC").bars
    assert again.get("fx:USD/KZT").bars != other.get("fx:USD/KZT").bars


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InvalidInput):
        generate_market(END, START, seed=SEED)
    with pytest.raises(InvalidInput):
        generate_market(START, END, seed=-1)
