"""Property: no sequence of actions, by anyone, yields an approved order without a quorum.

The quorum is re-checked here by an independent oracle written from the issue's words,
not by ``approval_state``, so a bug in the counting cannot hide behind itself.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from itertools import permutations
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qoima.domain.enums import Severity
from qoima.domain.errors import QoimaError
from qoima.domain.roles import Role, RoleGrant, User
from qoima.orders.lifecycle import approve, cancel, edit, new_order, record_fill, reject, settle
from qoima.orders.lifecycle import submit as submit_order
from qoima.orders.model import Fill, Order, OrderStatus
from tests.orders.builders import (
    AUDITOR,
    BLOCKED,
    CLEAN,
    CM1,
    CM2,
    LIAISON,
    OPS,
    PM2,
    RO,
    RO2,
    RULES,
    VEHICLE,
    WARNED,
    at,
    person,
    terms,
)

S = OrderStatus
# The maker holds approving roles too: self-approval must still never count.
MAKER = User("dana", "Dana", tuple(RoleGrant(r, VEHICLE) for r in (
    Role.PORTFOLIO_MANAGER, Role.RISK_OFFICER, Role.COMMITTEE_MEMBER)))
BOTH = person("nurlan", Role.RISK_OFFICER, Role.COMMITTEE_MEMBER)
VISITOR = person("visitor", Role.RISK_OFFICER, Role.COMMITTEE_MEMBER, Role.OPERATIONS,
                 vehicle="state-fund")
PEOPLE = (MAKER, PM2, RO, RO2, BOTH, CM1, CM2, OPS, AUDITOR, LIAISON, VISITOR)
QUANTITIES = ("1000", "500000", "500000.0002", "600000")  # at USD 50: 50k, 25M, 25M+0.01, 30M
CHECKS = (None, CLEAN, WARNED, BLOCKED)
APPROVED_OR_LATER = {S.APPROVED, S.PARTIALLY_EXECUTED, S.EXECUTED, S.SETTLED}
# Hand-written moves an order may make in one successful step (self-loops included).
MOVES = {
    (S.DRAFT, S.DRAFT), (S.SUBMITTED, S.DRAFT), (S.DRAFT, S.SUBMITTED),
    (S.SUBMITTED, S.SUBMITTED), (S.SUBMITTED, S.APPROVED), (S.SUBMITTED, S.REJECTED),
    (S.DRAFT, S.CANCELLED), (S.SUBMITTED, S.CANCELLED), (S.APPROVED, S.CANCELLED),
    (S.APPROVED, S.PARTIALLY_EXECUTED), (S.APPROVED, S.EXECUTED),
    (S.PARTIALLY_EXECUTED, S.PARTIALLY_EXECUTED), (S.PARTIALLY_EXECUTED, S.EXECUTED),
    (S.EXECUTED, S.SETTLED),
}


def quorum_met(order: Order) -> bool:
    """The issue's rule, restated: four eyes, distinct people, by size, override by two CMs."""
    if order.pretrade_policy_hash is None:
        return False
    seats: dict[str, set[Role]] = {}
    reasoned: set[str] = set()
    for a in order.approvals:
        if a.terms_hash != order.terms.content_hash or a.user == order.maker:
            continue
        roles = set(a.roles) & {Role.RISK_OFFICER, Role.COMMITTEE_MEMBER}
        if roles:
            seats.setdefault(a.user, set()).update(roles)
            if a.override_reason and a.override_reason.strip() and \
                    Role.COMMITTEE_MEMBER in roles:
                reasoned.add(a.user)
    notional = order.terms.quantity * order.terms.estimated_price
    if notional <= Decimal("25000000"):
        ok = len(seats) >= 1
    else:
        ok = any(Role.RISK_OFFICER in seats[p] and Role.COMMITTEE_MEMBER in seats[q]
                 for p, q in permutations(seats, 2))
    if any(f.severity == Severity.BLOCKING for f in order.pretrade_findings):
        ok = ok and len(reasoned) >= 2
    return ok


KINDS = ("edit", "submit", "approve", "reject", "cancel", "fill", "settle")
# A "sensible" move is what the usual actor would try next from the current status; the
# rest are anything by anyone. The mix drives most scripts past approval and keeps
# every illegal attempt in play.
SENSIBLE = {S.DRAFT: "submit", S.SUBMITTED: "approve", S.APPROVED: "fill",
            S.PARTIALLY_EXECUTED: "fill", S.EXECUTED: "settle"}
USUAL = {"edit": (MAKER,), "submit": (MAKER, PM2), "approve": (RO, RO2, BOTH, CM1, CM2),
         "reject": (RO, CM1), "cancel": (MAKER, PM2), "fill": (OPS,), "settle": (OPS,)}
