"""One plain function per limit kind: ``(limit, ctx) -> list[Finding]``.

Findings carry rule id ``policy.<limit id>``, the limit's severity, a subject (the vehicle,
an instrument, ``issuer:BlackRock``, a scenario, a transfer), the measured value and the
limit as exact text. A rule whose inputs are missing returns a WARNING with rule id
``policy.<limit id>.not_evaluated``: a check that could not run is never a pass.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from qoima.domain.canonical import plain_decimal
from qoima.domain.enums import InstrumentKind
from qoima.domain.findings import Finding
from qoima.domain.money import ZERO
from qoima.policy.concentration import concentration
from qoima.policy.context import PolicyContext, RiskFigures, Transfer
from qoima.policy.model import (
    Custody,
    DrawdownTrigger,
    Eligibility,
    InstrumentList,
    Limit,
    LimitKind,
    Liquidity,
    RiskCvar,
    ShareOfReserves,
    SizeRange,
    StressLoss,
    TriggerAction,
)
from qoima.policy.rule_text import NOT_EVALUATED, not_evaluated_rule, rule_id
from qoima.policy.rule_text import cents as _cents
from qoima.policy.rule_text import exact_text as _n
from qoima.policy.rule_text import found as _found
from qoima.policy.rule_text import not_evaluated as _not_evaluated
from qoima.policy.rule_text import pct as _pct
from qoima.policy.rule_text import ratio as _ratio
from qoima.policy.rule_text import share_text as _share_text
from qoima.policy.rule_text import usd as _usd
from qoima.portfolio.snapshot import PositionValue

__all__ = ["NOT_EVALUATED", "RULES", "PolicyContext", "RiskFigures", "Transfer", "check_limit",
           "not_evaluated_rule", "rule_id", "triggered_action"]


def _exact(value: float) -> Decimal:
    return Decimal(repr(value))


def size_range(limit: SizeRange, ctx: PolicyContext) -> list[Finding]:
    nav = ctx.nav.nav_usd
    if limit.max_usd is not None and nav > limit.max_usd:
        return [_found(limit, ctx, ctx.vehicle_code,
                       f"{ctx.vehicle_code} is worth {_usd(nav)}, above the maximum "
                       f"{_usd(limit.max_usd)}", _cents(nav), f"<= {_n(limit.max_usd)}")]
    if limit.min_usd is not None and nav < limit.min_usd:
        return [_found(limit, ctx, ctx.vehicle_code,
                       f"{ctx.vehicle_code} is worth {_usd(nav)}, below the minimum "
                       f"{_usd(limit.min_usd)}", _cents(nav), f">= {_n(limit.min_usd)}",
                       limit.below_min_severity)]
    return []


def share_of_reserves(limit: ShareOfReserves, ctx: PolicyContext) -> list[Finding]:
    if ctx.total_reserves_usd <= 0:
        return [_not_evaluated(limit, ctx, "total reserves are not known")]
    share = _ratio(ctx.nav.nav_usd, ctx.total_reserves_usd)
    if share > limit.max_share:
        return [_found(limit, ctx, ctx.vehicle_code,
                       f"{ctx.vehicle_code} is {_pct(share)} of total reserves "
                       f"({_usd(ctx.total_reserves_usd)}), above {_pct(limit.max_share)}",
                       _share_text(share), f"<= {_n(limit.max_share)}")]
    return []


def _held(ctx: PolicyContext) -> dict[str, list[PositionValue]]:
    """Non-cash holdings by instrument code, in snapshot order."""
    held: dict[str, list[PositionValue]] = defaultdict(list)
    for position in ctx.positions:
        if position.instrument_kind is not InstrumentKind.CASH:
            held[position.instrument_code].append(position)
    return held


def eligibility(limit: Eligibility, ctx: PolicyContext) -> list[Finding]:
    findings = []
    for code, positions in _held(ctx).items():
        kind = positions[0].instrument_kind
        instrument = ctx.instruments.get(code)
        venue = None if instrument is None else instrument.venue
        custodians = sorted({p.custodian_code or "none" for p in positions})
        reasons = []
        if kind not in limit.kinds:
            reasons.append(f"kind {kind} is not allowed")
        if limit.venues and instrument is None:
            reasons.append("no reference data to check its venue")
        elif limit.venues and venue not in limit.venues:
            reasons.append(f"venue {venue or 'none'} is not allowed")
        outside = [c for c in custodians if limit.custodians and c not in limit.custodians]
        if outside:
            reasons.append(f"custodian {', '.join(outside)} is not allowed")
        if reasons:
            allowed = [f"kinds {', '.join(limit.kinds)}"]
            allowed += [f"venues {', '.join(limit.venues)}"] if limit.venues else []
            allowed += [f"custodians {', '.join(limit.custodians)}"] if limit.custodians else []
            findings.append(_found(
                limit, ctx, code, f"{code} is not eligible for {ctx.vehicle_code}: "
                + "; ".join(reasons), f"kind {kind}, venue {venue or 'none'}, custodian "
                + ", ".join(custodians), "; ".join(allowed)))
    return findings


def instrument_list(limit: InstrumentList, ctx: PolicyContext) -> list[Finding]:
    findings = []
    investments = _held(ctx)  # cash is always allowed, but may be denied by name
    for code in sorted({p.instrument_code for p in ctx.positions}):
        if code in limit.deny:
            findings.append(_found(limit, ctx, code, f"{code} is on the deny list of "
                                   f"{ctx.vehicle_code}", code, "deny " + ", ".join(limit.deny)))
        elif limit.allow and code not in limit.allow and code in investments:
            findings.append(_found(limit, ctx, code, f"{code} is not on the allow list of "
                                   f"{ctx.vehicle_code}", code,
                                   "allow " + ", ".join(limit.allow)))
    return findings


def liquidity(limit: Liquidity, ctx: PolicyContext) -> list[Finding]:
    nav = ctx.nav.nav_usd
    if nav <= 0:
        return []
    share = _given_liquid_share(limit, ctx)
    if share is None:
        liquid, missing = ZERO, []
        for position in ctx.positions:
            if position.value_usd is None:
                continue
            if position.instrument_kind is InstrumentKind.CASH:
                liquid += position.value_usd
            elif position.instrument_code in ctx.adv:
                sellable = (limit.adv_participation * ctx.adv[position.instrument_code]
                            * limit.within_days)
                liquid += min(position.value_usd, sellable)
            else:
                missing.append(position.instrument_code)
        if missing:
            return [_not_evaluated(limit, ctx, "no liquidity figures and no average daily "
                                   "volume for " + ", ".join(sorted(set(missing))))]
        share = _ratio(liquid, nav)
    if share < limit.min_share:
        return [_found(limit, ctx, ctx.vehicle_code,
                       f"only {_pct(share)} of {ctx.vehicle_code} turns into cash within "
                       f"{limit.within_days} days, below {_pct(limit.min_share)}",
                       _share_text(share), f">= {_n(limit.min_share)}")]
    return []


def _given_liquid_share(limit: Liquidity, ctx: PolicyContext) -> Decimal | None:
    """The app's figure for the horizon, or for the nearest shorter one (a lower bound)."""
    if not ctx.liquidity:
        return None
    horizons = [days for days in ctx.liquidity if days <= limit.within_days]
    return ctx.liquidity[max(horizons)] if horizons else None


