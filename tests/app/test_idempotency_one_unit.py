"""IdempotencyService.run_once: the key, the use case's writes and the stored response
commit together, or nothing does."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from qoima.app.idempotency import (
    IdempotencyInFlight,
    IdempotencyKeyReused,
    IdempotencyOutcome,
    IdempotencyService,
)
from qoima.app.ports import UnitOfWork
from qoima.bootstrap.wiring import Reserve
from tests.app.test_auth import FakeClock
from tests.app.test_idempotency import BODY, ORDERS, OTHER_BODY, START, idempotency_repository
from tests.builders import cash_in
from tests.store.helpers import entries, ready

JSON = "application/json"


@pytest.fixture
def keys(reserve: Reserve) -> IdempotencyService:
    ready(reserve)
    return IdempotencyService(reserve.units, FakeClock(START),
                              repository=idempotency_repository)


def key_rows(reserve: Reserve) -> int:
    with reserve.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM idempotency_keys")).scalar_one())


def test_new_then_replay_byte_for_byte(reserve: Reserve, keys: IdempotencyService) -> None:
    calls: list[int] = []

    def work(uow: UnitOfWork) -> tuple[int, bytes, str]:
        calls.append(1)
        return 201, b'{"order_id":"o-1"}', JSON
    first = keys.run_once("k-1", "alice", ORDERS, BODY, work)
    assert first.outcome is IdempotencyOutcome.NEW and first.body == b'{"order_id":"o-1"}'
    again = keys.run_once("k-1", "alice", ORDERS, BODY, work)
    assert again.outcome is IdempotencyOutcome.REPLAY
    assert (again.status, again.body) == (201, b'{"order_id":"o-1"}')
    assert calls == [1]  # the use case ran once
    with pytest.raises(IdempotencyKeyReused):
        keys.run_once("k-1", "alice", ORDERS, OTHER_BODY, work)


def test_a_failing_use_case_leaves_neither_key_nor_writes(reserve: Reserve,
                                                          keys: IdempotencyService) -> None:
    before = len(entries(reserve))

    def work(uow: UnitOfWork) -> tuple[int, bytes, str]:
        # a real write in the unit (the book's own posting step), then a failure
        reserve.book._post(uow, [cash_in("c-1", START.date(), "fund-a", "5")], "t")
        raise RuntimeError("renderer broke after the write")
    with pytest.raises(RuntimeError):
        keys.run_once("k-2", "alice", ORDERS, BODY, work)
    assert key_rows(reserve) == 0
    assert len(entries(reserve)) == before
    ok = keys.run_once("k-2", "alice", ORDERS, BODY, lambda uow: (201, b"{}", JSON))
    assert ok.outcome is IdempotencyOutcome.NEW  # the key was free for the retry


def test_a_non_2xx_answer_is_not_stored(reserve: Reserve, keys: IdempotencyService) -> None:
    state = keys.run_once("k-3", "alice", ORDERS, BODY, lambda uow: (409, b"{}", JSON))
    assert state.status == 409
    assert key_rows(reserve) == 0


def test_a_key_in_flight_elsewhere_is_409(reserve: Reserve, keys: IdempotencyService) -> None:
    keys.begin("k-4", "alice", ORDERS, BODY)  # the generic two-step path holds it
    with pytest.raises(IdempotencyInFlight):
        keys.run_once("k-4", "alice", ORDERS, BODY, lambda uow: (201, b"{}", JSON))
