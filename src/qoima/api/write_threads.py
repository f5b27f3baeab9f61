"""Writes run on threads of their own, apart from the reads.

Every write queues for the database's single write lock (SQLite's, or the advisory lock on
PostgreSQL). Run on the same threads as the reads, a burst of queued writes would hold every
thread while it waits, and reads would wait behind writes they do not depend on. API
routes for POST, PUT, PATCH and DELETE (and the Idempotency-Key bookkeeping around them) take
a thread from this pool instead (``ApiSettings.write_threads`` per worker); reads keep
anyio's default pool (``ApiSettings.request_threads``).
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar

T = TypeVar("T")
DEFAULT = 8
_LIMITER: RunVar[CapacityLimiter] = RunVar("qoima_write_threads")


def write_limiter() -> CapacityLimiter:
    """This event loop's pool of write threads (made on first use)."""
    try:
        return _LIMITER.get()
    except LookupError:
        limiter = CapacityLimiter(DEFAULT)
        _LIMITER.set(limiter)
        return limiter


def set_write_threads(count: int) -> None:
    write_limiter().total_tokens = count


async def run_write(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` on a write thread."""
    return await to_thread.run_sync(function, *args, limiter=write_limiter())


def on_write_threads(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A plain-function endpoint as a coroutine that runs it on a write thread, with the
    same signature (annotations resolved), name and docstring, so FastAPI reads the same
    parameters, dependencies and documentation from it. Coroutines are returned as they are.
    """
    if inspect.iscoroutinefunction(endpoint):
        return endpoint
    hints = typing.get_type_hints(endpoint, include_extras=True)
    signature = inspect.signature(endpoint)
    signature = signature.replace(
        parameters=[p.replace(annotation=hints.get(p.name, p.annotation))
                    for p in signature.parameters.values()],
        return_annotation=hints.get("return", signature.return_annotation))

    async def run(**values: Any) -> Any:
        return await run_write(functools.partial(endpoint, **values))

    # Not functools.wraps: FastAPI follows __wrapped__ and would see a plain function.
    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(run, name, getattr(endpoint, name))
    run.__signature__ = signature  # type: ignore[attr-defined]
    return run

