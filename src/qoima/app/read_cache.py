"""Results computed from the database, kept while the database says its inputs are unchanged.

The store hands out a version token that changes with every write to the inputs (for the
valuation: database triggers on the reference, journal and market tables). A result is
reused only under the token it was computed with, read in the same transaction as the
caller's, so a cached answer is always the one a fresh computation would give.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


def absent_token() -> str:
    """A token no result was ever kept under: what a missing version row reads as, so that
    deleting the row disables reuse instead of freezing it."""
    return f"absent-{secrets.token_hex(16)}"


class TokenCache:
    """At most ``size`` results under the latest token; a new token drops the older ones."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._token: str | None = None
        self._results: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, key: Hashable, compute: Callable[[], T]) -> T:
        """The result for ``key`` under ``token``, computing it on a miss (outside the lock:
        two threads missing together both compute the same value)."""
        with self._lock:
            if token == self._token and key in self._results:
                self._results.move_to_end(key)
                result: T = self._results[key]
                return result
        value = compute()
        if self._size > 0:
            with self._lock:
                if token != self._token:
                    self._token = token
                    self._results.clear()
                self._results[key] = value
                while len(self._results) > self._size:
                    self._results.popitem(last=False)
        return value
