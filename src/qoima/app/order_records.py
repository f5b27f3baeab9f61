"""Orders to and from their stored records (primitive columns, findings as JSON)."""

from __future__ import annotations

import json
from datetime import date

from qoima.app.governance_ports import ApprovalRecord, FillRecord, OrderRecord
from qoima.domain.canonical import canonical_json
from qoima.domain.enums import Severity
from qoima.domain.findings import Finding
from qoima.domain.roles import Role
from qoima.orders.model import Approval, Fill, Order, OrderSide, OrderStatus, OrderTerms


def order_to_record(order: Order) -> OrderRecord:
    t = order.terms
    return OrderRecord(
        order.order_id, order.idempotency_key, t.vehicle_code, t.instrument_code, str(t.side),
        t.quantity, t.estimated_price, str(order.status), order.maker, order.created_at,
        order.updated_at, t.content_hash, t.limit_price, t.tranche_code, t.custodian_code,
        t.note, order.rejection_reason, findings_json(order.pretrade_findings),
        order.pretrade_policy_hash,
        tuple(ApprovalRecord(a.user, tuple(str(r) for r in a.roles), a.terms_hash, a.at,
                             a.override_reason) for a in order.approvals),
        tuple(FillRecord(f.fill_id, f.quantity, f.price, f.fees_usd, f.venue, f.counterparty,
                         f.executed_at, f.settlement_date) for f in order.fills))


def order_from_record(record: OrderRecord) -> Order:
    terms = OrderTerms(record.vehicle_code, record.instrument_code, OrderSide(record.side),
                       record.quantity, record.limit_price, record.estimated_price,
                       record.tranche_code, record.custodian_code, record.note)
    return Order(
        record.order_id, record.idempotency_key, terms, OrderStatus(record.status),
        record.maker, record.created_at, record.updated_at,
        tuple(Approval(a.user, tuple(Role(r) for r in a.roles), a.terms_hash, a.at,
                       a.override_reason) for a in record.approvals),
        tuple(Fill(f.fill_id, f.quantity, f.price, f.fees_usd, f.venue, f.counterparty,
                   f.executed_at, f.settlement_date) for f in record.fills),
        record.rejection_reason, findings_from_json(record.pretrade_json),
        record.pretrade_policy_hash)


def findings_json(findings: tuple[Finding, ...]) -> str:
    return canonical_json([{"rule": f.rule, "severity": f.severity, "subject": f.subject,
                            "message": f.message, "as_of": f.as_of_date,
                            "measured": f.measured, "limit": f.limit} for f in findings])


def findings_from_json(text: str) -> tuple[Finding, ...]:
    return tuple(Finding(item["rule"], Severity(item["severity"]), item["subject"],
                         item["message"],
                         date.fromisoformat(item["as_of"]) if item.get("as_of") else None,
                         item.get("measured"), item.get("limit"))
                 for item in json.loads(text or "[]"))
