"""Run a grid of deployment parameter sets over every start date, chunked for an engine.

The kernel (:func:`deploy_chunk`) handles one chunk of parameter sets against all start
dates; chunks are independent, so any :class:`~qoima.risk.engine.ComputeEngine` (in-process
NumPy, threads, Dask) gives the same numbers as one chunk would. Regret and the summary need
every parameter set of a start date and are computed after the chunks come back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from qoima.allocation.deployment import (
    BoolArray,
    DeploymentParams,
    EntryStrategy,
    FloatArray,
    IntArray,
    PriceHistory,
    Tables,
    build_tables,
    range_min,
)
from qoima.domain.canonical import content_hash
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.risk.engine import ComputeEngine, default_engine
from qoima.risk.provenance import Provenance, array_hash

#: Statistics of each summary row, in column order.
STATISTICS = ("mean", "p5", "p25", "median", "p75", "p95")
_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
DEFAULT_CHUNK = 256


@dataclass(frozen=True, slots=True, eq=False)
class ChunkTask:
    """Parameter sets ``rows`` of the grid: tranche counts, spacing rows and gate rows of
    :class:`Tables` (the always-GO row for ungated strategies), each shape (n_rows,)."""

    tables: Tables
    tranches: IntArray
    spacing_rows: IntArray
    gate_rows: IntArray


@dataclass(frozen=True, slots=True, eq=False)
class ChunkResult:
    """Per (parameter set of the chunk, start date), shape (n_rows, S)."""

    entry_price: FloatArray
    drawdown: FloatArray
    completed: BoolArray
    last_index: IntArray


@dataclass(frozen=True, slots=True, eq=False)
class DeploymentSummary:
    """Statistics over start dates, shape (P, len(STATISTICS)) per metric.

    Percentiles use linear interpolation (``numpy.percentile``); for the time to full
    deployment a run that never completes counts as +inf in the percentiles and is left out
    of the mean. ``completion_rate`` shape (P,): share of start dates that completed.
    """

    statistics: tuple[str, ...]
    entry_vs_vwap: FloatArray
    drawdown: FloatArray
    time_to_full_days: FloatArray
    regret: FloatArray
    completion_rate: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class DeploymentResult:
    """Every parameter set from every start date (arrays shape (P, S) unless noted).

    Attributes
    ----------
    entry_price : average price paid (harmonic mean of the tranche closes)
    vwap : shape (S,), VWAP (or TWAP) of closes over ``[start, start + horizon_days]``
    entry_vs_vwap : ``entry_price / vwap - 1`` (negative: bought below the benchmark)
    deploy_vwap, entry_vs_deploy_vwap : the same over ``[start, last tranche]``
    drawdown : worst mark-to-market loss of the deployed capital vs its cost, as a share
        of the target, from the start to full deployment (>= 0)
    time_to_full_days : calendar days from the start to the last tranche; NaN if the run
        did not complete within the horizon
    completed : bool
    regret : ``entry_price / best entry price of that start date - 1`` (>= 0)
    best : shape (S,), index of the parameter set with the lowest entry price
    benchmark : ``"vwap"`` or ``"twap"`` (no volumes)
    """

    params: tuple[DeploymentParams, ...]
    start_dates: tuple[date, ...]
    horizon_days: int
    benchmark: str
    entry_price: FloatArray
    vwap: FloatArray
    entry_vs_vwap: FloatArray
    deploy_vwap: FloatArray
    entry_vs_deploy_vwap: FloatArray
    drawdown: FloatArray
    time_to_full_days: FloatArray
    completed: BoolArray
    regret: FloatArray
    best: IntArray
    summary: DeploymentSummary
    provenance: Provenance


def deploy_chunk(task: ChunkTask) -> ChunkResult:
    """The vectorized kernel: tranche dates, entry price and drawdown of a chunk."""
    tb = task.tables
    width = tb.next_go.shape[1]
    starts, deadlines = tb.starts[None, :], tb.deadlines[None, :]
    # one step table per (gate, spacing) pair used: next GO on or after `spacing` days later
    pairs, pair_of = np.unique(np.stack((task.gate_rows, task.spacing_rows)), axis=1,
                               return_inverse=True)
    gate_go = tb.next_go[pairs[0]]
    step = np.take_along_axis(gate_go, tb.next_after[pairs[1]], axis=1)
    offsets = np.arange(pairs.shape[1], dtype=np.int64) * width
    # entries hold flat positions, so one gather advances a whole (P, S) block a tranche
    first_flat = (gate_go + offsets[:, None]).reshape(-1)
    step_flat = (step + offsets[:, None]).reshape(-1)
    n_rows, n_starts = task.tranches.shape[0], tb.starts.shape[0]
    entry = np.empty((n_rows, n_starts))
    drawdown = np.empty((n_rows, n_starts))
    completed = np.empty((n_rows, n_starts), dtype=bool)
    last = np.empty((n_rows, n_starts), dtype=np.int64)
    for count in np.unique(task.tranches):
        rows = np.flatnonzero(task.tranches == count)
        n = int(count)
        offset = offsets[pair_of.reshape(-1)[rows]][:, None]
        position = first_flat[offset + starts]
        raw = position - offset
        held = np.minimum(raw, deadlines)
        inverse_sum = tb.inverse[held]
        worst = np.zeros(held.shape)
        for j in range(1, n):
            position = step_flat[position]
            raw = position - offset
            bought = np.minimum(raw, deadlines)
            lowest = range_min(tb, held, bought)
            # j tranches held since `held`: cost j/n, units inverse_sum/n (per unit target)
            np.maximum(worst, (j / n) - (inverse_sum / n) * lowest, out=worst)
            inverse_sum += tb.inverse[bought]
            held = bought
        entry[rows] = n / inverse_sum
        drawdown[rows] = worst
        completed[rows] = raw <= deadlines
        last[rows] = held
    return ChunkResult(entry, drawdown, completed, last)


def run_deployment_grid(history: PriceHistory, params: Sequence[DeploymentParams], *,
                        window: tuple[date, date], horizon_days: int,
                        go: npt.ArrayLike | None = None, engine: ComputeEngine | None = None,
                        chunk_size: int = DEFAULT_CHUNK) -> DeploymentResult:
    """Backtest every parameter set from every start date in ``window``.

    Parameters
    ----------
    history : PriceHistory
        Closes (and volumes) of the instrument, covering the window plus the horizon.
    params : sequence of DeploymentParams, length P >= 1
    window : (first, last) start dates, inclusive; every price date in it is a start date
    horizon_days : int
        Calendar days after the start by which the deployment must be complete.
    go : array_like of bool, shape (n_gates, n_obs), optional
        GO/WAIT of each gate on each price date (``gate_go_matrix``); row ``i`` is gate
        ``i`` of the gated parameter sets.
    engine : ComputeEngine, optional
        Maps chunks of ``chunk_size`` parameter sets (default: in-process).
    """
    chosen = tuple(params)
    if not chosen:
        raise InvalidInput("no parameter sets to backtest", field="params")
    if isinstance(chunk_size, bool) or int(chunk_size) != chunk_size or chunk_size < 1:
        raise InvalidInput(f"chunk_size must be a whole number >= 1, got {chunk_size!r}",
                           field="chunk_size")
    spacings = sorted({p.spacing_days for p in chosen})
    tables = build_tables(history, go, spacings, window, horizon_days)
    n_gates = tables.next_go.shape[0] - 1
    for p in chosen:
        if p.gate is not None and p.gate >= n_gates:
            raise InvalidInput(f"{p.label or p.strategy.value}: gate row {p.gate} is not in "
                               f"the GO matrix ({n_gates} rows)", field="gate")
    tranches = np.array([p.tranches for p in chosen], dtype=np.int64)
    spacing_rows = np.searchsorted(spacings, [p.spacing_days for p in chosen]).astype(np.int64)
    gate_rows = np.array([n_gates if p.gate is None else p.gate for p in chosen],
                         dtype=np.int64)
    tasks = [ChunkTask(tables, tranches[i:i + chunk_size], spacing_rows[i:i + chunk_size],
                       gate_rows[i:i + chunk_size])
             for i in range(0, len(chosen), int(chunk_size))]
    parts = default_engine(engine).map(deploy_chunk, tasks)
    return _assemble(history, chosen, tables, parts, int(horizon_days), go, chunk_size)


def _assemble(history: PriceHistory, params: tuple[DeploymentParams, ...], tb: Tables,
              parts: list[ChunkResult], horizon_days: int, go: npt.ArrayLike | None,
              chunk_size: int) -> DeploymentResult:
    entry = np.concatenate([p.entry_price for p in parts])
    drawdown = np.concatenate([p.drawdown for p in parts])
    completed = np.concatenate([p.completed for p in parts])
    last = np.concatenate([p.last_index for p in parts])
    starts = tb.starts
    with np.errstate(divide="ignore", invalid="ignore"):
        vwap = ((tb.cum_value[tb.deadlines + 1] - tb.cum_value[starts])
                / (tb.cum_weight[tb.deadlines + 1] - tb.cum_weight[starts]))
        deploy_vwap = ((tb.cum_value[last + 1] - tb.cum_value[starts])
                       / (tb.cum_weight[last + 1] - tb.cum_weight[starts]))
    time_days = np.where(completed, (tb.ordinals[last] - tb.ordinals[starts]).astype(float),
                         np.nan)
    best = np.argmin(entry, axis=0)
    regret = entry / entry[best, np.arange(entry.shape[1])] - 1.0
    entry_vs_vwap = entry / vwap - 1.0
    summary = DeploymentSummary(
        STATISTICS, _stats(entry_vs_vwap), _stats(drawdown),
        _stats(np.where(completed, time_days, np.inf), mean_of=time_days), _stats(regret),
        completed.mean(axis=1))
    benchmark = "vwap" if history.volumes is not None else "twap"
    findings: list[Finding] = []
    if history.volumes is None:
        findings.append(Finding("allocation.deployment_twap", Severity.INFO, "prices",
                                "no volumes: the VWAP benchmarks are time-weighted (TWAP)"))
    if not np.all(np.isfinite(vwap)):
        findings.append(Finding("allocation.deployment_no_volume", Severity.WARNING,
                                "prices", "some horizons traded no volume: VWAP is NaN"))
    go_rows = np.zeros((0,)) if go is None else np.asarray(go, dtype=np.float64)
    volumes = np.zeros(0) if history.volumes is None else history.volumes
    provenance = Provenance(
        "deployment-backtest", array_hash(tb.ordinals, history.closes, volumes, go_rows),
        {"horizon_days": horizon_days, "n_params": len(params),
         "params_hash": content_hash(list(params)), "chunk_size": int(chunk_size),
         "first_start": history.dates[int(starts[0])].isoformat(),
         "last_start": history.dates[int(starts[-1])].isoformat(), "benchmark": benchmark,
         "price": "close"}, warnings=tuple(findings))
    start_dates = tuple(history.dates[int(i)] for i in starts)
    return DeploymentResult(params, start_dates, horizon_days, benchmark, entry, vwap,
                            entry_vs_vwap, deploy_vwap, entry / deploy_vwap - 1.0, drawdown,
                            time_days, completed, regret, best, summary, provenance)


def _stats(values: FloatArray, *, mean_of: FloatArray | None = None) -> FloatArray:
    """Mean and linear-interpolation percentiles over axis 1, shape (P, len(STATISTICS)).

    ``np.partition`` at the needed order statistics instead of a full sort: the summary of
    a 1,000 x 3,000 grid is a few tens of milliseconds.
    """
    n = values.shape[1]
    positions = np.array(_QUANTILES) * (n - 1)
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, n - 1)
    kth = np.unique(np.concatenate((low, high)))
    ordered = np.partition(values, kth, axis=1)
    a, b = ordered[:, low], ordered[:, high]
    fraction = positions - low
    with np.errstate(invalid="ignore"):
        between = np.where(a == b, a, a + (b - a) * fraction)
    source = values if mean_of is None else mean_of
    finite = np.isfinite(source)
    counts = finite.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite, source, 0.0).sum(axis=1) / counts
    return np.column_stack((mean, between))


def tranche_schedule(result: DeploymentResult, row: int, start: date) -> str:
    """One line for reports: what parameter set ``row`` did from ``start``."""
    p = result.params[row]
    s = result.start_dates.index(start)
    done = ("completed in " + f"{result.time_to_full_days[row, s]:.0f} days"
            if result.completed[row, s] else f"not completed within {result.horizon_days} days")
    kind = p.strategy.value if p.strategy is not EntryStrategy.LUMP_SUM else "lump sum"
    return (f"{p.label or kind} from {start}: entry {result.entry_price[row, s]:,.2f} "
            f"({result.entry_vs_vwap[row, s] * 100:+.2f} % vs {result.benchmark}), worst "
            f"drawdown {result.drawdown[row, s] * 100:.1f} %, {done}")
