"""The order lifecycle: one transition table, pure functions that return a new Order.

draft → submitted → approved → partially_executed/executed → settled, or rejected (by an
approver) / cancelled (before any fill). Every function first authorizes the acting user
on the order's vehicle, then checks the table, so no entry point can skip either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from qoima.domain.errors import Forbidden, IdempotencyConflict, InvalidInput, OrderStateError
from qoima.domain.roles import Permission, User, authorize
from qoima.orders.approvals import APPROVING_ROLES, ApprovalRules, approval_state
from qoima.orders.model import (
    Approval,
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderTerms,
    PretradeCheck,
    exact_sum,
    require_utc,
)


class OrderAction(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    FILL = "fill"
    SETTLE = "settle"


_S = OrderStatus
_A = OrderAction
_P = Permission

#: The one transition table: action -> (permission needed, {from status: allowed targets}).
TRANSITIONS: Mapping[OrderAction, tuple[Permission, Mapping[OrderStatus, frozenset[OrderStatus]]]]
TRANSITIONS = MappingProxyType({
    _A.EDIT: (_P.ORDER_CREATE, {_S.DRAFT: frozenset({_S.DRAFT}),
                                _S.SUBMITTED: frozenset({_S.DRAFT})}),
    _A.SUBMIT: (_P.ORDER_SUBMIT, {_S.DRAFT: frozenset({_S.SUBMITTED})}),
    _A.APPROVE: (_P.ORDER_APPROVE, {_S.SUBMITTED: frozenset({_S.SUBMITTED, _S.APPROVED})}),
    _A.REJECT: (_P.ORDER_REJECT, {_S.SUBMITTED: frozenset({_S.REJECTED})}),
    # no cancel after a fill: fills are booked in the ledger and must settle
    _A.CANCEL: (_P.ORDER_CANCEL, {_S.DRAFT: frozenset({_S.CANCELLED}),
                                  _S.SUBMITTED: frozenset({_S.CANCELLED}),
                                  _S.APPROVED: frozenset({_S.CANCELLED})}),
    _A.FILL: (_P.ORDER_EXECUTE, {
        _S.APPROVED: frozenset({_S.PARTIALLY_EXECUTED, _S.EXECUTED}),
        _S.PARTIALLY_EXECUTED: frozenset({_S.PARTIALLY_EXECUTED, _S.EXECUTED})}),
    _A.SETTLE: (_P.ORDER_SETTLE, {_S.EXECUTED: frozenset({_S.SETTLED})}),
})


def allowed_actions(status: OrderStatus) -> frozenset[OrderAction]:
    """Actions the table allows from ``status`` (what a CLI or UI may offer)."""
    return frozenset(a for a, (_, moves) in TRANSITIONS.items() if status in moves)


def _check(order: Order, action: OrderAction, user: User, at: datetime) -> None:
    """Authorize first (never reveal more to someone refused), then the table and the time."""
    permission, moves = TRANSITIONS[action]
    authorize(user, permission, order.vehicle_code)
    require_utc(at, "at")
    if order.status not in moves:
        allowed = ", ".join(sorted(allowed_actions(order.status))) or "nothing (final)"
        raise OrderStateError(
            f"cannot {action} order {order.order_id}: it is {order.status}; allowed: {allowed}",
            order_id=order.order_id, status=str(order.status), action=str(action))
    if at < order.updated_at:
        raise InvalidInput(f"{action} at {at.isoformat()} predates the order's last change "
                           f"({order.updated_at.isoformat()})", field="at")


def _move(order: Order, action: OrderAction, target: OrderStatus, at: datetime,
          **changes: Any) -> Order:
    assert target in TRANSITIONS[action][1][order.status], (action, order.status, target)
    return replace(order, status=target, updated_at=at, **changes)


def _reason(text: str | None, what: str) -> str:
    if text is None or not text.strip():
        raise InvalidInput(f"{what} needs a written reason", field="reason")
    return text.strip()


def new_order(order_id: str, idempotency_key: str, terms: OrderTerms, user: User,
              at: datetime) -> Order:
    """A draft made by ``user`` (the maker, who can never approve it)."""
    authorize(user, Permission.ORDER_CREATE, terms.vehicle_code)
    return Order(order_id=order_id, idempotency_key=idempotency_key, terms=terms,
                 status=OrderStatus.DRAFT, maker=user.name, created_at=at, updated_at=at)


def edit(order: Order, terms: OrderTerms, user: User, at: datetime) -> Order:
    """New terms by the maker: back to draft, approvals and the pre-trade check voided.

    Approvals are dropped, not only outdated by the hash: editing back to earlier terms
    must not revive approvals given to them.
    """
    _check(order, OrderAction.EDIT, user, at)
    if user.name != order.maker:
        raise Forbidden(f"only the maker ({order.maker}) may edit order {order.order_id}",
                        user=user.name, permission=str(Permission.ORDER_CREATE),
                        vehicle_code=order.vehicle_code)
    if terms.vehicle_code != order.vehicle_code:
        raise InvalidInput("an order cannot move to another vehicle; cancel it and make a "
                           "new one", field="vehicle_code")
    return _move(order, OrderAction.EDIT, OrderStatus.DRAFT, at, terms=terms, approvals=(),
                 pretrade_findings=(), pretrade_policy_hash=None)


def _pretrade_fields(pretrade: PretradeCheck | None) -> dict[str, Any]:
    if pretrade is None:
        return {}
    return {"pretrade_findings": tuple(pretrade.findings),
            "pretrade_policy_hash": pretrade.policy_hash}


def submit(order: Order, user: User, at: datetime, *,
           pretrade: PretradeCheck | None = None) -> Order:
    """Send a draft to the approvers, with the policy check of its post-trade snapshot."""
    _check(order, OrderAction.SUBMIT, user, at)
    return _move(order, OrderAction.SUBMIT, OrderStatus.SUBMITTED, at,
                 **_pretrade_fields(pretrade))


def approve(order: Order, user: User, at: datetime, rules: ApprovalRules,
            override_reason: str | None = None, *, pretrade: PretradeCheck | None = None
            ) -> Order:
    """Record ``user``'s approval of the current terms; approved once the quorum is met.

    ``pretrade`` is the policy check re-run in the approving unit of work (so two orders
    approved together cannot breach a limit each alone respects); it replaces the one on
    record before counting. ``override_reason`` (override roles only) approves over
    blocking findings. Approving again replaces the person's earlier approval: one person
    always counts once.
    """
    _check(order, OrderAction.APPROVE, user, at)
    if user.name == order.maker:
        raise Forbidden(f"{user.name} made order {order.order_id} and can never approve it",
                        user=user.name, permission=str(Permission.ORDER_APPROVE),
                        vehicle_code=order.vehicle_code)
    held = user.roles_for(order.vehicle_code)
    if override_reason is not None:
        override_reason = _reason(override_reason, "an override")
        if not held & set(rules.override_roles):
            raise Forbidden(
                f"user {user.name} may not override blocking findings: that needs a "
                f"{' or '.join(sorted(rules.override_roles))}", user=user.name,
                permission=str(Permission.ORDER_APPROVE), vehicle_code=order.vehicle_code)
    roles = tuple(sorted(held & APPROVING_ROLES, key=lambda r: r.value))
    approval = Approval(user=user.name, roles=roles, terms_hash=order.terms.content_hash,
                        at=at, override_reason=override_reason)
    kept = tuple(a for a in order.approvals if a.user != user.name)
    candidate = replace(order, approvals=(*kept, approval), **_pretrade_fields(pretrade))
    satisfied = approval_state(candidate, rules).satisfied
    target = OrderStatus.APPROVED if satisfied else OrderStatus.SUBMITTED
    return _move(candidate, OrderAction.APPROVE, target, at)


def reject(order: Order, user: User, at: datetime, reason: str) -> Order:
    """An approver refuses the order for good (the maker can make a new one)."""
    _check(order, OrderAction.REJECT, user, at)
    return _move(order, OrderAction.REJECT, OrderStatus.REJECTED, at,
                 rejection_reason=_reason(reason, "a rejection"))


def cancel(order: Order, user: User, at: datetime) -> Order:
    _check(order, OrderAction.CANCEL, user, at)
    return _move(order, OrderAction.CANCEL, OrderStatus.CANCELLED, at)


def record_fill(order: Order, fill: Fill, user: User, at: datetime) -> Order:
    """Book one execution; replaying the same fill returns the order unchanged.

    Refused: a fill beyond the remaining quantity, through the limit price, or executed
    before the order was approved or after ``at`` (the booking time).
    """
    authorize(user, Permission.ORDER_EXECUTE, order.vehicle_code)
    earlier = next((f for f in order.fills if f.fill_id == fill.fill_id), None)
    if earlier is not None:
        if earlier == fill:
            return order
        raise IdempotencyConflict(
            f"fill {fill.fill_id} of order {order.order_id} was booked with other content",
            field="fill_id")
    _check(order, OrderAction.FILL, user, at)
    if fill.quantity > order.remaining_quantity:
        raise InvalidInput(f"fill of {fill.quantity} exceeds the remaining "
                           f"{order.remaining_quantity} of order {order.order_id}",
                           field="quantity")
    limit = order.terms.limit_price
    if limit is not None:
        buy = order.terms.side is OrderSide.BUY
        if (buy and fill.price > limit) or (not buy and fill.price < limit):
            word = "above" if buy else "below"
            raise InvalidInput(f"{order.terms.side} fill at {fill.price} is {word} the limit "
                               f"price {limit}", field="price")
    approved_at = max((a.at for a in order.approvals), default=order.updated_at)
    if fill.executed_at < approved_at:
        raise InvalidInput(f"fill executed at {fill.executed_at.isoformat()}, before the order "
                           f"was approved ({approved_at.isoformat()})", field="executed_at")
    if fill.executed_at > at:
        raise InvalidInput("a fill cannot be booked before it was executed",
                           field="executed_at")
    fills = (*order.fills, fill)
    done = exact_sum(f.quantity for f in fills) == order.terms.quantity
    target = OrderStatus.EXECUTED if done else OrderStatus.PARTIALLY_EXECUTED
    return _move(order, OrderAction.FILL, target, at, fills=fills)


def settle(order: Order, user: User, at: datetime) -> Order:
    """Close a fully executed order once every fill's settlement date has come."""
    _check(order, OrderAction.SETTLE, user, at)
    due = max(f.settlement_date for f in order.fills)
    if at.date() < due:
        raise OrderStateError(f"order {order.order_id} settles on {due}, not before",
                              order_id=order.order_id, status=str(order.status),
                              action=str(OrderAction.SETTLE))
    return _move(order, OrderAction.SETTLE, OrderStatus.SETTLED, at)


__all__ = [
    "TRANSITIONS", "OrderAction", "allowed_actions", "approve", "cancel", "edit", "new_order",
    "record_fill", "reject", "settle", "submit",
]
