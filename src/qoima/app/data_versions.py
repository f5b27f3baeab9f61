"""The current version tokens of named data, for callers that keep results of their own.

The database renews a random token on every write to the tables behind a name (0009:
valuation, access, orders). A caller that reads the tokens *before* computing a result and
keeps the result under them can serve it again exactly while the tokens are unchanged: a
write in between only makes the kept result unreachable, never stale (the API's response
cache, :mod:`qoima.api.read_cache`).
"""

from __future__ import annotations

from collections.abc import Sequence

from qoima.app.ports import UnitOfWorkFactory
from qoima.app.read_cache import absent_token


class DataVersions:
    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units

    def current(self, names: Sequence[str]) -> tuple[str, ...]:
        """The tokens of ``names``, in that order, read in one query; a name whose row is
        gone gets a fresh random token (nothing kept under it is ever reused)."""
        with self._units(write=False) as uow:
            found = uow.reference.data_tokens()
        return tuple(found.get(name) or absent_token() for name in names)
