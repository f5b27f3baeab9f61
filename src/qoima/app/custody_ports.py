"""Storage port for seized-asset cases. Records carry primitives only (enums as their
string values, lists and documents as canonical JSON); repositories never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CaseRecord:
    case_id: str
    agency: str
    case_number: str
    court: str
    description: str
    opened_on: date
    legal_status: str
    status_changed_on: date
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """A seized asset; ``intake_entry_id`` is its pending ledger entry in the seized pool."""

    asset_id: str
    case_id: str
    chain: str
    instrument_code: str
    quantity: Decimal
    holding_place: str
    holder: str
    seized_on: date
    account_code: str
    intake_entry_id: str
    addresses_json: str
    tx_ids_json: str


@dataclass(frozen=True, slots=True)
class AddressRecord:
    chain: str
    address: str  # normalized
    case_id: str
    asset_id: str
    instrument_code: str
    registered_at: datetime
    source: str  # seizure | custody_event


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    case_id: str
    from_status: str
    to_status: str
    on_date: date
    documents_json: str
    ledger_effect: str
    entry_id: str | None
    actor: str
    at: datetime
    id: int | None = None


@dataclass(frozen=True, slots=True)
class CustodyEventRecord:
    event_id: str
    case_id: str
    kind: str
    at: datetime
    actor: str
    from_holder: str | None
    to_holder: str | None
    from_address: str | None
    to_address: str | None
    tx_id: str | None
    quantity: Decimal | None
    instrument_code: str | None
    note: str
    recorded_at: datetime
    fee: Decimal | None = None
    chain: str | None = None


@dataclass(frozen=True, slots=True)
class ReconciliationRecord:
    content_hash: str  # of the snapshot file and the book it was compared with
    as_of_date: date
    source: str
    status: str  # matched | differences
    rows_json: str
    findings_json: str
    recorded_at: datetime
    recorded_by: str
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ChallengeRecord:
    nonce: str
    case_id: str
    chain: str
    address: str
    issued_on: date
    message: str
    issued_at: datetime
    issued_by: str


@dataclass(frozen=True, slots=True)
class ProofRecord:
    nonce: str
    case_id: str
    chain: str
    address: str
    signature: str
    scheme: str
    valid: bool
    reason: str
    verified_at: datetime
    verified_by: str
    id: int | None = None


@dataclass(frozen=True, slots=True)
class SanctionsListRecord:
    content_hash: str
    source: str
    list_date: date | None
    entries: int
    imported_at: datetime
    imported_by: str
    list_id: int | None = None


@dataclass(frozen=True, slots=True)
class SanctionedAddressRecord:
    list_id: int
    chain_code: str
    address: str
    address_key: str  # lower-case for EVM and bech32, else as listed
    entity: str
    program: str


@dataclass(frozen=True, slots=True)
class ScreeningHitRecord:
    case_id: str | None
    chain: str
    address: str
    list_id: int
    entity: str
    context: str  # intake | custody_event | disposition
    status: str  # open | overridden
    found_at: datetime
    overrides_json: str  # [{"user": ..., "reason": ..., "at": ...}]
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ForkRecord:
    case_id: str
    parent_instrument: str
    instrument_code: str
    quantity: Decimal
    fork_date: date
    source_address: str
    valuation_policy: str
    note: str
    recorded_at: datetime
    recorded_by: str
    id: int | None = None


@dataclass(frozen=True, slots=True)
class DispositionRecord:
    """A proposed disposition of a forfeited asset (into a reserve vehicle, or a sale),
    approved by four eyes before it executes."""

    disposition_id: str
    idempotency_key: str
    case_id: str
    asset_id: str
    model: str  # transferred_to_reserve | liquidated
    target_vehicle: str | None
    target_account: str | None
    quantity: Decimal
    price_usd: Decimal
    valuation_usd: Decimal
    status: str  # proposed | approved | executed | rejected
    maker: str
    created_at: datetime
    updated_at: datetime
    approvals_json: str  # [{"user": ..., "roles": [...], "at": ...}]
    comparison_json: str
    entry_id: str | None = None
    reason: str | None = None


class CustodyRepository(Protocol):
    def add_case(self, record: CaseRecord) -> None: ...
    def find_case(self, case_id: str) -> CaseRecord | None: ...
    def list_cases(self) -> list[CaseRecord]: ...
    def set_case_status(self, case_id: str, status: str, changed_on: date) -> None: ...

    def add_asset(self, record: AssetRecord) -> None: ...
    def find_asset(self, asset_id: str) -> AssetRecord | None: ...
    def list_assets(self, case_id: str | None = None) -> list[AssetRecord]: ...

    def add_address(self, record: AddressRecord) -> None: ...
    def find_address(self, chain: str, address: str) -> AddressRecord | None: ...
    def list_addresses(self, case_id: str | None = None) -> list[AddressRecord]: ...

    def add_transition(self, record: TransitionRecord) -> None: ...
    def list_transitions(self, case_id: str) -> list[TransitionRecord]: ...

    def add_event(self, record: CustodyEventRecord) -> None: ...
    def find_event(self, event_id: str) -> CustodyEventRecord | None: ...
    def list_events(self, case_id: str | None = None) -> list[CustodyEventRecord]: ...

    def add_reconciliation(self, record: ReconciliationRecord) -> ReconciliationRecord:
        """Insert, or return the stored one with the same content hash."""
        ...

    def list_reconciliations(self) -> list[ReconciliationRecord]: ...

    def add_challenge(self, record: ChallengeRecord) -> None: ...
    def find_challenge(self, nonce: str) -> ChallengeRecord | None: ...
    def add_proof(self, record: ProofRecord) -> ProofRecord: ...
    def list_proofs(self, case_id: str | None = None) -> list[ProofRecord]: ...

    def add_sanctions_list(self, record: SanctionsListRecord,
                           addresses: Sequence[SanctionedAddressRecord]) -> SanctionsListRecord:
        """Insert the list and its addresses (``list_id`` filled in), or return the stored
        list with the same content hash (its addresses untouched)."""
        ...

    def list_sanctions_lists(self) -> list[SanctionsListRecord]: ...
    def find_sanctioned(self, address_keys: Sequence[str]) -> list[SanctionedAddressRecord]: ...

    def add_hit(self, record: ScreeningHitRecord) -> ScreeningHitRecord: ...
    def update_hit(self, record: ScreeningHitRecord) -> None: ...
    def find_hit(self, hit_id: int) -> ScreeningHitRecord | None: ...
    def list_hits(self, case_id: str | None = None,
                  status: str | None = None) -> list[ScreeningHitRecord]: ...

    def add_fork(self, record: ForkRecord) -> ForkRecord: ...
    def list_forks(self, case_id: str | None = None) -> list[ForkRecord]: ...

    def add_disposition(self, record: DispositionRecord) -> DispositionRecord:
        """Insert, or return the stored one with the same idempotency key."""
        ...

    def update_disposition(self, record: DispositionRecord) -> None: ...
    def find_disposition(self, disposition_id: str) -> DispositionRecord | None: ...
    def list_dispositions(self, case_id: str | None = None) -> list[DispositionRecord]: ...
