"""The Dask engine gives the numbers of the NumPy engine for the same seed."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from distributed import LocalCluster

from qoima.adapters.dask_engine import DaskEngine
from qoima.risk.engine import ComputeEngine, NumpyEngine
from qoima.risk.factor_models import student_t_model
from qoima.risk.montecarlo import monte_carlo_risk, simulate_scenarios

CORRELATION = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.1], [0.2, 0.1, 1.0]])


def _square(x: int) -> int:
    return x * x


@pytest.fixture(scope="module")
def engine() -> Iterator[DaskEngine]:
    with DaskEngine.local(n_workers=2, threads_per_worker=1, processes=False) as started:
        yield started


def test_dask_engine_maps_in_order(engine: DaskEngine) -> None:
    assert isinstance(engine, ComputeEngine)
    assert engine.map(_square, list(range(30))) == [x * x for x in range(30)]
    assert engine.map(_square, []) == []
    assert engine.name == "dask[2]"


def test_same_seed_same_numbers_as_numpy(engine: DaskEngine) -> None:
    model = student_t_model(("BTC", "SPX", "GOLD"), np.array([5e-4, 2e-4, 0.0]),
                            correlation=CORRELATION, vols=[0.04, 0.01, 0.008], dof=4,
                            log_returns=(True, False, False))
    local = simulate_scenarios(model, 30_000, seed=21, chunk_rows=4096)
    threaded = simulate_scenarios(model, 30_000, seed=21, chunk_rows=4096,
                                  engine=NumpyEngine(2))
    distributed = simulate_scenarios(model, 30_000, seed=21, chunk_rows=4096, engine=engine)
    assert np.array_equal(local.moves, distributed.moves)
    assert np.array_equal(threaded.moves, distributed.moves)
    exposure = np.array([5e6, 2e6, 1e6])
    plain = monte_carlo_risk(model, exposure, 0.99, 30_000, seed=5, chunk_rows=4096)
    remote = monte_carlo_risk(model, exposure, 0.99, 30_000, seed=5, chunk_rows=4096,
                              engine=engine)
    assert (remote.var, remote.cvar) == (plain.var, plain.cvar)
    assert remote.importance is not None


def test_connect_closes_only_its_client() -> None:
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster:
        with DaskEngine.connect(cluster.scheduler_address) as engine:
            assert engine.map(_square, [3, 4]) == [9, 16]
        assert engine.client.status == "closed"
        assert cluster.status.name == "running"


def test_backtest_grid_on_dask_equals_in_process(engine: DaskEngine) -> None:
    from qoima.risk.backtest import backtest_grid, backtest_rolling_historical

    rng = np.random.default_rng(3)
    series = {"a": (rng.standard_t(4, 400) * 0.02, None), "b": (rng.normal(0, 0.01, 400), None)}
    local = backtest_grid(series, [100, 250], [0.95, 0.99])
    distributed = backtest_grid(series, [100, 250], [0.95, 0.99], engine=engine)
    assert [(b.series, b.n_obs, b.level) for b in local] == [
        (name, 400 - w, lv) for name in ("a", "b") for w in (100, 250) for lv in (0.95, 0.99)]
    assert [(b.n_exceedances, b.kupiec.statistic, b.zone) for b in local] == [
        (b.n_exceedances, b.kupiec.statistic, b.zone) for b in distributed]
    direct = backtest_rolling_historical(series["b"][0], 250, 0.99)
    assert local[-1].exceedance_indices == direct.exceedance_indices
