"""Liquidity ladder, days to cash, liquidity-adjusted VaR and operational shocks, by hand."""

from __future__ import annotations

import math
from datetime import date

import pytest

from qoima.domain.enums import InstrumentKind
from qoima.domain.errors import InvalidInput
from qoima.risk.liquidity import (
    DEFAULT_TERMS,
    LiquidityTerms,
    MarketLiquidity,
    liquidity_adjusted_var,
    liquidity_profile,
    sqrt_impact,
)
from qoima.risk.operational import chain_halt, custodian_failure, etf_halt, forced_sale
from qoima.risk.positions import FactorLoading, RiskBook, RiskPosition

K = InstrumentKind


def pos(key: str, kind: InstrumentKind, value: float, *, vehicle: str = "fx",
        code: str | None = None, custodian: str | None = None,
        crypto: bool = False) -> RiskPosition:
    return RiskPosition(key, code or key.upper(), kind, vehicle, value,
                        (FactorLoading("BTC", 1.0),) if crypto else (), crypto=crypto,
                        custodian_code=custodian)


def book(*positions: RiskPosition) -> RiskBook:
    return RiskBook(date(2026, 10, 30), positions, None)


MARKET = {
    "IBIT": MarketLiquidity(adv_units=100_000, price_usd=50.0, half_spread=0.001,
                            spread_volatility=0.0004, daily_volatility=0.03),  # ADV $5M
    "BTC": MarketLiquidity(adv_units=10, price_usd=100_000.0, half_spread=0.0005,
                           daily_volatility=0.04),  # ADV $1M
}


def reserve() -> RiskBook:
    return book(
        pos("cash", K.CASH, 1_000.0, code="USD"),
        pos("bill", K.TBILL, 500.0),
        pos("gold", K.GOLD, 300.0, code="XAU"),
        pos("ibit", K.ETF, 1_000_000.0, vehicle="sleeve", crypto=True),
        pos("btc", K.TOKEN, 700_000.0, vehicle="fund", crypto=True),
        pos("hf", K.HEDGE_FUND_INTEREST, 400.0, vehicle="fund", crypto=True),
        pos("vc", K.VENTURE_FUND_INTEREST, 200.0, vehicle="fund", crypto=True),
        pos("seized", K.TOKEN, 100.0, vehicle="seized", code="BTC", crypto=True),
        pos("bnb", K.TOKEN, 50.0, vehicle="fund", crypto=True),
    )


def test_days_to_cash_by_hand() -> None:
    profile = liquidity_profile(reserve(), MARKET, participation=0.10,
                                legal_hold_vehicles={"seized"})
    rows = {p.key: p for p in profile.positions}
    assert [rows[k].days_to_cash for k in ("cash", "bill", "gold", "hf")] == [0, 1, 2, 70]
    # IBIT: $1M at 10 % of $5M a day = 2 trading days = 2.8 calendar days -> 3 selling days,
    # the last sale settles T+1: cash on day 1 + 3 - 1 = 3
    assert rows["ibit"].daily_sale_usd == pytest.approx(500_000.0)
    assert rows["ibit"].trading_days == pytest.approx(2.0)
    assert rows["ibit"].days_to_cash == 3
    # BTC: $700k at $100k a day, 7 days a week, same-day settlement: days 0..6
    assert rows["btc"].trading_days == pytest.approx(7.0)
    assert rows["btc"].days_to_cash == 6
    assert rows["vc"].days_to_cash is None and "not liquid within a year" in rows["vc"].reason
    assert rows["seized"].days_to_cash is None
    assert rows["seized"].reason == "legal hold until forfeiture"
    assert rows["bnb"].days_to_cash is None  # no volume data
    assert [w.subject for w in profile.provenance.warnings] == ["bnb"]


def test_ladder_by_hand() -> None:
    profile = liquidity_profile(reserve(), MARKET, legal_hold_vehicles={"seized"})
    ladder = profile.ladder
    assert ladder.days == (1, 7, 30, 90, 365)
    day1 = 1_000 + 500 + 500_000 * 5 / 7 + 100_000 * 2  # gold settles T+2
    assert ladder.total_usd[0] == pytest.approx(day1)
    day7 = 1_000 + 500 + 300 + 1_000_000 + 700_000
    assert ladder.total_usd[1:3] == pytest.approx((day7, day7))
    assert ladder.total_usd[3] == pytest.approx(day7 + 400)  # the hedge fund by day 70
    assert ladder.total_usd[4] == ladder.total_usd[3]  # venture, seized, BNB never
    total = reserve().total_usd
    assert ladder.total_share[4] == pytest.approx((day7 + 400) / total)
    assert ladder.vehicle_usd["sleeve"][0] == pytest.approx(500_000 * 5 / 7)
    assert ladder.vehicle_share["sleeve"][1] == pytest.approx(1.0)
    assert ladder.vehicle_share["seized"] == (0.0,) * 5
    fund = 700_000 + 400 + 200 + 50
    assert ladder.vehicle_share["fund"][3] == pytest.approx((700_000 + 400) / fund)
    assert all(a <= b + 1e-9 for a, b in zip(ladder.total_usd, ladder.total_usd[1:],
                                             strict=False))


