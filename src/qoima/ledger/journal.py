"""Posting: idempotent, all-or-nothing, never editing what is posted.

The journal runs inside the caller's unit of work; a failure raises before anything is
committed, so a multi-entry import either lands whole or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, localcontext

from qoima.domain.enums import (
    NON_NEGATIVE_ACCOUNT_KINDS,
    RESOLVING_CODES,
    EntryCode,
    EntryPhase,
)
from qoima.domain.errors import (
    EntryStateError,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    Overdraft,
)
from qoima.domain.money import MONEY_CONTEXT, ZERO
from qoima.ledger.entries import Entry, EntryDraft, PendingResolution, PostingDraft, PostResult
from qoima.ledger.ports import AccountInfo, JournalStore
from qoima.ledger.validation import check_header, check_postings


class Journal:
    """The one way entries get into the book."""

    def __init__(self, store: JournalStore) -> None:
        self._store = store

    def post(self, draft: EntryDraft, *, recorded_at: datetime, actor: str) -> PostResult:
        # Sums and balances must be exact for every amount NUMERIC(38,18) holds; the default
        # context keeps only 28 digits (a 10^11-unit 18-decimal token would silently round).
        with localcontext(MONEY_CONTEXT):
            return self._post(draft, recorded_at=recorded_at, actor=actor)

    def _post(self, draft: EntryDraft, *, recorded_at: datetime, actor: str) -> PostResult:
        check_header(draft)
        draft = self._complete(draft)
        new_hash = draft.content_hash()
        existing = self._store.find_entry(draft.entry_id)
        if existing is not None:
            if existing.content_hash != new_hash:
                raise IdempotencyConflict(
                    f"entry id {draft.entry_id!r} was already used for different content "
                    f"(recorded {existing.recorded_at:%Y-%m-%d %H:%M} UTC by {existing.actor})",
                    origin=draft.origin, field="id",
                )
            return PostResult(draft.entry_id, existing.seq, existing.content_hash, replayed=True)
        accounts = self._store.find_accounts({p.account for p in draft.postings})
        check_postings(draft, accounts)
        self._check_links(draft)
        if draft.phase is EntryPhase.POSTED:
            self._store.prepare_balances(_net_by_account(draft, accounts), draft.value_date)
            self._check_no_overdraft(draft, accounts)
        seq = self._store.insert_entry(draft, new_hash, recorded_at, actor, accounts)
        if draft.phase is EntryPhase.POSTED:
            for account_id, delta in _net_by_account(draft, accounts).items():
                self._store.add_to_balance(account_id, draft.value_date, delta)
        if draft.code in RESOLVING_CODES:
            assert draft.resolves_entry_id is not None
            self._store.insert_resolution(PendingResolution(
                draft.resolves_entry_id, draft.entry_id, RESOLVING_CODES[draft.code],
                draft.value_date,
            ))
        return PostResult(draft.entry_id, seq, new_hash, replayed=False, posted=draft)

    # -- derived postings -------------------------------------------------------------
    def _complete(self, draft: EntryDraft) -> EntryDraft:
        """Fill in the postings a reversal or a forfeiture takes from the entry it names."""
        if draft.postings:
            return draft
        if draft.code is EntryCode.REVERSAL:
            assert draft.reverses_entry_id is not None
            target = self._get(draft.reverses_entry_id, draft, "reverses")
            legs = tuple(
                PostingDraft(p.account, -p.amount, origin=draft.origin)
                for p in target.draft.postings
            )
            return replace(draft, postings=legs)
        if draft.code is EntryCode.FORFEITURE:
            assert draft.resolves_entry_id is not None
            target = self._get(draft.resolves_entry_id, draft, "resolves")
            legs = tuple(replace(p, origin=draft.origin) for p in target.draft.postings)
            return replace(draft, postings=legs)
        return draft

    def _get(self, entry_id: str, draft: EntryDraft, field: str) -> Entry:
        entry = self._store.find_entry(entry_id)
        if entry is None:
            raise NotFound(f"entry {entry_id!r} does not exist", origin=draft.origin, field=field)
        return entry

    # -- links between entries --------------------------------------------------------
    def _check_links(self, draft: EntryDraft) -> None:
        if draft.reverses_entry_id is not None:
            self._check_reversal(draft, self._get(draft.reverses_entry_id, draft, "reverses"))
        if draft.resolves_entry_id is not None:
            self._check_resolution(draft, self._get(draft.resolves_entry_id, draft, "resolves"))

    def _check_reversal(self, draft: EntryDraft, target: Entry) -> None:
        origin = draft.origin
        if target.draft.phase is EntryPhase.PENDING:
            raise EntryStateError(
                f"entry {target.entry_id} is pending: void it with a return to owner instead",
                origin=origin, field="reverses")
        if target.draft.code is EntryCode.REVERSAL:
            raise EntryStateError(f"entry {target.entry_id} is itself a reversal",
                                  origin=origin, field="reverses")
        if target.draft.code in RESOLVING_CODES:
            raise EntryStateError(
                f"entry {target.entry_id} records a court decision ({target.draft.code}); it "
                "is not reversed but followed by new entries", origin=origin, field="reverses")
        already = self._store.find_reversal_of(target.entry_id)
        if already is not None:
            raise EntryStateError(f"entry {target.entry_id} was already reversed by {already}",
                                  origin=origin, field="reverses")
        if draft.value_date < target.value_date:
            raise InvalidInput(
                f"a reversal cannot predate the entry it reverses ({target.value_date})",
                origin=origin, field="date")
        expected = sorted((p.account, -p.amount) for p in target.draft.postings)
        if sorted((p.account, p.amount) for p in draft.postings) != expected:
            raise InvalidInput(
                f"a reversal must negate every posting of {target.entry_id} exactly",
                origin=origin, field="postings")

    def _check_resolution(self, draft: EntryDraft, pending: Entry) -> None:
        origin = draft.origin
        if pending.draft.phase is not EntryPhase.PENDING:
            raise EntryStateError(f"entry {pending.entry_id} is not pending",
                                  origin=origin, field="resolves")
        done = self._store.find_resolution(pending.entry_id)
        if done is not None:
            raise EntryStateError(
                f"pending entry {pending.entry_id} was already {done.outcome} by "
                f"{done.resolved_by_entry_id} on {done.resolved_date}",
                origin=origin, field="resolves")
        if draft.value_date < pending.value_date:
            raise InvalidInput(
                f"cannot resolve before the pending entry's date ({pending.value_date})",
                origin=origin, field="date")
        limits: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for leg in pending.draft.postings:
            limits[leg.account] += leg.amount
        for posting in draft.postings:
            limit = limits.get(posting.account)
            if limit is None or (posting.amount > 0) != (limit > 0) or abs(posting.amount) > abs(
                limit
            ):
                raise InvalidInput(
                    f"posting to {posting.account} exceeds or differs from pending entry "
                    f"{pending.entry_id}", origin=posting.origin or origin, field="amount")

    # -- overdraft --------------------------------------------------------------------
    def _check_no_overdraft(self, draft: EntryDraft, accounts: Mapping[str, AccountInfo]) -> None:
        by_id = {info.account_id: info for info in accounts.values()}
        for account_id, delta in _net_by_account(draft, accounts).items():
            info = by_id[account_id]
            if delta >= 0 or info.account.kind not in NON_NEGATIVE_ACCOUNT_KINDS:
                continue
            lowest = min(b + delta for b in self._store.balances_from(account_id,
                                                                      draft.value_date))
            if lowest < 0:
                raise Overdraft(
                    f"{info.code} would go negative ({lowest} {info.instrument.code}) "
                    f"on or after {draft.value_date}",
                    origin=draft.origin, field="amount",
                    account=info.code, shortfall=str(-lowest),
                )


def _net_by_account(draft: EntryDraft, accounts: Mapping[str, AccountInfo]) -> dict[int, Decimal]:
    net: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for posting in draft.postings:
        net[accounts[posting.account].account_id] += posting.amount
    return {account_id: delta for account_id, delta in net.items() if delta != 0}

