"""Journal entries as immutable values, and their canonical content hash."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from qoima.domain.canonical import content_hash
from qoima.domain.enums import EntryCode, EntryPhase, PendingOutcome
from qoima.domain.errors import Origin


@dataclass(frozen=True, slots=True)
class PostingDraft:
    """One leg: ``amount`` is signed (+ increases the account's balance).

    ``unit_cost_usd`` opens a lot at that cost (acquisitions); ``unit_price_usd`` realizes
    P&L at that price (disposals). Without them, lots move at cost within the entry.
    """

    account: str
    amount: Decimal
    unit_cost_usd: Decimal | None = None
    unit_price_usd: Decimal | None = None
    origin: Origin | None = field(default=None, compare=False)

    def content(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "amount": self.amount,
            "unit_cost_usd": self.unit_cost_usd,
            "unit_price_usd": self.unit_price_usd,
        }


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """What a client asks the journal to record; ``entry_id`` is its idempotency id."""

    entry_id: str
    code: EntryCode
    value_date: date
    postings: tuple[PostingDraft, ...]
    description: str = ""
    phase: EntryPhase = EntryPhase.POSTED
    resolves_entry_id: str | None = None  # the pending entry a forfeiture/return resolves
    reverses_entry_id: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    origin: Origin | None = field(default=None, compare=False)

    def content(self) -> dict[str, Any]:
        """Everything that defines the entry; origin (where it was read from) is not part."""
        return {
            "entry_id": self.entry_id,
            "code": self.code,
            "value_date": self.value_date,
            "phase": self.phase,
            "description": self.description,
            "resolves_entry_id": self.resolves_entry_id,
            "reverses_entry_id": self.reverses_entry_id,
            "metadata": dict(self.metadata),
            "postings": [p.content() for p in self.postings],
        }

    def content_hash(self) -> str:
        return content_hash(self.content())


@dataclass(frozen=True, slots=True)
class Entry:
    """A recorded entry. ``seq`` orders entries; posted entries never change."""

    seq: int
    draft: EntryDraft
    content_hash: str
    recorded_at: datetime
    actor: str

    @property
    def entry_id(self) -> str:
        return self.draft.entry_id

    @property
    def value_date(self) -> date:
        return self.draft.value_date


@dataclass(frozen=True, slots=True)
class PendingResolution:
    pending_entry_id: str
    resolved_by_entry_id: str
    outcome: PendingOutcome
    resolved_date: date


@dataclass(frozen=True, slots=True)
class PostResult:
    """Outcome of one post: ``replayed`` is True when the id was already recorded."""

    entry_id: str
    seq: int
    content_hash: str
    replayed: bool
    posted: EntryDraft | None = field(default=None, compare=False)  # as recorded, when new
