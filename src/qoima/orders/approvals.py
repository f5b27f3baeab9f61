"""Four eyes and quorum by size: which approvals count, and whether they are enough.

Counting is a pure function of the order, so the same answer comes out at approval time,
on replay from the store and in an audit. What counts: approvals of the current terms
(``terms_hash``), by someone other than the maker, each person once, in an approving role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from qoima.domain.errors import InvalidInput
from qoima.domain.money import ZERO
from qoima.domain.roles import PERMISSIONS, Permission, Role
from qoima.orders.model import Order

#: Roles whose approval can count at all (those holding ORDER_APPROVE).
APPROVING_ROLES = frozenset(
    role for role, granted in PERMISSIONS.items() if Permission.ORDER_APPROVE in granted)

#: Above this notional an order needs a risk officer and a committee member.
LARGE_ORDER_USD = Decimal("25000000")


@dataclass(frozen=True, slots=True)
class QuorumStep:
    """The quorum for orders whose notional is strictly above ``min_notional_usd``.

    Each entry of ``required_roles`` must be covered by a different person; in all at
    least ``min_approvers`` distinct people must approve.
    """

    min_notional_usd: Decimal
    required_roles: tuple[Role, ...]
    min_approvers: int

    def __post_init__(self) -> None:
        if not self.min_notional_usd.is_finite() or self.min_notional_usd < 0:
            raise InvalidInput(f"min_notional_usd must be >= 0, got {self.min_notional_usd}",
                               field="min_notional_usd")
        if self.min_approvers < 1:
            raise InvalidInput("a quorum needs at least one approver", field="min_approvers")
        unable = sorted(set(self.required_roles) - APPROVING_ROLES)
        if unable:
            raise InvalidInput(f"roles {', '.join(unable)} cannot approve orders",
                               field="required_roles")


@dataclass(frozen=True, slots=True)
class ApprovalRules:
    """Quorum steps by size, and who may override a blocking pre-trade finding.

    ``require_pretrade_check``: no order is approved before a policy check was recorded.
    """

    steps: tuple[QuorumStep, ...]
    override_roles: tuple[Role, ...] = (Role.COMMITTEE_MEMBER,)
    override_quorum: int = 2
    require_pretrade_check: bool = True

    def __post_init__(self) -> None:
        floors = [s.min_notional_usd for s in self.steps]
        if ZERO not in floors:
            raise InvalidInput("approval rules need a step from 0 USD", field="steps")
        if len(set(floors)) != len(floors):
            raise InvalidInput("two quorum steps start at the same notional", field="steps")
        if self.override_quorum < 1:
            raise InvalidInput("an override needs at least one approver",
                               field="override_quorum")
        if not self.override_roles or not set(self.override_roles) <= APPROVING_ROLES:
            raise InvalidInput("override roles must be non-empty roles that approve orders",
                               field="override_roles")

    def step_for(self, notional_usd: Decimal) -> QuorumStep:
        """The step with the highest floor below ``notional_usd`` (the 0 step at worst)."""
        below = [s for s in self.steps if s.min_notional_usd < notional_usd]
        return max(below or [self.steps[0]], key=lambda s: s.min_notional_usd)


#: Up to USD 25M one risk officer or committee member; above, one of each (two people).
DEFAULT_APPROVAL_RULES = ApprovalRules(steps=(
    QuorumStep(ZERO, (), 1),
    QuorumStep(LARGE_ORDER_USD, (Role.RISK_OFFICER, Role.COMMITTEE_MEMBER), 2),
))


@dataclass(frozen=True, slots=True)
class ApprovalState:
    """Whether the counted approvals satisfy the rules; ``missing`` says what is lacking."""

    satisfied: bool
    missing: tuple[str, ...]
    approvers: tuple[str, ...] = ()
    override_required: bool = False


@dataclass(frozen=True, slots=True)
class CountedApproval:
    """One person's standing approval of the current terms (several records merged)."""

    user: str
    roles: frozenset[Role]
    override: bool


def counted_approvals(order: Order) -> tuple[CountedApproval, ...]:
    """Approvals that count: current terms, not the maker, approving roles, once per person."""
    if not order.approvals:  # most orders in a list: skip hashing the terms
        return ()
    current = order.terms.content_hash
    roles: dict[str, set[Role]] = {}
    reasons: dict[str, bool] = {}
    for approval in order.approvals:
        if approval.terms_hash != current or approval.user == order.maker:
            continue
        approving = {Role(r) for r in approval.roles} & APPROVING_ROLES
        if not approving:
            continue
        roles.setdefault(approval.user, set()).update(approving)
        written = bool(approval.override_reason and approval.override_reason.strip())
        reasons[approval.user] = reasons.get(approval.user, False) or written
    return tuple(CountedApproval(user, frozenset(roles[user]), reasons[user])
                 for user in sorted(roles))


def _unmatched(required: Sequence[Role], people: Mapping[str, frozenset[Role]]) -> list[Role]:
    """Required roles left over after giving each to a different person (max matching)."""
    holder: dict[str, int] = {}  # person -> index of the required role they cover

    def place(index: int, seen: set[str]) -> bool:
        for person in sorted(people):
            if required[index] in people[person] and person not in seen:
                seen.add(person)
                if person not in holder or place(holder[person], seen):
                    holder[person] = index
                    return True
        return False

    return [role for i, role in enumerate(required) if not place(i, set())]


def approval_state(order: Order, rules: ApprovalRules) -> ApprovalState:
    """Check the counted approvals of ``order`` against ``rules``.

    A blocking pre-trade finding additionally needs ``override_quorum`` distinct people in
    ``override_roles`` whose approval carries a written reason.
    """
    counted = counted_approvals(order)
    people = {c.user: c.roles for c in counted}
    step = rules.step_for(order.terms.notional_usd)
    missing: list[str] = []
    if rules.require_pretrade_check and order.pretrade_policy_hash is None:
        missing.append("a recorded pre-trade policy check")
    unmatched = _unmatched(step.required_roles, people)
    missing.extend(f"an approval by a {role} (a person not already counted)"
                   for role in unmatched)
    extra = step.min_approvers - len(people) - len(unmatched)
    if extra > 0:
        who = " or ".join(sorted(APPROVING_ROLES))
        missing.append(f"{extra} more approval(s) by a {who} other than the maker")
    blocked = bool(order.blocking_findings)
    if blocked:
        overriding = [c for c in counted if c.override and c.roles & set(rules.override_roles)]
        short = rules.override_quorum - len(overriding)
        if short > 0:
            who = " or ".join(sorted(rules.override_roles))
            rules_hit = ", ".join(sorted({f.rule for f in order.blocking_findings}))
            missing.append(f"override of blocking finding(s) {rules_hit}: {short} more "
                           f"{who} approval(s) with a written reason")
    return ApprovalState(satisfied=not missing, missing=tuple(missing),
                         approvers=tuple(people), override_required=blocked)
