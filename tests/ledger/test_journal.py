"""Journal.post against an in-memory JournalStore: idempotency, overdraft, two phases."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from qoima.domain.enums import EntryCode, EntryPhase, PendingOutcome
from qoima.domain.errors import (
    EntryStateError,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    Overdraft,
)
from qoima.ledger.entries import Entry, EntryDraft, PendingResolution, PostingDraft, PostResult
from qoima.ledger.journal import Journal
from qoima.ledger.ports import AccountInfo, PostingRow
from tests.builders import buy, cash_in, legs, seizure
from tests.ledger.accounts import capital, external, holding, standard_accounts

D = Decimal
AT = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
D1, D2, D3, D4 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)
USD_A, CAP = holding("USD").code, capital().code
BTC_A, BTC_X = holding("BTC").code, external("BTC").code
SEIZED_BTC = holding("BTC", "seized", "state-wallet").code


class MemoryStore:
    """JournalStore in memory: end-of-day balances per account, like the SQL store."""

    def __init__(self, accounts: Mapping[str, AccountInfo]) -> None:
        self.accounts = dict(accounts)
        self.entries: dict[str, Entry] = {}
        self.days: dict[int, dict[date, Decimal]] = defaultdict(dict)
        self.resolutions: dict[str, PendingResolution] = {}

    def find_entry(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id)

    def find_accounts(self, codes: Iterable[str]) -> Mapping[str, AccountInfo]:
        return {code: self.accounts[code] for code in codes if code in self.accounts}

    def insert_entry(self, draft: EntryDraft, content_hash: str, recorded_at: datetime,
                     actor: str, accounts: Mapping[str, AccountInfo]) -> int:
        seq = len(self.entries) + 1
        self.entries[draft.entry_id] = Entry(seq, draft, content_hash, recorded_at, actor)
        return seq

    def _before(self, account_id: int, day: date) -> Decimal:
        earlier = [b for d, b in sorted(self.days[account_id].items()) if d < day]
        return earlier[-1] if earlier else D(0)

    def balances_from(self, account_id: int, from_date: date) -> list[Decimal]:
        days = self.days[account_id]
        later = [b for d, b in sorted(days.items()) if d >= from_date]
        return later if from_date in days else [self._before(account_id, from_date), *later]

    def prepare_balances(self, account_ids: Iterable[int], from_date: date) -> None:
        pass  # everything is in memory already

    def add_to_balance(self, account_id: int, value_date: date, delta: Decimal) -> None:
        days = self.days[account_id]
        if value_date not in days:
            days[value_date] = self._before(account_id, value_date)
        for day in days:
            if day >= value_date:
                days[day] += delta

    def find_resolution(self, pending_entry_id: str) -> PendingResolution | None:
        return self.resolutions.get(pending_entry_id)

    def insert_resolution(self, resolution: PendingResolution) -> None:
        self.resolutions[resolution.pending_entry_id] = resolution

    def find_reversal_of(self, entry_id: str) -> str | None:
        return next((e.entry_id for e in self.entries.values()
                     if e.draft.reverses_entry_id == entry_id), None)

    def balance(self, code: str, as_of: date = date.max) -> Decimal:
        days = self.days[self.accounts[code].account_id]
        return next((b for d, b in sorted(days.items(), reverse=True) if d <= as_of), D(0))

    def balances_as_of(self, as_of: date) -> Mapping[str, Decimal]:
        return {code: self.balance(code, as_of) for code in self.accounts}

    def postings_until(self, as_of: date, instruments: Sequence[str] | None = None
                       ) -> list[PostingRow]:
        return []

    def reversal_dates(self) -> Mapping[str, date]:
        return {e.draft.reverses_entry_id: e.value_date for e in self.entries.values()
                if e.draft.reverses_entry_id is not None}


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(standard_accounts())


@pytest.fixture
def journal(store: MemoryStore) -> Journal:
    return Journal(store)


def post(journal: Journal, draft: EntryDraft) -> PostResult:
    return journal.post(draft, recorded_at=AT, actor="tester")


def cash_out(entry_id: str, day: date, amount: str) -> EntryDraft:
    return EntryDraft(entry_id, EntryCode.CASH_OUT, day, legs((USD_A, f"-{amount}"), (CAP, amount)))


def reversal(entry_id: str, day: date, target: str) -> EntryDraft:
    return EntryDraft(entry_id, EntryCode.REVERSAL, day, (), reverses_entry_id=target)


def resolve(entry_id: str, day: date, target: str, code: EntryCode = EntryCode.FORFEITURE,
            postings: tuple[PostingDraft, ...] = ()) -> EntryDraft:
    return EntryDraft(entry_id, code, day, postings, resolves_entry_id=target)


# -- idempotency ----------------------------------------------------------------------
def test_post_then_replay(journal: Journal, store: MemoryStore) -> None:
    first = post(journal, cash_in("c1", D1, "fund-a", "100.00"))
    assert (first.replayed, first.seq) == (False, 1)
    again = post(journal, cash_in("c1", D1, "fund-a", "100.00"))
    assert again == PostResult("c1", 1, first.content_hash, replayed=True)
    assert store.balance(USD_A) == D("100.00")  # not counted twice
    assert len(store.entries) == 1


def test_replay_with_equal_but_differently_written_amounts(journal: Journal) -> None:
    post(journal, cash_in("c1", D1, "fund-a", "100.00"))
    assert post(journal, cash_in("c1", D1, "fund-a", "100")).replayed


@pytest.mark.parametrize("changed", [cash_in("c1", D1, "fund-a", "100.01"),
                                     cash_in("c1", D2, "fund-a", "100.00"),
                                     cash_in("c1", D1, "fund-b", "100.00")])
def test_same_id_different_content_conflicts(journal: Journal, store: MemoryStore,
                                             changed: EntryDraft) -> None:
    post(journal, cash_in("c1", D1, "fund-a", "100.00"))
    with pytest.raises(IdempotencyConflict, match="'c1' was already used") as caught:
        post(journal, changed)
    assert caught.value.field == "id"
    assert store.balance(USD_A) == D("100.00")


# -- overdraft ------------------------------------------------------------------------
def test_overdraft_refused_and_nothing_written(journal: Journal, store: MemoryStore) -> None:
    post(journal, cash_in("c1", D1, "fund-a", "100.00"))
    with pytest.raises(Overdraft, match="would go negative") as caught:
        post(journal, cash_out("o1", D2, "150.00"))
    assert caught.value.details == {"account": USD_A, "shortfall": "50.00"}
    assert "o1" not in store.entries
    assert store.balance(USD_A) == D("100.00")
    post(journal, cash_out("o2", D2, "100.00"))
    assert store.balance(USD_A) == D(0)


def test_withdrawal_on_the_day_of_the_deposit(journal: Journal, store: MemoryStore) -> None:
    post(journal, cash_in("c1", D1, "fund-a", "100.00"))
    post(journal, cash_out("o1", D1, "60.00"))
    assert store.balance(USD_A, D1) == D("40.00")


def test_backdated_withdrawal_that_breaks_a_later_day(journal: Journal,
                                                      store: MemoryStore) -> None:
    post(journal, cash_in("c1", D1, "fund-a", "100.00"))
    post(journal, cash_out("o1", D3, "80.00"))
    # on D2 the balance is 100, but 100 - 50 leaves D3 at 20 - 50 = -30
    with pytest.raises(Overdraft) as caught:
        post(journal, cash_out("o2", D2, "50.00"))
    assert caught.value.details["shortfall"] == "30.00"
    post(journal, cash_out("o3", D2, "20.00"))
    assert [store.balance(USD_A, d) for d in (D1, D2, D3, D4)] == [
        D("100.00"), D("80.00"), D("0.00"), D("0.00")]


def test_non_holding_accounts_may_go_negative(journal: Journal, store: MemoryStore) -> None:
    post(journal, cash_in("c1", D1, "fund-a", "100.00"))
    assert store.balance(CAP) == D("-100.00")


def test_unknown_account_refused(journal: Journal) -> None:
    draft = EntryDraft("x", EntryCode.CASH_IN, D1, legs(("holding:zz/main:USD", "1"), (CAP, "-1")))
    with pytest.raises(InvalidInput, match="unknown account"):
        post(journal, draft)


# -- reversals ------------------------------------------------------------------------
def test_reversal_derives_negated_postings(journal: Journal, store: MemoryStore) -> None:
    post(journal, cash_in("c1", D1, "fund-a", "1000.00"))
    post(journal, buy("b1", D2, "fund-a", "BTC", "2", "100"))
    post(journal, reversal("r1", D3, "b1"))
    stored = store.entries["r1"].draft
    original = store.entries["b1"].draft
    assert [(p.account, p.amount) for p in stored.postings] == [
        (p.account, -p.amount) for p in original.postings]
    assert all(p.unit_cost_usd is None for p in stored.postings)
    assert store.balance(BTC_A) == D(0)
    assert store.balance(USD_A) == D("1000.00")
    assert store.balance(BTC_A, D2) == D(2)  # history is kept
    assert post(journal, reversal("r1", D3, "b1")).replayed


def test_second_reversal_refused(journal: Journal) -> None:
    post(journal, cash_in("c1", D1, "fund-a", "100.00"))
    post(journal, reversal("r1", D2, "c1"))
    with pytest.raises(EntryStateError, match="already reversed by r1"):
        post(journal, reversal("r2", D2, "c1"))


def test_reversal_of_a_reversal_refused(journal: Journal) -> None:
    post(journal, cash_in("c1", D1, "fund-a", "100.00"))
    post(journal, reversal("r1", D2, "c1"))
    with pytest.raises(EntryStateError, match="itself a reversal"):
        post(journal, reversal("r2", D2, "r1"))


def test_reversal_of_pending_refused(journal: Journal) -> None:
    post(journal, seizure("s1", D1, "BTC", "1", "0"))
    with pytest.raises(EntryStateError, match="pending"):
        post(journal, reversal("r1", D2, "s1"))


def test_reversal_before_the_original_refused(journal: Journal) -> None:
    post(journal, cash_in("c1", D2, "fund-a", "100.00"))
    with pytest.raises(InvalidInput, match="cannot predate") as caught:
        post(journal, reversal("r1", D1, "c1"))
    assert caught.value.field == "date"


def test_reversal_must_negate_exactly(journal: Journal) -> None:
    post(journal, cash_in("c1", D1, "fund-a", "100.00"))
    partial = EntryDraft("r1", EntryCode.REVERSAL, D2, legs((USD_A, "-50.00"), (CAP, "50.00")),
                         reverses_entry_id="c1")
    with pytest.raises(InvalidInput, match="negate every posting"):
        post(journal, partial)


def test_reversal_of_missing_entry(journal: Journal) -> None:
    with pytest.raises(NotFound, match="'nope' does not exist"):
        post(journal, reversal("r1", D2, "nope"))


def test_reversal_that_would_overdraw(journal: Journal) -> None:
    post(journal, cash_in("c1", D1, "fund-a", "100.00"))
    post(journal, cash_out("o1", D2, "100.00"))
    with pytest.raises(Overdraft):
        post(journal, reversal("r1", D3, "c1"))


# -- two-phase seizures -----------------------------------------------------------------
def test_pending_entry_touches_no_balance(journal: Journal, store: MemoryStore) -> None:
    post(journal, seizure("s1", D1, "BTC", "1.5", "0"))
    assert store.balance(SEIZED_BTC) == D(0)


def test_forfeiture_copies_the_pending_postings(journal: Journal, store: MemoryStore) -> None:
    post(journal, seizure("s1", D1, "BTC", "1.5", "20000"))
    post(journal, resolve("f1", D2, "s1"))
    assert store.entries["f1"].draft.postings == store.entries["s1"].draft.postings
    assert store.balance(SEIZED_BTC) == D("1.5")
    assert store.balance(BTC_X) == D("-1.5")
    assert store.resolutions["s1"] == PendingResolution("s1", "f1", PendingOutcome.POSTED, D2)


def test_partial_forfeiture(journal: Journal, store: MemoryStore) -> None:
    post(journal, seizure("s1", D1, "BTC", "1.5", "0"))
    part = (PostingDraft(SEIZED_BTC, D("0.5"), unit_cost_usd=D(0)), PostingDraft(BTC_X, D("-0.5")))
    post(journal, resolve("f1", D2, "s1", postings=part))
    assert store.balance(SEIZED_BTC) == D("0.5")


@pytest.mark.parametrize(("seized", "external"), [("2", "-2"), ("-1", "1")])
def test_forfeiture_beyond_or_against_pending_refused(journal: Journal, seized: str,
                                                      external: str) -> None:
    post(journal, seizure("s1", D1, "BTC", "1.5", "0"))
    cost = D(0) if D(seized) > 0 else None
    wrong = (PostingDraft(SEIZED_BTC, D(seized), unit_cost_usd=cost),
             PostingDraft(BTC_X, D(external)))
    with pytest.raises(InvalidInput, match="exceeds or differs from pending entry s1"):
        post(journal, resolve("f1", D2, "s1", postings=wrong))


def test_resolving_twice_refused(journal: Journal) -> None:
    post(journal, seizure("s1", D1, "BTC", "1", "0"))
    post(journal, resolve("f1", D2, "s1"))
    with pytest.raises(EntryStateError, match="already posted by f1"):
        post(journal, resolve("f2", D3, "s1"))
    with pytest.raises(EntryStateError, match="already posted by f1"):
        post(journal, resolve("v1", D3, "s1", EntryCode.RETURN_TO_OWNER))


def test_return_to_owner_voids(journal: Journal, store: MemoryStore) -> None:
    post(journal, seizure("s1", D1, "BTC", "1", "0"))
    post(journal, resolve("v1", D2, "s1", EntryCode.RETURN_TO_OWNER))
    assert store.resolutions["s1"].outcome is PendingOutcome.VOIDED
    assert store.balance(SEIZED_BTC) == D(0)
    with pytest.raises(EntryStateError, match="already voided by v1"):
        post(journal, resolve("f1", D3, "s1"))


def test_resolving_a_posted_entry_refused(journal: Journal) -> None:
    post(journal, cash_in("c1", D1, "fund-a", "100.00"))
    with pytest.raises(EntryStateError, match="c1 is not pending"):
        post(journal, resolve("v1", D2, "c1", EntryCode.RETURN_TO_OWNER))


def test_resolving_before_the_pending_date_refused(journal: Journal) -> None:
    post(journal, seizure("s1", D2, "BTC", "1", "0"))
    with pytest.raises(InvalidInput, match="before the pending entry's date"):
        post(journal, resolve("f1", D1, "s1"))


def test_pending_only_for_seizures(journal: Journal) -> None:
    draft = EntryDraft("c1", EntryCode.CASH_IN, D1, legs((USD_A, "1"), (CAP, "-1")),
                       phase=EntryPhase.PENDING)
    with pytest.raises(InvalidInput, match="may be pending"):
        post(journal, draft)


@pytest.mark.parametrize("code", [EntryCode.FORFEITURE, EntryCode.RETURN_TO_OWNER])
def test_court_decisions_are_not_reversed(journal: Journal, store: MemoryStore,
                                          code: EntryCode) -> None:
    post(journal, seizure("s1", D1, "BTC", "1", "0"))
    post(journal, resolve("d1", D2, "s1", code))
    before = store.balance(SEIZED_BTC)
    reversal = EntryDraft("r1", EntryCode.REVERSAL, D3, (), reverses_entry_id="d1")
    with pytest.raises(EntryStateError, match="court decision"):
        post(journal, reversal)
    assert store.balance(SEIZED_BTC) == before
