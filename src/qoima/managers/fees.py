"""Fee verification: recompute what the manager should have charged from the terms.

Money stays ``Decimal`` and expected fees are rounded to cents, so a difference is a real
difference and not float noise. Conventions (written into each function):

* management fee: ``rate x basis x days / 365``, days of the statement period both ends
  included; the NAV basis is the opening NAV plus flows weighted by the days they were in
  the fund (the Modified Dietz capital);
* performance fee: per unit of a single series whose value starts at 1 at the first
  statement and moves with the period returns gross of performance fee; at the end of each
  crystallisation period the fee is ``rate x`` the gain over the reference (the high-water
  mark, or the period's start value without one), less the hurdle (hard) or all of it once
  the hurdle is beaten (soft); the hurdle is simple interest, ``rate x days / 365``;
* carry: a European waterfall on a hypothetical liquidation at the last statement's end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from qoima.domain.errors import InvalidInput
from qoima.domain.money import MONEY_CONTEXT, quantize
from qoima.managers.model import (
    INFLOW_KINDS,
    ONE,
    ZERO,
    FeeKind,
    FeeTerms,
    FlowKind,
    HurdleKind,
    ManagementFeeBasis,
    Mandate,
    Statement,
)

DAYS_PER_YEAR = Decimal(365)
CENTS = 2


def _div(a: Decimal, b: Decimal) -> Decimal:
    return MONEY_CONTEXT.divide(a, b)


def _weight(statement: Statement, on: date) -> Decimal:
    days = statement.days
    return _div(Decimal(days - (on - statement.period_start).days), Decimal(days))


def management_fee(rate: Decimal, basis: Decimal, days: int) -> Decimal:
    """``rate x basis x days / 365`` in cents."""
    return quantize(_div(rate * basis * days, DAYS_PER_YEAR), CENTS)


def management_basis(mandate: Mandate, statement: Statement,
                     paid_in_before: Decimal = ZERO) -> Decimal:
    """What the rate applies to in ``statement``'s period (see the module docstring).

    ``paid_in_before``: capital called before the period (invested-capital basis).
    """
    basis = mandate.fees.management_basis
    if basis is ManagementFeeBasis.COMMITMENT:
        if mandate.commitment is None:
            raise InvalidInput(f"mandate {mandate.manager_code} charges on commitment but "
                               "has none", field="commitment")
        return mandate.commitment
    if basis is ManagementFeeBasis.INVESTED_CAPITAL:
        calls = [f for f in statement.flows if f.kind in INFLOW_KINDS]
        return paid_in_before + sum((f.amount * _weight(statement, f.on_date) for f in calls),
                                    ZERO)
    return statement.opening_nav + sum(
        (f.into_fund * _weight(statement, f.on_date) for f in statement.flows), ZERO)


@dataclass(frozen=True, slots=True)
class PerformanceFee:
    """One crystallisation per unit: the reference (HWM or start), the hurdle threshold,
    whether it was beaten, and the fee per unit."""

    reference: Decimal
    threshold: Decimal
    hurdle_met: bool
    per_unit: Decimal


def performance_fee_per_unit(terms: FeeTerms, *, start_value: Decimal, gross_value: Decimal,
                             high_water_mark: Decimal, days: int) -> PerformanceFee:
    """The fee per unit worth ``gross_value`` at crystallisation (before the fee)."""
    reference = max(high_water_mark, start_value) if terms.high_water_mark else start_value
    threshold = reference * (ONE + _div(terms.hurdle_rate * days, DAYS_PER_YEAR))
    met = gross_value > threshold
    if terms.hurdle is HurdleKind.HARD:
        base = gross_value - threshold
    elif terms.hurdle is HurdleKind.SOFT:
        base = gross_value - reference if met else ZERO
    else:
        base = gross_value - reference
    return PerformanceFee(reference, threshold, met, terms.performance_rate * max(base, ZERO))


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for candidate in range(day.day, 27, -1):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    return date(year, month + 1, min(day.day, 28))


def crystallisation_periods(inception: date, months: int,
                            until: date) -> list[tuple[date, date]]:
    """(start, end) of each crystallisation period from ``inception`` through ``until``."""
    if months <= 0:
        return []
    periods, k = [], 0
    while (start := add_months(inception, k * months)) <= until:
        periods.append((start, add_months(inception, (k + 1) * months) - timedelta(days=1)))
        k += 1
    return periods


@dataclass(frozen=True, slots=True)
class FeeCheck:
    """Expected against charged for one fee over one period; ``row`` of the charge line."""

    kind: FeeKind
    period_start: date
    period_end: date
    expected: Decimal
    charged: Decimal
    row: int = 0
    detail: str = ""

    @property
    def difference(self) -> Decimal:
        return self.charged - self.expected


def _fee_row(statement: Statement, kind: FeeKind) -> int:
    return next((f.row for f in statement.fees if f.kind is kind), 0)


def management_checks(mandate: Mandate, statements: Sequence[Statement]) -> list[FeeCheck]:
    """One check per statement whose terms or charges involve a management fee."""
    checks, paid_in = [], ZERO
    for statement in sorted(statements, key=lambda s: s.period_start):
        charged = statement.fees_of(FeeKind.MANAGEMENT)
        if mandate.fees.management_rate > 0 or charged > 0:
            basis = management_basis(mandate, statement, paid_in)
            expected = management_fee(mandate.fees.management_rate, basis, statement.days)
            checks.append(FeeCheck(
                FeeKind.MANAGEMENT, statement.period_start, statement.period_end, expected,
                charged, _fee_row(statement, FeeKind.MANAGEMENT),
                f"{mandate.fees.management_rate} x {quantize(basis, CENTS)} "
                f"({mandate.fees.management_basis}) x {statement.days}/365"))
        paid_in += sum((f.amount for f in statement.flows if f.kind in INFLOW_KINDS), ZERO)
    return checks


def performance_checks(mandate: Mandate, statements: Sequence[Statement],
                       initial_high_water_mark: Decimal = ONE) -> list[FeeCheck]:
    """One check per completed crystallisation period (statements ending on its end).

    Unit value 1 at the first statement's opening; ``initial_high_water_mark`` on that
    scale (1: the investment starts at its high-water mark).
    """
    terms, ordered = mandate.fees, sorted(statements, key=lambda s: s.period_start)
    charged_any = any(s.fees_of(FeeKind.PERFORMANCE) > 0 for s in ordered)
    if not ordered or (terms.performance_rate == 0 and not charged_any):
        return []
    if terms.performance_rate == 0:  # no such fee in the terms: every charge is a mismatch
        return [FeeCheck(FeeKind.PERFORMANCE, s.period_start, s.period_end, ZERO,
                         s.fees_of(FeeKind.PERFORMANCE), _fee_row(s, FeeKind.PERFORMANCE),
                         "the terms have no performance fee")
                for s in ordered if s.fees_of(FeeKind.PERFORMANCE) > 0]
    checks = []
    unit = start_value = ONE
    hwm = initial_high_water_mark
    periods = crystallisation_periods(mandate.inception, terms.crystallisation.months,
                                      ordered[-1].period_end)
    for start, end in periods:
        group = [s for s in ordered if start <= s.period_end <= end]
        if not group:
            continue
        accrued = ZERO
        gross_before = group[0].opening_nav
        for statement in group:
            accrued += statement.fees_of(FeeKind.PERFORMANCE)
            gross = statement.closing_nav + accrued
            weighted = sum((f.into_fund * _weight(statement, f.on_date)
                            for f in statement.flows), ZERO)
            capital = gross_before + weighted
            if capital <= 0:
                raise InvalidInput(f"no capital in {statement.period_start}.."
                                   f"{statement.period_end} to measure a performance fee")
            unit *= ONE + _div(gross - gross_before - statement.net_flows, capital)
            gross_before = gross
        last = group[-1]
        if last.period_end != end:
            break  # the period is still running: nothing crystallised yet
        days = (end - group[0].period_start).days + 1
        fee = performance_fee_per_unit(terms, start_value=start_value, gross_value=unit,
                                       high_water_mark=hwm, days=days)
        units = _div(gross_before, unit)
        expected = quantize(fee.per_unit * units, CENTS)
        checks.append(FeeCheck(
            FeeKind.PERFORMANCE, group[0].period_start, end, expected, accrued,
            _fee_row(last, FeeKind.PERFORMANCE),
            f"unit value {quantize(unit, 6)} against reference {quantize(fee.reference, 6)}"
            f" and hurdle {quantize(fee.threshold, 6)}"))
        unit = _div(unit * last.closing_nav, gross_before) if gross_before > 0 else unit
        hwm = max(hwm, unit)
        start_value = unit
    return checks


@dataclass(frozen=True, slots=True)
class WaterfallSplit:
    """Who gets what of the proceeds, tier by tier (European waterfall)."""

    return_of_capital: Decimal
    preferred_return: Decimal
    gp_catch_up: Decimal
    lp_catch_up: Decimal
    lp_split: Decimal
    gp_split: Decimal

    @property
    def gp_total(self) -> Decimal:
        """The carried interest."""
        return self.gp_catch_up + self.gp_split

    @property
    def lp_total(self) -> Decimal:
        return self.return_of_capital + self.preferred_return + self.lp_catch_up + self.lp_split


def european_waterfall(terms: FeeTerms, *, paid_in: Decimal, proceeds: Decimal,
                       preferred: Decimal) -> WaterfallSplit:
    """Split ``proceeds`` (distributions + value) between LPs and the GP.

    Tiers: 1. capital back to LPs; 2. ``preferred`` (the preferred return amount) to LPs;
    3. catch-up: ``catch_up`` of each dollar to the GP until it holds ``carry_rate`` of
    all profit so far, i.e. a tier of ``carry x pref / (catch_up - carry)``; 4. the rest
    split ``carry_rate`` to the GP.
    """
    left = max(proceeds, ZERO)
    capital = min(left, paid_in)
    left -= capital
    pref = min(left, preferred)
    left -= pref
    gp_catch = lp_catch = ZERO
    carry, share = terms.carry_rate, terms.catch_up
    if share > 0 and carry > 0 and left > 0:
        tier = min(left, _div(carry * preferred, share - carry))
        gp_catch = MONEY_CONTEXT.multiply(tier, share)
        lp_catch = MONEY_CONTEXT.subtract(tier, gp_catch)
        left = MONEY_CONTEXT.subtract(left, tier)
    gp_split = MONEY_CONTEXT.multiply(left, carry)
    return WaterfallSplit(capital, pref, gp_catch, lp_catch,
                          MONEY_CONTEXT.subtract(left, gp_split), gp_split)


def preferred_amount(rate: Decimal, contributions: Sequence[tuple[date, Decimal]],
                     as_of: date) -> Decimal:
    """Preferred return owed on each contribution, compounded annually (act/365) to
    ``as_of``: ``sum C x ((1 + rate)^(days/365) - 1)``."""
    total = ZERO
    for on, amount in contributions:
        years = _div(Decimal(max((as_of - on).days, 0)), DAYS_PER_YEAR)
        total += amount * (MONEY_CONTEXT.power(ONE + rate, years) - ONE)
    return total


def carry_check(mandate: Mandate, statements: Sequence[Statement]) -> FeeCheck | None:
    """Cumulative carry charged against the waterfall's GP share at the last statement.

    Proceeds are distributions plus the closing NAV plus the carry already accrued (the
    NAV is reported net of it); the first opening NAV counts as paid in on the first day.
    """
    terms, ordered = mandate.fees, sorted(statements, key=lambda s: s.period_start)
    charged = sum((s.fees_of(FeeKind.CARRY) for s in ordered), ZERO)
    if not ordered or (terms.carry_rate == 0 and charged == 0):
        return None
    first, last = ordered[0], ordered[-1]
    contributions = [(first.period_start, first.opening_nav)] if first.opening_nav > 0 else []
    contributions += [(f.on_date, f.amount) for s in ordered for f in s.flows
                      if f.kind in INFLOW_KINDS]
    distributed = sum((f.amount for s in ordered for f in s.flows
                       if f.kind in (FlowKind.DISTRIBUTION, FlowKind.REDEMPTION)), ZERO)
    paid_in = sum((amount for _, amount in contributions), ZERO)
    preferred = preferred_amount(terms.preferred_return, contributions, last.period_end)
    split = european_waterfall(terms, paid_in=paid_in,
                               proceeds=distributed + last.closing_nav + charged,
                               preferred=preferred)
    return FeeCheck(FeeKind.CARRY, first.period_start, last.period_end,
                    quantize(split.gp_total, CENTS), charged, _fee_row(last, FeeKind.CARRY),
                    f"paid in {quantize(paid_in, CENTS)}, preferred "
                    f"{quantize(preferred, CENTS)}, catch-up {quantize(split.gp_catch_up, CENTS)}")


def fee_checks(mandate: Mandate, statements: Sequence[Statement]) -> list[FeeCheck]:
    """Every fee check of a mandate over its statements."""
    checks = management_checks(mandate, statements) + performance_checks(mandate, statements)
    carry = carry_check(mandate, statements)
    return checks + ([carry] if carry is not None else [])
