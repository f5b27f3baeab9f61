"""Deployment backtests: how entry strategies would have fared from every start date.

Four strategies, one formula. A parameter set has ``n`` tranches of equal USD, a spacing of
``k`` calendar days and a gate row (``go``: GO/WAIT per date; lump sum and equal tranches use
an always-GO row). Tranche 0 is bought at the first GO date on or after the start; tranche
``j + 1`` at the first GO date on or after ``k`` days past tranche ``j``. Every purchase is at
that date's close. A tranche that would fall after the deadline (``horizon_days`` after the
start) is bought at the deadline's close instead, and the run is reported as not completed
(time to full deployment NaN), so that every strategy has a comparable entry price.

Per (parameter set, start date): the average entry price (equal USD per tranche: the
harmonic mean of the tranche prices); the VWAP over the fixed horizon ``[start, deadline]``
(the same yardstick for every strategy of a start date, so the gaps rank them; a per-run VWAP
would make lump sum equal its own benchmark) and over the deployment period ``[start, last
tranche]``; the worst mark-to-market loss of the deployed capital against its cost, as a share
of the target, between the start and full deployment; the time to full deployment; and the
regret against the best parameter set of that start date. Prices are closes; without volumes
the VWAPs are TWAPs (``benchmark == "twap"``).

Vectorized across start dates and parameter sets: next-GO indices per gate come from a
reverse cumulative minimum, tranche dates for all start dates from fancy indexing into
per-(gate, spacing) step tables, and the lowest close between two tranches from a sparse
table (range-minimum query in O(1)). :mod:`qoima.allocation.deployment_grid` splits a grid
into chunks of parameter sets for a :class:`~qoima.risk.engine.ComputeEngine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from qoima.domain.errors import InsufficientHistory, InvalidInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class EntryStrategy(StrEnum):
    LUMP_SUM = "lump_sum"  # everything on the start date
    EQUAL_TRANCHES = "equal_tranches"  # n tranches every k days, no gate
    GATED_TRANCHES = "gated_tranches"  # each tranche on a GO date, >= k days after the last
    WAIT_FOR_STABILITY = "wait_for_stability"  # everything on the first GO date


@dataclass(frozen=True, slots=True)
class DeploymentParams:
    """One parameter set: a strategy, its tranche count and spacing, and its gate row.

    ``gate`` indexes the rows of the GO matrix passed to the backtest (gated strategies
    only); ``spacing_days`` is the minimum number of calendar days between tranches.
    """

    strategy: EntryStrategy
    tranches: int = 1
    spacing_days: int = 0
    gate: int | None = None
    label: str = ""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "strategy", EntryStrategy(self.strategy))
        except ValueError:
            raise InvalidInput(f"unknown entry strategy {self.strategy!r}; use one of "
                               f"{', '.join(s.value for s in EntryStrategy)}",
                               field="strategy") from None
        name = self.label or self.strategy.value
        for what in ("tranches", "spacing_days"):
            value = getattr(self, what)
            if isinstance(value, bool) or int(value) != value:
                raise InvalidInput(f"{name}: {what} must be a whole number, got {value!r}",
                                   field=what)
        if self.tranches < 1:
            raise InvalidInput(f"{name}: tranches must be >= 1, got {self.tranches}",
                               field="tranches")
        if self.spacing_days < 0:
            raise InvalidInput(f"{name}: spacing_days must be >= 0, got {self.spacing_days}",
                               field="spacing_days")
        gated = self.strategy in (EntryStrategy.GATED_TRANCHES,
                                  EntryStrategy.WAIT_FOR_STABILITY)
        if gated and (self.gate is None or self.gate < 0):
            raise InvalidInput(f"{name}: a gated strategy needs a gate row (>= 0)",
                               field="gate")
        if not gated and self.gate is not None:
            raise InvalidInput(f"{name}: {self.strategy.value} does not use a gate",
                               field="gate")
        single = self.strategy in (EntryStrategy.LUMP_SUM, EntryStrategy.WAIT_FOR_STABILITY)
        if single and self.tranches != 1:
            raise InvalidInput(f"{name}: {self.strategy.value} buys in one tranche, got "
                               f"tranches={self.tranches}", field="tranches")


@dataclass(frozen=True, slots=True, eq=False)
class PriceHistory:
    """Daily closes (and volumes, if known) of the instrument being bought.

    ``closes`` shape (n_obs,), positive and finite; ``volumes`` shape (n_obs,) in units
    traded, or None (the VWAPs become TWAPs).
    """

    dates: tuple[date, ...]
    closes: FloatArray
    volumes: FloatArray | None = None

    def __post_init__(self) -> None:
        closes = np.ascontiguousarray(np.asarray(self.closes, dtype=np.float64))
        if closes.ndim != 1 or closes.shape[0] != len(self.dates):
            raise InvalidInput(f"{len(self.dates)} dates for closes of shape {closes.shape}",
                               field="closes")
        if closes.size and not (np.all(np.isfinite(closes)) and closes.min() > 0):
            bad = int(np.flatnonzero(~(np.isfinite(closes) & (closes > 0)))[0])
            raise InvalidInput(f"the close on {self.dates[bad]} is not a positive number",
                               field="closes")
        ordinals = np.fromiter((d.toordinal() for d in self.dates), np.int64, len(self.dates))
        if ordinals.size > 1 and np.any(np.diff(ordinals) <= 0):
            raise InvalidInput("price dates must be strictly increasing", field="dates")
        object.__setattr__(self, "closes", closes)
        if self.volumes is not None:
            volumes = np.asarray(self.volumes, dtype=np.float64)
            if volumes.shape != closes.shape:
                raise InvalidInput(f"volumes shape {volumes.shape} differs from closes "
                                   f"{closes.shape}", field="volumes")
            if not np.all(np.isfinite(volumes) & (volumes >= 0)):
                raise InvalidInput("volumes must be finite and >= 0 (pass None when unknown)",
                                   field="volumes")
            object.__setattr__(self, "volumes", volumes)

    @property
    def ordinals(self) -> IntArray:
        return np.fromiter((d.toordinal() for d in self.dates), np.int64, len(self.dates))


@dataclass(frozen=True, slots=True, eq=False)
class Tables:
    """Everything the per-chunk kernel reads, built once per backtest.

    Shapes: ``T = n_obs``; index ``T`` is the "never" sentinel. ``next_go`` (n_gates + 1,
    T + 1), row ``n_gates`` always GO; ``next_after`` (n_spacings, T + 1): first index at least
    ``spacing[i]`` days after each index; ``inverse`` (T + 1,) 1 / close; ``sparse`` (levels,
    T) range minima of the closes; ``starts``/``deadlines`` (S,) indices; ``ordinals`` (T,);
    ``cum_value``/``cum_weight`` (T + 1,) prefix sums for the VWAP/TWAP.
    """

    next_go: IntArray
    next_after: IntArray
    inverse: FloatArray
    sparse: FloatArray
    log2: IntArray
    starts: IntArray
    deadlines: IntArray
    ordinals: IntArray
    cum_value: FloatArray
    cum_weight: FloatArray


def build_tables(history: PriceHistory, go: npt.ArrayLike | None, spacings: list[int],
                 window: tuple[date, date], horizon_days: int) -> Tables:
    """Validate the inputs and precompute the look-up tables (see :class:`Tables`)."""
    if isinstance(horizon_days, bool) or int(horizon_days) != horizon_days or horizon_days < 1:
        raise InvalidInput(f"horizon_days must be a whole number >= 1, got {horizon_days!r}",
                           field="horizon_days")
    first, last = window
    if first > last:
        raise InvalidInput(f"the window starts {first}, after its end {last}", field="window")
    n = len(history.dates)
    ordinals = history.ordinals
    lo = int(np.searchsorted(ordinals, first.toordinal(), side="left"))
    hi = int(np.searchsorted(ordinals, last.toordinal(), side="right"))
    if hi <= lo:
        raise InsufficientHistory(f"no prices between {first} and {last} (prices run "
                                  f"{_span(history)})", field="window")
    needed = last.toordinal() + int(horizon_days)
    if ordinals[-1] < needed:
        raise InsufficientHistory(
            f"prices end on {history.dates[-1]}; start dates up to {last} with a "
            f"{horizon_days}-day horizon need prices through {date.fromordinal(needed)}",
            field="window")
    starts = np.arange(lo, hi, dtype=np.int64)
    deadlines = np.searchsorted(ordinals, ordinals[starts] + int(horizon_days),
                                side="right").astype(np.int64) - 1
    go_rows = _go_matrix(go, n)
    index = np.arange(n + 1, dtype=np.int64)
    candidates = np.where(go_rows, index[:-1], n)
    next_go = np.empty((go_rows.shape[0] + 1, n + 1), dtype=np.int64)
    next_go[:-1, :-1] = np.minimum.accumulate(candidates[:, ::-1], axis=1)[:, ::-1]
    next_go[:, -1] = n
    next_go[-1] = index
    next_after = np.empty((len(spacings), n + 1), dtype=np.int64)
    for row, spacing in enumerate(spacings):
        next_after[row, :-1] = np.searchsorted(ordinals, ordinals + spacing, side="left")
        next_after[row, -1] = n
    closes = history.closes
    weights = history.volumes if history.volumes is not None else np.ones(n)
    cum_value = np.concatenate(([0.0], np.cumsum(closes * weights)))
    cum_weight = np.concatenate(([0.0], np.cumsum(weights)))
    return Tables(next_go, next_after, np.concatenate((1.0 / closes, [np.nan])),
                  _sparse_table(closes), _log2_table(n + 1), starts, deadlines, ordinals,
                  cum_value, cum_weight)


def _span(history: PriceHistory) -> str:
    return f"{history.dates[0]} to {history.dates[-1]}" if history.dates else "nowhere"


def _go_matrix(go: npt.ArrayLike | None, n: int) -> BoolArray:
    if go is None:
        return np.zeros((0, n), dtype=bool)
    rows = np.asarray(go)
    if rows.ndim == 1:
        rows = rows[None, :]
    if rows.ndim != 2 or rows.shape[1] != n:
        raise InvalidInput(f"the GO matrix must have shape (n_gates, {n}), got {rows.shape}",
                           field="go")
    if rows.dtype != np.bool_:
        raise InvalidInput("the GO matrix must be boolean", field="go")
    return rows


def _sparse_table(values: FloatArray) -> FloatArray:
    """``table[k, i] = min(values[i : i + 2**k])`` (+inf past the end), shape (levels, n)."""
    n = values.shape[0]
    levels = max(1, int(n).bit_length())
    table = np.full((levels, n), np.inf)
    table[0] = values
    for k in range(1, levels):
        half = 1 << (k - 1)
        if n - half <= 0:
            break
        table[k, : n - half] = np.minimum(table[k - 1, : n - half], table[k - 1, half:])
        table[k, n - half:] = table[k - 1, n - half:]
    return table


def _log2_table(size: int) -> IntArray:
    """``floor(log2(m))`` for m in 0..size-1 (0 for m = 0)."""
    table = np.zeros(size, dtype=np.int64)
    if size > 2:
        table[2:] = np.floor(np.log2(np.arange(2, size))).astype(np.int64)
    return table


def range_min(tables: Tables, left: IntArray, right: IntArray) -> FloatArray:
    """Lowest close over ``[left, right]`` (inclusive, ``left <= right``), elementwise."""
    n = tables.sparse.shape[1]
    level = tables.log2[right - left + 1]
    flat = tables.sparse.reshape(-1)
    base = level * n
    result: FloatArray = np.minimum(flat[base + left], flat[base + right - (1 << level) + 1])
    return result
