"""Property tests: random valid entry streams (back-dated too) keep the book consistent."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal, localcontext

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import Overdraft
from qoima.domain.money import MONEY_CONTEXT
from qoima.ledger.entries import EntryDraft
from tests.builders import buy, cash_in, fee, holding, reversal, sell, transfer
from tests.store.helpers import (
    assert_book_consistent,
    balances,
    counts,
    entries,
    sum_postings,
    wipe,
)

D = Decimal
WINDOW = 60
START = date(2024, 3, 1)
DAYS = [START + timedelta(days=n) for n in range(WINDOW)]
SCALES = {"USD": 2, "BTC": 8, "ETH": 18}
VEHICLES = ("fund-a", "fund-b")  # FIFO and AVERAGE

vehicle = st.sampled_from(VEHICLES)
day = st.integers(0, WINDOW - 1)
percent = st.sampled_from([1, 13, 50, 99, 100])
price = st.sampled_from([D("0.5"), D(1), D("37.25"), D("2500.5"), D(43000)])
token = st.sampled_from(["BTC", "ETH"])
OPS = st.one_of(
    st.tuples(st.just("cash"), vehicle, day, st.integers(1, 10**9)),
    st.tuples(st.just("buy"), vehicle, day, token, percent, price),
    st.tuples(st.just("sell"), vehicle, day, token, percent, price),
    st.tuples(st.just("transfer"), vehicle, day, st.sampled_from([*SCALES]), percent),
    st.tuples(st.just("fee"), vehicle, day, percent),
    st.tuples(st.just("reverse"), st.integers(0, 10**6), st.integers(0, 20)),
)
STREAMS = st.tuples(st.lists(OPS, min_size=4, max_size=30), st.integers(1, 4))


@dataclass
class Posted:
    draft: EntryDraft
    day: int
    legs: list[tuple[str, Decimal]]
    reversed_by: str | None = None


@dataclass
class Model:
    """End-of-day balances per account and day, kept in Python alongside the book."""

    deltas: dict[str, dict[int, Decimal]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Decimal)))
    posted: list[Posted] = field(default_factory=list)

    def balance(self, account: str, n: int) -> Decimal:
        return sum((v for d, v in self.deltas[account].items() if d <= n), D(0))

    def low(self, account: str, since: int) -> Decimal:
        """Lowest end-of-day balance of ``account`` on ``since`` or any later day."""
        changes = self.deltas[account]
        running = sum((v for d, v in changes.items() if d < since), D(0))
        lowest = None
        for n in range(since, WINDOW):
            running += changes.get(n, D(0))
            lowest = running if lowest is None else min(lowest, running)
        assert lowest is not None
        return lowest

    def allowed(self, legs: list[tuple[str, Decimal]], since: int) -> bool:
        net: dict[str, Decimal] = defaultdict(Decimal)
        for account, amount in legs:
            net[account] += amount
        return all(delta >= 0 or not account.startswith("holding:")
                   or self.low(account, since) + delta >= 0 for account, delta in net.items())

    def apply(self, draft: EntryDraft, n: int, legs: list[tuple[str, Decimal]]) -> None:
        for account, amount in legs:
            self.deltas[account][n] += amount
        self.posted.append(Posted(draft, n, legs))


def share(available: Decimal, pct: int, scale: int) -> Decimal:
    return (available * pct / 100).quantize(D(1).scaleb(-scale), rounding=ROUND_DOWN)


def draft_for(model: Model, op: tuple, number: int) -> tuple[EntryDraft, int, int] | None:
    """The entry an op stands for as (draft, value day, day its overdraft check starts)."""
    kind, eid = op[0], f"e{number}"
    if kind == "reverse":
        open_ = [p for p in model.posted
                 if p.draft.reverses_entry_id is None and p.reversed_by is None]
        if not open_:
            return None
        target = open_[op[1] % len(open_)]
        n = min(target.day + op[2], WINDOW - 1)
        return reversal(eid, DAYS[n], target.draft.entry_id), n, n
    v, n = op[1], op[2]
    when, usd = DAYS[n], holding(op[1], "USD")
    if kind == "cash":
        return cash_in(eid, when, v, format(D(op[3]) / 100, "f")), n, n
    if kind == "fee":
        amount = share(model.low(usd, n), op[3], 2)
        return (fee(eid, when, v, format(amount, "f")), n, n) if amount else None
    if kind == "transfer":
        quantity = share(model.low(holding(v, op[3]), n), op[4], SCALES[op[3]])
        other = VEHICLES[1 - VEHICLES.index(v)]
        return (transfer(eid, when, v, other, op[3], format(quantity, "f")), n, n
                ) if quantity else None
    instrument, pct, unit = op[3], op[4], op[5]
    if kind == "buy":
        spend = share(model.low(usd, n), pct, 2)
        quantity = share(spend / unit, 100, SCALES[instrument])
        return (buy(eid, when, v, instrument, format(quantity, "f"), str(unit)), n, n
                ) if quantity else None
    quantity = share(model.low(holding(v, instrument), n), pct, SCALES[instrument])
    return (sell(eid, when, v, instrument, format(quantity, "f"), str(unit)), n, n
            ) if quantity else None


def play(reserve: Reserve, ops: list[tuple], batch_size: int) -> Model:
    model, batch = Model(), []

    def flush() -> None:
        if batch:
            assert not any(r.replayed for r in reserve.book.post(batch, actor="prop"))
            batch.clear()

    for number, op in enumerate(ops):
        made = draft_for(model, op, number)
        if made is None:
            continue
        draft, n, since = made
        target = next((p for p in model.posted
                       if p.draft.entry_id == draft.reverses_entry_id), None)
        legs = ([(a, -x) for a, x in target.legs] if target else
                [(p.account, p.amount) for p in draft.postings])
        if any(amount == 0 for _, amount in legs):
            continue  # e.g. a sale too small to yield a cent
        if not model.allowed(legs, since):
            flush()
            before = counts(reserve)
            with pytest.raises(Overdraft):
                reserve.book.post([draft], actor="prop")
            assert counts(reserve) == before
            continue
        if target:
            target.reversed_by = draft.entry_id
        model.apply(draft, n, legs)
        batch.append(draft)
        if len(batch) >= batch_size:
            flush()
    flush()
    return model


def check(reserve: Reserve, model: Model) -> None:
    stored = entries(reserve)
    assert [e.entry_id for e in stored] == [p.draft.entry_id for p in model.posted]
    assert_book_consistent(reserve, DAYS)  # balance per asset; table == postings every day
    daily = {n: balances(reserve, DAYS[n]) for n in range(WINDOW)}
    for n in range(WINDOW):  # the Python model agrees too
        expected = {a: model.balance(a, n) for a in model.deltas}
        assert daily[n] == {a: b for a, b in expected.items() if b != 0}, n
    for posted in model.posted:  # a reversal restores what the account had without the entry
        if posted.reversed_by is None:
            continue
        undone = {posted.draft.entry_id, posted.reversed_by}
        others = [e for e in stored if e.entry_id not in undone]
        r_day = next(p.day for p in model.posted if p.draft.entry_id == posted.reversed_by)
        for n in range(r_day, WINDOW):
            without = sum_postings(others, DAYS[n])
            for account, _ in posted.legs:
                assert daily[n].get(account, D(0)) == without.get(account, D(0))
    for n in sorted({WINDOW - 1, *range(0, WINDOW, 9)}):
        lots = reserve.valuation.lots(DAYS[n])
        for account, quantity in daily[n].items():
            if account.startswith("holding:") and not account.endswith(":USD@bny"):
                assert lots[account].quantity == quantity
                assert sum((lot.quantity for lot in lots[account].lots), D(0)) == quantity
        assert all(lot.quantity == daily[n].get(code, 0) for code, lot in lots.items())
    verdict = reserve.audit.verify()
    assert verdict.ok, verdict.problems


def test_random_streams_keep_the_book_consistent(reserve: Reserve) -> None:
    examples = 25 if reserve.engine.dialect.name == "sqlite" else 10
    examples = int(os.environ.get("QOIMA_PROPERTY_EXAMPLES", examples))  # longer runs by hand

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(stream=STREAMS)
    def run(stream: tuple[list[tuple], int]) -> None:
        ops, batch_size = stream
        wipe(reserve)
        with localcontext(MONEY_CONTEXT):
            model = play(reserve, ops, batch_size)
            check(reserve, model)
            state = counts(reserve), {n: balances(reserve, DAYS[n]) for n in range(WINDOW)}
            replay = reserve.book.post([p.draft for p in model.posted], actor="again")
            assert all(r.replayed for r in replay)
            assert (counts(reserve), {n: balances(reserve, DAYS[n]) for n in range(WINDOW)}
                    ) == state

    run()
