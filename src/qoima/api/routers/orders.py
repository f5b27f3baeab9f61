"""Orders and approvals: draft, submit, approve (four eyes), reject, cancel, execute,
settle. Another vehicle's order answers 404, as if it did not exist."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from qoima.api.access import hidden
from qoima.api.deps import ReserveDep, api_router
from qoima.api.idempotency import HEADER, once_in_one_unit
from qoima.api.models import Amount, Code, Day, Strict
from qoima.api.order_models import OrderOut
from qoima.api.pagination import Paging, page_counted
from qoima.api.read_cache import CONDITIONAL, cached_read
from qoima.api.responses import PageOut
from qoima.api.results import plain
from qoima.api.routing import OneUnitPostRoute
from qoima.api.security import Caller
from qoima.app.ports import ORDERS_DATA, UnitOfWork
from qoima.bootstrap.wiring import Reserve
from qoima.orders.approvals import approval_state
from qoima.orders.model import Fill, Order, OrderSide, OrderStatus, OrderTerms

router = api_router("orders")


class TermsIn(Strict):
    vehicle: Code
    instrument: Code
    side: OrderSide
    quantity: Amount
    estimated_price: Amount
    limit_price: Amount | None = None
    tranche: Code | None = None
    custodian: Code | None = None
    note: str = ""

    def terms(self) -> OrderTerms:
        return OrderTerms(self.vehicle, self.instrument, self.side, self.quantity,
                          self.limit_price, self.estimated_price, self.tranche, self.custodian,
                          self.note)


class OrderIn(TermsIn):
    client_order_id: Code | None = None  # the order's own idempotency id (default: the key)


class ApproveIn(Strict):
    override_reason: str | None = None


class RejectIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class FillIn(Strict):
    fill_id: Code
    quantity: Amount
    price: Amount
    venue: Code
    counterparty: Code
    fees_usd: Amount = Decimal("0")
    executed_at: datetime | None = None
    settlement_date: Day | None = None


def order_view(order: Order, reserve: Reserve) -> dict[str, Any]:
    return {**plain(order), "notional_usd": plain(order.terms.notional_usd),
            "remaining_quantity": plain(order.remaining_quantity),
            "still_needed": list(approval_state(order, reserve.orders.rules).missing),
            "links": {"self": f"/api/v1/orders/{order.order_id}"}}


def _visible(reserve: Reserve, order_id: str, actor: str) -> Order:
    return hidden(lambda: reserve.orders.get(order_id, actor=actor), f"no order {order_id!r}",
                  "order_id")


@router.get("/orders", summary="Orders the caller may read",
            response_model=PageOut[OrderOut], responses=CONDITIONAL)
async def list_orders(request: Request, reserve: ReserveDep, principal: Caller,
                      paging: Paging, vehicle: str | None = None,
                      status: Annotated[list[OrderStatus] | None, Query()] = None
                      ) -> Response:
    def render() -> dict[str, Any]:
        orders, total = reserve.orders.page(
            actor=principal.user, vehicle=vehicle, offset=paging.offset,
            limit=paging.limit, status=[s.value for s in status] if status else None)
        return page_counted(orders, total, paging, lambda o: order_view(o, reserve))
    return await cached_read(request, (ORDERS_DATA,), render,
                             PageOut[OrderOut])


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: str, reserve: ReserveDep, principal: Caller) -> dict[str, Any]:
    return order_view(_visible(reserve, order_id, principal.user), reserve)


async def create_order(body: OrderIn, request: Request, reserve: ReserveDep,
                       principal: Caller) -> Response:
    # The busiest write: its Idempotency-Key record, the order and its audit record are
    # one unit of work (one turn at the write lock instead of three).
    key = body.client_order_id or f"api:{principal.user}:{request.headers[HEADER]}"

    def draft(uow: UnitOfWork) -> tuple[int, bytes, str]:
        order = reserve.orders.new_in(uow, body.terms(), idempotency_key=key,
                                      actor=principal.user)
        return 201, bytes(JSONResponse(order_view(order, reserve)).body), "application/json"
    return await once_in_one_unit(request, draft)


router.add_api_route("/orders", create_order, methods=["POST"], status_code=201,
                     response_model=OrderOut,
                     summary="Draft an order (its maker never approves it)",
                     route_class_override=OneUnitPostRoute)


@router.put("/orders/{order_id}/terms",
             summary="New terms by the maker (approvals voided)", response_model=OrderOut)
def edit_order(order_id: str, body: TermsIn, reserve: ReserveDep,
               principal: Caller) -> dict[str, Any]:
    _visible(reserve, order_id, principal.user)
    return order_view(reserve.orders.edit(order_id, body.terms(), actor=principal.user),
                      reserve)


@router.post("/orders/{order_id}/submit",
             summary="Send to approvers (pre-trade check)", response_model=OrderOut)
def submit_order(order_id: str, reserve: ReserveDep, principal: Caller) -> dict[str, Any]:
    _visible(reserve, order_id, principal.user)
    return order_view(reserve.orders.submit(order_id, actor=principal.user), reserve)


@router.post("/orders/{order_id}/approvals",
             summary="Approve (four eyes, quorum by size)", response_model=OrderOut)
def approve_order(order_id: str, body: ApproveIn, reserve: ReserveDep,
                  principal: Caller) -> dict[str, Any]:
    _visible(reserve, order_id, principal.user)
    return order_view(reserve.orders.approve(order_id, actor=principal.user,
                                             override_reason=body.override_reason), reserve)


@router.post("/orders/{order_id}/rejection", response_model=OrderOut)
def reject_order(order_id: str, body: RejectIn, reserve: ReserveDep,
                 principal: Caller) -> dict[str, Any]:
    _visible(reserve, order_id, principal.user)
    return order_view(reserve.orders.reject(order_id, actor=principal.user,
                                            reason=body.reason), reserve)


@router.post("/orders/{order_id}/cancellation", response_model=OrderOut)
def cancel_order(order_id: str, reserve: ReserveDep, principal: Caller) -> dict[str, Any]:
    _visible(reserve, order_id, principal.user)
    return order_view(reserve.orders.cancel(order_id, actor=principal.user), reserve)


@router.post("/orders/{order_id}/fills",
             summary="Book a fill and its ledger entry", response_model=OrderOut)
def execute_order(order_id: str, body: FillIn, reserve: ReserveDep,
                  principal: Caller) -> dict[str, Any]:
    _visible(reserve, order_id, principal.user)
    at = body.executed_at or datetime.now(UTC)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    fill = Fill(body.fill_id, body.quantity, body.price, body.fees_usd, body.venue,
                body.counterparty, at, body.settlement_date or at.date())
    return order_view(reserve.orders.execute(order_id, fill, actor=principal.user), reserve)


@router.post("/orders/{order_id}/settlement", response_model=OrderOut)
def settle_order(order_id: str, reserve: ReserveDep, principal: Caller) -> dict[str, Any]:
    _visible(reserve, order_id, principal.user)
    return order_view(reserve.orders.settle(order_id, actor=principal.user), reserve)
