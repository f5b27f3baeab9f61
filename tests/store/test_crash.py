"""kill -9 in the middle of posting: every acknowledged entry survives, the book balances."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from qoima.bootstrap.wiring import Reserve, open_reserve
from tests.store import workers
from tests.store.helpers import assert_book_consistent, entries, ready

ROOT = Path(__file__).resolve().parents[2]
TOTAL, KILL_AFTER = 10_000, 600


def test_acknowledged_entries_survive_sigkill(reserve: Reserve, database_url: str) -> None:
    ready(reserve)
    reserve.close()
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.store.workers", database_url, str(TOTAL)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    acknowledged: list[str] = []
    assert child.stdout is not None
    for line in child.stdout:
        acknowledged.append(line.strip())
        if len(acknowledged) >= KILL_AFTER:
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
    # What the child printed before the kill landed but this loop had not read yet was
    # acknowledged too (on a busy machine the child can be a few entries ahead).
    acknowledged += [line.strip() for line in child.stdout if line.strip()]
    assert len(acknowledged) >= KILL_AFTER

    reopened = open_reserve(database_url=database_url)
    try:
        stored = {e.entry_id for e in entries(reopened)}
        assert set(acknowledged) <= stored
        assert len(stored - set(acknowledged)) <= 1  # at most the one in flight committed
        assert_book_consistent(reopened, [workers.DAY])
        result = reopened.audit.verify()
        assert result.ok, result.problems
        # and it keeps working: the next post lands
        reopened.book.post([workers.cash_in("after-crash", workers.DAY, "fund-a", "1")],
                           actor="after")
    finally:
        reopened.close()
