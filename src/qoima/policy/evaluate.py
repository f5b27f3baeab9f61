"""One rule engine for both moments: pre-trade on a hypothetical snapshot, post-trade daily.

Besides the policy's limits, two engine checks apply to every vehicle: a negative holding
(an order selling more than held, or spending cash the vehicle lacks) blocks, and unvalued
positions warn that value-based limits saw only part of the book.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.policy.context import PolicyContext
from qoima.policy.model import ACTION_STRENGTH, DrawdownTrigger, InvestmentPolicy, TriggerAction
from qoima.policy.rules import check_limit, triggered_action

NEGATIVE_HOLDING_RULE = "policy.engine.negative_holding"
VALUATION_INCOMPLETE_RULE = "policy.engine.valuation_incomplete"


@dataclass(frozen=True, slots=True)
class PolicyCheck:
    """The findings of one policy version on one snapshot.

    ``blocking``: some finding is BLOCKING (an order with it cannot be approved without an
    override). ``actions``: drawdown actions now required, strongest first.
    """

    policy_hash: str
    version: int
    findings: tuple[Finding, ...]
    blocking: bool
    vehicle_code: str
    as_of: date
    actions: tuple[TriggerAction, ...] = ()

    @property
    def blocking_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.BLOCKING)

    @property
    def buying_frozen(self) -> bool:
        return bool({TriggerAction.FREEZE_BUYING, TriggerAction.DE_RISK} & set(self.actions))


def evaluate(policy: InvestmentPolicy, ctx: PolicyContext) -> PolicyCheck:
    """Run every limit of ``policy`` on ``ctx``, in the policy's order."""
    if policy.vehicle_code != ctx.vehicle_code:
        raise InvalidInput(f"policy of {policy.vehicle_code} cannot check vehicle "
                           f"{ctx.vehicle_code}", field="vehicle_code")
    findings = [*_engine_findings(ctx)]
    actions = set()
    for limit in policy.limits:
        findings.extend(check_limit(limit, ctx))
        if isinstance(limit, DrawdownTrigger):
            action = triggered_action(limit, ctx)
            if action is not None:
                actions.add(action)
    return PolicyCheck(
        policy_hash=policy.content_hash, version=policy.version, findings=tuple(findings),
        blocking=any(f.severity is Severity.BLOCKING for f in findings),
        vehicle_code=ctx.vehicle_code, as_of=ctx.as_of,
        actions=tuple(sorted(actions, key=ACTION_STRENGTH.__getitem__, reverse=True)),
    )


def _engine_findings(ctx: PolicyContext) -> list[Finding]:
    findings = [
        Finding(NEGATIVE_HOLDING_RULE, Severity.BLOCKING, p.account_code,
                f"{p.account_code} would hold {p.quantity} {p.instrument_code}: a holding "
                "cannot go below zero", ctx.as_of, measured=str(p.quantity), limit=">= 0")
        for p in ctx.positions if p.quantity < 0
    ]
    unvalued = ctx.nav.unvalued_positions
    if unvalued:
        findings.append(Finding(
            VALUATION_INCOMPLETE_RULE, Severity.WARNING, ctx.vehicle_code,
            f"{unvalued} position(s) of {ctx.vehicle_code} have no value: value-based limits "
            "were checked on the valued positions only", ctx.as_of, measured=str(unvalued),
            limit="0"))
    return findings
