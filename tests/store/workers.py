"""Child processes for the concurrency and crash tests (``python -m tests.store.workers``)."""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

from qoima.bootstrap.wiring import open_reserve
from qoima.domain.errors import Overdraft
from tests.builders import cash_in, fee

DAY = date(2025, 6, 2)


def post_many(url: str, prefix: str, count: int) -> None:
    """Post ``count`` funding entries one unit of work at a time (for concurrent writers)."""
    reserve = open_reserve(database_url=url)
    try:
        for n in range(count):
            reserve.book.post([cash_in(f"{prefix}-{n}", DAY, "fund-a", "1.01")], actor=prefix)
    finally:
        reserve.close()


def withdraw(url: str, entry_id: str, amount: str, barrier: Any, results: Any) -> None:
    """Wait for every racer, then try one fee; report whether the overdraft guard let it in."""
    reserve = open_reserve(database_url=url)
    try:
        barrier.wait()
        try:
            reserve.book.post([fee(entry_id, DAY, "fund-a", amount)], actor=entry_id)
            results.put((entry_id, "ok"))
        except Overdraft:
            results.put((entry_id, "overdraft"))
    finally:
        reserve.close()


def crash_writer(url: str, count: int) -> None:
    """Post entries one per unit of work; print each id only after its commit returned."""
    reserve = open_reserve(database_url=url)
    for n in range(count):
        entry_id = f"crash-{n}"
        reserve.book.post([cash_in(entry_id, DAY, "fund-a", "10.00")], actor="crash")
        sys.stdout.write(entry_id + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    crash_writer(sys.argv[1], int(sys.argv[2]))
