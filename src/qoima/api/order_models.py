"""Response models of orders and of NAV and holdings: what the busiest reads return.

Amounts are exact decimal strings, times ISO 8601 (UTC); see :mod:`qoima.api.responses`.
"""

from __future__ import annotations

from qoima.api.responses import FindingOut, Out, PageOut


class TermsOut(Out):
    vehicle_code: str
    instrument_code: str
    side: str
    quantity: str
    limit_price: str | None
    estimated_price: str
    tranche_code: str | None
    custodian_code: str | None
    note: str


class ApprovalOut(Out):
    user: str
    roles: list[str]
    terms_hash: str  # the terms approved: an edit voids approvals of older terms
    at: str
    override_reason: str | None


class FillOut(Out):
    fill_id: str
    quantity: str
    price: str
    fees_usd: str
    venue: str
    counterparty: str
    executed_at: str
    settlement_date: str


class OrderOut(Out):
    order_id: str
    idempotency_key: str
    terms: TermsOut
    status: str
    maker: str
    created_at: str
    updated_at: str
    approvals: list[ApprovalOut]
    fills: list[FillOut]
    rejection_reason: str | None
    pretrade_findings: list[FindingOut]
    pretrade_policy_hash: str | None
    notional_usd: str
    remaining_quantity: str
    still_needed: list[str]  # what the approval rules still require, in words
    links: dict[str, str]


class PositionOut(Out):
    account_code: str
    vehicle_code: str
    tranche_code: str | None
    custodian_code: str | None
    instrument_code: str
    instrument_kind: str
    quantity: str
    price: str | None
    price_date: str | None
    price_currency: str | None
    value_usd: str | None
    value_kzt: str | None
    cost_usd: str | None
    unrealized_usd: str | None
    realized_usd: str | None
    findings: list[FindingOut]


class VehicleNavOut(Out):
    vehicle_code: str
    name: str
    kind: str
    nav_usd: str
    nav_kzt: str | None
    positions: int
    unvalued_positions: int
    by_tranche_usd: dict[str, str]


class FxRateOut(Out):
    base: str
    quote: str
    rate_date: str
    rate: str
    source: str


class NavOut(Out):
    as_of: str
    vehicles: list[VehicleNavOut]
    total_usd: str | None  # null for a reader of only some vehicles (no institution total)
    total_kzt: str | None
    usd_kzt: FxRateOut | None  # the USD/KZT rate the KZT figures use (null: none known)
    complete: bool
    synthetic_market: bool
    findings: list[FindingOut]


class HoldingsOut(PageOut[PositionOut]):
    as_of: str
    pending: list[PositionOut]  # e.g. seized assets awaiting forfeiture
    synthetic_market: bool
