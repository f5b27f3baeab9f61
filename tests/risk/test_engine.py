"""The in-process compute engine and the chunk plan that makes seeds engine-independent."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from qoima.domain.errors import InvalidInput
from qoima.risk.engine import (
    Chunk,
    ComputeEngine,
    NumpyEngine,
    child_stream,
    chunk_generator,
    plan_chunks,
    seed_streams,
)


def _draw(chunk: Chunk) -> tuple[int, np.ndarray]:
    return chunk.index, chunk_generator(chunk).standard_normal(chunk.rows)


def _thread_name(task: int) -> str:
    return threading.current_thread().name


def test_numpy_engine_is_a_compute_engine_and_keeps_the_order() -> None:
    for workers in (1, 3):
        engine = NumpyEngine(workers)
        assert isinstance(engine, ComputeEngine)
        assert engine.map(lambda x: x * x, list(range(20))) == [x * x for x in range(20)]
        assert engine.map(lambda x: x, []) == []
    assert NumpyEngine(2).name == "numpy[2]"


def test_threads_are_used_only_when_asked() -> None:
    main = threading.current_thread().name
    assert set(NumpyEngine().map(_thread_name, list(range(4)))) == {main}
    assert main not in NumpyEngine(2).map(_thread_name, list(range(4)))


@pytest.mark.parametrize("workers", [0, -1, 1.5])
def test_bad_worker_count(workers: float) -> None:
    with pytest.raises(InvalidInput):
        NumpyEngine(workers)  # type: ignore[arg-type]


def test_chunk_plan_covers_the_rows_once() -> None:
    chunks = plan_chunks(10_001, 2500, seed_streams(7))
    assert [(c.start, c.stop) for c in chunks] == [(0, 2500), (2500, 5000), (5000, 7500),
                                                  (7500, 10_000), (10_000, 10_001)]
    assert [c.index for c in chunks] == [0, 1, 2, 3, 4]
    assert sum(c.rows for c in chunks) == 10_001
    assert len(plan_chunks(5, 100, seed_streams(7))) == 1
    for bad_rows, bad_chunk in ((0, 10), (10, 0), (2.5, 10)):
        with pytest.raises(InvalidInput):
            plan_chunks(bad_rows, bad_chunk, seed_streams(7))  # type: ignore[arg-type]


def test_streams_depend_on_the_seed_and_the_chunk_only() -> None:
    serial = NumpyEngine().map(_draw, plan_chunks(40_000, 4096, seed_streams(3)))
    threaded = NumpyEngine(4).map(_draw, plan_chunks(40_000, 4096, seed_streams(3)))
    assert [i for i, _ in threaded] == list(range(10))
    for (_, a), (_, b) in zip(serial, threaded, strict=True):
        assert np.array_equal(a, b)
    other = NumpyEngine().map(_draw, plan_chunks(40_000, 4096, seed_streams(4)))
    assert not np.array_equal(serial[0][1], other[0][1])
    assert not np.array_equal(serial[0][1], serial[1][1])  # chunks are independent streams


def test_child_streams_do_not_depend_on_earlier_spawns() -> None:
    parent = np.random.SeedSequence(11)
    spawned = parent.spawn(3)
    fresh = [child_stream(np.random.SeedSequence(11), k) for k in range(3)]
    assert [c.generate_state(2).tolist() for c in spawned] == \
        [c.generate_state(2).tolist() for c in fresh]
    again = child_stream(parent, 0)  # parent has spawned 3 children by now
    assert again.generate_state(2).tolist() == spawned[0].generate_state(2).tolist()


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_bad_seed(seed: object) -> None:
    with pytest.raises(InvalidInput):
        seed_streams(seed)  # type: ignore[arg-type]
