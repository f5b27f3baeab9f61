"""Deployment backtests: the vectorized grid equals plain loops, hand-computed cases, the
engine split, and clear errors for bad input."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from qoima.allocation.deployment import DeploymentParams, EntryStrategy, PriceHistory
from qoima.allocation.deployment_grid import STATISTICS, run_deployment_grid, tranche_schedule
from qoima.domain.errors import InsufficientHistory, InvalidInput
from qoima.risk.engine import NumpyEngine

LUMP = EntryStrategy.LUMP_SUM
EQUAL = EntryStrategy.EQUAL_TRANCHES
GATED = EntryStrategy.GATED_TRANCHES
WAIT = EntryStrategy.WAIT_FOR_STABILITY
DAY0 = date(2020, 1, 1)


def reference(closes: np.ndarray, dates: list[date], volumes: np.ndarray | None,
              go: np.ndarray, params: list[DeploymentParams], first: date, last: date,
              horizon: int) -> dict[str, np.ndarray]:
    """Walk every start date day by day: the obviously-correct, slow definition."""
    n_obs = len(closes)
    starts = [i for i, d in enumerate(dates) if first <= d <= last]
    weights = volumes if volumes is not None else np.ones(n_obs)
    out = {k: np.full((len(params), len(starts)), np.nan)
           for k in ("entry", "drawdown", "time", "completed", "vwap", "last")}
    for row, p in enumerate(params):
        gate = go[p.gate] if p.gate is not None else np.ones(n_obs, dtype=bool)
        n = p.tranches
        for col, s in enumerate(starts):
            deadline = s
            while deadline + 1 < n_obs and dates[deadline + 1] <= dates[s] + timedelta(horizon):
                deadline += 1
            days: list[int] = []
            earliest, completed = s, True
            for _ in range(n):
                t = earliest
                while t <= deadline and not gate[t]:
                    t += 1
                if t > deadline:
                    completed = False
                    break
                days.append(t)
                e = t
                while e < n_obs and dates[e] < dates[t] + timedelta(p.spacing_days):
                    e += 1
                earliest = e
            days += [deadline] * (n - len(days))
            inverse_sum, worst = 0.0, 0.0
            for j, day in enumerate(days):
                if j > 0:
                    for t in range(days[j - 1], day + 1):
                        worst = max(worst, (j / n) - (inverse_sum / n) * closes[t])
                inverse_sum += 1.0 / closes[day]
            out["entry"][row, col] = n / inverse_sum
            out["drawdown"][row, col] = worst
            out["completed"][row, col] = completed
            out["time"][row, col] = (dates[days[-1]] - dates[s]).days if completed else np.nan
            span = range(s, deadline + 1)
            out["vwap"][row, col] = (sum(closes[t] * weights[t] for t in span)
                                     / sum(weights[t] for t in span))
            out["last"][row, col] = days[-1]
    return out


def _path(n: int, seed: int) -> tuple[list[date], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.04, n)))
    volumes = rng.uniform(1, 10, n).round(2)
    return [DAY0 + timedelta(i) for i in range(n)], closes, volumes


def _grid(n_gates: int) -> list[DeploymentParams]:
    params = [DeploymentParams(LUMP), DeploymentParams(EQUAL, 3, 7),
              DeploymentParams(EQUAL, 4, 0), DeploymentParams(EQUAL, 1, 5)]
    for g in range(n_gates):
        params.append(DeploymentParams(WAIT, gate=g))
        for n, k in ((2, 3), (3, 10), (5, 1), (4, 0)):
            params.append(DeploymentParams(GATED, n, k, g))
    return params


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorized_grid_equals_the_loop_reference(seed: int) -> None:
    dates, closes, volumes = _path(160, seed)
    rng = np.random.default_rng(seed + 10)
    go = rng.random((4, 160)) < np.array([[0.05], [0.3], [0.7], [0.0]])
    params = _grid(4)
    first, last, horizon = dates[10], dates[100], 45
    result = run_deployment_grid(PriceHistory(tuple(dates), closes, volumes), params,
                                 window=(first, last), horizon_days=horizon, go=go,
                                 chunk_size=7)
    ref = reference(closes, dates, volumes, go, params, first, last, horizon)
    np.testing.assert_array_equal(result.entry_price, ref["entry"])
    np.testing.assert_array_equal(result.drawdown, ref["drawdown"])
    np.testing.assert_array_equal(result.completed, ref["completed"].astype(bool))
    np.testing.assert_array_equal(result.time_to_full_days, ref["time"])
    np.testing.assert_allclose(result.vwap, ref["vwap"][0], rtol=1e-12)
    best = ref["entry"].min(axis=0)
    np.testing.assert_array_equal(result.regret, ref["entry"] / best - 1.0)
    assert result.completed[-5:].sum() == 0  # gate 3 never says GO
    assert result.benchmark == "vwap"


def test_hand_computed_lump_sum_and_tranches() -> None:
    closes = np.array([100.0, 50.0, 80.0, 200.0, 100.0, 100.0])
    dates = tuple(DAY0 + timedelta(i) for i in range(6))
    go = np.array([[False, False, True, True, True, True]])
    params = [DeploymentParams(LUMP), DeploymentParams(EQUAL, 2, 1),
              DeploymentParams(WAIT, gate=0), DeploymentParams(GATED, 2, 1, gate=0)]
    result = run_deployment_grid(PriceHistory(dates, closes), params,
                                 window=(DAY0, DAY0), horizon_days=5, go=go)
    entry = result.entry_price[:, 0]
    # equal tranches on days 0 and 1: harmonic mean of 100 and 50
    assert entry.tolist() == [100.0, 2 / (1 / 100 + 1 / 50), 80.0, 2 / (1 / 80 + 1 / 200)]
    # half bought at 100 marked at 50: loss 0.5 - 0.5 * 50/100 = 25 % of the target
    assert result.drawdown[:, 0].tolist() == [0.0, 0.25, 0.0, 0.0]
    assert result.time_to_full_days[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert result.vwap[0] == pytest.approx(closes.mean())  # no volumes: TWAP
    assert result.benchmark == "twap"
    assert result.best[0] == 1 and result.regret[1, 0] == 0.0  # 66.67 beats waiting (80)
    assert result.regret[2, 0] == pytest.approx(80 / (200 / 3) - 1)
    assert "not completed" not in tranche_schedule(result, 1, DAY0)


def test_a_tranche_past_the_deadline_is_bought_there_and_reported_incomplete() -> None:
    closes = np.array([10.0, 20.0, 40.0, 5.0])
    dates = tuple(DAY0 + timedelta(i) for i in range(4))
    result = run_deployment_grid(PriceHistory(dates, closes), [DeploymentParams(EQUAL, 3, 2)],
                                 window=(DAY0, DAY0), horizon_days=3)
    assert not result.completed[0, 0] and math.isnan(result.time_to_full_days[0, 0])
    assert result.entry_price[0, 0] == 3 / (1 / 10 + 1 / 40 + 1 / 5)
    assert result.summary.completion_rate.tolist() == [0.0]
    assert np.isinf(result.summary.time_to_full_days[0, 1:]).all()
    assert "not completed within 3 days" in tranche_schedule(result, 0, DAY0)


def test_engine_chunks_give_the_single_process_numbers() -> None:
    dates, closes, volumes = _path(300, 7)
    go = np.random.default_rng(3).random((6, 300)) < 0.4
    history = PriceHistory(tuple(dates), closes, volumes)
    window = (dates[20], dates[200])
    single = run_deployment_grid(history, _grid(6), window=window, horizon_days=60, go=go,
                                 chunk_size=10_000)
    split = run_deployment_grid(history, _grid(6), window=window, horizon_days=60, go=go,
                                chunk_size=5, engine=NumpyEngine(workers=2))
    for name in ("entry_price", "drawdown", "completed", "time_to_full_days", "regret"):
        np.testing.assert_array_equal(getattr(split, name), getattr(single, name))
    np.testing.assert_array_equal(split.summary.regret, single.summary.regret)


def test_dask_engine_gives_the_same_numbers() -> None:
    pytest.importorskip("distributed")
    from qoima.adapters.dask_engine import DaskEngine

    dates, closes, volumes = _path(200, 8)
    go = np.random.default_rng(4).random((3, 200)) < 0.5
    history = PriceHistory(tuple(dates), closes, volumes)
    window = (dates[10], dates[120])
    single = run_deployment_grid(history, _grid(3), window=window, horizon_days=60, go=go)
    with DaskEngine.local(n_workers=2, threads_per_worker=1, processes=False) as engine:
        spread = run_deployment_grid(history, _grid(3), window=window, horizon_days=60,
                                     go=go, chunk_size=4, engine=engine)
    np.testing.assert_array_equal(spread.entry_price, single.entry_price)
    np.testing.assert_array_equal(spread.drawdown, single.drawdown)


def test_summary_matches_numpy_percentiles() -> None:
    dates, closes, volumes = _path(400, 9)
    go = np.random.default_rng(5).random((2, 400)) < 0.5
    result = run_deployment_grid(PriceHistory(tuple(dates), closes, volumes), _grid(2),
                                 window=(dates[0], dates[300]), horizon_days=90, go=go)
    assert result.summary.statistics == STATISTICS
    q = np.percentile(result.drawdown, [5, 25, 50, 75, 95], axis=1).T
    np.testing.assert_allclose(result.summary.drawdown[:, 1:], q, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(result.summary.regret[:, 0], result.regret.mean(axis=1))
    assert (result.regret >= 0).all() and (result.drawdown >= 0).all()
    assert (result.regret[result.best, np.arange(result.regret.shape[1])] == 0).all()
    done = result.completed
    time = np.where(done, result.time_to_full_days, 0).sum(axis=1) / done.sum(axis=1)
    np.testing.assert_allclose(result.summary.time_to_full_days[:, 0], time)


def test_bad_input_names_the_cause() -> None:
    dates, closes, _ = _path(50, 1)
    history = PriceHistory(tuple(dates), closes)
    ok = [DeploymentParams(LUMP)]
    with pytest.raises(InvalidInput, match="no parameter sets"):
        run_deployment_grid(history, [], window=(dates[0], dates[5]), horizon_days=5)
    with pytest.raises(InsufficientHistory, match="need prices through"):
        run_deployment_grid(history, ok, window=(dates[0], dates[40]), horizon_days=30)
    with pytest.raises(InsufficientHistory, match="no prices between"):
        run_deployment_grid(history, ok, window=(date(2030, 1, 1), date(2030, 2, 1)),
                            horizon_days=5)
    with pytest.raises(InvalidInput, match="after its end"):
        run_deployment_grid(history, ok, window=(dates[9], dates[0]), horizon_days=5)
    with pytest.raises(InvalidInput, match="horizon_days"):
        run_deployment_grid(history, ok, window=(dates[0], dates[5]), horizon_days=0)
    with pytest.raises(InvalidInput, match="tranches must be >= 1"):
        DeploymentParams(EQUAL, 0, 5)
    with pytest.raises(InvalidInput, match="spacing_days must be >= 0"):
        DeploymentParams(EQUAL, 3, -1)
    with pytest.raises(InvalidInput, match="needs a gate row"):
        DeploymentParams(GATED, 3, 1)
    with pytest.raises(InvalidInput, match="one tranche"):
        DeploymentParams(LUMP, 3)
    with pytest.raises(InvalidInput, match="does not use a gate"):
        DeploymentParams(EQUAL, 2, 1, gate=0)
    with pytest.raises(InvalidInput, match="gate row 2 is not in the GO matrix"):
        run_deployment_grid(history, [DeploymentParams(WAIT, gate=2)],
                            window=(dates[0], dates[5]), horizon_days=5,
                            go=np.ones((1, 50), dtype=bool))
    with pytest.raises(InvalidInput, match="shape"):
        run_deployment_grid(history, ok, window=(dates[0], dates[5]), horizon_days=5,
                            go=np.ones((1, 49), dtype=bool))
    with pytest.raises(InvalidInput, match="not a positive number"):
        PriceHistory(tuple(dates[:2]), np.array([1.0, -2.0]))
