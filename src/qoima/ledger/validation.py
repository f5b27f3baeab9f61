"""Rules every entry must satisfy before it touches storage. Pure functions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal

from qoima.domain.enums import (
    RESOLVING_CODES,
    AccountKind,
    EntryCode,
    EntryPhase,
)
from qoima.domain.errors import InvalidInput, ScaleError, UnbalancedEntry
from qoima.domain.money import ZERO, check_scale, decimal_places
from qoima.domain.reference import BASE_CURRENCY, MAX_SCALE
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.ledger.ports import AccountInfo

MAX_ENTRY_ID_LENGTH = 128

#: Codes whose postings the journal derives from another entry when none are given.
DERIVED_POSTING_CODES = frozenset({EntryCode.REVERSAL, EntryCode.FORFEITURE,
                                   EntryCode.RETURN_TO_OWNER})


def check_header(draft: EntryDraft) -> None:
    """Checks that need no stored data: ids, phase and links between entries."""
    origin = draft.origin
    if not draft.entry_id or len(draft.entry_id) > MAX_ENTRY_ID_LENGTH:
        raise InvalidInput(
            f"entry id must be 1-{MAX_ENTRY_ID_LENGTH} characters", origin=origin, field="id"
        )
    if draft.entry_id != draft.entry_id.strip():
        raise InvalidInput("entry id has leading or trailing spaces", origin=origin, field="id")
    if draft.phase is EntryPhase.PENDING and draft.code is not EntryCode.SEIZURE_INTAKE:
        raise InvalidInput(
            f"only {EntryCode.SEIZURE_INTAKE} entries may be pending, not {draft.code}",
            origin=origin, field="phase",
        )
    resolving = draft.code in RESOLVING_CODES
    if resolving != (draft.resolves_entry_id is not None):
        raise InvalidInput(
            f"{draft.code} entries {'must' if resolving else 'must not'} name the pending "
            "entry they resolve", origin=origin, field="resolves",
        )
    reversing = draft.code is EntryCode.REVERSAL
    if reversing != (draft.reverses_entry_id is not None):
        raise InvalidInput(
            f"{draft.code} entries {'must' if reversing else 'must not'} name the entry they "
            "reverse", origin=origin, field="reverses",
        )
    if resolving and draft.phase is EntryPhase.PENDING:
        raise InvalidInput("a resolving entry cannot itself be pending", origin=origin,
                           field="phase")
    if draft.code is EntryCode.RETURN_TO_OWNER and draft.postings:
        raise InvalidInput("a return to owner voids the pending entry and has no postings",
                           origin=origin, field="postings")
    if not draft.postings and draft.code not in DERIVED_POSTING_CODES:
        raise InvalidInput("an entry needs at least two postings", origin=origin,
                           field="postings")


def check_postings(draft: EntryDraft, accounts: Mapping[str, AccountInfo]) -> None:
    """Known accounts, exact scales, sensible cost/price annotations, balance per asset."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for posting in draft.postings:
        origin = posting.origin or draft.origin
        info = accounts.get(posting.account)
        if info is None:
            raise InvalidInput(f"unknown account {posting.account!r}", origin=origin,
                               field="account")
        _check_posting(posting, info, draft)
        totals[info.instrument.code] += posting.amount
    unbalanced = {code: total for code, total in totals.items() if total != 0}
    if unbalanced:
        detail = ", ".join(f"{code} off by {total:+}" for code, total in sorted(unbalanced.items()))
        raise UnbalancedEntry(
            f"entry {draft.entry_id} does not balance per asset: {detail}",
            origin=draft.origin, field="amount",
        )
    _check_costs_present(draft, accounts)


def _check_posting(posting: PostingDraft, info: AccountInfo, draft: EntryDraft) -> None:
    origin = posting.origin or draft.origin
    instrument = info.instrument
    if posting.amount == 0:
        raise InvalidInput("posting amount must not be zero", origin=origin, field="amount")
    try:
        check_scale(posting.amount, instrument.scale, asset=instrument.code)
    except ScaleError as error:
        raise error.with_origin(origin, "amount") from None
    holding = info.account.kind is AccountKind.HOLDING
    for name, value, wanted_sign in (
        ("unit_cost_usd", posting.unit_cost_usd, 1),
        ("unit_price_usd", posting.unit_price_usd, -1),
    ):
        if value is None:
            continue
        if value < 0:
            raise InvalidInput(f"{name} must not be negative", origin=origin, field=name)
        if decimal_places(value) > MAX_SCALE:
            raise ScaleError(f"{name} has more than {MAX_SCALE} decimal places",
                             origin=origin, field=name)
        if not holding or (posting.amount > 0) != (wanted_sign > 0):
            where = "an increase" if wanted_sign > 0 else "a decrease"
            raise InvalidInput(f"{name} belongs only on {where} of a holding account",
                               origin=origin, field=name)


def _check_costs_present(draft: EntryDraft, accounts: Mapping[str, AccountInfo]) -> None:
    """A new non-cash holding needs a cost unless lots move in from the same entry."""
    if draft.code is EntryCode.REVERSAL:
        return
    moved_out = {
        accounts[p.account].instrument.code
        for p in draft.postings
        if p.amount < 0 and accounts[p.account].account.kind is AccountKind.HOLDING
    }
    for posting in draft.postings:
        info = accounts[posting.account]
        instrument = info.instrument
        if (
            posting.amount > 0
            and info.account.kind is AccountKind.HOLDING
            and posting.unit_cost_usd is None
            and not instrument.is_currency
            and instrument.code != BASE_CURRENCY
            and instrument.code not in moved_out
        ):
            raise InvalidInput(
                f"acquiring {instrument.code} into {posting.account} needs unit_cost_usd "
                "(cost basis)", origin=posting.origin or draft.origin, field="unit_cost_usd",
            )
