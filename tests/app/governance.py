"""A demo reserve with people, the sleeve's policy in force and USD 100M in the sleeve."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from qoima.adapters.policy_files import read_policy
from qoima.app.demo.build import build_demo, load_demo
from qoima.bootstrap.wiring import Reserve
from qoima.domain.enums import EntryCode
from qoima.domain.roles import Role, RoleGrant
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.orders.model import OrderSide, OrderTerms

ROOT = Path(__file__).resolve().parents[2]
SLEEVE = "da-sleeve"
PEOPLE = {
    "admin": [RoleGrant(Role.ADMINISTRATOR)],
    "pm": [RoleGrant(Role.PORTFOLIO_MANAGER, SLEEVE)],
    "pm-risk": [RoleGrant(Role.PORTFOLIO_MANAGER, SLEEVE), RoleGrant(Role.RISK_OFFICER, SLEEVE)],
    "risk": [RoleGrant(Role.RISK_OFFICER)],
    "cm1": [RoleGrant(Role.COMMITTEE_MEMBER)],
    "cm2": [RoleGrant(Role.COMMITTEE_MEMBER)],
    "ops": [RoleGrant(Role.OPERATIONS)],
    "auditor": [RoleGrant(Role.AUDITOR)],
    "liaison": [RoleGrant(Role.ENFORCEMENT_LIAISON, "seized-pool")],
}


def governed_demo(reserve: Reserve) -> date:
    """Load the demo, add the people, put the sleeve policy in force, fund the sleeve."""
    content = build_demo()
    load_demo(reserve.book, reserve.market_data, content, actor="loader")
    for name, grants in PEOPLE.items():
        reserve.users.add(name, name.title(), grants, actor="admin")
    policy = read_policy(ROOT / "examples" / "policies" / "fx-sleeve.yaml")
    reserve.policies.propose(policy, fmt="yaml", actor="pm")
    reserve.policies.approve(SLEEVE, 1, actor="cm1")
    as_of = content.as_of_date
    reserve.book.post([EntryDraft("fund-sleeve", EntryCode.TRANSFER, as_of, (
        PostingDraft("holding:fx-reserves/investment:USD@bny", Decimal("-100000000")),
        PostingDraft(f"holding:{SLEEVE}/main:USD@bny", Decimal("100000000"))))],
        actor="ops")
    return as_of


def ibit(quantity: str, price: str = "74.32", **changes: object) -> OrderTerms:
    terms = OrderTerms(SLEEVE, "IBIT", OrderSide.BUY, Decimal(quantity), None, Decimal(price),
                       "main", "bny")
    from dataclasses import replace

    return replace(terms, **changes)  # type: ignore[arg-type]
