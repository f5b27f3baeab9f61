"""Oversight of external managers: breaches as findings, a scorecard, a comparison table.

Findings use stable rule ids (``manager.late_statement``, ``manager.nav_not_reconciling``,
``manager.fee_mismatch`` and the ``mandate.*`` guideline rules) with the subject
``<manager>`` or ``<manager>/<what>``. A scorecard figure that cannot be computed (too few
statements, no benchmark) is None with a note saying why, never a NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from qoima.domain.canonical import plain_decimal
from qoima.domain.enums import ManagerKind, Severity
from qoima.domain.errors import QoimaError
from qoima.domain.findings import Finding
from qoima.domain.money import MONEY_CONTEXT
from qoima.managers import performance as perf
from qoima.managers.fees import FeeCheck, add_months, fee_checks
from qoima.managers.guidelines import guideline_findings
from qoima.managers.model import INFLOW_KINDS, ZERO, Frequency, Mandate, Statement
from qoima.managers.validation import (
    RECONCILIATION_CHECKS,
    Tolerance,
    statement_issues,
)

LATE_STATEMENT = "manager.late_statement"
NAV_NOT_RECONCILING = "manager.nav_not_reconciling"
FEE_MISMATCH = "manager.fee_mismatch"

#: A fee within one currency unit or 0.5 % of the expected amount matches.
FEE_TOLERANCE = Tolerance(Decimal(1), Decimal("0.005"))

T = TypeVar("T")


def late_statement_findings(mandate: Mandate, statements: Sequence[Statement],
                            as_of: date) -> list[Finding]:
    """A missing statement past its due date (ERROR); one received after it (WARNING)."""
    findings, manager = [], mandate.manager_code
    months, lag = mandate.statement_frequency.months, mandate.statement_lag_days
    k = 1
    while (end := add_months(mandate.inception, k * months) - timedelta(days=1)) < as_of:
        due = end + timedelta(days=lag)
        k += 1
        found = next((s for s in statements if s.period_start <= end <= s.period_end), None)
        if found is None:
            if as_of > due:
                findings.append(Finding(
                    LATE_STATEMENT, Severity.ERROR, manager,
                    f"no statement from {manager} for the period ending {end}; it was due "
                    f"on {due}", as_of, measured=f"{(as_of - due).days} days overdue",
                    limit=f"{lag} days after period end"))
        elif found.received_on is not None and found.received_on > due:
            findings.append(Finding(
                LATE_STATEMENT, Severity.WARNING, manager,
                f"statement of {manager} for the period ending {end} arrived on "
                f"{found.received_on}, {(found.received_on - due).days} days after it was due",
                found.period_end, measured=str(found.received_on), limit=str(due)))
    return findings


def reconciliation_findings(statement: Statement) -> list[Finding]:
    """The statement's roll-forward and exposure totals as findings."""
    return [Finding(NAV_NOT_RECONCILING, Severity.ERROR, statement.manager_code, issue.message,
                    statement.period_end)
            for issue in statement_issues(statement) if issue.check in RECONCILIATION_CHECKS]


def fee_findings(checks: Sequence[FeeCheck], manager: str,
                 tolerance: Tolerance = FEE_TOLERANCE) -> list[Finding]:
    """Differences beyond ``tolerance``: overcharging is an ERROR, undercharging a WARNING
    (it is usually caught up later, but the terms were not applied)."""
    findings = []
    for check in checks:
        if tolerance.allows(check.difference, check.expected):
            continue
        over = check.difference > 0
        findings.append(Finding(
            FEE_MISMATCH, Severity.ERROR if over else Severity.WARNING,
            f"{manager}/{check.kind}:{check.period_end}",
            f"{manager} charged {plain_decimal(check.charged)} {check.kind} fee for "
            f"{check.period_start}..{check.period_end}; the terms give "
            f"{plain_decimal(check.expected)} ({check.detail})", check.period_end,
            measured=plain_decimal(check.charged), limit=plain_decimal(check.expected)))
    return findings


