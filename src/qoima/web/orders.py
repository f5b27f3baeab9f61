"""Orders: the approval inbox (four eyes visible), drafting, and every step of an order.

Who may do what is the order service's decision; the page offers the steps the status
allows to people whose role holds the permission, and shows the service's refusal when a
step is refused (the maker approving their own order, a missing quorum...). Another
vehicle's order answers 404, as in the API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from qoima.api.access import hidden
from qoima.bootstrap.wiring import Reserve
from qoima.domain.roles import Permission
from qoima.orders.approvals import approval_state, counted_approvals
from qoima.orders.lifecycle import TRANSITIONS, allowed_actions
from qoima.orders.model import Fill, Order, OrderSide, OrderTerms
from qoima.web.forms import act_or_show, amount, day, enum_options, member, optional_amount
from qoima.web.render import page
from qoima.web.session import Posted, PostedDep, Viewer, ViewerDep
from qoima.web.site import web_router

router = web_router()
INBOX = ("submitted",)
LIVE = ("approved", "partially_executed", "executed")


@dataclass(frozen=True, slots=True)
class InboxItem:
    order: Order
    approvers: tuple[str, ...]
    missing: tuple[str, ...]
    may_approve: bool


def visible(reserve: Reserve, order_id: str, viewer: Viewer) -> Order:
    return hidden(lambda: reserve.orders.get(order_id, actor=viewer.name),
                  f"no order {order_id!r}", "order_id")


def _inbox(viewer: Viewer, orders: list[Order]) -> list[InboxItem]:
    rules = viewer.reserve.orders.rules
    items = []
    for order in orders:
        state = approval_state(order, rules)
        may = (viewer.can(Permission.ORDER_APPROVE, order.vehicle_code)
               and viewer.name != order.maker and viewer.name not in state.approvers)
        items.append(InboxItem(order, state.approvers, state.missing, may))
    return items


def _drafting(viewer: Viewer) -> dict[str, Any]:
    with viewer.reserve.units(write=False) as uow:
        vehicles = [v.code for v in uow.reference.list_vehicles()
                    if viewer.can(Permission.ORDER_CREATE, v.code)]
        instruments = sorted(i.code for i in uow.reference.list_instruments())
        custodians = sorted(c.code for c in uow.reference.list_custodians())
    return {"vehicles": vehicles, "instruments": instruments, "custodians": custodians,
            "sides": enum_options(OrderSide)}


def orders_page(request: Request, viewer: Viewer, *, error: str | None = None,
                status_code: int = 200, values: dict[str, str] | None = None) -> HTMLResponse:
    reserve = viewer.reserve
    everything = reserve.orders.list(actor=viewer.name)
    everything.sort(key=lambda o: o.updated_at, reverse=True)
    inbox = _inbox(viewer, [o for o in everything if o.status in INBOX])
    return page(request, "orders.html.j2", viewer, title="Orders", error=error,
                status_code=status_code, inbox=inbox,
                live=[o for o in everything if o.status in LIVE], orders=everything[:200],
                values=values or {}, **_drafting(viewer))


def _steps(viewer: Viewer, order: Order) -> set[str]:
    """The steps the status allows that this viewer's roles could take."""
    return {str(action) for action in allowed_actions(order.status)
            if viewer.can(TRANSITIONS[action][0], order.vehicle_code)}


def order_page(request: Request, viewer: Viewer, order_id: str, *, error: str | None = None,
               status_code: int = 200, values: dict[str, str] | None = None) -> HTMLResponse:
    reserve = viewer.reserve
    order = visible(reserve, order_id, viewer)
    rules = reserve.orders.rules
    state = approval_state(order, rules)
    step = rules.step_for(order.terms.notional_usd)
    counted = {c.user for c in counted_approvals(order)}
    is_maker = viewer.name == order.maker
    steps = _steps(viewer, order)
    return page(request, "order.html.j2", viewer, title=f"Order {order.order_id}", error=error,
                status_code=status_code, order=order, state=state, step=step,
                counted=counted, steps=steps, is_maker=is_maker, now=datetime.now(UTC),
                values=values or {}, **(_drafting(viewer) if is_maker and "edit" in steps
                                        else {}))


