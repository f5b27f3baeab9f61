"""What the journal needs from storage. Implementations never commit; the caller does."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from qoima.domain.enums import CostMethod
from qoima.domain.reference import Account, Instrument
from qoima.ledger.entries import Entry, EntryDraft, PendingResolution


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """An open account with what validation needs to know about it."""

    account_id: int
    account: Account
    instrument: Instrument
    cost_method: CostMethod

    @property
    def code(self) -> str:
        return self.account.code


@dataclass(frozen=True, slots=True)
class PostingRow:
    """A stored posting with its entry's ordering, for balances and lots."""

    entry_seq: int
    entry_id: str
    value_date: date
    code: str
    account_code: str
    amount: Decimal
    unit_cost_usd: Decimal | None
    unit_price_usd: Decimal | None


class JournalStore(Protocol):
    def find_entry(self, entry_id: str) -> Entry | None: ...

    def find_accounts(self, codes: Iterable[str]) -> Mapping[str, AccountInfo]: ...

    def insert_entry(self, draft: EntryDraft, content_hash: str, recorded_at: datetime,
                     actor: str, accounts: Mapping[str, AccountInfo]) -> int: ...

    def balances_from(self, account_id: int, from_date: date) -> list[Decimal]:
        """End-of-day balances: on ``from_date`` first, then on each later booked date.

        Balances are end-of-day: funding and spending on the same day is not an overdraft.
        """
        ...

    def add_to_balance(self, account_id: int, value_date: date, delta: Decimal) -> None: ...

    def prepare_balances(self, account_ids: Iterable[int], from_date: date) -> None:
        """A hint that these balances, from ``from_date`` on, are about to be read or
        changed: a store may fetch them in one round trip instead of one per account."""
        ...

    def find_resolution(self, pending_entry_id: str) -> PendingResolution | None: ...

    def insert_resolution(self, resolution: PendingResolution) -> None: ...

    def find_reversal_of(self, entry_id: str) -> str | None: ...

    def balances_as_of(self, as_of: date) -> Mapping[str, Decimal]:
        """Posted balance of every account with any activity up to ``as_of``."""
        ...

    def postings_until(self, as_of: date, instruments: Sequence[str] | None = None
                       ) -> list[PostingRow]:
        """Posted postings with value date <= ``as_of`` in (date, seq, leg) order."""
        ...

    def reversal_dates(self) -> Mapping[str, date]:
        """Entry id -> value date of the reversal that cancels it."""
        ...
