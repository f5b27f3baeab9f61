"""OrderService.page: the store's paging and vehicle filter give exactly what list gives,
and a cached page never outlives a change to an order."""

from __future__ import annotations

import pytest

from qoima.app.ports import ORDERS_AMENDED, ORDERS_DATA
from qoima.bootstrap.wiring import Reserve
from qoima.domain.roles import Role, RoleGrant
from qoima.orders.model import Order, OrderStatus
from tests.app.governance import governed_demo, ibit

OTHER = "fx-reserves"


@pytest.fixture
def book(reserve: Reserve) -> Reserve:
    governed_demo(reserve)
    reserve.users.add("pm-fx", "PM FX", [RoleGrant(Role.PORTFOLIO_MANAGER, OTHER)],
                      actor="admin")
    for n in range(7):
        reserve.orders.new(ibit(str(10 + n)), idempotency_key=f"s{n}", actor="pm")
    for n in range(3):
        reserve.orders.new(ibit(str(20 + n), vehicle_code=OTHER, tranche_code=None),
                           idempotency_key=f"o{n}", actor="pm-fx")
    return reserve


def paged(reserve: Reserve, actor: str, limit: int, **filters: object) -> list[Order]:
    found: list[Order] = []
    offset = 0
    while True:
        page, total = reserve.orders.page(actor=actor, offset=offset, limit=limit,
                                          **filters)  # type: ignore[arg-type]
        found += page
        assert total == len(reserve.orders.list(actor=actor, **filters))  # type: ignore[arg-type]
        if offset + limit >= total:
            return found
        offset += limit


@pytest.mark.parametrize(("actor", "visible"), [("pm", 7), ("pm-fx", 3), ("auditor", 10),
                                               ("liaison", 0)])
def test_pages_join_up_to_the_list_each_reader_may_see(book: Reserve, actor: str,
                                                       visible: int) -> None:
    listed = book.orders.list(actor=actor)
    assert len(listed) == visible
    for limit in (1, 3, 50):
        assert [o.order_id for o in paged(book, actor, limit)] == [o.order_id for o in listed]


def test_filters_by_vehicle_and_status_and_hides_other_vehicles(book: Reserve) -> None:
    assert book.orders.page(actor="pm", offset=0, limit=50, vehicle=OTHER) == ([], 0)
    own, total = book.orders.page(actor="pm-fx", offset=0, limit=50, vehicle=OTHER)
    assert total == 3 and {o.vehicle_code for o in own} == {OTHER}
    first = book.orders.list(actor="pm")[0]
    book.orders.submit(first.order_id, actor="pm")
    submitted, total = book.orders.page(actor="auditor", offset=0, limit=50,
                                        status=[OrderStatus.SUBMITTED.value])
    assert total == 1 and submitted[0].order_id == first.order_id


def test_a_cached_page_follows_each_change(book: Reserve) -> None:
    before, _ = book.orders.page(actor="auditor", offset=0, limit=50)
    again, _ = book.orders.page(actor="auditor", offset=0, limit=50)
    assert again is before  # the same page object: read from the cache
    order = before[0]
    book.orders.submit(order.order_id, actor="pm")
    after, _ = book.orders.page(actor="auditor", offset=0, limit=50)
    assert after[0].status is OrderStatus.SUBMITTED
    book.orders.new(ibit("99"), idempotency_key="late", actor="pm")
    _, total = book.orders.page(actor="auditor", offset=0, limit=50)
    assert total == 11


def amended_token(reserve: Reserve) -> tuple[str, str]:
    with reserve.units(write=False) as uow:
        return (uow.reference.data_token(ORDERS_DATA),
                uow.reference.data_token(ORDERS_AMENDED))


def test_a_new_order_keeps_the_contents_an_amendment_renews_them(book: Reserve) -> None:
    """0010: adding an order renews "orders" only; changing one (its row, approvals or
    fills) renews "orders_amended" too. A page's contents are kept under the latter, so
    posting orders does not rebuild the pages, and a new order still joins its page."""
    first, _ = book.orders.page(actor="auditor", offset=0, limit=50)
    orders_before, amended_before = amended_token(book)
    late = book.orders.new(ibit("98"), idempotency_key="late-1", actor="pm")
    orders_after, amended_after = amended_token(book)
    assert orders_after != orders_before and amended_after == amended_before
    page, total = book.orders.page(actor="auditor", offset=0, limit=50)
    assert total == 11 and [o.order_id for o in page] == [
        *(o.order_id for o in first), late.order_id]
    kept, _ = book.orders.page(actor="auditor", offset=0, limit=10)
    assert kept == first  # the first ten: the same orders, read from the cache
    book.orders.submit(late.order_id, actor="pm")
    assert amended_token(book)[1] != amended_after
    page, _ = book.orders.page(actor="auditor", offset=10, limit=1)
    assert page[0].order_id == late.order_id and page[0].status is OrderStatus.SUBMITTED
