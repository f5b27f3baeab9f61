"""Where independent chunks of a computation run: in-process NumPy by default, Dask on request.

A :class:`ComputeEngine` maps a pure, module-level function over a list of independent tasks
and returns the results in task order. Monte Carlo, stress grids and backtest grids split
their work into chunks whose boundaries and random streams depend only on the problem (the
seed, the number of items and the chunk size), never on the engine or its worker count, so the
same seed gives the same numbers on :class:`NumpyEngine`, a thread pool, or the Dask engine in
:mod:`qoima.adapters.dask_engine`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np

from qoima.domain.errors import InvalidInput

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")

#: Rows per chunk unless a caller says otherwise: big enough that per-chunk overhead (a new
#: generator, a task hand-off) is negligible, small enough to fit in cache and to spread a
#: few tens of thousands of scenarios over a handful of workers.
DEFAULT_CHUNK_ROWS = 16_384


@runtime_checkable
class ComputeEngine(Protocol):
    """Runs ``fn`` on every task; results come back in the order of ``tasks``.

    ``fn`` must be pure and importable by name (a module-level function) and each task
    picklable, so that a distributed engine can ship them to other processes.
    """

    @property
    def name(self) -> str: ...

    def map(self, fn: Callable[[TaskT], ResultT], tasks: Sequence[TaskT]) -> list[ResultT]: ...


class NumpyEngine:
    """In-process engine: a plain loop, or a thread pool of ``workers`` threads.

    Threads help because NumPy releases the GIL while it draws random numbers and in BLAS;
    with ``workers=1`` (the default) nothing is started.
    """

    def __init__(self, workers: int = 1) -> None:
        if int(workers) != workers or workers < 1:
            raise InvalidInput(f"workers must be a whole number >= 1, got {workers!r}",
                               field="workers")
        self.workers = int(workers)

    @property
    def name(self) -> str:
        return f"numpy[{self.workers}]"

    def map(self, fn: Callable[[TaskT], ResultT], tasks: Sequence[TaskT]) -> list[ResultT]:
        if self.workers == 1 or len(tasks) <= 1:
            return [fn(task) for task in tasks]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(tasks))) as pool:
            return list(pool.map(fn, tasks))


@dataclass(frozen=True, slots=True)
class Chunk:
    """Rows ``start:stop`` of a computation and the random stream that belongs to them."""

    index: int
    start: int
    stop: int
    stream: np.random.SeedSequence

    @property
    def rows(self) -> int:
        return self.stop - self.start


def plan_chunks(n_rows: int, chunk_rows: int, streams: np.random.SeedSequence) -> list[Chunk]:
    """Split ``n_rows`` into chunks of ``chunk_rows`` (the last may be shorter).

    Chunk ``k`` gets the ``k``-th child of ``streams``: its random numbers depend on the seed,
    ``n_rows`` and ``chunk_rows`` only, so any engine with any number of workers reproduces
    them exactly.
    """
    if int(n_rows) != n_rows or n_rows < 1:
        raise InvalidInput(f"the number of rows must be a whole number >= 1, got {n_rows!r}",
                           field="n_scenarios")
    if int(chunk_rows) != chunk_rows or chunk_rows < 1:
        raise InvalidInput(f"chunk size must be a whole number >= 1, got {chunk_rows!r}",
                           field="chunk_rows")
    starts = range(0, int(n_rows), int(chunk_rows))
    return [Chunk(k, start, min(start + int(chunk_rows), int(n_rows)), child_stream(streams, k))
            for k, start in enumerate(starts)]


def child_stream(parent: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The ``index``-th child of ``parent``, as ``parent.spawn`` would make it.

    Built explicitly so that the answer never depends on how many children were spawned
    from ``parent`` before (``SeedSequence.spawn`` counts them).
    """
    return np.random.SeedSequence(parent.entropy, spawn_key=(*parent.spawn_key, index),
                                  pool_size=parent.pool_size)


def seed_streams(seed: int) -> np.random.SeedSequence:
    """The root of every random stream of one computation (a non-negative integer seed)."""
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise InvalidInput(f"seed must be a non-negative whole number, got {seed!r}",
                           field="seed")
    return np.random.SeedSequence(int(seed))


def chunk_generator(chunk: Chunk) -> np.random.Generator:
    """The generator of one chunk: SFC64, fast and of good statistical quality."""
    return np.random.Generator(np.random.SFC64(chunk.stream))


def default_engine(engine: ComputeEngine | None) -> ComputeEngine:
    return NumpyEngine() if engine is None else engine
