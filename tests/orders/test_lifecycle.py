"""The lifecycle: every legal and illegal transition, who may do what, fills, settlement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from qoima.domain.errors import (
    Conflict,
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    OrderStateError,
)
from qoima.domain.roles import Role, User
from qoima.orders.lifecycle import (
    OrderAction,
    allowed_actions,
    approve,
    cancel,
    edit,
    new_order,
    record_fill,
    reject,
    settle,
    submit,
)
from qoima.orders.model import Order, OrderSide, OrderStatus
from tests.orders.builders import (
    ADMIN,
    AUDITOR,
    CLEAN,
    CM1,
    LIAISON,
    OPS,
    OTHER_VEHICLE,
    PM,
    PM2,
    RO,
    RULES,
    D,
    approved,
    at,
    draft,
    fill,
    order_in,
    person,
    submitted,
    terms,
)

S = OrderStatus
A = OrderAction
LATER = datetime(2026, 6, 3, 12, tzinfo=UTC)  # after every builder time and settlement date


def act(action: OrderAction, order: Order, user: User | None = None) -> Order:
    """Do ``action`` the way its usual actor would (the maker edits, operations fill...)."""
    doers: dict[OrderAction, Callable[[Order, User], Order]] = {
        A.EDIT: lambda o, u: edit(o, terms("900"), u, LATER),
        A.SUBMIT: lambda o, u: submit(o, u, LATER, pretrade=CLEAN),
        A.APPROVE: lambda o, u: approve(o, u, LATER, RULES),
        A.REJECT: lambda o, u: reject(o, u, LATER, "outside the mandate"),
        A.CANCEL: lambda o, u: cancel(o, u, LATER),
        A.FILL: lambda o, u: record_fill(o, fill("f-x", "400" if o.status is S.APPROVED
                                                  else "600", minutes=60), u, LATER),
        A.SETTLE: lambda o, u: settle(o, u, LATER),
    }
    usual = {A.EDIT: PM, A.SUBMIT: PM, A.APPROVE: CM1, A.REJECT: RO, A.CANCEL: PM,
             A.FILL: OPS, A.SETTLE: OPS}
    return doers[action](order, user or usual[action])


# Written out by hand from the issue: (from, action) -> to. Everything else is illegal.
LEGAL = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.SUBMITTED, A.EDIT): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.APPROVE): S.APPROVED,  # USD 50,000: one approver is the quorum
    (S.SUBMITTED, A.REJECT): S.REJECTED,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.SUBMITTED, A.CANCEL): S.CANCELLED,
    (S.APPROVED, A.CANCEL): S.CANCELLED,
    (S.APPROVED, A.FILL): S.PARTIALLY_EXECUTED,  # 400 of 1000
    (S.PARTIALLY_EXECUTED, A.FILL): S.EXECUTED,  # the remaining 600
    (S.EXECUTED, A.SETTLE): S.SETTLED,
}
PAIRS = [(s, a) for s in OrderStatus for a in OrderAction]


@pytest.mark.parametrize(("status", "action"), PAIRS)
def test_every_transition(status: OrderStatus, action: OrderAction) -> None:
    order = order_in(status)
    assert order.status is status
    if (status, action) in LEGAL:
        after = act(action, order)
        assert after.status is LEGAL[(status, action)]
        assert after.updated_at == LATER
        assert after.order_id == order.order_id and after.maker == order.maker
    else:
        with pytest.raises(OrderStateError) as caught:
            act(action, order)
        assert isinstance(caught.value, Conflict)
        assert caught.value.code == "order_state"
        assert str(status) in str(caught.value) and str(action) in str(caught.value)


def test_allowed_actions_agree_with_the_hand_table() -> None:
    for status in OrderStatus:
        expected = {a for (s, a) in LEGAL if s is status}
        assert allowed_actions(status) == expected
    for final in (S.SETTLED, S.REJECTED, S.CANCELLED):
        assert allowed_actions(final) == frozenset()


@pytest.mark.parametrize(("status", "action"), sorted(LEGAL, key=str))
def test_auditor_write_is_refused(status: OrderStatus, action: OrderAction) -> None:
    order = order_in(status)
    with pytest.raises(Forbidden, match=r"aigerim \(auditor\)"):
        act(action, order, AUDITOR)


@pytest.mark.parametrize("outsider", [AUDITOR, LIAISON, ADMIN, CM1, OPS])
def test_only_a_portfolio_manager_creates_orders(outsider: User) -> None:
    with pytest.raises(Forbidden):
        new_order("o-9", "k-9", terms(), outsider, at(0))


@pytest.mark.parametrize(("status", "action"), sorted(LEGAL, key=str))
def test_enforcement_liaison_never_touches_reserve_orders(status: OrderStatus,
                                                         action: OrderAction) -> None:
    with pytest.raises(Forbidden, match="enforcement_liaison"):
        act(action, order_in(status), LIAISON)


@pytest.mark.parametrize(("status", "action", "role"), [
    (S.DRAFT, A.SUBMIT, Role.PORTFOLIO_MANAGER),
    (S.SUBMITTED, A.APPROVE, Role.COMMITTEE_MEMBER),
    (S.SUBMITTED, A.APPROVE, Role.RISK_OFFICER),
    (S.SUBMITTED, A.REJECT, Role.RISK_OFFICER),
    (S.APPROVED, A.CANCEL, Role.PORTFOLIO_MANAGER),
    (S.APPROVED, A.FILL, Role.OPERATIONS),
    (S.EXECUTED, A.SETTLE, Role.OPERATIONS),
])
def test_a_role_outside_its_vehicle_is_refused(status: OrderStatus, action: OrderAction,
                                               role: Role) -> None:
    elsewhere = person("visitor", role, vehicle=OTHER_VEHICLE)
    here = person("visitor", role)
    with pytest.raises(Forbidden, match=r"visitor \(no role\) may not .* on vehicle fx-sleeve"):
        act(action, order_in(status), elsewhere)
    assert act(action, order_in(status), here).status is LEGAL[(status, action)]


def test_creating_on_another_vehicle_is_refused() -> None:
    with pytest.raises(Forbidden, match="state-fund"):
        new_order("o-2", "k-2", terms(vehicle=OTHER_VEHICLE), PM, at(0))


def test_risk_officer_never_executes() -> None:
    with pytest.raises(Forbidden, match=r"order\.execute"):
        record_fill(approved(), fill("f-1", "10"), RO, at(10))


def test_new_order_is_a_draft_by_its_maker() -> None:
    order = draft()
    assert (order.status, order.maker, order.created_at, order.updated_at) == (
        S.DRAFT, "dana", at(0), at(0))
    assert order.approvals == () and order.fills == () and order.pretrade_policy_hash is None


def test_only_the_maker_edits_and_never_across_vehicles() -> None:
    with pytest.raises(Forbidden, match="only the maker"):
        edit(draft(), terms("900"), PM2, at(1))
    with pytest.raises(InvalidInput, match="another vehicle"):
        edit(draft(), terms(vehicle=OTHER_VEHICLE), PM, at(1))


def test_edit_returns_to_draft_and_drops_the_pretrade_check() -> None:
    order = edit(submitted(), terms("900"), PM, at(3))
    assert order.status is S.DRAFT
    assert order.terms.quantity == D("900")
    assert order.pretrade_findings == () and order.pretrade_policy_hash is None


def test_time_never_runs_backwards_and_is_utc() -> None:
    order = submitted()
    with pytest.raises(InvalidInput, match="predates"):
        approve(order, CM1, at(0), RULES)
    with pytest.raises(InvalidInput, match="UTC"):
        approve(order, CM1, datetime(2026, 6, 1, 10), RULES)  # noqa: DTZ001 - naive on purpose
    assert approve(order, CM1, order.updated_at, RULES).status is S.APPROVED


def test_reject_needs_a_written_reason() -> None:
    for blank in ("", "   "):
        with pytest.raises(InvalidInput, match="reason"):
            reject(submitted(), RO, at(2), blank)
    done = reject(submitted(), RO, at(2), "  concentration too high  ")
    assert done.rejection_reason == "concentration too high"


# -- fills ---------------------------------------------------------------------------


def test_partial_fills_then_execution() -> None:
    order = record_fill(approved(), fill("f-1", "250.5"), OPS, at(10))
    assert (order.status, order.executed_quantity, order.remaining_quantity) == (
        S.PARTIALLY_EXECUTED, D("250.5"), D("749.5"))
    order = record_fill(order, fill("f-2", "249.5", minutes=11), OPS, at(11))
    assert (order.status, order.remaining_quantity) == (S.PARTIALLY_EXECUTED, D("500"))
    order = record_fill(order, fill("f-3", "500", minutes=12), OPS, at(12))
    assert (order.status, order.executed_quantity, order.remaining_quantity) == (
        S.EXECUTED, D("1000"), D("0"))
    assert [f.fill_id for f in order.fills] == ["f-1", "f-2", "f-3"]
    assert order.fees_usd == D("3.75")


def test_token_sized_fills_sum_exactly() -> None:
    order = approved("0.3", "100")
    order = record_fill(order, fill("a", "0.1", "100"), OPS, at(10))
    order = record_fill(order, fill("b", "0.2", "100"), OPS, at(10))  # 0.1 + 0.2 == 0.3 exactly
    assert order.status is S.EXECUTED
    tiny = approved("1.000000000000000001", "3000")
    tiny = record_fill(tiny, fill("c", "1", "3000"), OPS, at(10))
    assert tiny.remaining_quantity == D("0.000000000000000001")
    assert tiny.status is S.PARTIALLY_EXECUTED


def test_a_fill_beyond_the_remaining_quantity_is_refused() -> None:
    order = record_fill(approved(), fill("f-1", "600"), OPS, at(10))
    with pytest.raises(InvalidInput, match="exceeds the remaining 400") as caught:
        record_fill(order, fill("f-2", "400.0001"), OPS, at(10))
    assert caught.value.field == "quantity"
    with pytest.raises(InvalidInput, match="exceeds"):
        record_fill(approved(), fill("f-1", "1001"), OPS, at(10))
    assert record_fill(order, fill("f-2", "400"), OPS, at(10)).status is S.EXECUTED


def test_replaying_a_fill_is_harmless_and_a_changed_replay_conflicts() -> None:
    order = record_fill(approved(), fill("f-1", "400"), OPS, at(10))
    assert record_fill(order, fill("f-1", "400"), OPS, at(20)) is order
    with pytest.raises(IdempotencyConflict):
        record_fill(order, fill("f-1", "401"), OPS, at(20))


@pytest.mark.parametrize(("side", "price", "ok"), [
    (OrderSide.BUY, "50", True), (OrderSide.BUY, "50.01", False),
    (OrderSide.SELL, "50", True), (OrderSide.SELL, "49.99", False),
])
def test_fills_respect_the_limit_price(side: OrderSide, price: str, ok: bool) -> None:
    order = approved(side=side, limit_price="50")
    if ok:
        assert record_fill(order, fill("f", "10", price), OPS, at(10)).executed_quantity == 10
    else:
        with pytest.raises(InvalidInput, match="limit price"):
            record_fill(order, fill("f", "10", price), OPS, at(10))


def test_fill_times_must_follow_approval_and_precede_booking() -> None:
    order = approved()  # approved at minute 2
    with pytest.raises(InvalidInput, match="before the order was approved"):
        record_fill(order, fill("f", "10", minutes=1), OPS, at(10))
    with pytest.raises(InvalidInput, match="booked before it was executed"):
        record_fill(order, fill("f", "10", minutes=30), OPS, at(10))


def test_no_cancel_once_a_fill_is_booked() -> None:
    with pytest.raises(OrderStateError, match="partially_executed"):
        cancel(order_in(S.PARTIALLY_EXECUTED), PM, LATER)


def test_settlement_waits_for_the_settlement_date() -> None:
    order = order_in(S.EXECUTED)  # fills settle on 2026-06-02
    with pytest.raises(OrderStateError, match="settles on 2026-06-02"):
        settle(order, OPS, datetime(2026, 6, 1, 23, 59, tzinfo=UTC))
    done = settle(order, OPS, datetime(2026, 6, 2, tzinfo=UTC))
    assert done.status is S.SETTLED
    assert done.is_terminal
    late = replace(order, fills=(*order.fills[:1], replace(order.fills[1],
                                                           settlement_date=date(2026, 6, 5))))
    with pytest.raises(OrderStateError, match="2026-06-05"):
        settle(late, OPS, datetime(2026, 6, 2, tzinfo=UTC) + timedelta(days=1))
