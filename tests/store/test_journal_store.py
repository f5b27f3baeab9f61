"""The journal through BookService/ValuationService on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from qoima.bootstrap.wiring import Reserve
from qoima.domain.enums import EntryCode
from qoima.domain.errors import Conflict, EntryStateError, IdempotencyConflict, Overdraft
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.market.quotes import FxQuote, PriceQuote
from tests.builders import (
    buy,
    capital,
    cash_in,
    external,
    fee,
    forfeiture,
    holding,
    return_to_owner,
    reversal,
    seizure,
    sell,
    transfer,
)
from tests.store.helpers import assert_book_consistent, balances, counts, entries, ready

D = Decimal
D0, D1, D2, D3, D4, D5 = (date(2024, 1, 1) + timedelta(days=n) for n in range(-1, 5))
USD_A, BTC_A = holding("fund-a", "USD"), holding("fund-a", "BTC")
USD_B, BTC_B = holding("fund-b", "USD"), holding("fund-b", "BTC")
ETH_A, ETH_B = holding("fund-a", "ETH"), holding("fund-b", "ETH")
SEIZED_BTC = holding("seized", "BTC", "state-wallet")
SEIZED_ETH = holding("seized", "ETH", "state-wallet")


@pytest.fixture
def book(reserve: Reserve) -> Reserve:
    return ready(reserve)


def post(book: Reserve, *drafts: EntryDraft) -> list[bool]:
    return [r.replayed for r in book.book.post(list(drafts), actor="tester")]


def held(book: Reserve, day: date) -> dict[str, Decimal]:
    return {p.account.code: p.quantity for p in book.valuation.holdings(day).positions}


def position(book: Reserve, day: date, account: str):  # type: ignore[no-untyped-def]
    return next(p for p in book.valuation.holdings(day).positions if p.account.code == account)


BATCH = (cash_in("c1", D1, "fund-a", "100000"), buy("b1", D2, "fund-a", "BTC", "1", "40000"))


def test_post_batch_then_replay_changes_nothing(book: Reserve) -> None:
    audit_before = counts(book)[1]
    results = book.book.post(list(BATCH), actor="tester")
    assert [r.replayed for r in results] == [False, False]
    assert results[0].seq < results[1].seq
    assert counts(book) == (2, audit_before + 2)
    replay = book.book.post(list(BATCH), actor="someone-else")
    assert [r.replayed for r in replay] == [True, True]
    assert [(r.seq, r.content_hash) for r in replay] == [(r.seq, r.content_hash) for r in results]
    assert counts(book) == (2, audit_before + 2)
    assert balances(book, D2)[USD_A] == D(60000)
    assert book.audit.verify().ok


def test_same_id_different_content_is_a_conflict_and_writes_nothing(book: Reserve) -> None:
    post(book, *BATCH)
    before, state = counts(book), balances(book, D5)
    with pytest.raises(IdempotencyConflict, match="c1"):
        post(book, cash_in("c2", D1, "fund-b", "5"), cash_in("c1", D1, "fund-a", "100001"))
    assert counts(book) == before
    assert balances(book, D5) == state
    assert "c2" not in {e.entry_id for e in entries(book)}
    with pytest.raises(Conflict, match="twice"):
        post(book, cash_in("c3", D1, "fund-b", "5"), cash_in("c3", D1, "fund-b", "6"))
    assert counts(book) == before


@pytest.mark.parametrize("bad", [
    sell("bad", D3, "fund-a", "BTC", "2", "40000"),  # overdraft
    cash_in("c1", D1, "fund-a", "1"),  # idempotency conflict
    EntryDraft("bad", EntryCode.CASH_IN, D3, (PostingDraft(USD_A, D(5)),  # unbalanced
                                              PostingDraft(capital("fund-a"), D(-4)))),
], ids=["overdraft", "conflict", "unbalanced"])
def test_batch_with_a_bad_third_entry_is_all_or_nothing(book: Reserve, bad: EntryDraft) -> None:
    post(book, *BATCH)
    before, state = counts(book), {d: balances(book, d) for d in (D1, D2, D3, D5)}
    with pytest.raises((Overdraft, Conflict, ValueError, Exception)) as raised:
        post(book, cash_in("c9", D3, "fund-b", "700"), buy("b9", D3, "fund-a", "BTC", "0.5",
                                                            "40000"), bad)
    assert type(raised.value).__name__ in {"Overdraft", "IdempotencyConflict",
                                           "UnbalancedEntry"}
    assert counts(book) == before
    assert {d: balances(book, d) for d in (D1, D2, D3, D5)} == state
    assert not {"c9", "b9"} & {e.entry_id for e in entries(book)}
    assert book.audit.verify().ok


def test_balances_and_holdings_as_of_every_date(book: Reserve) -> None:
    post(book, *BATCH, sell("s1", D4, "fund-a", "BTC", "0.4", "50000"))
    post(book, buy("b2", D3, "fund-a", "BTC", "0.5", "42000"))  # back-dated
    expected = {
        D0: {},
        D1: {USD_A: D(100000)},
        D2: {USD_A: D(60000), BTC_A: D(1)},
        D3: {USD_A: D(39000), BTC_A: D("1.5")},
        D4: {USD_A: D(59000), BTC_A: D("1.1")},
        D5: {USD_A: D(59000), BTC_A: D("1.1")},
    }
    for day, holdings in expected.items():
        assert held(book, day) == holdings, day
        stored = balances(book, day)
        assert {k: v for k, v in stored.items() if k.startswith("holding:")} == holdings, day
        if holdings:
            assert stored[capital("fund-a")] == D(-100000)
    assert balances(book, D4)[external("BTC")] == D("-1.1")
    assert_book_consistent(book, [D0, D1, D2, D3, D4, D5])


def test_back_dated_entry_updates_later_balances(book: Reserve) -> None:
    post(book, cash_in("c1", D1, "fund-a", "1000"), fee("f1", D5, "fund-a", "600"))
    assert [balances(book, d)[USD_A] for d in (D1, D3, D5)] == [D(1000), D(1000), D(400)]
    post(book, cash_in("c2", D3, "fund-a", "500"))
    assert [balances(book, d)[USD_A] for d in (D1, D2, D3, D4, D5)] == [
        D(1000), D(1000), D(1500), D(1500), D(900)]
    assert_book_consistent(book, [D1, D2, D3, D4, D5])


def test_overdraft_is_refused_now_and_on_later_dates(book: Reserve) -> None:
    post(book, cash_in("c1", D1, "fund-a", "100"), fee("f1", D5, "fund-a", "80"))
    before = counts(book)
    with pytest.raises(Overdraft) as raised:
        post(book, fee("f2", D5, "fund-a", "20.01"))
    assert raised.value.details["account"] == USD_A
    assert raised.value.details["shortfall"] == "0.01"
    # fine on D3 itself (100 - 50), but D5 would end at -30
    with pytest.raises(Overdraft, match="-30"):
        post(book, fee("f3", D3, "fund-a", "50"))
    with pytest.raises(Overdraft):
        post(book, sell("s1", D2, "fund-a", "BTC", "0.01", "100"))
    assert counts(book) == before
    assert balances(book, D5)[USD_A] == D(20)
    post(book, fee("f4", D3, "fund-a", "20"))  # exactly to zero is allowed
    assert balances(book, D5).get(USD_A) is None
    assert_book_consistent(book, [D1, D3, D5])


def test_reversal_restores_prior_balances(book: Reserve) -> None:
    post(book, *BATCH)
    before = {d: balances(book, d) for d in (D1, D2, D3, D5)}
    post(book, buy("b2", D3, "fund-a", "BTC", "0.25", "40000"))
    assert balances(book, D3)[BTC_A] == D("1.25")
    post(book, reversal("r1", D3, "b2"))
    assert {d: balances(book, d) for d in (D1, D2, D3, D5)} == before
    assert held(book, D5) == {USD_A: D(60000), BTC_A: D(1)}
    assert position(book, D5, BTC_A).cost_usd == D(40000)
    with pytest.raises(EntryStateError, match="already reversed"):
        post(book, reversal("r2", D4, "b2"))
    # reversing the funding would leave the account short after the purchase
    with pytest.raises(Overdraft):
        post(book, reversal("r3", D2, "c1"))
    assert_book_consistent(book, [D1, D2, D3, D4, D5])
    assert book.audit.verify().ok


def test_pending_seizure_forfeiture_and_return_to_owner(book: Reserve) -> None:
    post(book, seizure("s1", D2, "BTC", "2", "30000"), seizure("s2", D2, "ETH", "10", "2000"))
    for day in (D2, D3):
        holdings = book.valuation.holdings(day)
        assert SEIZED_BTC not in {p.account.code for p in holdings.positions}
        assert {p.account.code: p.quantity for p in holdings.pending} == {
            SEIZED_BTC: D(2), SEIZED_ETH: D(10)}
    assert balances(book, D3) == {}
    post(book, forfeiture("f1", D4, "s1"), return_to_owner("r2", D5, "s2"))
    assert held(book, D3) == {}
    assert held(book, D4) == {SEIZED_BTC: D(2)}
    assert position(book, D4, SEIZED_BTC).cost_usd == D(60000)
    pending_d4 = {p.account.code: p.quantity for p in book.valuation.holdings(D4).pending}
    assert pending_d4 == {SEIZED_ETH: D(10)}
    later = book.valuation.holdings(D5)
    assert later.pending == ()
    assert {p.account.code for p in later.positions} == {SEIZED_BTC}
    assert balances(book, D5) == {SEIZED_BTC: D(2), external("BTC"): D(-2)}
    with pytest.raises(EntryStateError, match="already"):
        post(book, forfeiture("f2", D5, "s2"))
    with pytest.raises(EntryStateError, match="pending"):
        post(book, reversal("x", D5, "s1"))
    assert_book_consistent(book, [D1, D2, D3, D4, D5])
    assert book.audit.verify().ok


def test_eighteen_decimals_and_large_amounts_round_trip_exactly(book: Reserve) -> None:
    # 36 significant digits: more than Decimal's default context keeps (28)
    small, big = "123456.123456789012345678", "99999999999999999.999999999999999999"
    post(book, cash_in("c1", D1, "fund-a", "1000000000"),
         buy("b1", D2, "fund-a", "ETH", small, "2"),
         EntryDraft("o1", EntryCode.OPENING_BALANCE, D2, (
             PostingDraft(ETH_A, D(big), unit_cost_usd=D("0.000000000000000001")),
             PostingDraft(external("ETH"), D(f"-{big}")))),
         transfer("t1", D3, "fund-a", "fund-b", "ETH", "0.000000000000000001"))
    stored = {e.entry_id: e for e in entries(book)}
    assert format(stored["b1"].draft.postings[0].amount, "f") == small
    assert format(stored["o1"].draft.postings[0].amount, "f") == big
    at_d2 = "100000000000123456.123456789012345677"
    left = D("100000000000123456.123456789012345676")
    assert format(balances(book, D2)[ETH_A], "f") == at_d2
    assert balances(book, D3)[ETH_A] == left
    assert balances(book, D3)[ETH_B] == D("1e-18")
    assert held(book, D3)[ETH_A] == left
    assert balances(book, D3)[external("ETH")] == D(f"-{at_d2}")
    lots = book.valuation.lots(D3)
    assert lots[ETH_A].quantity == left
    assert [lot.quantity for lot in lots[ETH_A].lots] == [
        D(small) - D("1e-18"), D(big)]
    assert lots[ETH_B].lots[0].unit_cost_usd == D(2)  # FIFO: the first wei came from b1
    assert book.audit.verify().ok
    post(book, *[e.draft for e in stored.values()])  # replay of stored content is a no-op


@pytest.mark.parametrize(("vehicle", "cost", "realized"), [
    ("fund-a", D(100), D(250)),  # FIFO: sold 1 @ 100 + 0.5 @ 200; 0.5 @ 200 left
    ("fund-b", D(75), D(225)),  # AVERAGE: sold 1.5 @ 150; 0.5 @ 150 left
])
def test_cost_basis_fifo_and_average(book: Reserve, vehicle: str, cost: Decimal,
                                     realized: Decimal) -> None:
    post(book, cash_in("c", D1, vehicle, "1000"),
         buy("b1", D1, vehicle, "BTC", "1", "100"), buy("b2", D2, vehicle, "BTC", "1", "200"),
         sell("s1", D3, vehicle, "BTC", "1.5", "300"))
    account = holding(vehicle, "BTC")
    at_d2 = position(book, D2, account)
    assert (at_d2.quantity, at_d2.cost_usd, at_d2.realized_usd) == (D(2), D(300), D(0))
    at_d3 = position(book, D3, account)
    assert (at_d3.quantity, at_d3.cost_usd, at_d3.realized_usd) == (D("0.5"), cost, realized)
    assert balances(book, D3)[holding(vehicle, "USD")] == D(1150)


def test_snapshot_values_holdings_with_prices_and_usd_kzt(book: Reserve) -> None:
    post(book, *BATCH, cash_in("c2", D1, "fund-b", "5000"),
         buy("b2", D2, "fund-b", "IBIT", "10", "50"))
    missing = book.valuation.snapshot(D2)
    assert not missing.complete
    assert {f.rule for f in missing.findings} >= {"valuation.missing_price",
                                                  "valuation.missing_fx"}
    book.book.add_quotes(
        [PriceQuote("BTC", D3, D(60000), "USD", "test"),
         PriceQuote("IBIT", D3, D(55), "USD", "test")],
        [FxQuote("USD", "KZT", D3, D(500), "test")], actor="tester", source_name="test")
    snap = book.valuation.snapshot(D3)
    assert snap.complete and snap.findings == ()
    assert (snap.vehicle("fund-a").nav_usd, snap.vehicle("fund-a").nav_kzt) == (
        D(120000), D(60000000))
    assert (snap.vehicle("fund-b").nav_usd, snap.vehicle("fund-b").nav_kzt) == (
        D(5050), D(2525000))
    assert (snap.total_usd, snap.total_kzt) == (D(125050), D(62525000))
    btc = next(p for p in snap.positions if p.account_code == BTC_A)
    assert (btc.value_usd, btc.cost_usd, btc.unrealized_usd) == (D(60000), D(40000), D(20000))
    assert snap.usd_kzt is not None and snap.usd_kzt.rate == D(500)
    assert book.valuation.snapshot(D3).inputs_hash == snap.inputs_hash
    assert book.valuation.default_as_of() == D3
    assert book.audit.verify().ok


def _days(n: int) -> date:
    return date(2024, 2, n)


def test_back_dated_sale_before_a_same_day_sale_and_buy_keeps_lots_usable(book: Reserve) -> None:
    """End-of-day balances allow it; the lot replay must not fail on the intraday order."""
    post(book, cash_in("c", _days(1), "fund-a", "1000"),
         buy("b1", _days(3), "fund-a", "BTC", "1", "10"),
         sell("s1", _days(5), "fund-a", "BTC", "1", "30"),  # sells b1's coin
         buy("b2", _days(5), "fund-a", "BTC", "1", "20"),
         sell("s2", _days(4), "fund-a", "BTC", "1", "40"))  # back-dated: also sells b1's coin
    assert balances(book, _days(5)).get(BTC_A) is None
    lots = book.valuation.lots(_days(5))[BTC_A]
    assert (lots.quantity, lots.lots) == (D(0), ())
    assert [(r.entry_id, r.cost_usd) for r in lots.realized] == [("s2", D(10)), ("s1", None)]
    assert position(book, _days(4), BTC_A).realized_usd == D(30)
    assert book.valuation.snapshot(_days(5)).total_usd == D(1040)
    assert_book_consistent(book, [_days(n) for n in range(1, 7)])


def test_reversing_a_buy_whose_coin_was_sold_keeps_lots_usable(book: Reserve) -> None:
    post(book, cash_in("c", _days(1), "fund-b", "1000"),
         buy("b1", _days(3), "fund-b", "BTC", "1", "10"),
         sell("s1", _days(10), "fund-b", "BTC", "1", "30"),
         buy("b2", _days(15), "fund-b", "BTC", "1", "20"),
         reversal("r1", _days(16), "b1"))
    held_b = position(book, _days(15), BTC_B)
    assert (held_b.quantity, held_b.cost_usd, held_b.realized_usd) == (D(1), D(20), D(20))
    lots = book.valuation.lots(_days(16))[BTC_B]
    assert lots.quantity == sum(lot.quantity for lot in lots.lots) == D(0)
    assert lots.realized_usd is None  # s1 sold a coin the corrected book never had
    assert balances(book, _days(16)).get(BTC_B) is None
    assert_book_consistent(book, [_days(n) for n in (3, 10, 15, 16)])


def test_one_batch_can_refer_to_its_own_earlier_entries(book: Reserve) -> None:
    # writes are held until commit: later entries of the batch must still see earlier ones
    post(book, cash_in("c1", D1, "fund-a", "100000"), buy("b1", D2, "fund-a", "BTC", "1",
                                                          "40000"),
         reversal("r1", D3, "b1"), seizure("s1", D2, "BTC", "2", "40000"),
         forfeiture("f1", D4, "s1"))
    assert held(book, D5).get(BTC_A, D(0)) == 0  # bought, then reversed
    assert held(book, D5)[SEIZED_BTC] == 2
    with pytest.raises(EntryStateError, match="b2 was already reversed by r2"):
        post(book, buy("b2", D2, "fund-a", "BTC", "1", "40000"), reversal("r2", D3, "b2"),
             reversal("r3", D4, "b2"))
    with pytest.raises(EntryStateError):  # the second decision on one pending entry
        post(book, seizure("s2", D2, "ETH", "1", "2000"), forfeiture("f2", D3, "s2"),
             return_to_owner("o2", D4, "s2"))
    assert "b2" not in {e.entry_id for e in entries(book)}  # nothing of either batch
    assert_book_consistent(book, [D1, D2, D3, D4, D5])


def test_entry_numbers_follow_the_book_and_the_database_sequence(book: Reserve) -> None:
    results = book.book.post([cash_in("c1", D1, "fund-a", "100"),
                              cash_in("c2", D1, "fund-a", "100")], actor="t")
    more = book.book.post([cash_in("c3", D1, "fund-a", "100")], actor="t")
    seqs = [r.seq for r in [*results, *more]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert [e.seq for e in entries(book)][-3:] == seqs
    if book.engine.dialect.name == "postgresql":  # the column's own sequence moved along
        with book.engine.connect() as connection:
            from sqlalchemy import text

            nxt = connection.execute(text("SELECT nextval(pg_get_serial_sequence("
                                          "'entries', 'seq'))")).scalar()
        assert nxt == seqs[-1] + 1
