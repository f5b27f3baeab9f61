"""Real processes writing at once: nothing lost, balances exact, limits never breached."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal

from qoima.bootstrap.wiring import Reserve
from tests.builders import cash_in, holding
from tests.store import workers
from tests.store.helpers import assert_book_consistent, counts, ready

SPAWN = multiprocessing.get_context("spawn")
USD_A = holding("fund-a", "USD")


def test_concurrent_writers_lose_nothing(reserve: Reserve, database_url: str) -> None:
    ready(reserve)
    before_entries, _ = counts(reserve)
    writers, each = 4, 15
    processes = [SPAWN.Process(target=workers.post_many, args=(database_url, f"w{i}", each))
                 for i in range(writers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    entries, _ = counts(reserve)
    assert entries == before_entries + writers * each
    assert_book_consistent(reserve, [workers.DAY])
    with reserve.units(write=False) as uow:
        balance = uow.journal.balances_as_of(workers.DAY)[USD_A]
    assert balance == Decimal("1.01") * writers * each
    assert reserve.audit.verify().ok


def test_racing_withdrawals_never_overdraw(reserve: Reserve, database_url: str) -> None:
    ready(reserve)
    reserve.book.post([cash_in("fund", workers.DAY, "fund-a", "100.00")], actor="setup")
    racers = 5  # each wants 40: only two fit in 100
    barrier, results = SPAWN.Barrier(racers), SPAWN.Queue()
    processes = [SPAWN.Process(target=workers.withdraw,
                               args=(database_url, f"fee-{i}", "40.00", barrier, results))
                 for i in range(racers)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in range(racers)]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert sorted(status for _, status in outcomes) == ["ok", "ok"] + ["overdraft"] * 3
    with reserve.units(write=False) as uow:
        assert uow.journal.balances_as_of(workers.DAY)[USD_A] == Decimal("20.00")
    assert_book_consistent(reserve, [workers.DAY])
    assert reserve.audit.verify().ok