def _cap_problems(loss: Decimal, limit: RiskCvar | StressLoss,
                  ctx: PolicyContext) -> tuple[list[str], str | None]:
    """Breaches of the USD and share caps, or why the share could not be checked."""
    problems = []
    if limit.max_usd is not None and loss > limit.max_usd:
        problems.append(f"above {_usd(limit.max_usd)}")
    if limit.max_share is not None:
        if ctx.total_reserves_usd <= 0:
            return problems, "total reserves are not known"
        share = _ratio(loss, ctx.total_reserves_usd)
        if share > limit.max_share:
            problems.append(f"{_pct(share)} of total reserves, above {_pct(limit.max_share)}")
    return problems, None


def _cap_text(limit: RiskCvar | StressLoss) -> str:
    parts = []
    if limit.max_usd is not None:
        parts.append(f"<= {_n(limit.max_usd)} USD")
    if limit.max_share is not None:
        parts.append(f"<= {_n(limit.max_share)} of reserves")
    return " and ".join(parts)


def risk_cvar(limit: RiskCvar, ctx: PolicyContext) -> list[Finding]:
    if ctx.risk is None or not math.isfinite(ctx.risk.cvar_99_1d_usd):
        return [_not_evaluated(limit, ctx, "no 1-day 99 % CVaR for the vehicle")]
    cvar = _exact(ctx.risk.cvar_99_1d_usd)
    problems, missing = _cap_problems(cvar, limit, ctx)
    findings = [_not_evaluated(limit, ctx, missing)] if missing else []
    if problems:
        findings.append(_found(limit, ctx, ctx.vehicle_code,
                               f"1-day 99 % CVaR of {ctx.vehicle_code} is {_usd(cvar)}: "
                               + "; ".join(problems), _cents(cvar), _cap_text(limit)))
    return findings


def stress_loss(limit: StressLoss, ctx: PolicyContext) -> list[Finding]:
    if ctx.risk is None:
        return [_not_evaluated(limit, ctx, "no stress results for the vehicle")]
    losses = ctx.risk.stress_losses_usd
    names = limit.scenarios or tuple(sorted(losses))
    if not names:
        return [_not_evaluated(limit, ctx, "no stress scenario was run")]
    findings = []
    for name in names:
        raw = losses.get(name)
        if raw is None or not math.isfinite(raw):
            findings.append(_not_evaluated(limit, ctx, f"scenario {name} was not run", name))
            continue
        loss = _exact(raw)
        problems, missing = _cap_problems(loss, limit, ctx)
        if missing:
            findings.append(_not_evaluated(limit, ctx, missing, name))
        if problems:
            findings.append(_found(limit, ctx, name, f"scenario {name} loses {_usd(loss)} "
                                   f"for {ctx.vehicle_code}: " + "; ".join(problems),
                                   _cents(loss), _cap_text(limit)))
    return findings


