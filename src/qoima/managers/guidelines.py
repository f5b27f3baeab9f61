"""Mandate guidelines checked on a statement's exposures, through the policy rule engine.

Concentration and no-go assets run the investment policy's own rules
(:func:`qoima.policy.rules.check_limit` on a :class:`~qoima.policy.model.Concentration`
with basis ``underlying`` and an :class:`~qoima.policy.model.InstrumentList` deny list),
on a look-through snapshot built from the exposures: the manager is the "vehicle", each
asset an instrument, its absolute net exposure the value. The same limit types, the same
arithmetic and the same messages as the policy, only with ``mandate.*`` rule ids.

Leverage, venues and custodians have no policy rule that fits: policy eligibility checks
an instrument's listing venue (an enum of exchanges such as NYSE) and never checks cash,
while for a manager the venue is where it trades (an exchange, a prime broker) and cash
left at an unapproved exchange is exactly the risk. Those three rules are written here in
the policy's conventions (rule id, the guidelines' severity, measured and limit as text,
``.not_evaluated`` when the input is missing).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from qoima.domain.canonical import plain_decimal
from qoima.domain.enums import InstrumentKind, Severity
from qoima.domain.findings import Finding
from qoima.domain.money import MONEY_CONTEXT, format_amount, quantize
from qoima.domain.reference import Instrument
from qoima.managers.model import ZERO, Guidelines, Mandate, Statement
from qoima.policy.model import Concentration, ConcentrationBasis, InstrumentList, Limit
from qoima.policy.rules import PolicyContext, check_limit
from qoima.portfolio.snapshot import PortfolioSnapshot, PositionValue, VehicleNav

LEVERAGE_RULE = "mandate.leverage"
SINGLE_ASSET_RULE = "mandate.single_asset"
NO_GO_RULE = "mandate.no_go_asset"
VENUE_RULE = "mandate.venue"
CUSTODIAN_RULE = "mandate.custodian"
NOT_EVALUATED = "not_evaluated"

#: Fiat cash never counts towards single-asset concentration (stablecoins do).
FIAT_CODES = frozenset({"USD", "EUR", "GBP", "CHF", "JPY", "KZT", "SGD", "HKD", "AED"})

_POLICY_IDS = {"single-asset": SINGLE_ASSET_RULE, "no-go": NO_GO_RULE}


def policy_limits(guidelines: Guidelines) -> tuple[Limit, ...]:
    """The guidelines that are policy limits, as policy limit objects."""
    limits: list[Limit] = []
    if guidelines.max_single_asset_share is not None:
        limits.append(Concentration(
            id="single-asset", basis=ConcentrationBasis.UNDERLYING,
            max_share=guidelines.max_single_asset_share,
            overrides=guidelines.asset_share_overrides,
            severity=guidelines.severity))
    if guidelines.no_go_assets:
        limits.append(InstrumentList(id="no-go", deny=guidelines.no_go_assets,
                                     severity=guidelines.severity))
    return tuple(limits)


def _is_cash(asset: str, statement: Statement) -> bool:
    return asset in FIAT_CODES or asset == statement.currency


def look_through_context(statement: Statement) -> PolicyContext:
    """The statement as a one-vehicle snapshot: one position per asset worth the absolute
    net exposure, the closing NAV as the vehicle's NAV."""
    manager = statement.manager_code
    net: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for exposure in statement.exposures:
        net[exposure.asset] += exposure.exposure
    positions, instruments = [], {}
    for asset in sorted(net):
        kind = InstrumentKind.CASH if _is_cash(asset, statement) else InstrumentKind.TOKEN
        instruments[asset] = Instrument(code=asset, name=asset, kind=kind, scale=18,
                                        currency=asset if kind is InstrumentKind.CASH
                                        else statement.currency)
        value = abs(net[asset])
        positions.append(PositionValue(
            account_code=f"holding:{manager}:{asset}", vehicle_code=manager,
            tranche_code=None, custodian_code=None, instrument_code=asset,
            instrument_kind=kind, quantity=value, price=Decimal(1),
            price_date=statement.period_end, price_currency=statement.currency,
            value_usd=value, value_kzt=None, cost_usd=None, unrealized_usd=None,
            realized_usd=None))
    nav = VehicleNav(manager, manager, "manager", statement.closing_nav, None,
                     len(positions), 0)
    snapshot = PortfolioSnapshot(statement.period_end, tuple(positions), (), (nav,),
                                 statement.closing_nav, None, None, (), False, "")
    return PolicyContext(statement.period_end, manager, snapshot, instruments,
                         total_reserves_usd=ZERO)


