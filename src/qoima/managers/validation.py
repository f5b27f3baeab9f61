"""Consistency checks of a manager statement, each naming the line and field at fault.

The checks return every problem at once (a user fixing a file wants the whole list);
:func:`rejection` turns them into one :class:`InvalidInput` that names file, sheet, row and
column of the first, with all of them in ``details['issues']``. The same checks feed the
oversight findings (a NAV that does not reconcile), so an import and a review agree.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from qoima.domain.canonical import plain_decimal
from qoima.domain.errors import InvalidInput, Origin
from qoima.managers.model import ZERO, Statement

ROLL_FORWARD = "statement.roll_forward"
EXPOSURES_TOTAL = "statement.exposures_total"
NEGATIVE_NAV = "statement.negative_nav"
DATE_ORDER = "statement.date_order"
FLOW_DATE = "statement.flow_date"
UNKNOWN_ASSET = "statement.unknown_asset"
BAD_AMOUNT = "statement.bad_amount"

#: Checks after which the statement does not add up (the oversight "NAV not reconciling").
RECONCILIATION_CHECKS = frozenset({ROLL_FORWARD, EXPOSURES_TOTAL})


@dataclass(frozen=True, slots=True)
class Tolerance:
    """Allowed difference: the larger of ``absolute`` and ``relative`` x the closing NAV."""

    absolute: Decimal = Decimal(1)
    relative: Decimal = ZERO

    def allows(self, difference: Decimal, scale: Decimal) -> bool:
        return abs(difference) <= max(self.absolute, self.relative * abs(scale))


#: A roll-forward must hold to one currency unit (managers round each line to units).
ROLL_FORWARD_TOLERANCE = Tolerance(Decimal(1), ZERO)
#: Exposures may differ from NAV by accruals not shown as positions: 0.1 % of NAV.
EXPOSURE_TOLERANCE = Tolerance(Decimal(1), Decimal("0.001"))


@dataclass(frozen=True, slots=True)
class StatementIssue:
    """One problem: ``check`` id, message, our ``field`` name and the source ``row``."""

    check: str
    message: str
    field: str
    row: int = 0


def statement_issues(
    statement: Statement,
    *,
    previous_period_end: date | None = None,
    known_assets: Collection[str] | None = None,
    roll_forward: Tolerance = ROLL_FORWARD_TOLERANCE,
    exposures: Tolerance = EXPOSURE_TOLERANCE,
) -> tuple[StatementIssue, ...]:
    """Every problem of ``statement``, in file order as far as rows are known.

    ``previous_period_end``: end of the manager's last accepted statement; this one must
    start after it. ``known_assets``: asset codes exposures may name (None: not checked).
    """
    issues = [*_date_issues(statement, previous_period_end), *_amount_issues(statement)]
    issues += _asset_issues(statement, known_assets)
    src = statement.source
    difference = statement.closing_nav - statement.expected_closing_nav
    if not roll_forward.allows(difference, statement.closing_nav):
        issues.append(StatementIssue(
            ROLL_FORWARD,
            f"NAV does not roll forward: opening {_t(statement.opening_nav)} + flows "
            f"{_t(statement.net_flows)} + P&L {_t(statement.pnl)} - fees "
            f"{_t(statement.total_fees)} = {_t(statement.expected_closing_nav)}, but closing "
            f"NAV is {_t(statement.closing_nav)} (difference {_t(difference)})",
            "closing_nav", src.row("closing_nav") if src else 0))
    if statement.exposures:
        gap = statement.exposure_total - statement.closing_nav
        if not exposures.allows(gap, statement.closing_nav):
            issues.append(StatementIssue(
                EXPOSURES_TOTAL,
                f"exposures add up to {_t(statement.exposure_total)}, closing NAV is "
                f"{_t(statement.closing_nav)} (difference {_t(gap)})", "amount",
                src.row("closing_nav") if src else 0))
    return tuple(sorted(issues, key=lambda issue: issue.row))


def _date_issues(statement: Statement, previous_end: date | None) -> list[StatementIssue]:
    issues, src = [], statement.source
    if statement.period_end < statement.period_start:
        issues.append(StatementIssue(DATE_ORDER, f"period ends {statement.period_end}, before "
                                     f"it starts {statement.period_start}", "period_end"))
    if previous_end is not None and statement.period_start <= previous_end:
        issues.append(StatementIssue(
            DATE_ORDER, f"period starts {statement.period_start}, not after the previous "
            f"statement's end {previous_end}", "period_start",
            src.row("period_start") if src else 0))
    for flow in statement.flows:
        if not statement.period_start <= flow.on_date <= statement.period_end:
            issues.append(StatementIssue(
                FLOW_DATE, f"{flow.kind} dated {flow.on_date} is outside the period "
                f"{statement.period_start} to {statement.period_end}", "date", flow.row))
    return issues


def _amount_issues(statement: Statement) -> list[StatementIssue]:
    issues, src = [], statement.source
    for name, value in (("opening_nav", statement.opening_nav),
                        ("closing_nav", statement.closing_nav)):
        if value < 0:
            issues.append(StatementIssue(NEGATIVE_NAV, f"{name} is negative: {_t(value)}",
                                         name, src.row(name) if src else 0))
    for flow in statement.flows:
        if flow.amount <= 0:
            issues.append(StatementIssue(BAD_AMOUNT, f"{flow.kind} amount must be positive "
                                         f"(the kind gives the direction), got "
                                         f"{_t(flow.amount)}", "amount", flow.row))
    for fee in statement.fees:
        if fee.amount < 0:
            issues.append(StatementIssue(BAD_AMOUNT, f"{fee.kind} fee must be >= 0, got "
                                         f"{_t(fee.amount)}", "amount", fee.row))
    if statement.reported_leverage is not None and statement.reported_leverage < 0:
        issues.append(StatementIssue(BAD_AMOUNT, "leverage must be >= 0", "amount",
                                     src.row("leverage") if src else 0))
    return issues


def _asset_issues(statement: Statement,
                  known_assets: Collection[str] | None) -> list[StatementIssue]:
    if known_assets is None:
        return []
    return [StatementIssue(UNKNOWN_ASSET, f"unknown asset {e.asset!r}: not in the reference "
                           "data (register it first)", "asset", e.row)
            for e in statement.exposures if e.asset not in known_assets]


def rejection(statement: Statement, issues: Sequence[StatementIssue],
              column: Callable[[str], str] | None = None) -> InvalidInput:
    """One error for ``issues`` located at the first; ``column`` maps our field names to
    the file's headers. ``details``: file, sheet, row, column and every issue."""
    if not issues:
        raise ValueError("rejection() needs at least one issue")
    source = statement.source
    file = source.file if source else f"statement of {statement.manager_code}"
    sheet = source.sheet if source else None
    first = issues[0]
    header = column(first.field) if column else first.field
    more = f" (and {len(issues) - 1} more problem(s))" if len(issues) > 1 else ""
    where = f"{file}[{sheet}]" if sheet else file
    return InvalidInput(
        first.message + more, origin=Origin(where, first.row), field=header,
        file=file, sheet=sheet, row=first.row, column=header,
        issues=[{"check": i.check, "message": i.message, "row": i.row,
                 "column": column(i.field) if column else i.field} for i in issues])


def ensure_valid(statement: Statement, *, previous_period_end: date | None = None,
                 known_assets: Collection[str] | None = None,
                 column: Callable[[str], str] | None = None) -> Statement:
    """``statement`` itself when every check passes; else raise :func:`rejection`."""
    issues = statement_issues(statement, previous_period_end=previous_period_end,
                              known_assets=known_assets)
    if issues:
        raise rejection(statement, issues, column)
    return statement


def _t(value: Decimal) -> str:
    return plain_decimal(value)