def triggered_action(limit: DrawdownTrigger, ctx: PolicyContext) -> TriggerAction | None:
    if ctx.drawdown is None or _exact(ctx.drawdown) < limit.drawdown:
        return None
    return limit.action


def drawdown_trigger(limit: DrawdownTrigger, ctx: PolicyContext) -> list[Finding]:
    if ctx.drawdown is None:
        return [_not_evaluated(limit, ctx, "no drawdown figure for the vehicle")]
    action = triggered_action(limit, ctx)
    if action is None:
        return []
    drawdown = _exact(ctx.drawdown)
    return [_found(limit, ctx, ctx.vehicle_code,
                   f"{ctx.vehicle_code} is {_pct(drawdown)} below its peak, past the "
                   f"{_pct(limit.drawdown)} trigger: {action.value.replace('_', ' ')} "
                   "required", _share_text(drawdown), f">= {_n(limit.drawdown)}: {action}")]


def custody(limit: Custody, ctx: PolicyContext) -> list[Finding]:
    transfers = [t for t in ctx.transfers
                 if t.vehicle_code == ctx.vehicle_code and t.on_date <= ctx.as_of]
    findings = []
    for transfer in transfers:
        findings.extend(_transfer_findings(limit, transfer, ctx))
    if limit.velocity_window_days is not None and limit.velocity_max_usd is not None:
        window = limit.velocity_window_days
        recent = [t for t in transfers if (ctx.as_of - t.on_date).days < window]
        subject = f"velocity:{window}d"
        unpriced = sorted(t.transfer_id for t in recent if t.value_usd is None)
        if unpriced:
            findings.append(_not_evaluated(limit, ctx, "no USD value for transfers "
                                           + ", ".join(unpriced), subject))
        else:
            moved = sum((t.value_usd or ZERO for t in recent), ZERO)
            if moved > limit.velocity_max_usd:
                findings.append(_found(limit, ctx, subject,
                                       f"{_usd(moved)} moved out of {ctx.vehicle_code} within "
                                       f"{window} days, above {_usd(limit.velocity_max_usd)}",
                                       _cents(moved), f"<= {_n(limit.velocity_max_usd)} USD"))
    return findings


def _transfer_findings(limit: Custody, transfer: Transfer,
                       ctx: PolicyContext) -> list[Finding]:
    problems, limits, findings = [], [], []
    if not limit.allows(transfer.chain, transfer.destination):
        problems.append(f"destination {transfer.destination} on {transfer.chain} is not "
                        "whitelisted")
        limits.append("whitelisted destination")
    if limit.max_transfer_usd is not None:
        if transfer.value_usd is None:
            findings.append(_not_evaluated(limit, ctx, "no USD value to check the "
                                           "per-transfer cap", transfer.transfer_id))
        elif transfer.value_usd > limit.max_transfer_usd:
            problems.append(f"{_usd(transfer.value_usd)} is above the per-transfer cap "
                            f"{_usd(limit.max_transfer_usd)}")
            limits.append(f"<= {_n(limit.max_transfer_usd)} USD")
    units = limit.max_units(transfer.instrument_code)
    if units is not None and transfer.quantity > units:
        problems.append(f"{transfer.quantity} {transfer.instrument_code} is above the "
                        f"per-transfer cap {_n(units)}")
        limits.append(f"<= {_n(units)} {transfer.instrument_code}")
    approvers = len(set(transfer.approvers))
    if not transfer.proposed and approvers < limit.approval_quorum:
        problems.append(f"executed with {approvers} approver(s), quorum is "
                        f"{limit.approval_quorum}")
        limits.append(f"quorum {limit.approval_quorum}")
    if problems:
        findings.append(_found(limit, ctx, transfer.transfer_id,
                               f"transfer {transfer.transfer_id}: " + "; ".join(problems),
                               plain_decimal(transfer.quantity), "; ".join(limits)))
    return findings


#: The dispatch table: every limit kind has exactly one rule.
RULES: dict[LimitKind, Callable[[Any, PolicyContext], list[Finding]]] = {
    LimitKind.SIZE_RANGE: size_range,
    LimitKind.SHARE_OF_RESERVES: share_of_reserves,
    LimitKind.ELIGIBILITY: eligibility,
    LimitKind.INSTRUMENT_LIST: instrument_list,
    LimitKind.CONCENTRATION: concentration,
    LimitKind.LIQUIDITY: liquidity,
    LimitKind.RISK_CVAR: risk_cvar,
    LimitKind.STRESS_LOSS: stress_loss,
    LimitKind.DRAWDOWN_TRIGGER: drawdown_trigger,
    LimitKind.CUSTODY: custody,
}


def check_limit(limit: Limit, ctx: PolicyContext) -> list[Finding]:
    return RULES[limit.kind](limit, ctx)
