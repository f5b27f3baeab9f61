"""Response models of reference data, journal entries and the audit trail."""

from __future__ import annotations

from typing import Any

from qoima.api.responses import Out


class TrancheOut(Out):
    code: str
    kind: str
    name: str


class VehicleOut(Out):
    code: str
    name: str
    kind: str
    cost_method: str
    parent_code: str | None
    tranches: list[TrancheOut]
    description: str


class UnderlyingOut(Out):
    asset: str
    units_per_share: str


class InstrumentOut(Out):
    code: str
    name: str
    kind: str
    scale: int
    currency: str
    price_factor: str
    ticker: str | None
    isin: str | None
    venue: str | None
    chain: str | None
    contract: str | None
    underlying: UnderlyingOut | None
    issuer: str | None
    manager_code: str | None
    maturity: str | None


class CustodianOut(Out):
    code: str
    name: str
    kind: str
    jurisdiction: str


class ManagerRefOut(Out):
    code: str
    name: str
    kind: str
    vehicle_code: str | None
    strategy: str


class ManagerOut(Out):
    manager: ManagerRefOut
    mandate: dict[str, Any] | None  # the mandate in force (limits, fees, benchmark)
    mandate_version: int | None


class PostingOut(Out):
    account: str
    amount: str
    unit_cost_usd: str | None
    unit_price_usd: str | None


class EntryOut(Out):
    seq: int
    recorded_at: str
    actor: str
    content_hash: str
    entry_id: str
    code: str
    value_date: str
    phase: str
    description: str
    resolves_entry_id: str | None
    reverses_entry_id: str | None
    metadata: dict[str, str]
    postings: list[PostingOut]


class VerificationOut(Out):
    ok: bool
    records: int
    root: str | None
    checkpoints_checked: int
    entries_checked: int
    first_bad_record: int | None
    problems: list[str]


class CheckpointOut(Out):
    checkpoint_id: int
    size: int
    root: str
    created_at: str


class ProblemTypeOut(Out):
    type: str
    code: str
    status: int
    title: str


class HealthOut(Out):
    status: str
    version: str