@router.get("/orders")
def list_orders(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return orders_page(request, viewer)


@router.get("/orders/{order_id}")
def show_order(order_id: str, request: Request, viewer: ViewerDep) -> HTMLResponse:
    return order_page(request, viewer, order_id)


def terms_of(form: Posted, vehicle: str) -> OrderTerms:
    """The order form's terms (the same fields drafting and changing terms use)."""
    return OrderTerms(vehicle, form.need("instrument", "Instrument").upper(),
                      member(form, OrderSide, "side", "Side"),
                      amount(form, "quantity", "Quantity"),
                      optional_amount(form, "limit_price", "Limit price"),
                      amount(form, "estimated_price", "Estimated price"),
                      form.get("tranche") or None, form.get("custodian") or None,
                      form.get("note"))


@router.post("/orders")
async def create_order(request: Request, form: PostedDep) -> Response:
    viewer, reserve = form.viewer, form.viewer.reserve

    def action() -> tuple[str, str]:
        terms = terms_of(form, form.need("vehicle", "Vehicle"))
        key = f"web:{viewer.name}:{form.need('idempotency_key')}"
        order = reserve.orders.new(terms, idempotency_key=key, actor=viewer.name)
        return f"/orders/{order.order_id}", (f"Order {order.order_id} drafted. Submit it to "
                                             "send it to the approvers.")

    return await act_or_show(request, form, action, lambda message, status: orders_page(
        request, viewer, error=message, status_code=status, values=form.fields))


async def _step(request: Request, form: PostedDep, order_id: str,
                move: Callable[[Viewer], Order], done: str, keep: bool = False) -> Response:
    """One step on a visible order; the order page again with the refusal if refused."""
    viewer = form.viewer
    await run_in_threadpool(visible, viewer.reserve, order_id, viewer)

    def action() -> tuple[str, str]:
        order = move(viewer)
        return f"/orders/{order_id}", f"{done} by {viewer.name}: the order is now " \
            f"{order.status.replace('_', ' ')}."

    return await act_or_show(request, form, action, lambda message, status: order_page(
        request, viewer, order_id, error=message, status_code=status,
        values=form.fields if keep else None))


@router.post("/orders/{order_id}/terms")
async def change_terms(order_id: str, request: Request, form: PostedDep) -> Response:
    """New terms by the maker, while the order is a draft or awaits approval: the order
    goes back to draft and every approval given so far is void (the service's rule)."""
    orders = form.viewer.reserve.orders

    def edit(viewer: Viewer) -> Order:
        order = visible(viewer.reserve, order_id, viewer)
        return orders.edit(order_id, terms_of(form, order.vehicle_code), actor=viewer.name)

    return await _step(request, form, order_id, edit, "Terms changed", keep=True)


@router.post("/orders/{order_id}/submit")
async def submit(order_id: str, request: Request, form: PostedDep) -> Response:
    orders = form.viewer.reserve.orders
    return await _step(request, form, order_id, lambda v: orders.submit(
        order_id, actor=v.name), "Submitted")


@router.post("/orders/{order_id}/approve")
async def approve(order_id: str, request: Request, form: PostedDep) -> Response:
    orders = form.viewer.reserve.orders
    reason = form.get("override_reason") or None
    return await _step(request, form, order_id, lambda v: orders.approve(
        order_id, actor=v.name, override_reason=reason), "Approved")


@router.post("/orders/{order_id}/reject")
async def reject(order_id: str, request: Request, form: PostedDep) -> Response:
    orders = form.viewer.reserve.orders
    return await _step(request, form, order_id, lambda v: orders.reject(
        order_id, actor=v.name, reason=form.need("reason", "Reason")), "Rejected")


@router.post("/orders/{order_id}/cancel")
async def cancel(order_id: str, request: Request, form: PostedDep) -> Response:
    orders = form.viewer.reserve.orders
    return await _step(request, form, order_id, lambda v: orders.cancel(
        order_id, actor=v.name), "Cancelled")


@router.post("/orders/{order_id}/settle")
async def settle(order_id: str, request: Request, form: PostedDep) -> Response:
    orders = form.viewer.reserve.orders
    return await _step(request, form, order_id, lambda v: orders.settle(
        order_id, actor=v.name), "Settled")


@router.post("/orders/{order_id}/fills")
async def fill(order_id: str, request: Request, form: PostedDep) -> Response:
    orders = form.viewer.reserve.orders

    def book(viewer: Viewer) -> Order:
        at = datetime.now(UTC)
        booked = Fill(form.need("fill_id", "Fill id"), amount(form, "quantity", "Quantity"),
                      amount(form, "price", "Price"), optional_amount(
                          form, "fees_usd", "Fees") or Decimal(0), form.need("venue", "Venue"),
                      form.need("counterparty", "Counterparty"), at,
                      day(form, "settlement_date", "Settlement date", at.date()))
        return orders.execute(order_id, booked, actor=viewer.name)

    return await _step(request, form, order_id, book, "Fill booked")