def test_forfeiture_date_and_overrides() -> None:
    held = liquidity_profile(reserve(), MARKET, legal_hold_vehicles={"seized"},
                             forfeiture_days=30)
    seized = next(p for p in held.positions if p.key == "seized")
    assert seized.days_to_cash == 30  # hold, then $100 sells within the first day
    monthly = LiquidityTerms(5, False, notice_days=90, dealing_period_days=90)
    slow = liquidity_profile(reserve(), MARKET, terms={K.HEDGE_FUND_INTEREST: monthly},
                             position_terms={"gold": LiquidityTerms(0, False)})
    rows = {p.key: p for p in slow.positions}
    assert rows["hf"].days_to_cash == 185 and rows["gold"].days_to_cash == 0
    faster = liquidity_profile(reserve(), MARKET, participation=0.5)
    assert {p.key: p for p in faster.positions}["btc"].days_to_cash == 1  # 1.4 trading days


def test_default_terms_cover_every_instrument_kind() -> None:
    assert set(DEFAULT_TERMS) == set(InstrumentKind)
    assert DEFAULT_TERMS[K.ETF].settlement_days == 1
    assert DEFAULT_TERMS[K.VENTURE_FUND_INTEREST].delay_days is None


def test_liquidity_bad_inputs() -> None:
    with pytest.raises(InvalidInput, match="participation"):
        liquidity_profile(reserve(), MARKET, participation=0.0)
    with pytest.raises(InvalidInput, match="ladder"):
        liquidity_profile(reserve(), MARKET, ladder_days=(7, 1))
    with pytest.raises(InvalidInput, match="adv_units"):
        MarketLiquidity(adv_units=0.0, price_usd=1.0)
    with pytest.raises(InvalidInput, match="half_spread"):
        MarketLiquidity(adv_units=1.0, price_usd=1.0, half_spread=-0.1)
    with pytest.raises(InvalidInput, match="trading_days_per_week"):
        LiquidityTerms(trading_days_per_week=8)
    with pytest.raises(InvalidInput, match="VaR"):
        liquidity_adjusted_var(reserve(), -1.0, MARKET)


def test_lvar_by_hand() -> None:
    small = MarketLiquidity(adv_units=1_000_000, price_usd=1.0, half_spread=0.002,
                            daily_volatility=0.05)
    scope = book(pos("ibit", K.ETF, 1_000_000.0, crypto=True),
                 pos("btc", K.TOKEN, 700_000.0, crypto=True),
                 pos("eth", K.TOKEN, 50_000.0, code="ETH", crypto=True),
                 pos("bill", K.TBILL, 5_000.0),
                 pos("bnb", K.TOKEN, 10.0, crypto=True))
    result = liquidity_adjusted_var(scope, 100_000.0, {**MARKET, "ETH": small},
                                    spread_multiplier=3.0, impact_coefficient=1.0)
    costs = {c.key: c for c in result.positions}
    # Bangia: value * (half-spread + a * spread vol / 2)
    assert costs["ibit"].exogenous_usd == pytest.approx(1e6 * (0.001 + 3 * 0.0004 / 2))
    assert costs["ibit"].endogenous_usd == pytest.approx(1e6 * 0.03 * math.sqrt(0.2))
    assert costs["btc"].endogenous_usd == pytest.approx(7e5 * 0.04 * math.sqrt(0.7))
    # ETH: $50k is below 10 % of $1M ADV: spread only
    assert costs["eth"].endogenous_usd == 0.0
    assert costs["eth"].exogenous_usd == pytest.approx(100.0)
    assert costs["bill"].exogenous_usd == 0.0
    expected = 100_000 + sum(c.exogenous_usd + c.endogenous_usd for c in costs.values())
    assert result.lvar_usd == pytest.approx(expected)
    assert result.lvar_usd > result.var_usd
    assert [w.subject for w in result.provenance.warnings] == ["bnb"]  # bill needs none


def test_sqrt_impact_is_capped() -> None:
    thin = MarketLiquidity(adv_units=1.0, price_usd=1.0, daily_volatility=0.5)
    assert sqrt_impact(0.25, thin) == pytest.approx(0.25)
    assert sqrt_impact(100.0, thin, coefficient=2.0) == 1.0
    with pytest.raises(InvalidInput, match="coefficient"):
        sqrt_impact(1.0, thin, coefficient=-1.0)


# --- operational shocks -----------------------------------------------------------------

