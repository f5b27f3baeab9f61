"""build_snapshot: hand-computed USD/KZT values, missing and stale data, totals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

import pytest

from qoima.domain.enums import AccountKind, InstrumentKind, Severity
from qoima.domain.reference import Account, Instrument
from qoima.market.quotes import FxQuote, PriceQuote
from qoima.portfolio.snapshot import PortfolioSnapshot, Position, PositionValue, build_snapshot
from tests.builders import AVG_FUND, BTC, ETH, FIFO_FUND, IBIT, KZT, USD

D = Decimal
AS_OF = date(2024, 6, 10)
BOND = Instrument("UST-2030", "US Treasury 2030", InstrumentKind.BOND, 0,
                  price_factor=D("0.01"), isin="US91282CJL54")
SAP = Instrument("SAP", "SAP SE", InstrumentKind.EQUITY, 0, currency="EUR")
VEHICLES = {"fund-a": FIFO_FUND, "fund-b": AVG_FUND}
USD_KZT = FxQuote("USD", "KZT", AS_OF, D("450"), "nbk")
EUR_USD = FxQuote("EUR", "USD", AS_OF, D("1.08"), "ecb")


def pos(instrument: Instrument, quantity: str, vehicle: str = "fund-a",
        cost: str | None = None) -> Position:
    account = Account(AccountKind.HOLDING, instrument.code, vehicle, "main", "bny")
    return Position(account, instrument, D(quantity), None if cost is None else D(cost))


def price(instrument: Instrument, close: str, age_days: int = 0, currency: str = "USD",
          source: str = "exchange") -> PriceQuote:
    return PriceQuote(instrument.code, AS_OF - timedelta(days=age_days), D(close), currency,
                      source)


PRICES = {q.instrument_code: q for q in (
    price(IBIT, "40.25"), price(BTC, "60000.13"), price(BOND, "98.765"),
    price(SAP, "200.00", currency="EUR"))}
POSITIONS = (
    pos(USD, "1000.00"),
    pos(IBIT, "100", cost="3500"),
    pos(BTC, "0.5", cost="20000"),
    pos(BOND, "10000"),
    pos(KZT, "1000000.00", "fund-b"),
    pos(SAP, "10", "fund-b"),
)


def snap(positions: Sequence[Position] = POSITIONS, prices: dict[str, PriceQuote] | None = None,
         fx: Sequence[FxQuote] = (USD_KZT, EUR_USD), **kw: object) -> PortfolioSnapshot:
    return build_snapshot(as_of=AS_OF, positions=positions, vehicles=VEHICLES,
                          prices=PRICES if prices is None else prices, fx=fx,
                          **kw)  # type: ignore[arg-type]


def by_instrument(snapshot: PortfolioSnapshot) -> dict[str, PositionValue]:
    return {p.instrument_code: p for p in snapshot.positions}


@pytest.mark.parametrize(
    ("code", "usd", "kzt"),
    [
        ("USD", "1000.00", "450000.00"),
        ("IBIT", "4025.00", "1811250.00"),  # 100 * 40.25
        ("BTC", "30000.06", "13500029.25"),  # 0.5 * 60000.13 = 30000.065, half-even
        ("UST-2030", "9876.50", "4444425.00"),  # 10000 * 98.765 * 0.01
        ("KZT", "2222.22", "1000000.00"),  # 1,000,000 / 450; KZT stays exact
        ("SAP", "2160.00", "972000.00"),  # 10 * 200 EUR * 1.08
    ],
)
def test_position_values(code: str, usd: str, kzt: str) -> None:
    value = by_instrument(snap())[code]
    assert value.value_usd == D(usd)
    assert value.value_kzt == D(kzt)
    assert value.value_usd.as_tuple().exponent == -2
    assert value.findings == ()


def test_price_details_and_unrealized() -> None:
    values = by_instrument(snap())
    assert (values["IBIT"].price, values["IBIT"].price_date, values["IBIT"].price_currency) == (
        D("40.25"), AS_OF, "USD")
    assert values["IBIT"].cost_usd == D("3500.00")
    assert values["IBIT"].unrealized_usd == D("525.00")
    assert values["BTC"].unrealized_usd == D("10000.06")
    assert values["USD"].cost_usd == D("1000.00")  # dollars cost what they are
    assert values["USD"].unrealized_usd == D(0)
    assert values["USD"].price is None
    assert values["SAP"].price_currency == "EUR"
    assert values["SAP"].cost_usd is None and values["SAP"].unrealized_usd is None


def test_nav_totals_are_sums_of_position_values() -> None:
    snapshot = snap()
    fund_a, fund_b = snapshot.vehicle("fund-a"), snapshot.vehicle("fund-b")
    assert fund_a.nav_usd == D("44901.56")
    assert fund_a.nav_kzt == D("20205704.25")
    assert fund_b.nav_usd == D("4382.22")
    assert fund_b.nav_kzt == D("1972000.00")
    assert snapshot.total_usd == D("49283.78")
    assert snapshot.total_kzt == D("22177704.25")
    assert snapshot.total_usd == sum(p.value_usd for p in snapshot.positions)  # type: ignore
    assert snapshot.total_kzt == sum(p.value_kzt for p in snapshot.positions)  # type: ignore
    assert fund_a.by_tranche_usd == {"main": D("44901.56")}
    assert (fund_a.positions, fund_a.unvalued_positions, fund_a.complete) == (4, 0, True)
    assert snapshot.complete
    assert snapshot.findings == ()
    assert snapshot.usd_kzt == USD_KZT


@pytest.mark.parametrize("pair", [FxQuote("EUR", "USD", AS_OF, D("1.25"), "ecb"),
                                  FxQuote("USD", "EUR", AS_OF, D("0.8"), "ecb")])
def test_fx_in_either_direction(pair: FxQuote) -> None:
    value = by_instrument(snap([pos(SAP, "10")], fx=(USD_KZT, pair)))["SAP"]
    assert value.value_usd == D("2500.00")  # 2000 EUR * 1.25 = 2000 EUR / 0.8
    assert value.value_kzt == D("1125000.00")


def test_usd_kzt_stored_the_other_way_round() -> None:
    kzt_usd = FxQuote("KZT", "USD", AS_OF, D("0.002"), "nbk")  # 500 KZT per USD
    snapshot = snap([pos(USD, "10.00"), pos(KZT, "1000.00")], fx=(kzt_usd,))
    values = by_instrument(snapshot)
    assert values["USD"].value_kzt == D("5000.00")
    assert values["KZT"].value_usd == D("2.00")
    assert values["KZT"].value_kzt == D("1000.00")
    assert snapshot.total_kzt == D("6000.00")
    assert snapshot.usd_kzt == kzt_usd


def test_missing_price_leaves_the_position_unvalued() -> None:
    eth = pos(ETH, "2", "fund-b", cost="3000")
    snapshot = snap([*POSITIONS, eth])
    value = by_instrument(snapshot)["ETH"]
    assert value.value_usd is None  # never a silent zero
    assert value.value_kzt is None and value.unrealized_usd is None and value.price is None
    assert value.cost_usd == D("3000.00")
    [finding] = value.findings
    assert (finding.rule, finding.severity, finding.subject) == (
        "valuation.missing_price", Severity.ERROR, eth.account.code)
    assert finding in snapshot.findings
    fund_b = snapshot.vehicle("fund-b")
    assert (fund_b.positions, fund_b.unvalued_positions, fund_b.complete) == (3, 1, False)
    assert fund_b.nav_usd == D("4382.22")  # the others still add up
    assert snapshot.vehicle("fund-a").complete
    assert not snapshot.complete


def test_missing_fx_for_the_quote_currency() -> None:
    value = by_instrument(snap([pos(SAP, "10")], fx=(USD_KZT,)))["SAP"]
    assert value.value_usd is None
    assert value.price == D("200.00")
    assert [f.rule for f in value.findings] == ["valuation.missing_fx"]


@pytest.mark.parametrize(("age", "stale"), [(4, False), (5, True)])
def test_stale_etf_price_is_valued_and_warned(age: int, stale: bool) -> None:
    prices = {"IBIT": price(IBIT, "40.25", age_days=age)}
    snapshot = snap([pos(IBIT, "100")], prices=prices)
    value = by_instrument(snapshot)["IBIT"]
    assert value.value_usd == D("4025.00")
    assert value.price_date == AS_OF - timedelta(days=age)
    if stale:
        [finding] = value.findings
        assert (finding.rule, finding.severity) == ("valuation.stale_price", Severity.WARNING)
        # AS_OF is Monday 10 June 2024: five days back is Wednesday, three NYSE sessions
        assert (finding.measured, finding.limit) == ("3", "2")
        assert "3 sessions before" in finding.message
        assert snapshot.findings == (finding,)
    else:
        assert value.findings == ()
    assert snapshot.complete  # stale is still valued


def test_stale_usd_kzt_warns() -> None:
    old = FxQuote("USD", "KZT", AS_OF - timedelta(days=5), D("450"), "nbk")
    snapshot = snap([pos(USD, "1.00")], fx=(old,))
    assert [(f.rule, f.severity, f.measured) for f in snapshot.findings] == [
        ("valuation.stale_fx", Severity.WARNING, "5")]
    assert snapshot.total_kzt == D("450.00")


def test_missing_usd_kzt() -> None:
    snapshot = snap(fx=(EUR_USD,))
    assert snapshot.total_kzt is None
    assert snapshot.usd_kzt is None
    assert snapshot.total_usd == D("47061.56")  # KZT cash needs the rate: unvalued
    assert all(p.value_kzt is None for p in snapshot.positions)
    assert all(v.nav_kzt is None for v in snapshot.vehicles)
    rules = [(f.rule, f.subject) for f in snapshot.findings]
    assert ("valuation.missing_fx", "USD/KZT") in rules
    assert by_instrument(snapshot)["KZT"].value_usd is None


@pytest.mark.parametrize(("source", "fx_source", "synthetic"), [
    ("exchange", "nbk", False), ("synthetic-gbm", "nbk", True),
    ("synthetic", "nbk", True), ("exchange", "synthetic-fx", True),
    ("not-synthetic", "nbk", False)])
def test_synthetic_flag(source: str, fx_source: str, synthetic: bool) -> None:
    prices = {"BTC": price(BTC, "60000", source=source)}
    fx = (FxQuote("USD", "KZT", AS_OF, D("450"), fx_source),)
    assert snap([pos(BTC, "1", cost="1")], prices=prices, fx=fx).synthetic_market is synthetic


def test_unused_synthetic_price_does_not_flag() -> None:
    prices = {**PRICES, "ETH": price(ETH, "3000", source="synthetic")}
    assert not snap(prices=prices).synthetic_market


def test_zero_positions_skipped_and_empty_vehicle_listed() -> None:
    snapshot = snap([pos(BTC, "0"), pos(USD, "5.00")])
    assert [p.instrument_code for p in snapshot.positions] == ["USD"]
    fund_b = snapshot.vehicle("fund-b")
    assert (fund_b.nav_usd, fund_b.positions, fund_b.complete) == (D(0), 0, True)
    with pytest.raises(KeyError):
        snapshot.vehicle("nope")


def test_pending_positions_are_valued_but_not_in_nav() -> None:
    seized = pos(BTC, "2", "fund-a")
    snapshot = build_snapshot(as_of=AS_OF, positions=[pos(USD, "1.00")], pending=[seized],
                              vehicles=VEHICLES, prices=PRICES, fx=(USD_KZT,))
    assert snapshot.pending_positions[0].value_usd == D("120000.26")
    assert snapshot.total_usd == D("1.00")


def test_inputs_hash_is_reproducible() -> None:
    assert snap().inputs_hash == snap().inputs_hash
    moved = {**PRICES, "BTC": price(BTC, "60000.14")}
    assert snap(prices=moved).inputs_hash != snap().inputs_hash
