"""Migration 0004 (gate decisions, tranche plans) and its repository, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from qoima.app.allocation_ports import GateDecisionRecord, TranchePlanRecord
from qoima.bootstrap.wiring import open_reserve
from qoima.domain.errors import Conflict, NotFound
from qoima.store.database import Database
from qoima.store.schema import current_revision, head_revision, upgrade
from tests.store.test_governance_schema import _downgrade, _tables

ALLOCATION = {"gate_decisions", "tranche_plans", "tranche_orders"}
AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    made = Database(database_url)
    yield made
    made.dispose()


def test_0004_adds_exactly_the_allocation_tables_and_goes_back(database: Database) -> None:
    engine = database.engine
    assert (head_revision(engine) or "") >= "0004"
    upgrade(engine, "0003")
    at_0003 = _tables(engine)
    assert not (at_0003 & ALLOCATION)
    upgrade(engine, "0004")
    assert current_revision(engine) == "0004"
    assert _tables(engine) - at_0003 == ALLOCATION
    _downgrade(engine, "0003")
    assert _tables(engine) == at_0003


def _decision(**changes: object) -> GateDecisionRecord:
    base = GateDecisionRecord("h" * 64, "da-sleeve", date(2026, 10, 30), "wait", 1, "p" * 64,
                              "g" * 64, "i" * 64, '{"verdict":"wait"}', AT, "risk")
    return replace(base, **changes)  # type: ignore[arg-type]


def _plan(**changes: object) -> TranchePlanRecord:
    base = TranchePlanRecord("plan-1", "key-1", "da-sleeve", date(2026, 10, 30),
                             Decimal("250000000.00"), "active", 1, "p" * 64, '{"tranches":[]}',
                             AT, "pm")
    return replace(base, **changes)  # type: ignore[arg-type]


def test_repository_is_idempotent_and_round_trips(database_url: str) -> None:
    from qoima.app.demo.build import build_demo, load_demo

    reserve = open_reserve(database_url=database_url, create=True)
    try:
        load_demo(reserve.book, reserve.market_data, build_demo(), actor="loader")
        with reserve.units(write=True) as uow:
            first = uow.allocation.add_gate_decision(_decision())
            assert first.id is not None
            again = uow.allocation.add_gate_decision(_decision(recorded_by="someone-else"))
            assert again == first  # the same decision hash: the first record
            other = uow.allocation.add_gate_decision(_decision(
                decision_hash="k" * 64, as_of_date=date(2026, 10, 29), verdict="go"))
            assert other.id != first.id
            assert uow.allocation.add_plan(_plan()) == _plan()
            assert uow.allocation.add_plan(_plan(plan_id="plan-2")) == _plan()  # same key
            with pytest.raises(Conflict):
                uow.allocation.add_plan(_plan(idempotency_key="key-2"))
            uow.allocation.set_plan_status("plan-1", "completed")
            with pytest.raises(NotFound):
                uow.allocation.set_plan_status("plan-x", "completed")
            uow.commit()
        with reserve.units(write=False) as uow:
            decisions = uow.allocation.list_gate_decisions("da-sleeve")
            assert [(d.as_of_date, d.verdict) for d in decisions] == [
                (date(2026, 10, 30), "wait"), (date(2026, 10, 29), "go")]
            assert decisions[0] == first
            assert uow.allocation.list_gate_decisions(limit=1) == [first]
            stored = uow.allocation.find_plan("plan-1")
            assert stored is not None
            assert (stored.status, stored.target_usd, stored.created_at) == (
                "completed", Decimal("250000000.00"), AT)
            assert uow.allocation.list_plans("da-sleeve", "completed") == [stored]
            assert uow.allocation.list_plans(status=["active"]) == []
            assert uow.allocation.find_plan("plan-x") is None
    finally:
        reserve.close()