REASONS = (None, None, "", "committee minute 7")
FRESH_CHECKS = (None, None, None, CLEAN, BLOCKED)
FILLED = ("100", "400", "1000", "600000")

moves = st.tuples(st.integers(0, 3), st.integers(0, len(KINDS) - 1),
                  st.integers(0, len(PEOPLE) - 1), st.integers(0, 3), st.integers(0, 4),
                  st.integers(0, 3))


def decode(status: OrderStatus, move: tuple[int, ...]) -> tuple[Any, ...]:
    """Turn drawn integers into an action tuple (kind, actor, ...)."""
    odd, kind_i, who, reason_i, check_i, size_i = move
    sensible = odd > 0 and status in SENSIBLE
    kind = SENSIBLE[status] if sensible else KINDS[kind_i]
    pool = USUAL[kind] if sensible else PEOPLE
    user = pool[who % len(pool)]
    extra: dict[str, tuple[Any, ...]] = {
        "edit": (QUANTITIES[size_i],), "submit": (user, CHECKS[check_i % len(CHECKS)]),
        "approve": (user, REASONS[reason_i], FRESH_CHECKS[check_i]),
        "fill": (user, FILLED[size_i]),
    }
    return (kind, *extra.get(kind, (user,)))


def step(order: Order, action: tuple[Any, ...], when: datetime) -> Order:
    kind = action[0]
    if kind == "edit":
        return edit(order, terms(action[1]), MAKER, when)
    if kind == "submit":
        return submit_order(order, action[1], when, pretrade=action[2])
    if kind == "approve":
        return approve(order, action[1], when, RULES, action[2], pretrade=action[3])
    if kind == "reject":
        return reject(order, action[1], when, "not now")
    if kind == "cancel":
        return cancel(order, action[1], when)
    if kind == "fill":
        made = Fill(f"f-{when.isoformat()}", Decimal(action[2]), Decimal("50"), Decimal("1"),
                    "NASDAQ", "broker-a", when, when.date())
        return record_fill(order, made, action[1], when)
    return settle(order, action[1], when)


def play(quantity: str, script: list[tuple[Any, ...]]) -> list[tuple[tuple[Any, ...], Order,
                                                                     Order | None]]:
    """Run ``script``; per action: (action, order before, order after or None if refused).

    Items are action tuples, or tuples of drawn integers that :func:`decode` turns into one.
    """
    order = new_order("o-p", "k-p", terms(quantity), MAKER, at(0))
    trace = []
    for minute, item in enumerate(script, start=1):
        action = item if isinstance(item[0], str) else decode(order.status, item)
        try:
            after: Order | None = step(order, action, at(minute))
        except QoimaError:
            after = None
        trace.append((action, order, after))
        order = after or order
    return trace


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(QUANTITIES), st.lists(moves, max_size=30))
def test_no_approval_without_a_satisfied_quorum(quantity: str,
                                                script: list[tuple[Any, ...]]) -> None:
    for action, before, after in play(quantity, script):
        if after is None:
            continue
        assert (before.status, after.status) in MOVES
        assert all(a.user != after.maker for a in after.approvals)
        assert after.executed_quantity <= after.terms.quantity
        if after.status in APPROVED_OR_LATER:
            assert quorum_met(after), (action, after)
        if action[0] == "approve":
            assert (after.status is S.APPROVED) == quorum_met(after)
            assert action[1] not in (MAKER, AUDITOR, LIAISON, VISITOR, OPS, PM2)
        if before.status in APPROVED_OR_LATER:  # what was approved never changes
            assert after.terms == before.terms and after.approvals == before.approvals


def test_the_driver_reaches_every_outcome() -> None:
    """Guards the property: its scripts can approve, override, execute and settle."""
    large = [("submit", MAKER, BLOCKED), ("approve", RO, None, None),
             ("approve", CM1, "why", None), ("approve", BOTH, "why", None),
             ("fill", OPS, "600000"), ("settle", OPS)]
    afters = [after for _, _, after in play("600000", large)]
    assert all(after is not None for after in afters)
    assert [a.status for a in afters if a is not None] == [
        S.SUBMITTED, S.SUBMITTED, S.SUBMITTED, S.APPROVED, S.EXECUTED, S.SETTLED]
    assert [quorum_met(a) for a in afters if a is not None][:4] == [False, False, False, True]
    small = [("submit", MAKER, CLEAN), ("approve", MAKER, None, None),
             ("approve", AUDITOR, None, None), ("approve", VISITOR, None, None),
             ("approve", RO, None, None)]
    outcomes = [after for _, _, after in play("1000", small)]
    assert outcomes[1:4] == [None, None, None]
    last = outcomes[4]
    assert last is not None and last.status is S.APPROVED