def _relabel(finding: Finding, manager: str) -> Finding:
    policy_id = finding.rule.removeprefix("policy.")
    base, _, suffix = policy_id.partition(".")
    rule = _POLICY_IDS[base] + (f".{suffix}" if suffix else "")
    subject = finding.subject.replace("underlying:", "asset:")
    return replace(finding, rule=rule, subject=f"{manager}/{subject}")


def _share(value: Decimal) -> str:
    return plain_decimal(quantize(value, 6))


def leverage(statement: Statement, limit: Decimal | None,
             severity: Severity) -> list[Finding]:
    """Gross exposure over closing NAV (or the manager's own figure when no exposures)."""
    if limit is None:
        return []
    manager, as_of = statement.manager_code, statement.period_end
    if statement.exposures and statement.closing_nav > 0:
        measured = MONEY_CONTEXT.divide(statement.gross_exposure, statement.closing_nav)
        source = "gross exposure / NAV"
    elif statement.reported_leverage is not None:
        measured, source = statement.reported_leverage, "reported by the manager"
    else:
        return [Finding(f"{LEVERAGE_RULE}.{NOT_EVALUATED}", Severity.WARNING, manager,
                        f"leverage of {manager} not evaluated: no exposures and no reported "
                        "leverage", as_of)]
    figures = [(measured, source)]
    if source != "reported by the manager" and statement.reported_leverage is not None:
        figures.append((statement.reported_leverage, "reported by the manager"))
    breach = next(((f, label) for f, label in figures if f > limit), None)
    if breach is None:
        return []
    figure, label = breach
    return [Finding(LEVERAGE_RULE, severity, manager,
                    f"{manager} runs leverage {quantize(figure, 2)}x ({label}), above the "
                    f"mandate's {plain_decimal(limit)}x", as_of, measured=_share(figure),
                    limit=f"<= {plain_decimal(limit)}")]


def _allow_list(statement: Statement, allowed: tuple[str, ...], what: str, rule: str,
                severity: Severity) -> list[Finding]:
    if not allowed:
        return []
    outside: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for exposure in statement.exposures:
        name = getattr(exposure, what)
        if name not in allowed:
            outside[name] += exposure.gross
    manager = statement.manager_code
    return [Finding(rule, severity, f"{manager}/{what}:{name}",
                    f"{manager} holds {format_amount(value)} "
                    f"{statement.currency} at {what} {name}, which the mandate does not allow",
                    statement.period_end, measured=name, limit="allow " + ", ".join(allowed))
            for name, value in sorted(outside.items())]


def guideline_findings(mandate: Mandate, statement: Statement) -> list[Finding]:
    """Every guideline breach of ``statement`` (leverage first, then the policy rules)."""
    rules = mandate.guidelines
    findings = leverage(statement, rules.max_leverage, rules.severity)
    limits = policy_limits(rules)
    if limits and statement.exposures:
        ctx = look_through_context(statement)
        for limit in limits:
            findings.extend(_relabel(f, statement.manager_code)
                            for f in check_limit(limit, ctx))
    findings += _allow_list(statement, rules.allowed_venues, "venue", VENUE_RULE,
                            rules.severity)
    findings += _allow_list(statement, rules.allowed_custodians, "custodian", CUSTODIAN_RULE,
                            rules.severity)
    return findings
