"""Response models of managers' statements, performance and scorecards."""

from __future__ import annotations

from typing import Any

from qoima.api.responses import FindingOut, Out


class FlowOut(Out):
    position: int
    on_date: str
    kind: str
    amount: str
    entry_id: str
    matched: bool
    source_row: int


class FeeOut(Out):
    position: int
    kind: str
    amount: str
    source_row: int


class ExposureOut(Out):
    position: int
    asset: str
    venue: str
    custodian: str
    market_value: str
    gross_exposure: str | None
    source_row: int


class StatementOut(Out):
    manager_code: str
    period_start: str
    period_end: str
    currency: str
    opening_nav: str
    pnl: str
    closing_nav: str
    reported_leverage: str | None
    received_on: str | None
    source_file: str
    source_sheet: str | None
    source_rows_json: str
    file_hash: str
    content_hash: str
    mandate_version: int
    findings_json: str
    imported_at: str
    imported_by: str
    flows: list[FlowOut]
    fees: list[FeeOut]
    exposures: list[ExposureOut]
    statement_id: int | None


class ScorecardOut(Out):
    manager_code: str
    kind: str
    strategy: str
    as_of: str
    currency: str
    statements: int
    nav: str | None
    unfunded_commitment: str | None
    twr: float | None
    annualised_return: float | None
    irr: float | None
    multiples: dict[str, Any] | None  # TVPI, DPI, RVPI
    pme: float | None
    volatility: float | None
    max_drawdown: float | None
    sharpe: float | None
    correlation: float | None
    alpha_beta: dict[str, Any] | None
    leverage: str | None
    findings: list[FindingOut]
    liquidity: dict[str, Any]  # redemption terms and the next dealing date
    notes: list[str]


class PeriodReturnOut(Out):
    period_start: str
    period_end: str
    value: float | None


class PerformanceOut(Out):
    manager_code: str
    benchmark: str
    as_of: str
    scorecard: ScorecardOut
    returns: list[PeriodReturnOut]
    benchmark_returns: list[float | None] | None


class ExposureTotalOut(Out):
    dimension: str
    key: str
    value_usd: str
    managers: list[str]


class LookThroughOut(Out):
    """Reported exposures across managers, by asset, venue and custodian (USD)."""

    as_of: str
    managers: list[dict[str, Any]]  # each manager's latest statement and its status
    totals: list[ExposureTotalOut]
    flagged: list[str]  # managers whose exposures are not reported (a proxy is used)
    findings: list[FindingOut]
