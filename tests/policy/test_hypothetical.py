"""apply_trade: hand-computed post-trade snapshots, and the pre-trade check on them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qoima.domain.enums import InstrumentKind
from qoima.domain.errors import InvalidInput, ScaleError
from qoima.domain.reference import Instrument
from qoima.policy.context import RiskFigures
from qoima.policy.evaluate import NEGATIVE_HOLDING_RULE, evaluate
from qoima.policy.hypothetical import apply_trade
from qoima.portfolio.snapshot import PortfolioSnapshot, PositionValue
from tests.policy.book import AS_OF, BY_CODE, SLEEVE, context, sleeve_policy, snapshot

D = Decimal
BOOK = [("IBIT", "1000000"), ("FBTC", "250000"), ("USD", "60000000.00")]  # 50M + 20M + 60M


def trade(snap: PortfolioSnapshot, code: str, quantity: str, price: str, fees: str = "0",
          **kw: object) -> PortfolioSnapshot:
    return apply_trade(snap, vehicle_code=SLEEVE, tranche_code="main",
                       custodian_code=kw.pop("custodian", "bny"),  # type: ignore[arg-type]
                       instrument=BY_CODE[code], quantity_delta=D(quantity), price=D(price),
                       fees_usd=D(fees), **kw)  # type: ignore[arg-type]


def by_account(snap: PortfolioSnapshot) -> dict[str, PositionValue]:
    return {p.account_code: p for p in snap.positions}


IBIT_AT_BNY = "holding:da-sleeve/main:IBIT@bny"
CASH = "holding:da-sleeve/main:USD@bny"


def test_buy_moves_position_and_cash_hand_computed() -> None:
    before = snapshot(BOOK, others=[("fx-reserves", ("USD", "1000.00", "fed-ny"))])
    after = trade(before, "IBIT", "100000", "50.10", fees="1000.00")
    positions = by_account(after)
    assert positions[IBIT_AT_BNY].quantity == D(1_100_000)
    # existing 50,000,000 at its mark + 100,000 x 50.10 = 5,010,000
    assert positions[IBIT_AT_BNY].value_usd == D("55010000.00")
    assert positions[IBIT_AT_BNY].value_kzt == D("27505000000.00")  # x 500
    assert positions[CASH].quantity == D("54989000.00")  # 60M - 5,010,000 - 1,000
    nav = after.vehicle(SLEEVE)
    assert nav.nav_usd == D("129999000.00")  # 130M minus the fees
    assert nav.by_tranche_usd == {"main": D("129999000.00")}
    assert after.vehicle("fx-reserves") == before.vehicle("fx-reserves")
    assert after.total_usd == before.total_usd - D(1000)
    assert after.total_kzt == before.total_kzt - D(500_000)  # type: ignore[operator]
    assert after.inputs_hash != before.inputs_hash
    assert by_account(before)[IBIT_AT_BNY].quantity == D(1_000_000)  # untouched


def test_new_position_sell_all_and_sell_part() -> None:
    bought = by_account(trade(snapshot(BOOK), "ETHA", "40000", "25"))
    assert bought["holding:da-sleeve/main:ETHA@bny"].value_usd == D("1000000.00")
    assert bought[CASH].quantity == D("59000000.00")
    sold_out = trade(snapshot(BOOK), "FBTC", "-250000", "80", fees="500")
    assert "holding:da-sleeve/main:FBTC@bny" not in by_account(sold_out)  # zero: dropped
    assert by_account(sold_out)[CASH].quantity == D("79999500.00")
    assert sold_out.vehicle(SLEEVE).positions == 2


def test_cash_account_selection() -> None:
    # AIX-BTC sits at bitgo; the only USD holding of the sleeve is at bny: it pays
    after = by_account(trade(snapshot(BOOK), "AIX-BTC", "1000", "10", custodian="bitgo"))
    assert after[CASH].quantity == D("59990000.00")
    assert "holding:da-sleeve/main:USD@bitgo" not in after
    # an explicit cash account without money: a negative holding, blocked by the check
    explicit = trade(snapshot(BOOK), "IBIT", "10", "50", cash_custodian_code="bitgo")
    assert by_account(explicit)["holding:da-sleeve/main:USD@bitgo"].quantity == D("-500.00")


def test_unvalued_position_is_valued_at_the_trade_price() -> None:
    after = by_account(trade(snapshot(BOOK, unpriced=["FBTC"]), "FBTC", "10", "81"))
    position = after["holding:da-sleeve/main:FBTC@bny"]
    assert position.value_usd == D("20250810.00")  # 250,010 x 81
    assert position.price == D(81) and position.price_date == AS_OF


def test_kzt_priced_instrument_converts_and_others_are_refused() -> None:
    kase = Instrument("KASE-X", "Listed in tenge", InstrumentKind.EQUITY, 0, currency="KZT")
    after = apply_trade(snapshot(BOOK), vehicle_code=SLEEVE, tranche_code="main",
                        custodian_code="bny", instrument=kase, quantity_delta=D(100),
                        price=D(5000), fees_usd=D(0))
    assert by_account(after)[CASH].quantity == D("59999000.00")  # 500,000 KZT / 500
    eur = Instrument("SAP", "SAP", InstrumentKind.EQUITY, 0, currency="EUR")
    with pytest.raises(InvalidInput, match="EUR/USD"):
        apply_trade(snapshot(BOOK), vehicle_code=SLEEVE, tranche_code="main",
                    custodian_code="bny", instrument=eur, quantity_delta=D(1), price=D(1))


@pytest.mark.parametrize(("change", "error"), [
    ({"vehicle_code": "nowhere"}, InvalidInput),
    ({"instrument": BY_CODE["USD"]}, InvalidInput),
    ({"quantity_delta": D(0)}, InvalidInput),
    ({"quantity_delta": D("0.5")}, ScaleError),  # ETF shares are whole
    ({"price": D(0)}, InvalidInput),
    ({"fees_usd": D(-1)}, InvalidInput),
])
def test_bad_trades_are_refused(change: dict[str, object], error: type[Exception]) -> None:
    args: dict[str, object] = {"vehicle_code": SLEEVE, "tranche_code": "main",
                               "custodian_code": "bny", "instrument": BY_CODE["IBIT"],
                               "quantity_delta": D(1), "price": D(50), "fees_usd": D(0)}
    with pytest.raises(error):
        apply_trade(snapshot(BOOK), **{**args, **change})  # type: ignore[arg-type]


# the pre-trade check: evaluate on the hypothetical snapshot ----------------------------------

def pretrade(after: PortfolioSnapshot) -> set[str]:
    ctx = context(after, risk=RiskFigures(1.0, {"btc-minus-50": 1.0,
                                                "etf-discount-outflows": 1.0,
                                                "crypto-equity-contagion": 1.0}),
                  drawdown=0.0, liquidity={5: D(1)})
    return {f.rule for f in evaluate(sleeve_policy(), ctx).blocking_findings}


def test_pretrade_blocks_what_the_current_book_allows() -> None:
    assert pretrade(snapshot(BOOK)) == set()
    # a token is not eligible and not on the allow list
    assert pretrade(trade(snapshot(BOOK), "BTC", "1", "100000", custodian="bitgo")) == {
        "policy.eligible", "policy.instruments"}
    # IBIT to 50M + 40M = 90M of 130M: 69 % > 60 % per instrument
    assert pretrade(trade(snapshot(BOOK), "IBIT", "800000", "50")) == {"policy.per-instrument"}
    # more than the cash: the USD holding goes negative
    assert pretrade(trade(snapshot(BOOK), "FBTC", "800000", "80")) >= {NEGATIVE_HOLDING_RULE}
    # selling more than held
    assert NEGATIVE_HOLDING_RULE in pretrade(trade(snapshot(BOOK), "FBTC", "-250001", "80"))