def oversight_findings(mandate: Mandate, statements: Sequence[Statement],
                       as_of: date) -> list[Finding]:
    """Late statements, reconciliation and fees over all statements; guideline breaches of
    the latest statement (the app checks each statement's guidelines when it imports it)."""
    ordered = sorted(statements, key=lambda s: s.period_start)
    findings = late_statement_findings(mandate, ordered, as_of)
    for statement in ordered:
        findings += reconciliation_findings(statement)
    if ordered:
        findings += fee_findings(fee_checks(mandate, ordered), mandate.manager_code)
        findings += guideline_findings(mandate, ordered[-1])
    return findings


@dataclass(frozen=True, slots=True)
class LiquidityProfile:
    """When money could come back, seen from ``as_of``."""

    redemption_frequency: Frequency
    notice_days: int
    gate: Decimal | None
    lock_up_ends: date | None
    next_dealing_date: date | None  # None: closed-end

    @property
    def closed_end(self) -> bool:
        return self.redemption_frequency is Frequency.NONE


def liquidity_profile(mandate: Mandate, as_of: date) -> LiquidityProfile:
    """The first dealing date on or after the lock-up whose notice can still be given."""
    terms = mandate.liquidity
    lock_end = (add_months(mandate.inception, terms.lock_up_months)
                if terms.lock_up_months else None)
    next_date = None
    months = terms.redemption_frequency.months
    if months:
        k = 1
        while True:
            dealing = add_months(mandate.inception, k * months) - timedelta(days=1)
            k += 1
            if (lock_end is None or dealing >= lock_end) and \
                    dealing - timedelta(days=terms.notice_days) >= as_of:
                next_date = dealing
                break
    return LiquidityProfile(terms.redemption_frequency, terms.notice_days, terms.gate,
                            lock_end, next_date)


@dataclass(frozen=True, slots=True)
class Scorecard:
    """One manager at ``as_of``: performance, risk, operational flags, liquidity."""

    manager_code: str
    kind: ManagerKind
    strategy: str
    as_of: date
    currency: str
    statements: int
    nav: Decimal | None
    unfunded_commitment: Decimal | None
    twr: float | None
    annualised_return: float | None
    irr: float | None
    multiples: perf.Multiples | None
    pme: float | None
    volatility: float | None
    max_drawdown: float | None
    sharpe: float | None
    correlation: float | None
    alpha_beta: perf.AlphaBeta | None
    leverage: Decimal | None
    findings: tuple[Finding, ...]
    liquidity: LiquidityProfile
    notes: tuple[str, ...]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


def _attempt(notes: list[str], what: str, compute: Callable[[], T]) -> T | None:
    try:
        return compute()
    except QoimaError as error:
        notes.append(f"{what}: {error.message}")
        return None


