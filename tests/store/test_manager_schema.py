"""Migration 0007 (external managers) and the manager repository, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import inspect

from qoima.app.demo.build import build_demo
from qoima.app.manager_ports import (
    ExposureRecord,
    FeeRecord,
    FlowRecord,
    MandateRecord,
    StatementRecord,
)
from qoima.bootstrap.wiring import Reserve, open_reserve
from qoima.domain.errors import Conflict
from qoima.store import manager_tables as mt
from qoima.store.database import Database
from qoima.store.manager_repo import SqlManagerRepository, manager_repository
from qoima.store.schema import current_revision, head_revision, upgrade
from tests.store.test_governance_schema import _differences, _downgrade, _tables

MANAGERS = {"manager_mandates", "manager_statements", "manager_statement_flows",
            "manager_statement_fees", "manager_exposures"}
AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
EXACT = Decimal("123456789012.345678901234567891")  # 30 digits: NUMERIC(38,18) keeps them


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    made = Database(database_url)
    yield made
    made.dispose()


def test_0007_adds_exactly_the_manager_tables_and_goes_back(database: Database) -> None:
    engine = database.engine
    upgrade(engine, "0006")
    at_0006 = _tables(engine)
    assert not (at_0006 & MANAGERS)
    upgrade(engine, "0007")
    assert current_revision(engine) == "0007"
    assert _tables(engine) - at_0006 == MANAGERS
    assert {t.name for t in mt.MANAGER_TABLES} == MANAGERS
    upgrade(engine)  # later revisions leave the manager tables as 0007 made them
    assert [d for d in _differences(engine) if _touches(d, MANAGERS)] == []
    inspector = inspect(engine)
    assert {ix["name"] for ix in inspector.get_indexes("manager_statements")} >= {
        "ix_manager_statements_period_end"}
    assert {ix["name"] for ix in inspector.get_indexes("manager_exposures")} >= {
        "ix_manager_exposures_asset"}
    assert "ck_manager_statement_flows_kind" in {
        ck["name"] for ck in inspector.get_check_constraints("manager_statement_flows")}
    _downgrade(engine, "0006")
    assert current_revision(engine) == "0006"
    assert _tables(engine) == at_0006
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    assert _tables(engine) >= MANAGERS


def _touches(difference: object, tables: set[str]) -> bool:
    """Whether an autogenerate difference (a tuple, or a list of them) names ``tables``."""
    items = difference if isinstance(difference, list) else [difference]
    for item in items:
        for part in item if isinstance(item, tuple) else (item,):
            names = {getattr(part, "name", None),
                     getattr(getattr(part, "table", None), "name", None)}
            if names & tables or (isinstance(part, str) and part in tables):
                return True
    return False


@pytest.fixture
def manager_reserve(database_url: str) -> Iterator[Reserve]:
    """A fresh reserve with the managers, vehicle and instruments the keys point at."""
    reserve = open_reserve(database_url=database_url, create=True)
    reference = build_demo().reference
    with reserve.units(write=True) as uow:
        for code in ("BTC", "ETH", "USD"):
            uow.reference.add_instrument(next(i for i in reference.instruments
                                              if i.code == code))
        uow.reference.add_vehicle(next(v for v in reference.vehicles if v.code == "state-fund"))
        for manager in reference.managers:
            uow.reference.add_manager(manager)
        uow.commit()
    yield reserve
    reserve.close()


def _mandate(manager: str, version: int) -> MandateRecord:
    return MandateRecord(manager, version, "state-fund", "hedge_fund", f"{version:064d}",
                         f'{{"v":{version}}}', "manager: x\n", AT, "cm1")


def _statement(manager: str, start: date, end: date, nav: Decimal = EXACT) -> StatementRecord:
    return StatementRecord(
        manager, start, end, "USD", Decimal("100.5"), Decimal("-0.25"), nav, None, end,
        f"{manager}.xlsx", "statement", '[["closing_nav",4]]', "f" * 64, "c" * 64, 1, "[]",
        AT, "ops",
        flows=(FlowRecord(1, start, "subscription", Decimal("10.01"), "MGR-x", False, 3),
               FlowRecord(2, end, "redemption", Decimal("0.01"), "SF-y", True, 5)),
        fees=(FeeRecord(1, "management", Decimal("0.000001"), 6),),
        exposures=(ExposureRecord(1, "BTC", "cme", "fcm", Decimal("-5"), Decimal("-50"), 7),
                   ExposureRecord(2, "USD", "bank", "bny", EXACT, None, 8)))


def test_mandate_versions(manager_reserve: Reserve) -> None:
    with manager_reserve.units(write=True) as uow:
        repo = manager_repository(uow)
        assert repo.find_mandate("hf-a") is None and repo.list_mandates() == []
        for record in (_mandate("hf-a", 1), _mandate("hf-b", 1), _mandate("hf-a", 2)):
            repo.add_mandate(record)
        with pytest.raises(Conflict):
            repo.add_mandate(replace(_mandate("hf-a", 2), recorded_by="other"))
        uow.commit()
    with manager_reserve.units(write=False) as uow:
        repo = SqlManagerRepository(uow._connection)
        assert repo.find_mandate("hf-a") == _mandate("hf-a", 2)
        assert repo.find_mandate("hf-a", 1) == _mandate("hf-a", 1)
        assert repo.find_mandate("hf-a", 3) is None
        assert [(m.manager_code, m.version) for m in repo.list_mandates()] == [
            ("hf-a", 2), ("hf-b", 1)]
        assert repo.mandate_history("hf-a") == [_mandate("hf-a", 1), _mandate("hf-a", 2)]


def test_statements_with_their_lines_round_trip_exactly(manager_reserve: Reserve) -> None:
    jan = _statement("hf-a", date(2026, 1, 1), date(2026, 1, 31))
    feb = _statement("hf-a", date(2026, 2, 1), date(2026, 2, 28), Decimal("7"))
    other = replace(_statement("hf-b", date(2026, 1, 1), date(2026, 1, 31)), flows=(),
                    fees=(), exposures=())
    with manager_reserve.units(write=True) as uow:
        repo = manager_repository(uow)
        stored = [repo.add_statement(s) for s in (feb, jan, other)]
        assert all(s.statement_id is not None for s in stored)
        with pytest.raises(Conflict):
            repo.add_statement(replace(jan, file_hash="0" * 64))
        uow.commit()
    with manager_reserve.units(write=False) as uow:
        repo = manager_repository(uow)
        found = repo.find_statement("hf-a", date(2026, 1, 31))
        assert found is not None
        assert replace(found, statement_id=None) == jan
        assert found.exposures[1].market_value == EXACT  # every digit kept
        assert found.fees[0].amount == Decimal("0.000001")
        assert found.flows[1].matched is True
        assert repo.find_statement("hf-a", date(2026, 3, 31)) is None
        listed = repo.list_statements()
        assert [(s.manager_code, s.period_end) for s in listed] == [
            ("hf-a", date(2026, 1, 31)), ("hf-a", date(2026, 2, 28)),
            ("hf-b", date(2026, 1, 31))]
        assert [s.period_end for s in repo.list_statements("hf-a", date(2026, 2, 1))] == [
            date(2026, 1, 31)]
        latest = repo.latest_statements(date(2026, 2, 28))
        assert {m: s.period_end for m, s in latest.items()} == {
            "hf-a": date(2026, 2, 28), "hf-b": date(2026, 1, 31)}
        assert latest["hf-b"].flows == () and latest["hf-b"].exposures == ()
        assert repo.latest_statements(date(2025, 12, 31)) == {}
        assert {m: s.period_end for m, s in repo.latest_statements(
            date(2026, 2, 27)).items()} == {"hf-a": date(2026, 1, 31),
                                            "hf-b": date(2026, 1, 31)}
