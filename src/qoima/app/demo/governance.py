"""The demo's people, policies in force and one order waiting for its approvals.

So the daily run has something to govern: the committee sees policy checks, the gate
under the sleeve's policy, sizing against its budgets, and the four-eyes inbox. Every step
is idempotent: loading the demo twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from qoima.app.orders import OrderService
from qoima.app.policies import PolicyService
from qoima.app.users import UserService
from qoima.domain.roles import Role, RoleGrant
from qoima.orders.model import OrderSide, OrderStatus, OrderTerms
from qoima.policy.model import InvestmentPolicy

SLEEVE, TOKENS, FUND = "da-sleeve", "alem-fund", "state-fund"
PEOPLE: dict[str, tuple[str, list[RoleGrant]]] = {
    "admin": ("Administrator (illustrative)", [RoleGrant(Role.ADMINISTRATOR)]),
    "pm": ("Sleeve portfolio manager", [RoleGrant(Role.PORTFOLIO_MANAGER, SLEEVE)]),
    "pm-alem": ("Token fund portfolio manager", [RoleGrant(Role.PORTFOLIO_MANAGER, TOKENS)]),
    "pm-fund": ("State fund portfolio manager", [RoleGrant(Role.PORTFOLIO_MANAGER, FUND)]),
    "risk": ("Risk officer", [RoleGrant(Role.RISK_OFFICER)]),
    "cm1": ("Committee member 1", [RoleGrant(Role.COMMITTEE_MEMBER)]),
    "cm2": ("Committee member 2", [RoleGrant(Role.COMMITTEE_MEMBER)]),
    "ops": ("Operations", [RoleGrant(Role.OPERATIONS)]),
    "auditor": ("Internal auditor", [RoleGrant(Role.AUDITOR)]),
}
PROPOSER = {SLEEVE: "pm", TOKENS: "pm-alem", FUND: "pm-fund"}
#: The first tranche's opening order, drafted by the PM and waiting for risk and committee.
FIRST_ORDER = OrderTerms(SLEEVE, "IBIT", OrderSide.BUY, Decimal(200_000), Decimal("80.00"),
                         Decimal("74.32"), "main", "bny",
                         "Tranche 1 opening buy (illustrative); waits for the gate")


@dataclass(frozen=True, slots=True)
class DemoGovernance:
    users_added: int
    policies_approved: int
    order_id: str | None


def govern_demo(users: UserService, policies: PolicyService, orders: OrderService,
                documents: Sequence[InvestmentPolicy], as_of: date
                ) -> DemoGovernance:
    """Add the people, put each policy in force (proposed by its PM, approved by a
    committee member), and leave one order submitted and awaiting approval."""
    known = {u.name for u in users.list()}
    added = 0
    for name, (display, grants) in PEOPLE.items():
        if name not in known:
            users.add(name, display, grants, actor="admin")
            added += 1
    approved = 0
    for policy in documents:
        if policies.in_force(policy.vehicle_code, as_of) is not None:
            continue
        proposer = PROPOSER.get(policy.vehicle_code, "admin")
        record = policies.propose(policy, fmt="yaml", actor=proposer)
        policies.approve(policy.vehicle_code, record.version, actor="cm1")
        approved += 1
    order = orders.new(FIRST_ORDER, idempotency_key="demo-sleeve-t1-ibit", actor="pm")
    if order.status is OrderStatus.DRAFT:
        order = orders.submit(order.order_id, actor="pm", as_of=as_of)
    return DemoGovernance(added, approved, order.order_id)
