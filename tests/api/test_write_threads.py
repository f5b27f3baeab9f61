"""Writes run on their own threads: a queue of writes never holds the threads reads need."""

from __future__ import annotations

import inspect
import threading
import time
from typing import Annotated, get_args

import anyio
from anyio import to_thread
from fastapi import Query, params

from qoima.api.routers import orders
from qoima.api.write_threads import on_write_threads, set_write_threads, write_limiter


def endpoint(order_id: str, limit: Annotated[int, Query(ge=1)] = 5) -> dict[str, int]:
    """Says what it got."""
    return {order_id: limit}


def test_the_wrapped_endpoint_looks_the_same_to_fastapi() -> None:
    wrapped = on_write_threads(endpoint)
    assert inspect.iscoroutinefunction(wrapped) and not hasattr(wrapped, "__wrapped__")
    assert (wrapped.__name__, wrapped.__doc__) == ("endpoint", "Says what it got.")
    assert inspect.signature(wrapped).parameters.keys() == {"order_id", "limit"}
    limit = get_args(inspect.signature(wrapped).parameters["limit"].annotation)
    assert limit[0] is int and isinstance(limit[1], params.Query)  # resolved, not a string
    assert anyio.run(lambda: wrapped(order_id="x", limit=3)) == {"x": 3}
    assert on_write_threads(orders.create_order) is orders.create_order  # already async


def test_a_read_runs_while_every_write_thread_is_taken() -> None:
    ran: list[str] = []
    release = threading.Event()

    def blocked_write() -> None:
        release.wait(5)
        ran.append("write")

    async def main() -> None:
        set_write_threads(1)
        wrapped = on_write_threads(blocked_write)
        queued = on_write_threads(lambda: ran.append("queued write"))
        async with anyio.create_task_group() as group:
            group.start_soon(wrapped)
            await anyio.sleep(0.05)
            assert write_limiter().borrowed_tokens == 1
            group.start_soon(queued)
            await anyio.sleep(0.05)
            started = time.perf_counter()
            await to_thread.run_sync(lambda: ran.append("read"))  # the default pool
            assert time.perf_counter() - started < 1
            assert ran == ["read"]  # the queued write still waits for the write thread
            release.set()
        assert ran == ["read", "write", "queued write"]

    anyio.run(main)