def custody_book() -> RiskBook:
    return book(
        pos("btc", K.TOKEN, 700.0, vehicle="fund", custodian="bitgo", code="BTC", crypto=True),
        pos("aix", K.ETF, 300.0, vehicle="sleeve", custodian="bitgo", crypto=True),
        pos("ibit", K.ETF, 1_000.0, vehicle="sleeve", custodian="bny", crypto=True),
        pos("gld", K.ETF, 500.0, custodian="bny"),
        pos("eth", K.TOKEN, 200.0, vehicle="seized", code="ETH", crypto=True),
        pos("usdt", K.STABLECOIN, 100.0, vehicle="seized", code="USDT", crypto=True),
        pos("etha", K.ETF, 400.0, vehicle="sleeve", code="ETHA", crypto=True),
    )


def test_custodian_failure_by_hand() -> None:
    result = custodian_failure(custody_book(), "bitgo", frozen_days=30, haircut=0.2)
    assert {p.key for p in result.positions} == {"btc", "aix"}
    assert result.total_loss_usd == pytest.approx(0.2 * 1_000)
    assert result.total_unavailable_usd == pytest.approx(0.8 * 1_000)
    assert result.vehicle_loss_usd == pytest.approx({"fund": 140.0, "sleeve": 60.0})
    assert result.vehicle_unavailable_usd == pytest.approx({"fund": 560.0, "sleeve": 240.0})
    assert result.positions[0].unavailable_days == 30
    assert result.loss_share == pytest.approx(200 / custody_book().total_usd)


def test_etf_halt_hits_crypto_etfs_or_the_listed_ones() -> None:
    result = etf_halt(custody_book(), halt_days=3, discount=0.05)
    assert {p.key for p in result.positions} == {"aix", "ibit", "etha"}  # not GLD
    assert result.total_loss_usd == pytest.approx(0.05 * 1_700)
    assert result.total_unavailable_usd == pytest.approx(0.95 * 1_700)
    listed = etf_halt(custody_book(), halt_days=1, instruments={"GLD"})
    assert [p.key for p in listed.positions] == ["gld"] and listed.total_loss_usd == 0.0


def test_chain_halt_freezes_tokens_on_the_chain_only() -> None:
    chains = {"BTC": "bitcoin", "ETH": "ethereum", "USDT": "ethereum"}
    result = chain_halt(custody_book(), "ethereum", token_chains=chains, halt_days=2)
    assert {p.key for p in result.positions} == {"eth", "usdt"}  # the ETHA ETF trades on
    assert result.total_unavailable_usd == pytest.approx(300.0)
    assert result.total_loss_usd == 0.0
    nothing = chain_halt(custody_book(), "solana", token_chains=chains, halt_days=2)
    assert nothing.positions == ()
    assert [w.rule for w in nothing.provenance.warnings] == ["risk.operational_no_positions"]


def test_forced_sale_of_seized_coins_into_a_thin_market_by_hand() -> None:
    seized = book(pos("btc", K.TOKEN, 1_000_000.0, vehicle="seized", code="BTC", crypto=True),
                  pos("cash", K.CASH, 10.0, vehicle="seized", code="USD"),
                  pos("other", K.TOKEN, 5.0, vehicle="fund", code="BTC", crypto=True))
    result = forced_sale(seized, MARKET, vehicle="seized", adv_scale=0.25)
    # ADV $1M x 0.25 = $250k; Q/ADV = 4; impact 0.04 * 2 = 8 %, plus the 0.05 % half-spread
    (sale,) = result.positions
    assert sale.loss_usd == pytest.approx(1_000_000 * (0.08 + 0.0005))
    assert result.provenance.warnings == ()  # cash is not sold and needs no depth
    half = forced_sale(seized, MARKET, vehicle="seized", adv_scale=0.25, sale_share=0.5)
    assert half.total_loss_usd == pytest.approx(500_000 * (0.04 * math.sqrt(2) + 0.0005))
    keyed = forced_sale(seized, MARKET, keys={"other"})
    assert keyed.total_loss_usd == pytest.approx(5 * (0.04 * math.sqrt(5e-6) + 0.0005))
    no_depth = forced_sale(seized, {}, vehicle="seized")
    assert [w.subject for w in no_depth.provenance.warnings] == ["btc", "forced-sale"]
    assert no_depth.total_loss_usd == 0.0


def test_operational_bad_inputs() -> None:
    with pytest.raises(InvalidInput, match="haircut"):
        custodian_failure(custody_book(), "bitgo", frozen_days=1, haircut=1.5)
    with pytest.raises(InvalidInput, match="frozen_days"):
        custodian_failure(custody_book(), "bitgo", frozen_days=-1)
    with pytest.raises(InvalidInput, match="choose"):
        forced_sale(custody_book(), MARKET)
    with pytest.raises(InvalidInput, match="adv_scale"):
        forced_sale(custody_book(), MARKET, vehicle="seized", adv_scale=0.0)


def test_zero_days_freeze_nothing() -> None:
    result = custodian_failure(custody_book(), "bitgo", frozen_days=0, haircut=0.1)
    assert result.total_unavailable_usd == 0.0 and result.total_loss_usd == pytest.approx(100)
    assert result.positions[0].unavailable_days == 0
