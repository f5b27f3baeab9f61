"""Seized-asset case bodies: the case file sent as JSON (the same content as the YAML
``qoima case open`` reads) and the case as the API returns it."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from qoima.api.models import Amount, Code, Day, Strict
from qoima.api.responses import FindingOut, Out
from qoima.custody.legal import DocumentKind

Short = Annotated[str, Field(max_length=200)]


class CaseDocumentIn(Strict):
    kind: DocumentKind
    reference: Code
    dated: Day
    issued_by: Code


class CaseAssetIn(Strict):
    asset_id: Code
    chain: Code
    network: Annotated[str, Field(pattern=r"^(mainnet|testnet|signet|regtest)$")] = "mainnet"
    instrument: Code
    quantity: Amount
    addresses: Annotated[list[Short], Field(min_length=1, max_length=500)]
    tx_ids: Annotated[list[Short], Field(max_length=500)] = Field(default_factory=list)
    holding: Code
    holder: Code
    seized_on: Day


class CaseIn(Strict):
    """The case, its intake documents and its assets (see qoima.adapters.case_files)."""

    case_id: Code
    agency: Code
    case_number: Code
    court: Code
    description: Annotated[str, Field(max_length=2000)] = ""
    opened_on: Day
    documents: Annotated[list[CaseDocumentIn], Field(max_length=50)] = Field(
        default_factory=list)
    assets: Annotated[list[CaseAssetIn], Field(min_length=1, max_length=200)]


class CaseRecordOut(Out):
    case_id: str
    agency: str
    case_number: str
    court: str
    description: str
    opened_on: str
    legal_status: str
    status_changed_on: str
    created_at: str
    created_by: str


class AssetOut(Out):
    asset_id: str
    case_id: str
    chain: str
    instrument_code: str
    quantity: str
    holding_place: str
    holder: str
    seized_on: str
    account_code: str
    intake_entry_id: str
    addresses: list[str]
    tx_ids: list[str]


class TransitionOut(Out):
    case_id: str
    from_status: str
    to_status: str
    on_date: str
    ledger_effect: str
    entry_id: str | None
    actor: str
    at: str
    id: int | None
    documents: list[dict[str, Any]]


class CustodyEventOut(Out):
    event_id: str
    case_id: str
    kind: str
    at: str
    actor: str
    from_holder: str | None
    to_holder: str | None
    from_address: str | None
    to_address: str | None
    tx_id: str | None
    quantity: str | None
    instrument_code: str | None
    note: str
    recorded_at: str
    fee: str | None
    chain: str | None


class ScreeningHitOut(Out):
    case_id: str | None
    chain: str
    address: str
    list_id: int
    entity: str
    context: str
    status: str
    found_at: str
    id: int | None
    overrides: list[dict[str, Any]]


class LinksOut(Out):
    self: str


class CaseOut(Out):
    case: CaseRecordOut
    assets: list[AssetOut]
    legal_history: list[TransitionOut]
    custody_events: list[CustodyEventOut]
    screening_hits: list[ScreeningHitOut]
    links: LinksOut


class ReconciliationRowOut(Out):
    address: str
    instrument: str
    book: str | None
    observed: str | None
    difference: str | None
    status: str


class ReconciliationOut(Out):
    as_of: str
    source: str
    status: str
    new: bool
    content_hash: str
    rows: list[ReconciliationRowOut]
    findings: list[FindingOut]


class ProofOut(Out):
    nonce: str
    case_id: str
    chain: str
    address: str
    signature: str
    scheme: str
    valid: bool
    reason: str
    verified_at: str
    verified_by: str
    id: int | None


class DispositionOut(Out):
    disposition_id: str
    idempotency_key: str
    case_id: str
    asset_id: str
    model: str
    target_vehicle: str | None
    target_account: str | None
    quantity: str
    price_usd: str
    valuation_usd: str
    status: str
    maker: str
    created_at: str
    updated_at: str
    approvals_json: str
    comparison_json: str
    entry_id: str | None
    reason: str | None


class InventoryAssetOut(Out):
    asset_id: str
    instrument_code: str
    quantity: str
    value_usd: str | None
    legal_status: str
    addresses_count: int
    held: bool


class CaseInventoryOut(Out):
    case_id: str
    assets: list[InventoryAssetOut]
    value_usd_total: str
    value_complete: bool
    last_reconciled_on: str | None
    last_reconciliation_status: str | None
    last_proof_on: str | None
    proofs_valid: bool | None
    findings: list[FindingOut]


class InventoryOut(Out):
    as_of_date: str
    cases_count: int
    assets_by_legal_status: dict[str, int]
    quantity_by_instrument: dict[str, str]
    value_by_instrument: dict[str, str | None]
    value_usd_total: str
    value_complete: bool
    cases: list[CaseInventoryOut]
    findings: list[FindingOut]
