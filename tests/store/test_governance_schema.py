"""Migration 0002 (users, policies, breaches, orders): from empty, from 0001 with data, and back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from qoima.bootstrap.wiring import open_reserve, wire
from qoima.store import governance_tables as g
from qoima.store.database import Database
from qoima.store.schema import alembic_config, current_revision, head_revision, upgrade
from qoima.store.tables import metadata
from tests.builders import buy, cash_in
from tests.store.governance_helpers import fill, order, policy
from tests.store.helpers import balances, counts, entries, ready

GOVERNANCE = {"users", "user_grants", "policy_versions", "policy_breaches", "orders",
              "order_approvals", "order_fills"}
DAY = date(2026, 6, 1)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    made = Database(database_url)
    yield made
    made.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "target_metadata": metadata})
        return list(compare_metadata(context, metadata))


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection.execution_options(qoima_write=True)
        command.downgrade(config, revision)
        connection.commit()


def test_governance_tables_are_on_the_shared_metadata() -> None:
    assert set(metadata.tables) >= GOVERNANCE
    for table in (g.users, g.user_grants, g.policy_versions, g.policy_breaches, g.orders,
                  g.order_approvals, g.order_fills):
        assert metadata.tables[table.name] is table


def test_0002_adds_exactly_the_governance_tables(database: Database) -> None:
    engine = database.engine
    upgrade(engine, "0001")
    at_0001 = _tables(engine)
    assert not (at_0001 & GOVERNANCE)
    upgrade(engine, "0002")
    assert current_revision(engine) == "0002"
    assert _tables(engine) - at_0001 == GOVERNANCE
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    assert _tables(engine) == set(metadata.tables)
    assert _differences(engine) == []


def test_upgrade_from_0001_keeps_the_book(database: Database, database_url: str) -> None:
    # the book is written by today's code, then the schema goes back to 0001 and up again
    upgrade(database.engine)
    old = ready(wire(database))
    old.book.post([cash_in("c1", DAY, "fund-a", "1000000.25"),
                   buy("b1", DAY, "fund-a", "IBIT", "1000", "52.17")], actor="tester")
    _downgrade(database.engine, "0001")
    assert current_revision(database.engine) == "0001"
    before = (entries(old), balances(old, DAY), counts(old), old.audit.verify())
    assert before[3].ok and before[2] == (2, before[3].records)

    upgrade(database.engine)
    assert current_revision(database.engine) == head_revision(database.engine)
    reopened = open_reserve(database_url=database_url)  # refuses a database behind head
    try:
        check = reopened.audit.verify()
        assert check.ok, check.problems
        assert (entries(reopened), balances(reopened, DAY), counts(reopened)) == before[:3]
        assert check.records == before[3].records
        with reopened.units(write=True) as uow:  # the new tables take rows next to the old
            uow.orders.add_order(order(fills=(fill("f1", "1000"),)))
            uow.policies.add_version(policy())
            uow.commit()
        with reopened.units(write=False) as uow:
            assert uow.orders.find_order("ord-1") == order(fills=(fill("f1", "1000"),))
            assert uow.policies.find_version("fund-a", 1) == policy()
    finally:
        reopened.close()


def test_downgrade_to_0001_drops_only_governance(database: Database) -> None:
    engine = database.engine
    upgrade(engine)
    reserve = ready(wire(database))
    reserve.book.post([cash_in("c1", DAY, "fund-a", "500")], actor="tester")
    with reserve.units(write=True) as uow:
        uow.orders.add_order(order())
        uow.commit()
    _downgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    assert not (_tables(engine) & GOVERNANCE)
    assert counts(reserve) == (1, reserve.audit.verify().records)
    assert reserve.audit.verify().ok
    upgrade(engine)
    assert _differences(engine) == []
    with reserve.units(write=False) as uow:
        assert uow.orders.list_orders() == []  # the downgrade dropped them


def test_comparison_notices_a_governance_drift(database: Database) -> None:
    """Control: the comparisons above can fail on the new tables."""
    upgrade(database.engine)
    with database.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_orders_vehicle_status"))
    assert any("ix_orders_vehicle_status" in repr(d) for d in _differences(database.engine))
