"""validation.check_header and check_postings: every bad input is refused with a reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from qoima.domain.enums import EntryCode, EntryPhase
from qoima.domain.errors import InvalidInput, Origin, ScaleError, UnbalancedEntry
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.ledger.validation import check_header, check_postings
from tests.ledger.accounts import capital, external, holding, standard_accounts

D = Decimal
DAY = date(2024, 1, 2)
ACCOUNTS = standard_accounts()
USD_H, USD_X, CAP = holding("USD").code, external("USD").code, capital().code
BTC_H, BTC_X = holding("BTC").code, external("BTC").code
BTC_B = holding("BTC", "fund-b").code
SEIZED_BTC = holding("BTC", "seized", "state-wallet").code


def entry(*postings: PostingDraft, code: EntryCode = EntryCode.BUY, **kw: object) -> EntryDraft:
    return EntryDraft("e-1", code, DAY, postings, **kw)  # type: ignore[arg-type]


def p(account: str, amount: str, **kw: object) -> PostingDraft:
    return PostingDraft(account, D(amount), **kw)  # type: ignore[arg-type]


def a_buy(cost: str | None = "100") -> EntryDraft:
    return entry(p(BTC_H, "1.5", unit_cost_usd=None if cost is None else D(cost)),
                 p(BTC_X, "-1.5"), p(USD_H, "-150.00"), p(USD_X, "150.00"))


def test_a_good_buy_passes() -> None:
    draft = a_buy()
    check_header(draft)
    check_postings(draft, ACCOUNTS)


# -- header ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kw", "field", "message"),
    [
        ({"entry_id": ""}, "id", "entry id must be 1-128"),
        ({"entry_id": "x" * 129}, "id", "entry id must be 1-128"),
        ({"entry_id": " e-1"}, "id", "leading or trailing spaces"),
        ({"entry_id": "e-1 "}, "id", "leading or trailing spaces"),
        ({"phase": EntryPhase.PENDING}, "phase", "only seizure_intake entries may be pending"),
        ({"code": EntryCode.REVERSAL}, "reverses", "reversal entries must name the entry"),
        ({"reverses_entry_id": "e-0"}, "reverses", "buy entries must not name the entry"),
        ({"code": EntryCode.FORFEITURE}, "resolves", "forfeiture entries must name the pending"),
        ({"resolves_entry_id": "e-0"}, "resolves", "buy entries must not name the pending"),
        ({"code": EntryCode.RETURN_TO_OWNER, "resolves_entry_id": "e-0"}, "postings",
         "has no postings"),
        ({"code": EntryCode.FORFEITURE, "resolves_entry_id": "e-0",
          "phase": EntryPhase.PENDING}, "phase", "only seizure_intake"),
        ({"postings": ()}, "postings", "at least two postings"),
    ],
)
def test_bad_header(kw: dict[str, object], field: str, message: str) -> None:
    fields = {"entry_id": "e-1", "code": EntryCode.BUY, "value_date": DAY,
              "postings": a_buy().postings, "origin": Origin("entries.csv", 4), **kw}
    with pytest.raises(InvalidInput, match=message) as caught:
        check_header(EntryDraft(**fields))  # type: ignore[arg-type]
    assert caught.value.field == field
    assert str(caught.value).startswith("entries.csv:4: ")


def test_header_accepts_the_legal_shapes() -> None:
    check_header(EntryDraft("s", EntryCode.SEIZURE_INTAKE, DAY, a_buy().postings,
                            phase=EntryPhase.PENDING))
    check_header(EntryDraft("r", EntryCode.REVERSAL, DAY, (), reverses_entry_id="e-0"))
    check_header(EntryDraft("f", EntryCode.FORFEITURE, DAY, (), resolves_entry_id="s"))
    check_header(EntryDraft("v", EntryCode.RETURN_TO_OWNER, DAY, (), resolves_entry_id="s"))
    check_header(EntryDraft("x" * 128, EntryCode.BUY, DAY, a_buy().postings))


# -- postings -------------------------------------------------------------------------
def test_unbalanced_names_the_asset() -> None:
    draft = entry(p(BTC_H, "1.5", unit_cost_usd=D(100)), p(BTC_X, "-1.4"),
                  p(USD_H, "-150.00"), p(USD_X, "150.00"))
    with pytest.raises(UnbalancedEntry, match=r"does not balance per asset: BTC off by \+0\.1$"):
        check_postings(draft, ACCOUNTS)


def test_unbalanced_names_every_asset_off() -> None:
    draft = entry(p(BTC_H, "1", unit_cost_usd=D(100)), p(BTC_X, "-2"),
                  p(USD_H, "-100.00"), p(USD_X, "99.99"))
    with pytest.raises(UnbalancedEntry, match=r"BTC off by -1, USD off by -0\.01") as caught:
        check_postings(draft, ACCOUNTS)
    assert caught.value.field == "amount"


def test_balance_is_per_asset_not_in_total() -> None:
    # +1 BTC and -1 USD add up to zero but balance neither asset
    draft = entry(p(BTC_H, "1", unit_cost_usd=D(1)), p(USD_H, "-1"))
    with pytest.raises(UnbalancedEntry, match="BTC off by \\+1, USD off by -1"):
        check_postings(draft, ACCOUNTS)


def test_unknown_account() -> None:
    draft = entry(p("holding:nowhere:BTC", "1", unit_cost_usd=D(1)), p(BTC_X, "-1"))
    with pytest.raises(InvalidInput, match="unknown account 'holding:nowhere:BTC'") as caught:
        check_postings(draft, ACCOUNTS)
    assert caught.value.field == "account"


def test_zero_amount() -> None:
    draft = entry(p(USD_H, "0"), p(CAP, "0"), code=EntryCode.CASH_IN)
    with pytest.raises(InvalidInput, match="must not be zero"):
        check_postings(draft, ACCOUNTS)


def test_wrong_scale_names_origin_and_field() -> None:
    draft = entry(p(USD_H, "10.005", origin=Origin("cash.csv", 12)), p(CAP, "-10.005"),
                  code=EntryCode.CASH_IN)
    with pytest.raises(ScaleError, match="USD allows 2") as caught:
        check_postings(draft, ACCOUNTS)
    assert caught.value.field == "amount"
    assert str(caught.value).startswith("cash.csv:12: field 'amount': ")


def test_satoshi_scale_is_fine_but_not_finer() -> None:
    ok = entry(p(BTC_H, "0.00000001", unit_cost_usd=D(1)), p(BTC_X, "-0.00000001"))
    check_postings(ok, ACCOUNTS)
    bad = entry(p(BTC_H, "0.000000001", unit_cost_usd=D(1)), p(BTC_X, "-0.000000001"))
    with pytest.raises(ScaleError, match="BTC allows 8"):
        check_postings(bad, ACCOUNTS)


def test_unit_cost_on_a_decrease() -> None:
    draft = entry(p(BTC_H, "-1", unit_cost_usd=D(100)), p(BTC_X, "1"), code=EntryCode.SELL)
    with pytest.raises(InvalidInput, match="unit_cost_usd belongs only on an increase") as caught:
        check_postings(draft, ACCOUNTS)
    assert caught.value.field == "unit_cost_usd"


def test_unit_cost_on_a_non_holding_account() -> None:
    # a sign that would be right on a holding is still wrong on an external account
    draft = entry(p(BTC_H, "-1"), p(BTC_X, "1", unit_cost_usd=D(1)), code=EntryCode.SELL)
    with pytest.raises(InvalidInput, match="unit_cost_usd belongs only on an increase"):
        check_postings(draft, ACCOUNTS)


def test_unit_price_on_an_increase() -> None:
    draft = entry(p(BTC_H, "1", unit_cost_usd=D(1), unit_price_usd=D(2)), p(BTC_X, "-1"))
    with pytest.raises(InvalidInput, match="unit_price_usd belongs only on a decrease") as caught:
        check_postings(draft, ACCOUNTS)
    assert caught.value.field == "unit_price_usd"


@pytest.mark.parametrize("name", ["unit_cost_usd", "unit_price_usd"])
def test_negative_cost_or_price(name: str) -> None:
    amount = "1" if name == "unit_cost_usd" else "-1"
    draft = entry(p(BTC_H, amount, **{name: D("-0.01")}), p(BTC_X, str(-D(amount))))
    with pytest.raises(InvalidInput, match=f"{name} must not be negative") as caught:
        check_postings(draft, ACCOUNTS)
    assert caught.value.field == name


def test_cost_with_too_many_places() -> None:
    draft = entry(p(BTC_H, "1", unit_cost_usd=D("1E-19")), p(BTC_X, "-1"))
    with pytest.raises(ScaleError, match="more than 18 decimal places"):
        check_postings(draft, ACCOUNTS)


def test_zero_cost_is_allowed() -> None:
    check_postings(entry(p(BTC_H, "1", unit_cost_usd=D(0)), p(BTC_X, "-1")), ACCOUNTS)


def test_acquisition_of_non_cash_needs_a_cost() -> None:
    with pytest.raises(InvalidInput, match=r"acquiring BTC into .* needs unit_cost_usd") as caught:
        check_postings(a_buy(cost=None), ACCOUNTS)
    assert caught.value.field == "unit_cost_usd"


def test_cash_needs_no_cost() -> None:
    check_postings(entry(p(USD_H, "100.00"), p(CAP, "-100.00"), code=EntryCode.CASH_IN), ACCOUNTS)
    kzt = entry(p(holding("KZT").code, "5000"), p(external("KZT").code, "-5000"),
                code=EntryCode.CASH_IN)
    check_postings(kzt, ACCOUNTS)


def test_transfer_moves_lots_without_a_cost() -> None:
    transfer = entry(p(BTC_H, "-1"), p(BTC_B, "1"), code=EntryCode.TRANSFER)
    check_postings(transfer, ACCOUNTS)


def test_lots_must_move_out_of_the_same_instrument() -> None:
    # ETH leaving does not give BTC arriving a cost basis
    eth_h, eth_x = holding("ETH").code, external("ETH").code
    draft = entry(p(eth_h, "-1"), p(eth_x, "1"), p(BTC_X, "-1"), p(BTC_B, "1"),
                  code=EntryCode.TRANSFER)
    with pytest.raises(InvalidInput, match="acquiring BTC"):
        check_postings(draft, ACCOUNTS)


def test_reversal_needs_no_cost() -> None:
    draft = EntryDraft("r", EntryCode.REVERSAL, DAY, (p(BTC_H, "1"), p(BTC_X, "-1")),
                       reverses_entry_id="e-0")
    check_postings(draft, ACCOUNTS)


def test_pending_seizure_with_cost_passes() -> None:
    draft = EntryDraft("s", EntryCode.SEIZURE_INTAKE, DAY,
                       (p(SEIZED_BTC, "2", unit_cost_usd=D(0)), p(BTC_X, "-2")),
                       phase=EntryPhase.PENDING)
    check_header(draft)
    check_postings(draft, ACCOUNTS)