def scorecard(mandate: Mandate, statements: Sequence[Statement], *, as_of: date,
              benchmark: Mapping[date, float] | None = None,
              risk_free: float = 0.0) -> Scorecard:
    """The scorecard over the statements ending on or before ``as_of``.

    ``benchmark``: levels of ``mandate.benchmark`` by date (PME, correlation, alpha, beta);
    ``risk_free``: per statement period.
    """
    held = sorted((s for s in statements if s.period_end <= as_of),
                  key=lambda s: s.period_start)
    notes: list[str] = []
    per_year = 12 / mandate.statement_frequency.months
    periods = _attempt(notes, "returns", lambda: perf.statement_returns(held)) or []
    returns = [p.value for p in periods]
    last = held[-1] if held else None
    twr = _attempt(notes, "TWR", lambda: perf.link(returns))
    days = (last.period_end - held[0].period_start).days + 1 if last else 0
    annual = (_attempt(notes, "annualised return", lambda: perf.annualise(twr, days))
              if twr is not None else None)
    flows = _attempt(notes, "IRR", lambda: perf.investor_flows(held))
    irr = _attempt(notes, "IRR", lambda: perf.xirr(flows)) if flows else None
    venture = mandate.kind is ManagerKind.VENTURE_FUND
    multiples = (_attempt(notes, "multiples", lambda: perf.statement_multiples(held))
                 if venture else None)
    pme = bench = None
    if benchmark is None:
        notes.append(f"no {mandate.benchmark} benchmark given: no PME, correlation, alpha, "
                     "beta")
    else:
        if flows and last:
            pme = _attempt(notes, "PME", lambda: perf.ks_pme(
                flows[:-1], float(last.closing_nav), last.period_end, benchmark))
        bench = _attempt(notes, "benchmark returns",
                         lambda: perf.benchmark_period_returns(periods, benchmark))
    return Scorecard(
        manager_code=mandate.manager_code, kind=mandate.kind, strategy=mandate.strategy,
        as_of=as_of, currency=mandate.currency, statements=len(held),
        nav=last.closing_nav if last else None,
        unfunded_commitment=_unfunded(mandate, held),
        twr=twr, annualised_return=annual, irr=irr, multiples=multiples, pme=pme,
        volatility=_attempt(notes, "volatility", lambda: perf.volatility(returns, per_year)),
        max_drawdown=_attempt(notes, "drawdown", lambda: perf.max_drawdown(returns)),
        sharpe=_attempt(notes, "Sharpe", lambda: perf.sharpe_ratio(returns, per_year,
                                                                    risk_free)),
        correlation=(_attempt(notes, "correlation", lambda: perf.correlation(returns, bench))
                     if bench is not None else None),
        alpha_beta=(_attempt(notes, "alpha/beta", lambda: perf.alpha_beta(
            returns, bench, per_year, risk_free)) if bench is not None else None),
        leverage=_leverage(last),
        findings=tuple(oversight_findings(mandate, held, as_of)),
        liquidity=liquidity_profile(mandate, as_of), notes=tuple(notes))


def _unfunded(mandate: Mandate, statements: Sequence[Statement]) -> Decimal | None:
    if mandate.commitment is None:
        return None
    called = sum((f.amount for s in statements for f in s.flows if f.kind in INFLOW_KINDS),
                 ZERO)
    return max(mandate.commitment - called, ZERO)


def _leverage(statement: Statement | None) -> Decimal | None:
    if statement is None:
        return None
    if statement.exposures and statement.closing_nav > 0:
        return MONEY_CONTEXT.divide(statement.gross_exposure, statement.closing_nav)
    return statement.reported_leverage


COMPARISON_COLUMNS = (
    "manager", "kind", "strategy", "nav", "twr", "annualised_return", "irr", "tvpi", "dpi",
    "pme", "volatility", "max_drawdown", "sharpe", "correlation", "beta", "annual_alpha",
    "leverage", "blocking", "errors", "warnings", "redemption", "next_dealing_date",
)

Cell = str | float | int | None


def comparison_rows(cards: Sequence[Scorecard]) -> list[dict[str, Cell]]:
    """One row per manager, keys :data:`COMPARISON_COLUMNS`, sorted by manager code.
    Money as plain decimal text; ratios as floats; missing figures None."""
    rows = []
    for card in sorted(cards, key=lambda c: c.manager_code):
        ab, mult = card.alpha_beta, card.multiples
        rows.append({
            "manager": card.manager_code, "kind": card.kind.value, "strategy": card.strategy,
            "nav": plain_decimal(card.nav) if card.nav is not None else None,
            "twr": card.twr, "annualised_return": card.annualised_return, "irr": card.irr,
            "tvpi": mult.tvpi if mult else None, "dpi": mult.dpi if mult else None,
            "pme": card.pme, "volatility": card.volatility, "max_drawdown": card.max_drawdown,
            "sharpe": card.sharpe, "correlation": card.correlation,
            "beta": ab.beta if ab else None, "annual_alpha": ab.annual_alpha if ab else None,
            "leverage": float(card.leverage) if card.leverage is not None else None,
            "blocking": card.count(Severity.BLOCKING), "errors": card.count(Severity.ERROR),
            "warnings": card.count(Severity.WARNING),
            "redemption": card.liquidity.redemption_frequency.value,
            "next_dealing_date": (card.liquidity.next_dealing_date.isoformat()
                                  if card.liquidity.next_dealing_date else None),
        })
    return rows
