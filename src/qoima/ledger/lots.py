"""Lots and cost basis (FIFO or average cost per vehicle), realized P&L. Pure.

Lots are derived by replaying posted postings in (date, seq, leg) order, so they can never
drift from balances. An entry that has been reversed on or before ``as_of`` is left out
together with its reversal: a correction removes the original's economic effect.
Within one entry, decreases run first; lots taken out without a price (a transfer) move
into the entry's increases of the same instrument at their original cost and date.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from itertools import groupby

from qoima.domain.enums import AccountKind, CostMethod, EntryCode
from qoima.domain.errors import LedgerError
from qoima.domain.money import MONEY_CONTEXT, ZERO
from qoima.domain.reference import BASE_CURRENCY
from qoima.ledger.ports import AccountInfo, PostingRow


@dataclass(frozen=True, slots=True)
class Lot:
    quantity: Decimal
    unit_cost_usd: Decimal | None  # None: cost basis unknown (e.g. foreign cash received)
    acquired_date: date
    entry_id: str


@dataclass(frozen=True, slots=True)
class Realization:
    entry_id: str
    account_code: str
    value_date: date
    quantity: Decimal
    proceeds_usd: Decimal
    cost_usd: Decimal | None

    @property
    def pnl_usd(self) -> Decimal | None:
        return None if self.cost_usd is None else self.proceeds_usd - self.cost_usd


@dataclass(frozen=True, slots=True)
class LotPosition:
    account_code: str
    instrument_code: str
    quantity: Decimal
    lots: tuple[Lot, ...]
    realized: tuple[Realization, ...]

    @property
    def cost_usd(self) -> Decimal | None:
        if any(lot.unit_cost_usd is None for lot in self.lots):
            return None
        return sum(
            (lot.quantity * lot.unit_cost_usd for lot in self.lots if lot.unit_cost_usd),
            ZERO,
        )

    @property
    def realized_usd(self) -> Decimal | None:
        total = ZERO
        for item in self.realized:
            pnl = item.pnl_usd
            if pnl is None:
                return None
            total += pnl
        return total


class _Book:
    """Open lots of one account under its cost method."""

    def __init__(self, method: CostMethod) -> None:
        self.method = method
        self.lots: deque[Lot] = deque()
        # Taken before the lots that cover it arrived: balances are end-of-day, so a day's
        # entries (and a history with a reversed entry left out) may dip below zero in
        # (date, seq) order. The next additions cover it; what is still short at the end is
        # an error.
        self.short = ZERO

    def add(self, lot: Lot) -> None:
        if self.short > 0:
            cover = min(self.short, lot.quantity)
            self.short -= cover
            if cover == lot.quantity:
                return
            lot = Lot(lot.quantity - cover, lot.unit_cost_usd, lot.acquired_date, lot.entry_id)
        if self.method is CostMethod.AVERAGE and self.lots:
            current = self.lots.pop()
            quantity = current.quantity + lot.quantity
            cost: Decimal | None = None
            if current.unit_cost_usd is not None and lot.unit_cost_usd is not None:
                total = current.quantity * current.unit_cost_usd + lot.quantity * lot.unit_cost_usd
                cost = MONEY_CONTEXT.divide(total, quantity)
            self.lots.append(Lot(quantity, cost, current.acquired_date, current.entry_id))
        else:
            self.lots.append(lot)

    def take(self, quantity: Decimal, leg: PostingRow) -> list[Lot]:
        taken: list[Lot] = []
        remaining = quantity
        while remaining > 0:
            if not self.lots:  # covered by a later addition, at a cost nobody knows
                self.short += remaining
                taken.append(Lot(remaining, None, leg.value_date, leg.entry_id))
                break
            lot = self.lots[0]
            if lot.quantity <= remaining:
                taken.append(self.lots.popleft())
                remaining -= lot.quantity
            else:
                taken.append(Lot(remaining, lot.unit_cost_usd, lot.acquired_date, lot.entry_id))
                self.lots[0] = Lot(lot.quantity - remaining, lot.unit_cost_usd,
                                   lot.acquired_date, lot.entry_id)
                remaining = ZERO
        return taken


def compute_lots(
    postings: Iterable[PostingRow],
    accounts: Mapping[str, AccountInfo],
    *,
    reversed_on: Mapping[str, date],
    as_of: date,
) -> dict[str, LotPosition]:
    """Open lots and realized P&L per holding account as of ``as_of``.

    ``postings`` must be ordered by (value date, entry seq, leg) and already limited to
    posted entries dated on or before ``as_of``.
    """
    with localcontext(MONEY_CONTEXT):  # exact for every amount NUMERIC(38,18) holds
        return _compute_lots(postings, accounts, reversed_on=reversed_on, as_of=as_of)


def _compute_lots(
    postings: Iterable[PostingRow],
    accounts: Mapping[str, AccountInfo],
    *,
    reversed_on: Mapping[str, date],
    as_of: date,
) -> dict[str, LotPosition]:
    books: dict[str, _Book] = {}
    realized: dict[str, list[Realization]] = defaultdict(list)
    quantities: dict[str, Decimal] = defaultdict(lambda: ZERO)
    cancelled = {entry_id for entry_id, day in reversed_on.items() if day <= as_of}

    for _, legs_iter in groupby(postings, key=lambda row: row.entry_seq):
        legs = [leg for leg in legs_iter if _is_lot_leg(leg, accounts)]
        if not legs:
            continue
        first = legs[0]
        if first.code == EntryCode.REVERSAL.value or first.entry_id in cancelled:
            for leg in legs:
                quantities[leg.account_code] += leg.amount
            continue
        transit: dict[str, deque[Lot]] = defaultdict(deque)
        for leg in (leg for leg in legs if leg.amount < 0):
            info = accounts[leg.account_code]
            book = books.setdefault(leg.account_code, _Book(info.cost_method))
            taken = book.take(-leg.amount, leg)
            quantities[leg.account_code] += leg.amount
            if leg.unit_price_usd is not None:
                cost = _cost_of(taken)
                realized[leg.account_code].append(Realization(
                    leg.entry_id, leg.account_code, leg.value_date, -leg.amount,
                    -leg.amount * leg.unit_price_usd, cost,
                ))
            else:
                transit[info.instrument.code].extend(taken)
        for leg in (leg for leg in legs if leg.amount > 0):
            info = accounts[leg.account_code]
            book = books.setdefault(leg.account_code, _Book(info.cost_method))
            quantities[leg.account_code] += leg.amount
            if leg.unit_cost_usd is not None:
                book.add(Lot(leg.amount, leg.unit_cost_usd, leg.value_date, leg.entry_id))
                continue
            for lot in _move(transit[info.instrument.code], leg.amount, leg):
                book.add(lot)
        # lots leaving the institution without a price leave at cost: no P&L

    for code, book in books.items():
        if book.short > 0:
            raise LedgerError(f"lots of {code} are short by {book.short}")
    positions: dict[str, LotPosition] = {}
    for code, quantity in quantities.items():
        info = accounts[code]
        held = books.get(code)
        lots = tuple(held.lots) if held else ()
        positions[code] = LotPosition(code, info.instrument.code, quantity, lots,
                                      tuple(realized.get(code, ())))
    return positions


def _is_lot_leg(leg: PostingRow, accounts: Mapping[str, AccountInfo]) -> bool:
    info = accounts[leg.account_code]
    return info.account.kind is AccountKind.HOLDING and info.instrument.code != BASE_CURRENCY


def _cost_of(lots: Iterable[Lot]) -> Decimal | None:
    total = ZERO
    for lot in lots:
        if lot.unit_cost_usd is None:
            return None
        total += lot.quantity * lot.unit_cost_usd
    return total


def _move(transit: deque[Lot], quantity: Decimal, leg: PostingRow) -> list[Lot]:
    """Take ``quantity`` from lots in transit; what is not covered has unknown cost."""
    moved: list[Lot] = []
    remaining = quantity
    while remaining > 0 and transit:
        lot = transit[0]
        if lot.quantity <= remaining:
            moved.append(transit.popleft())
            remaining -= lot.quantity
        else:
            moved.append(Lot(remaining, lot.unit_cost_usd, lot.acquired_date, lot.entry_id))
            transit[0] = Lot(lot.quantity - remaining, lot.unit_cost_usd, lot.acquired_date,
                             lot.entry_id)
            remaining = ZERO
    if remaining > 0:
        moved.append(Lot(remaining, None, leg.value_date, leg.entry_id))
    return moved
