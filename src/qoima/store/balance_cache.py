"""End-of-day balances of the accounts a unit of work touches, kept in memory until commit.

Posting a batch reads each account's balance rows once, applies every entry's deltas in
memory (so overdraft checks see the batch's own earlier entries) and writes the changed
rows in two statements at commit, instead of reading and writing per posting.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, bindparam, insert, select, update

from qoima.domain.money import MONEY_CONTEXT, ZERO
from qoima.store import tables as t

_B = t.account_balances
_BEFORE = (select(_B.c.balance)
           .where(_B.c.account_id == bindparam("account"), _B.c.balance_date < bindparam("day"))
           .order_by(_B.c.balance_date.desc()).limit(1))
_MANY_FROM = (select(_B.c.account_id, _B.c.balance_date, _B.c.balance)
              .where(_B.c.account_id.in_(bindparam("accounts", expanding=True)),
                     _B.c.balance_date >= bindparam("day"))
              .order_by(_B.c.account_id, _B.c.balance_date))
_INSERT = insert(_B)
_UPDATE = (update(_B).where(_B.c.account_id == bindparam("a"), _B.c.balance_date == bindparam("d"))
           .values(balance=bindparam("b")))


@dataclass
class _Account:
    """Rows on or after ``start``; ``before`` is the balance at the end of the day before."""

    start: date
    before: Decimal
    days: list[date]
    balances: dict[date, Decimal]
    new: set[date] = field(default_factory=set)
    changed: set[date] = field(default_factory=set)

    def at(self, day: date) -> Decimal:
        """End-of-day balance on ``day`` (``day`` >= start)."""
        index = bisect.bisect_right(self.days, day) - 1
        return self.balances[self.days[index]] if index >= 0 else self.before


class BalanceCache:
    def __init__(self, connection: Connection) -> None:
        self._c = connection
        self._accounts: dict[int, _Account] = {}

    def _load(self, account_id: int, day: date) -> _Account:
        self.load_many((account_id,), day)
        return self._accounts[account_id]

    def load_many(self, account_ids: Iterable[int], day: date) -> None:
        """Load every account not yet held from ``day`` on: the rows from ``day`` in one
        statement, the balance before it by one indexed lookup per account (a grouped or
        correlated form makes SQLite visit every row of busy accounts)."""
        wanted = [a for a in account_ids
                  if a not in self._accounts or self._accounts[a].start > day]
        if not wanted:
            return
        if any(a in self._accounts for a in wanted):
            self.flush()  # an earlier start is needed: write what we hold, then read afresh
        params = {"accounts": wanted, "day": day}
        before: dict[int, Decimal] = {}
        for account_id in wanted:
            value = self._c.execute(_BEFORE, {"account": account_id, "day": day}).scalar()
            before[account_id] = value if value is not None else ZERO
        rows: dict[int, list[tuple[date, Decimal]]] = {a: [] for a in wanted}
        for r in self._c.execute(_MANY_FROM, params):
            rows[r.account_id].append((r.balance_date, r.balance))
        for account_id in wanted:
            found = rows[account_id]
            self._accounts[account_id] = _Account(
                day, before[account_id], [d for d, _ in found], dict(found))

    def end_of_day_from(self, account_id: int, day: date) -> list[Decimal]:
        account = self._load(account_id, day)
        later = [account.balances[d] for d in account.days if d > day]
        return [account.at(day), *later]

    def add(self, account_id: int, day: date, delta: Decimal) -> None:
        account = self._load(account_id, day)
        if day not in account.balances:
            account.balances[day] = account.at(day)
            bisect.insort(account.days, day)
            account.new.add(day)
        for d in account.days[bisect.bisect_left(account.days, day):]:
            account.balances[d] = MONEY_CONTEXT.add(account.balances[d], delta)
            if d not in account.new:
                account.changed.add(d)

    def flush(self) -> None:
        inserts, updates = [], []
        for account_id, account in self._accounts.items():
            inserts += [{"account_id": account_id, "balance_date": d,
                         "balance": account.balances[d]} for d in sorted(account.new)]
            updates += [{"a": account_id, "d": d, "b": account.balances[d]}
                        for d in sorted(account.changed)]
            account.new.clear()
            account.changed.clear()
        if inserts:
            self._c.execute(_INSERT, inserts)
        if updates:
            self._c.execute(_UPDATE, updates)
