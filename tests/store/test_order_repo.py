"""Orders, approvals and fills through the unit of work, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from qoima.app.ports import UnitOfWork
from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import Conflict, NotFound
from qoima.store import governance_tables as g
from tests.store.governance_helpers import TINY, WIDE, approval, at, fill, order, seed

D = Decimal


@pytest.fixture
def governed(reserve: Reserve) -> Reserve:
    return seed(reserve)


def write(reserve: Reserve, work: Callable[[UnitOfWork], object]) -> object:
    with reserve.units(write=True) as uow:
        result = work(uow)
        uow.commit()
    return result


def read(reserve: Reserve, work: Callable[[UnitOfWork], object]) -> object:
    with reserve.units(write=False) as uow:
        return work(uow)


def count(reserve: Reserve, table: object) -> int:
    with reserve.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_order_round_trip_is_exact(governed: Reserve) -> None:
    full = order(quantity=WIDE, estimated_price=TINY, limit_price=D("52.500000000000000001"),
                 tranche_code="main", custodian_code="bny", note="sleeve top-up «A»",
                 status="partially_executed", rejection_reason=None,
                 pretrade_json='[{"rule":"policy.size","severity":"warning"}]',
                 pretrade_policy_hash="p" * 64,
                 approvals=(approval("risk", 10), approval("chair", 11, override_reason="why")),
                 fills=(fill("f1", "0.000000000000000001", price=str(WIDE)),
                        fill("f2", "250000.5", entry_id="fill-ord-1-f2")))
    assert write(governed, lambda uow: uow.orders.add_order(full)) == "ord-1"
    stored = read(governed, lambda uow: uow.orders.find_order("ord-1"))
    assert stored == full
    # exact to the last digit, not merely equal after rounding
    assert format(stored.quantity, "f") == "12345678901234567890.123456789012345678"
    assert format(stored.estimated_price, "f") == "0.000000000000000001"
    assert format(stored.limit_price, "f") == "52.500000000000000001"
    assert format(stored.fills[0].price, "f") == format(WIDE, "f")
    assert stored.fills[1].quantity == D("250000.5")
    assert stored.approvals[1].roles == ("risk_officer", "committee_member")
    assert read(governed, lambda uow: uow.orders.find_by_idempotency_key("key-1")) == full
    assert read(governed, lambda uow: uow.orders.find_order("ord-2")) is None
    assert read(governed, lambda uow: uow.orders.find_by_idempotency_key("key-2")) is None


def test_trailing_zeros_do_not_matter(governed: Reserve) -> None:
    write(governed, lambda uow: uow.orders.add_order(order(quantity=D("100.50"),
                                                           estimated_price=D("1E+2"))))
    stored = read(governed, lambda uow: uow.orders.find_order("ord-1"))
    assert (str(stored.quantity), str(stored.estimated_price)) == ("100.5", "100")


def test_idempotency_key_returns_the_first_order(governed: Reserve) -> None:
    first = order()
    assert write(governed, lambda uow: uow.orders.add_order(first)) == "ord-1"
    other = order(order_id="ord-2", quantity=D("5"), fills=(fill("f9", "5"),),
                  approvals=(approval("risk", 3),))
    assert write(governed, lambda uow: uow.orders.add_order(other)) == "ord-1"
    assert read(governed, lambda uow: uow.orders.list_orders()) == [first]
    assert (count(governed, g.orders), count(governed, g.order_fills),
            count(governed, g.order_approvals)) == (1, 0, 0)


def test_idempotency_key_is_unique_in_the_database(governed: Reserve) -> None:
    write(governed, lambda uow: uow.orders.add_order(order()))
    row = {"order_id": "ord-2", "idempotency_key": "key-1", "vehicle_code": "fund-a",
           "instrument_code": "IBIT", "side": "buy", "quantity": D(1), "estimated_price": D(1),
           "note": "", "status": "draft", "maker": "pm", "created_at": at(0),
           "updated_at": at(0), "terms_hash": "t", "pretrade_json": "[]"}
    with governed.engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(g.orders.insert().values(row))


def test_order_id_taken_under_another_key(governed: Reserve) -> None:
    write(governed, lambda uow: uow.orders.add_order(order()))
    with pytest.raises(Conflict, match="ord-1"):
        write(governed, lambda uow: uow.orders.add_order(order(key="key-2")))


def test_unknown_vehicle_or_bad_status_refused_by_the_database(governed: Reserve) -> None:
    with pytest.raises(IntegrityError):
        write(governed, lambda uow: uow.orders.add_order(order(vehicle="nowhere")))
    with pytest.raises(IntegrityError):
        write(governed, lambda uow: uow.orders.add_order(order(status="done")))
    with pytest.raises(IntegrityError):
        write(governed, lambda uow: uow.orders.add_order(order(side="short")))
    with pytest.raises(IntegrityError):  # tranche not in the vehicle
        write(governed, lambda uow: uow.orders.add_order(order(tranche_code="reserve")))
    assert count(governed, g.orders) == 0


def test_list_orders_by_vehicle_status_and_time(governed: Reserve) -> None:
    def add(uow: UnitOfWork) -> None:
        uow.orders.add_order(order("o-3", "k3", "fund-a", "approved", minutes=30))
        uow.orders.add_order(order("o-1", "k1", "fund-a", "draft", minutes=10))
        uow.orders.add_order(order("o-2", "k2", "fund-b", "approved", minutes=20,
                                   approvals=(approval("risk", 21),)))
        uow.orders.add_order(order("o-4", "k4", "fund-a", "partially_executed", minutes=40,
                                   fills=(fill("f1", "10"),)))
        uow.orders.add_order(order("o-0", "k0", "fund-a", "approved", minutes=30))  # same time
    write(governed, add)

    def ids(**filters: object) -> list[str]:
        found = read(governed, lambda uow: uow.orders.list_orders(**filters))
        return [o.order_id for o in found]

    assert ids() == ["o-1", "o-2", "o-0", "o-3", "o-4"]
    assert ids(vehicle_code="fund-a") == ["o-1", "o-0", "o-3", "o-4"]
    assert ids(status="approved") == ["o-2", "o-0", "o-3"]
    assert ids(vehicle_code="fund-a", status="approved") == ["o-0", "o-3"]
    assert ids(vehicle_code="fund-a", status=["approved", "partially_executed"]) == [
        "o-0", "o-3", "o-4"]
    assert ids(status=()) == []
    assert ids(limit=2) == ["o-1", "o-2"]
    listed = {o.order_id: o for o in read(governed, lambda uow: uow.orders.list_orders())}
    assert listed["o-2"].approvals == (approval("risk", 21),)
    assert listed["o-4"].fills == (fill("f1", "10"),)
    assert listed["o-3"].approvals == () and listed["o-3"].fills == ()


def test_update_order_writes_terms_and_state_not_identity(governed: Reserve) -> None:
    original = order(approvals=(approval("risk", 5),))
    write(governed, lambda uow: uow.orders.add_order(original))
    edited = replace(original, quantity=D("750000.25"), limit_price=D("51"), note="smaller",
                     status="rejected", rejection_reason="stale price", updated_at=at(50),
                     terms_hash="u" * 64, pretrade_json="[]", pretrade_policy_hash="h" * 64,
                     maker="someone-else", created_at=at(-99), idempotency_key="other",
                     approvals=())
    write(governed, lambda uow: uow.orders.update_order(edited))
    stored = read(governed, lambda uow: uow.orders.find_order("ord-1"))
    assert stored == replace(edited, maker="pm", created_at=at(0), idempotency_key="key-1",
                             approvals=original.approvals)
    with pytest.raises(NotFound):
        write(governed, lambda uow: uow.orders.update_order(order(order_id="ord-9")))


def test_approvals_appended_read_back_in_order_and_cleared(governed: Reserve) -> None:
    write(governed, lambda uow: (uow.orders.add_order(order()),
                                 uow.orders.add_order(order("ord-2", "key-2"))))
    # added out of time order: they come back in the order they were added
    given = [approval("risk", 30), approval("chair", 10, override_reason="committee quorum"),
             approval("member", 20, terms_hash="v" * 64)]
    for item in given:
        write(governed, lambda uow, item=item: uow.orders.add_approval("ord-1", item))
    write(governed, lambda uow: uow.orders.add_approval("ord-2", approval("other", 1)))
    assert read(governed, lambda uow: uow.orders.find_order("ord-1")).approvals == tuple(given)
    assert write(governed, lambda uow: uow.orders.clear_approvals("ord-1")) == 3
    assert read(governed, lambda uow: uow.orders.find_order("ord-1")).approvals == ()
    assert read(governed, lambda uow: uow.orders.find_order("ord-2")).approvals == (
        approval("other", 1),)
    write(governed, lambda uow: uow.orders.add_approval("ord-1", given[0]))
    assert read(governed, lambda uow: uow.orders.find_order("ord-1")).approvals == (given[0],)
    with pytest.raises(NotFound):
        write(governed, lambda uow: uow.orders.add_approval("ord-9", given[0]))


def test_fills_appended_in_order_and_unique_per_order(governed: Reserve) -> None:
    write(governed, lambda uow: (uow.orders.add_order(order()),
                                 uow.orders.add_order(order("ord-2", "key-2"))))
    given = [fill("f-b", "400000", minutes=90), fill("f-a", "0.5", minutes=80, entry_id="e1")]
    for item in given:
        write(governed, lambda uow, item=item: uow.orders.add_fill("ord-1", item))
    write(governed, lambda uow: uow.orders.add_fill("ord-2", given[0]))  # another order: fine
    stored = read(governed, lambda uow: uow.orders.find_order("ord-1"))
    assert stored.fills == tuple(given)
    assert sum((f.quantity for f in stored.fills), D(0)) == D("400000.5")
    with pytest.raises(Conflict, match="f-b"):
        write(governed, lambda uow: uow.orders.add_fill("ord-1", fill("f-b", "1")))
    with pytest.raises(NotFound):
        write(governed, lambda uow: uow.orders.add_fill("ord-9", given[0]))
    with pytest.raises(Conflict, match="twice"):
        write(governed, lambda uow: uow.orders.add_order(order(
            "ord-3", "key-3", fills=(fill("x", "1"), fill("x", "2")))))
    assert read(governed, lambda uow: uow.orders.find_order("ord-1")).fills == tuple(given)


def test_enum_members_are_stored_as_their_values(governed: Reserve) -> None:
    from enum import StrEnum

    class Side(StrEnum):
        BUY = "buy"

    class Status(StrEnum):
        SUBMITTED = "submitted"

    write(governed, lambda uow: uow.orders.add_order(order(side=Side.BUY,
                                                           status=Status.SUBMITTED)))
    stored = read(governed, lambda uow: uow.orders.find_order("ord-1"))
    assert (type(stored.side), stored.side, stored.status) == (str, "buy", "submitted")
    found = read(governed, lambda uow: uow.orders.list_orders(status=Status.SUBMITTED))
    assert [o.order_id for o in found] == ["ord-1"]
