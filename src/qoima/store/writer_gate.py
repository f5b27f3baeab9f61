"""One SQLite writer at a time, across threads and processes, handed over without polling.

SQLite queues writers with its busy handler, which sleeps between retries (up to 100 ms a
try): under a steady stream of writes from several API workers a queued writer often sleeps
long after the lock was released. Writers here first take a thread lock and then an
exclusive ``flock`` on ``<database>.writer``, which the kernel hands to the next waiter the
moment it is released; ``BEGIN IMMEDIATE`` then finds the database free. Another program
that writes without this gate (an older qoima, the sqlite3 shell) is still queued by the
busy handler, as before. Where ``fcntl`` does not exist (Windows) only the thread lock is
used.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class WriterGate:
    def __init__(self, database: Path | None) -> None:
        # Re-entrant: a write unit opened inside another on the same thread waits on
        # SQLite's own lock, as it did before this gate existed.
        self._lock = threading.RLock()
        self._path = None if database is None else database.with_name(database.name + ".writer")
        self._fd: int | None = None
        self._pid = os.getpid()

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            fd = self._file()
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _file(self) -> int | None:
        if self._path is None or fcntl is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def close(self) -> None:
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None
