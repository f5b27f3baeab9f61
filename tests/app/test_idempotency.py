"""Idempotency-Key: replay, reuse with another body, in flight, expiry, and a real race."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from qoima.app.idempotency import (
    IdempotencyInFlight,
    IdempotencyKeyReused,
    IdempotencyOutcome,
    IdempotencyService,
    IdempotencyState,
)
from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import InvalidInput, NotFound
from qoima.store.auth_repo import SqlIdempotencyRepository
from tests.app.test_auth import FakeClock

START = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
ORDERS = "POST /api/orders"
BODY = hashlib.sha256(b'{"quantity": "100"}').hexdigest()
OTHER_BODY = hashlib.sha256(b'{"quantity": "1000"}').hexdigest()
NEW = IdempotencyState(IdempotencyOutcome.NEW)


def idempotency_repository(uow: Any) -> Any:
    """``uow.idempotency`` once wired; until then the repository over the unit's connection."""
    return getattr(uow, "idempotency", None) or SqlIdempotencyRepository(uow._connection)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def keys(reserve: Reserve, clock: FakeClock) -> IdempotencyService:
    return IdempotencyService(reserve.units, clock, repository=idempotency_repository)


def test_same_key_and_body_replays_the_first_response(keys: IdempotencyService) -> None:
    assert keys.begin("k-1", "alice", ORDERS, BODY) == NEW
    keys.complete("k-1", "alice", 201, b'{"order_id": "o-1"}', "application/json")
    replay = keys.begin("k-1", "alice", ORDERS, BODY)
    assert replay == IdempotencyState(IdempotencyOutcome.REPLAY, 201,
                                      (("content-type", "application/json"),),
                                      b'{"order_id": "o-1"}')
    assert not replay.is_new
    assert keys.begin("k-1", "alice", ORDERS, BODY) == replay  # as often as asked


def test_same_key_with_another_body_or_endpoint_is_refused(keys: IdempotencyService) -> None:
    keys.begin("k-1", "alice", ORDERS, BODY)
    with pytest.raises(IdempotencyKeyReused):  # while in flight too: 422, not 409
        keys.begin("k-1", "alice", ORDERS, OTHER_BODY)
    keys.complete("k-1", "alice", 201, b"{}", "application/json")
    with pytest.raises(IdempotencyKeyReused):
        keys.begin("k-1", "alice", ORDERS, OTHER_BODY)
    with pytest.raises(IdempotencyKeyReused):
        keys.begin("k-1", "alice", "POST /api/transfers", BODY)


def test_a_key_in_flight_is_refused_until_completed_or_abandoned(
        keys: IdempotencyService) -> None:
    keys.begin("k-1", "alice", ORDERS, BODY)
    with pytest.raises(IdempotencyInFlight):
        keys.begin("k-1", "alice", ORDERS, BODY)
    keys.abandon("k-1", "alice")  # the request failed before writing anything
    assert keys.begin("k-1", "alice", ORDERS, OTHER_BODY) == NEW
    keys.complete("k-1", "alice", 200, b"ok", "text/plain")
    keys.abandon("k-1", "alice")  # a completed key keeps its response
    assert keys.begin("k-1", "alice", ORDERS, OTHER_BODY).body == b"ok"


def test_keys_belong_to_one_user(keys: IdempotencyService) -> None:
    keys.begin("k-1", "alice", ORDERS, BODY)
    keys.complete("k-1", "alice", 201, b"alice's order", "text/plain")
    assert keys.begin("k-1", "bob", ORDERS, BODY) == NEW


def test_keys_expire_after_their_ttl(keys: IdempotencyService, clock: FakeClock) -> None:
    keys.begin("k-1", "alice", ORDERS, BODY)
    keys.begin("k-stuck", "alice", ORDERS, BODY)  # never completed (a crash)
    clock.advance(hours=1)
    keys.complete("k-1", "alice", 201, b"{}", "application/json")  # kept 24 h from now
    clock.advance(hours=23, seconds=1)
    assert keys.begin("k-stuck", "alice", ORDERS, OTHER_BODY) == NEW
    assert keys.begin("k-1", "alice", ORDERS, BODY).outcome is IdempotencyOutcome.REPLAY
    clock.advance(hours=1)
    assert keys.purge() == 1  # k-1; k-stuck was taken again 1 h ago
    assert keys.begin("k-1", "alice", ORDERS, OTHER_BODY) == NEW


def test_bad_keys_and_completing_an_unknown_key(keys: IdempotencyService) -> None:
    for bad in ("", "has space", "x" * 201, "ключ"):
        with pytest.raises(InvalidInput):
            keys.begin(bad, "alice", ORDERS, BODY)
    with pytest.raises(NotFound):
        keys.complete("never-begun", "alice", 201, b"{}", "application/json")


def test_racing_begins_reserve_the_key_exactly_once(keys: IdempotencyService) -> None:
    racers = 6
    for round_ in range(3):
        key = f"race-{round_}"
        barrier = threading.Barrier(racers)
        results: list[str] = []

        def begin(key: str = key, barrier: threading.Barrier = barrier,
                  results: list[str] = results) -> None:
            barrier.wait()
            try:
                results.append(str(keys.begin(key, "alice", ORDERS, BODY).outcome))
            except IdempotencyInFlight:
                results.append("in_flight")

        threads = [threading.Thread(target=begin) for _ in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == ["in_flight"] * (racers - 1) + ["new"]
