"""Mapping between the managers' model (:mod:`qoima.managers.model`) and stored records.

A mandate is stored as its canonical JSON, so the version that governed a statement can be
read back exactly; a statement as columns and lines, so the look-through can be queried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from qoima.app.manager_ports import (
    ExposureRecord,
    FeeRecord,
    FlowRecord,
    MandateRecord,
    StatementRecord,
)
from qoima.domain.canonical import canonical_json, content_hash
from qoima.domain.enums import ManagerKind, Severity
from qoima.domain.findings import Finding
from qoima.managers.model import (
    Exposure,
    FeeCharge,
    FeeKind,
    FeeTerms,
    Flow,
    FlowKind,
    Frequency,
    Guidelines,
    HurdleKind,
    LiquidityTerms,
    ManagementFeeBasis,
    Mandate,
    Statement,
    StatementSource,
    Waterfall,
)


# -- mandates ----------------------------------------------------------------------------------
def mandate_json(mandate: Mandate) -> str:
    return canonical_json(mandate)


def mandate_hash(mandate: Mandate) -> str:
    return content_hash(mandate)


def mandate_from_json(text: str) -> Mandate:
    """The mandate a stored record holds (the model validates it again)."""
    data: dict[str, Any] = json.loads(text)
    fees, liquidity, rules = data["fees"], data["liquidity"], data["guidelines"]
    return Mandate(
        data["manager_code"], data["vehicle_code"], ManagerKind(data["kind"]), data["strategy"],
        date.fromisoformat(data["inception"]),
        FeeTerms(Decimal(fees["management_rate"]), ManagementFeeBasis(fees["management_basis"]),
                 Decimal(fees["performance_rate"]), Decimal(fees["hurdle_rate"]),
                 HurdleKind(fees["hurdle"]), bool(fees["high_water_mark"]),
                 Frequency(fees["crystallisation"]), Decimal(fees["carry_rate"]),
                 Decimal(fees["preferred_return"]), Decimal(fees["catch_up"]),
                 Waterfall(fees["waterfall"])),
        LiquidityTerms(int(liquidity["lock_up_months"]), int(liquidity["notice_days"]),
                       Frequency(liquidity["redemption_frequency"]),
                       _decimal(liquidity["gate"]), liquidity["term_years"]),
        Guidelines(_decimal(rules["max_leverage"]), _decimal(rules["max_single_asset_share"]),
                   tuple((a, Decimal(s)) for a, s in rules["asset_share_overrides"]),
                   tuple(rules["allowed_venues"]), tuple(rules["allowed_custodians"]),
                   tuple(rules["no_go_assets"]), Severity(rules["severity"])),
        data["currency"], _decimal(data["commitment"]), _decimal(data["allocation"]),
        Frequency(data["statement_frequency"]), int(data["statement_lag_days"]),
        data["benchmark"])


def mandate_of(record: MandateRecord) -> Mandate:
    return mandate_from_json(record.mandate_json)


# -- statements --------------------------------------------------------------------------------
def statement_record(statement: Statement, flows: Sequence[FlowRecord], *, file_hash: str,
                     mandate_version: int, findings: Sequence[Finding],
                     imported_at: datetime, imported_by: str) -> StatementRecord:
    source = statement.source or StatementSource(f"statement of {statement.manager_code}")
    return StatementRecord(
        statement.manager_code, statement.period_start, statement.period_end,
        statement.currency, statement.opening_nav, statement.pnl, statement.closing_nav,
        statement.reported_leverage, statement.received_on, source.file, source.sheet,
        canonical_json([list(pair) for pair in source.rows]), file_hash,
        statement_hash(statement), mandate_version, findings_json(findings), imported_at,
        imported_by, tuple(flows),
        tuple(FeeRecord(i, str(f.kind), f.amount, f.row)
              for i, f in enumerate(statement.fees, 1)),
        tuple(ExposureRecord(i, e.asset, e.venue, e.custodian, e.market_value,
                             e.gross_exposure, e.row)
              for i, e in enumerate(statement.exposures, 1)))


def statement_of(record: StatementRecord) -> Statement:
    """The statement as reported (its source rows kept, for findings that point at them)."""
    rows = tuple((str(name), int(row)) for name, row in json.loads(record.source_rows_json))
    return Statement(
        record.manager_code, record.period_start, record.period_end, record.currency,
        record.opening_nav, record.pnl, record.closing_nav,
        tuple(Flow(f.on_date, FlowKind(f.kind), f.amount, f.source_row) for f in record.flows),
        tuple(FeeCharge(FeeKind(f.kind), f.amount, f.source_row) for f in record.fees),
        tuple(Exposure(e.asset, e.venue, e.custodian, e.market_value, e.gross_exposure,
                       e.source_row) for e in record.exposures),
        record.reported_leverage, record.received_on,
        StatementSource(record.source_file, record.source_sheet, rows))


def statement_hash(statement: Statement) -> str:
    """Hash of what the statement says (its source location left out)."""
    return content_hash({
        "manager": statement.manager_code, "period_start": statement.period_start,
        "period_end": statement.period_end, "currency": statement.currency,
        "opening_nav": statement.opening_nav, "pnl": statement.pnl,
        "closing_nav": statement.closing_nav, "leverage": statement.reported_leverage,
        "received_on": statement.received_on,
        "flows": [[f.on_date, f.kind, f.amount] for f in statement.flows],
        "fees": [[f.kind, f.amount] for f in statement.fees],
        "exposures": [[e.asset, e.venue, e.custodian, e.market_value, e.gross_exposure]
                      for e in statement.exposures]})


# -- findings ----------------------------------------------------------------------------------
def findings_json(findings: Sequence[Finding]) -> str:
    return canonical_json([_finding_plain(f) for f in findings])


def findings_of(text: str) -> tuple[Finding, ...]:
    return tuple(Finding(d["rule"], Severity(d["severity"]), d["subject"], d["message"],
                         date.fromisoformat(d["as_of_date"]) if d["as_of_date"] else None,
                         d["measured"], d["limit"]) for d in json.loads(text))


def _finding_plain(finding: Finding) -> Mapping[str, Any]:
    return {"rule": finding.rule, "severity": finding.severity, "subject": finding.subject,
            "message": finding.message, "as_of_date": finding.as_of_date,
            "measured": finding.measured, "limit": finding.limit}


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
