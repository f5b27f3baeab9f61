"""compute_lots: FIFO and average cost, transfers at cost, reversals, unknown cost."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

import pytest

from qoima.domain.enums import CostMethod, EntryCode
from qoima.domain.errors import LedgerError
from qoima.ledger.lots import Lot, LotPosition, compute_lots
from qoima.ledger.ports import AccountInfo, PostingRow
from tests.ledger.accounts import external, holding, standard_accounts

D = Decimal
BTC_A, BTC_B, BTC_X = holding("BTC").code, holding("BTC", "fund-b").code, external("BTC").code
USD_A, USD_X = holding("USD").code, external("USD").code
KZT_A, KZT_X = holding("KZT").code, external("KZT").code
D1, D2, D3, D4 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)


class Rows:
    """Builds PostingRows in (date, seq, leg) order as the store would return them."""

    def __init__(self) -> None:
        self.rows: list[PostingRow] = []
        self.seq = 0

    def add(self, entry_id: str, day: date, code: EntryCode,
            *legs: tuple[str, str, str | None, str | None]) -> Rows:
        self.seq += 1
        for account, amount, cost, price in legs:
            self.rows.append(PostingRow(
                self.seq, entry_id, day, code.value, account, D(amount),
                None if cost is None else D(cost), None if price is None else D(price)))
        return self

    def buy(self, entry_id: str, day: date, quantity: str, cost: str,
            account: str = BTC_A) -> Rows:
        usd = str(D(quantity) * D(cost))
        return self.add(entry_id, day, EntryCode.BUY, (account, quantity, cost, None),
                        (BTC_X, f"-{quantity}", None, None), (USD_A, f"-{usd}", None, None),
                        (USD_X, usd, None, None))

    def sell(self, entry_id: str, day: date, quantity: str, price: str,
             account: str = BTC_A) -> Rows:
        usd = str(D(quantity) * D(price))
        return self.add(entry_id, day, EntryCode.SELL, (account, f"-{quantity}", None, price),
                        (BTC_X, quantity, None, None), (USD_A, usd, None, None),
                        (USD_X, f"-{usd}", None, None))


def lots_of(rows: Rows, accounts: Mapping[str, AccountInfo] | None = None, *,
            as_of: date = D4, reversed_on: Mapping[str, date] | None = None
            ) -> dict[str, LotPosition]:
    return compute_lots(rows.rows, accounts or standard_accounts(),
                        reversed_on=reversed_on or {}, as_of=as_of)


def scenario() -> Rows:
    return Rows().buy("b1", D1, "10", "100").buy("b2", D2, "10", "120").sell("s1", D3, "15",
                                                                            "130")


def test_fifo_realizes_against_the_oldest_lots() -> None:
    position = lots_of(scenario())[BTC_A]
    assert position.quantity == D(5)
    assert position.lots == (Lot(D(5), D(120), D2, "b2"),)
    [realization] = position.realized
    assert realization.quantity == D(15)
    assert realization.proceeds_usd == D(1950)  # 15 * 130
    assert realization.cost_usd == D(1600)  # 10 * 100 + 5 * 120
    assert realization.pnl_usd == D(350)
    assert position.realized_usd == D(350)
    assert position.cost_usd == D(600)


def test_average_cost() -> None:
    position = lots_of(scenario(), standard_accounts(CostMethod.AVERAGE))[BTC_A]
    assert position.quantity == D(5)
    [lot] = position.lots
    assert (lot.quantity, lot.unit_cost_usd) == (D(5), D(110))  # (1000 + 1200) / 20
    assert position.realized[0].cost_usd == D(1650)  # 15 * 110
    assert position.realized_usd == D(300)  # 15 * (130 - 110)
    assert position.cost_usd == D(550)


def test_average_cost_with_a_repeating_fraction() -> None:
    rows = Rows().buy("b1", D1, "1", "100").buy("b2", D1, "2", "101")
    position = lots_of(rows, standard_accounts(CostMethod.AVERAGE))[BTC_A]
    [lot] = position.lots
    assert lot.quantity == D(3)
    assert abs(lot.unit_cost_usd * 3 - D(302)) < D("1e-50")  # 302 / 3, to 60 digits


def test_usd_cash_has_no_lots_but_quantities_are_tracked() -> None:
    positions = lots_of(scenario())
    assert USD_A not in positions  # base currency is not a lot leg
    assert BTC_X not in positions  # only holding accounts


def test_transfer_moves_lots_at_original_cost_and_date() -> None:
    rows = scenario().add("t1", D4, EntryCode.TRANSFER, (BTC_A, "-3", None, None),
                          (BTC_B, "3", None, None))
    positions = lots_of(rows)
    assert positions[BTC_A].quantity == D(2)
    assert positions[BTC_A].lots == (Lot(D(2), D(120), D2, "b2"),)
    assert positions[BTC_B].quantity == D(3)
    assert positions[BTC_B].lots == (Lot(D(3), D(120), D2, "b2"),)
    assert positions[BTC_B].realized == ()
    assert positions[BTC_B].realized_usd == D(0)


def test_transfer_across_two_lots_keeps_both() -> None:
    rows = Rows().buy("b1", D1, "1", "100").buy("b2", D2, "1", "200").add(
        "t1", D3, EntryCode.TRANSFER, (BTC_A, "-1.5", None, None), (BTC_B, "1.5", None, None))
    positions = lots_of(rows)
    assert positions[BTC_B].lots == (Lot(D(1), D(100), D1, "b1"), Lot(D("0.5"), D(200), D2, "b2"))
    assert positions[BTC_B].cost_usd == D(200)
    assert positions[BTC_A].lots == (Lot(D("0.5"), D(200), D2, "b2"),)


def test_reversed_entry_excluded_once_the_reversal_is_in_force() -> None:
    rows = Rows().buy("b1", D1, "10", "100").buy("b2", D2, "10", "120").add(
        "r1", D3, EntryCode.REVERSAL, (BTC_A, "-10", None, None), (BTC_X, "10", None, None))
    position = lots_of(rows, as_of=D3, reversed_on={"b2": D3})[BTC_A]
    assert position.quantity == D(10)
    assert position.lots == (Lot(D(10), D(100), D1, "b1"),)


def test_reversed_entry_included_before_the_reversal_date() -> None:
    # as of D2 the reversal (dated D3) is not yet posted: the store gives only b1 and b2
    rows = Rows().buy("b1", D1, "10", "100").buy("b2", D2, "10", "120")
    position = lots_of(rows, as_of=D2, reversed_on={"b2": D3})[BTC_A]
    assert position.quantity == D(20)
    assert [lot.entry_id for lot in position.lots] == ["b1", "b2"]
    assert position.cost_usd == D(2200)


def test_reversed_sale_restores_the_lots() -> None:
    rows = scenario().add("r1", D4, EntryCode.REVERSAL, (BTC_A, "15", None, None),
                          (BTC_X, "-15", None, None))
    position = lots_of(rows, reversed_on={"s1": D4})[BTC_A]
    assert position.quantity == D(20)
    assert position.realized == ()
    assert position.cost_usd == D(2200)


def test_unknown_cost_lot() -> None:
    rows = Rows().add("k1", D1, EntryCode.CASH_IN, (KZT_A, "5000", None, None),
                      (KZT_X, "-5000", None, None))
    position = lots_of(rows)[KZT_A]
    assert position.lots == (Lot(D(5000), None, D1, "k1"),)
    assert position.cost_usd is None


def test_selling_an_unknown_cost_lot_has_unknown_pnl() -> None:
    rows = Rows().add("k1", D1, EntryCode.CASH_IN, (BTC_A, "1", None, None),
                      (BTC_X, "-1", None, None)).sell("s1", D2, "1", "50")
    position = lots_of(rows)[BTC_A]
    assert position.realized[0].cost_usd is None
    assert position.realized[0].pnl_usd is None
    assert position.realized_usd is None


def test_mixed_known_and_unknown_cost_is_unknown() -> None:
    rows = Rows().buy("b1", D1, "1", "100").add(
        "k1", D2, EntryCode.CASH_IN, (BTC_A, "1", None, None), (BTC_X, "-1", None, None))
    assert lots_of(rows)[BTC_A].cost_usd is None
    average = lots_of(rows, standard_accounts(CostMethod.AVERAGE))[BTC_A]
    assert average.lots == (Lot(D(2), None, D1, "b1"),)


def test_selling_more_than_the_lots_hold_is_an_error() -> None:
    rows = Rows().buy("b1", D1, "1", "100").sell("s1", D2, "2", "100")
    with pytest.raises(LedgerError, match="short by 1"):
        lots_of(rows)


def test_disposal_without_price_leaves_at_cost() -> None:
    rows = Rows().buy("b1", D1, "2", "100").add(
        "f1", D2, EntryCode.FEE, (BTC_A, "-0.5", None, None), (BTC_X, "0.5", None, None))
    position = lots_of(rows)[BTC_A]
    assert position.realized == ()
    assert position.lots == (Lot(D("1.5"), D(100), D1, "b1"),)
