"""Migration 0003 (custody transfers) and the transfer repository, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from qoima.app.transfer_ports import TransferApprovalRecord, TransferRecord
from qoima.bootstrap.wiring import open_reserve
from qoima.domain.errors import Conflict, NotFound
from qoima.store.database import Database
from qoima.store.schema import current_revision, head_revision, upgrade
from tests.store.test_governance_schema import _downgrade, _tables

TRANSFERS = {"transfers", "transfer_approvals"}
AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    made = Database(database_url)
    yield made
    made.dispose()


def test_0003_adds_exactly_the_transfer_tables_and_goes_back(database: Database) -> None:
    engine = database.engine
    assert head_revision(engine) >= "0003"
    upgrade(engine, "0002")
    at_0002 = _tables(engine)
    assert not (at_0002 & TRANSFERS)
    upgrade(engine, "0003")
    assert current_revision(engine) == "0003"
    assert _tables(engine) - at_0002 == TRANSFERS
    _downgrade(engine, "0002")
    assert _tables(engine) == at_0002


def _record(**changes: object) -> TransferRecord:
    from dataclasses import replace

    base = TransferRecord(
        "trf-1", "key-1", "alem-fund", "BNB", "bnb-smart-chain", "0xabc",
        Decimal("1.000000000000000001"), "holding:alem-fund/main:BNB@bitgo", "proposed",
        "pm", AT, AT, 3, value_usd=Decimal("590.46"))
    return replace(base, **changes)  # type: ignore[arg-type]


def test_repository_round_trip_idempotency_and_approvals(database_url: str) -> None:
    from qoima.app.demo.build import build_demo, load_demo

    reserve = open_reserve(database_url=database_url, create=True)
    try:
        load_demo(reserve.book, reserve.market_data, build_demo(), actor="loader")
        with reserve.units(write=True) as uow:
            assert uow.transfers.add_transfer(_record()) == "trf-1"
            assert uow.transfers.add_transfer(_record(transfer_id="trf-2")) == "trf-1"
            with pytest.raises(Conflict):
                uow.transfers.add_transfer(_record(idempotency_key="key-2"))
            uow.transfers.add_approval("trf-1", TransferApprovalRecord("risk", AT,
                                                                       ("risk_officer",)))
            uow.transfers.add_approval("trf-1", TransferApprovalRecord("cm1", AT))
            uow.transfers.add_approval("trf-1", TransferApprovalRecord(
                "risk", AT, ("risk_officer",), "again"))  # replaces the earlier one
            with pytest.raises(NotFound):
                uow.transfers.add_approval("trf-x", TransferApprovalRecord("cm1", AT))
            uow.transfers.update_transfer(_record(status="executed", tx_id="0x1",
                                                  entry_id="trf-1-exec", executed_at=AT))
            uow.commit()
        with reserve.units(write=False) as uow:
            stored = uow.transfers.find_transfer("trf-1")
            assert stored is not None
            assert stored.quantity == Decimal("1.000000000000000001")
            assert (stored.status, stored.tx_id, stored.executed_at) == ("executed", "0x1", AT)
            assert [(a.user, a.override_reason) for a in stored.approvals] == [
                ("cm1", None), ("risk", "again")]
            assert uow.transfers.find_by_idempotency_key("key-1") == stored
            assert uow.transfers.list_transfers("alem-fund", "executed") == [stored]
            assert uow.transfers.list_transfers("alem-fund", ["proposed"]) == []
    finally:
        reserve.close()
