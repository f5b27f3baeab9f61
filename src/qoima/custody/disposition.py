"""What each disposition model would have produced for a forfeited batch, on price history.

DOMAIN.md lists how states dispose of seized crypto: the US auctioned it at forfeiture, China
disposed of it quietly, El Salvador holds it, Kazakhstan hands it to external managers. The
committee choosing a disposition wants to see each model's value path over the same history,
so every model runs on one grid and the comparison is like for like.

Conventions (all figures float: this is simulation maths, not booking):

* **Days are rows** of the price history, which the app aligns to a calendar with a row per
  day (crypto: every calendar day). ``horizon_days`` rows after the forfeiture row; a
  calendar gap inside the window is reported as a warning in the provenance.
* The forfeiture row is the first price on or after ``forfeited_on``; a path has
  ``horizon_days + 1`` points, day 0 being the forfeiture day.
* **Cash** from any sale earns the cash rate with daily compounding: from row ``t - 1`` to
  ``t`` it grows by ``1 + r[t - 1] / periods_per_year``, ``r`` the history's annual rates
  per row when it carries them, else the constant ``cash_rate`` (default 0).
* **Value** each day is cash plus tokens still held at that day's close;
  ``proceeds_usd_at_horizon`` is the value on the horizon day (tokens still held are marked,
  not sold: holding realises nothing).
* **Volatility** is the sample standard deviation (ddof=1) of the value path's daily simple
  returns times ``sqrt(periods_per_year)``; **worst drawdown** is ``min(V / cummax(V) - 1)``,
  a fraction <= 0. Both are NumPy here: ``qoima.risk.performance`` works on returns and
  refuses a constant series, which the auction path is.

Models:

* ``auction_on_forfeiture``: everything sold at the forfeiture close; cash thereafter.
* ``china_quiet_disposal``: the auction at ``disposal_discount`` below the close (an
  off-market disposal; no public figure exists, so the discount is the analyst's input and
  the model is left out of the default set).
* ``staged_liquidation``: ``slices`` equal slices sold at the close every ``spacing_days``
  from day 0 (slices due after the horizon are still held then). With volumes, a day's sale
  is capped at ``adv_share`` of the average daily volume of the trailing ``adv_window_days``
  rows (the day included, so day 0 of a history has an ADV); what the cap leaves is sold on
  the following days, together with any slice then due.
* ``hold_in_reserve``: the tokens are kept.
* ``external_manager``: the manager holds the token (gross return = the token's) and takes
  fees in kind at each anniversary of the forfeiture (every ``periods_per_year`` rows) and at
  the horizon. At a fee date with period fraction ``f`` (rows since the last fee date /
  ``periods_per_year``): management fee ``management_fee * f * NAV``; then performance fee
  ``performance_fee * max(0, NAV_after_mgmt - HWM * (1 + hurdle) ** f)``; the high-water
  mark starts at the day-0 value and becomes ``max(HWM, NAV after fees)``. Fees are not
  accrued between fee dates, so the path drops on a fee date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from qoima.custody.disposition_inputs import (  # noqa: F401 (re-exported)
    DEFAULT_MODELS,
    METHOD,
    DispositionBatch,
    DispositionModel,
    DispositionParams,
    FloatArray,
    IntArray,
    PriceHistory,
    VolumeUnit,
    _check_quantity,
    _member,
)
from qoima.domain.enums import Severity
from qoima.domain.errors import InsufficientHistory, InvalidInput
from qoima.domain.findings import Finding
from qoima.risk.provenance import Provenance, array_hash


@dataclass(frozen=True, slots=True, eq=False)
class DispositionPath:
    """One model's outcome: ``value_usd`` has shape (horizon_days + 1,), day 0 first.

    ``days_to_cash`` is the day the last token was sold (0 for an auction), None where
    tokens remain at the horizon; ``quantity_unsold`` is what is still held then.
    """

    model: DispositionModel
    dates: tuple[date, ...]
    value_usd: FloatArray
    proceeds_usd_at_horizon: float
    volatility: float
    worst_drawdown: float
    days_to_cash: int | None
    quantity_unsold: float
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True, eq=False)
class DispositionComparison:
    batch: DispositionBatch
    start: date
    horizon_days: int
    paths: Mapping[DispositionModel, DispositionPath]
    best_by_proceeds: DispositionModel
    provenance: Provenance


@dataclass(frozen=True, slots=True, eq=False)
class ModelDistribution:
    """One model over every forfeiture date of a window; ``relative_proceeds`` is
    proceeds / the auction's proceeds on the same date (1.0 = as good as the auction)."""

    model: DispositionModel
    proceeds_usd: FloatArray
    relative_proceeds: FloatArray
    worst_drawdowns: FloatArray
    mean_relative: float
    median_relative: float
    p5_relative: float
    p95_relative: float
    worst_drawdown: float
    share_unsold: float  # share of start dates with tokens left at the horizon


@dataclass(frozen=True, slots=True, eq=False)
class HistoryComparison:
    instrument_code: str
    quantity: Decimal
    horizon_days: int
    start_dates: tuple[date, ...]
    distributions: Mapping[DispositionModel, ModelDistribution]
    provenance: Provenance


# --- the engine: every model vectorized over start rows -------------------------------------


@dataclass(frozen=True, slots=True)
class _Run:
    values: FloatArray  # (horizon + 1, n_starts)
    unsold: FloatArray  # (n_starts,)
    days_to_cash: IntArray  # (n_starts,), -1 where unsold


def _cash_growth(history: PriceHistory, params: DispositionParams) -> FloatArray:
    """G[t] = prod_{u<t} (1 + r[u] / ppy): cash of row u is worth G[t] / G[u] at row t."""
    n = len(history.dates)
    rates = (history.cash_rates if history.cash_rates is not None
             else np.full(n, float(params.cash_rate)))
    growth = np.ones(n)
    np.cumprod(1.0 + rates[:-1] / params.periods_per_year, out=growth[1:])
    return growth


def _all_sold(values: FloatArray, day: int) -> _Run:
    n = values.shape[1]
    return _Run(values, np.zeros(n), np.full(n, day, dtype=np.int64))


def _run_auction(ctx: _Context, discount: float) -> _Run:
    rows = ctx.rows
    cash0 = ctx.quantity * ctx.closes[ctx.starts] * (1.0 - discount)
    return _all_sold(cash0 * ctx.growth[rows] / ctx.growth[ctx.starts], 0)


def _run_hold(ctx: _Context) -> _Run:
    n = ctx.starts.size
    return _Run(ctx.quantity * ctx.closes[ctx.rows], np.full(n, ctx.quantity),
                np.full(n, -1, dtype=np.int64))


def _run_staged(ctx: _Context) -> _Run:
    p = ctx.params
    offsets = np.arange(p.slices) * p.spacing_days
    amounts = np.full(p.slices, ctx.quantity / p.slices)
    amounts[-1] = ctx.quantity - amounts[:-1].sum()
    volumes = ctx.history.volume_quantity()
    inside = offsets <= ctx.horizon  # slices due after the horizon stay unsold in the path
    if volumes is None:  # index arithmetic: slices done by day j, cumulated per slice
        sale_rows = ctx.starts[None, :] + offsets[inside][:, None]
        banked = np.cumsum(amounts[inside, None] * ctx.closes[sale_rows]
                           / ctx.growth[sale_rows], axis=0)
        done = np.searchsorted(offsets[inside], np.arange(ctx.horizon + 1), side="right") - 1
        cash = ctx.growth[ctx.rows] * banked[done]
        held = ctx.quantity - np.cumsum(amounts)[done]
        if inside.all():
            held[done == p.slices - 1] = 0.0
        values = cash + held[:, None] * ctx.closes[ctx.rows]
        n = ctx.starts.size
        last_day = int(offsets[-1]) if inside.all() else -1
        return _Run(values, np.full(n, held[-1]), np.full(n, last_day, dtype=np.int64))
    window = p.adv_window_days
    csum = np.concatenate(([0.0], np.cumsum(volumes)))
    index = np.arange(volumes.size)
    lo = np.maximum(index + 1 - window, 0)
    cap_by_row = p.adv_share * (csum[index + 1] - csum[lo]) / (index + 1 - lo)
    planned = np.zeros(ctx.horizon + 1)
    planned[offsets[inside]] = amounts[inside]
    n = ctx.starts.size
    values = np.empty((ctx.horizon + 1, n))
    cash, backlog, remaining = np.zeros(n), np.zeros(n), ctx.quantity
    days = np.full(n, -1, dtype=np.int64)
    for j in range(ctx.horizon + 1):  # sequential in time, vectorized over start dates
        row = ctx.rows[j]
        due = backlog + planned[j]
        sold = np.minimum(due, cap_by_row[row])
        backlog = due - sold
        remaining -= planned[j]
        if j:
            cash = cash * (ctx.growth[row] / ctx.growth[row - 1])
        cash = cash + sold * ctx.closes[row]
        finished = (backlog == 0.0) & (j >= offsets[-1])
        held = np.where(finished, 0.0, remaining + backlog)
        values[j] = cash + held * ctx.closes[row]
        days = np.where(finished & (days < 0), j, days)
    return _Run(values, held, days)


def _run_manager(ctx: _Context) -> _Run:
    p = ctx.params
    fee_days = [*range(p.periods_per_year, ctx.horizon, p.periods_per_year), ctx.horizon]
    closes = ctx.closes[ctx.rows]
    units = np.full(ctx.starts.size, ctx.quantity)
    hwm = ctx.quantity * closes[0]
    values = np.empty_like(closes)
    values[0] = hwm
    previous = 0
    for day in fee_days:
        values[previous + 1:day] = units * closes[previous + 1:day]
        fraction = (day - previous) / p.periods_per_year
        nav = units * closes[day]
        nav = nav - p.management_fee * fraction * nav
        nav = nav - p.performance_fee * np.maximum(nav - hwm * (1.0 + p.hurdle) ** fraction, 0)
        values[day] = nav
        units = nav / closes[day]
        hwm = np.maximum(hwm, nav)
        previous = day
    return _Run(values, units, np.full(ctx.starts.size, -1, dtype=np.int64))


@dataclass(frozen=True, slots=True)
class _Context:
    history: PriceHistory
    params: DispositionParams
    quantity: float
    horizon: int
    starts: IntArray
    rows: IntArray  # (horizon + 1, n_starts): absolute row of day j for each start
    closes: FloatArray
    growth: FloatArray


def _run(ctx: _Context, model: DispositionModel) -> _Run:
    runners = {
        DispositionModel.AUCTION_ON_FORFEITURE: lambda: _run_auction(ctx, 0.0),
        DispositionModel.CHINA_QUIET_DISPOSAL:
            lambda: _run_auction(ctx, ctx.params.disposal_discount),
        DispositionModel.STAGED_LIQUIDATION: lambda: _run_staged(ctx),
        DispositionModel.HOLD_IN_RESERVE: lambda: _run_hold(ctx),
        DispositionModel.EXTERNAL_MANAGER: lambda: _run_manager(ctx),
    }
    return runners[model]()


def _context(history: PriceHistory, quantity: Decimal, horizon_days: int,
             starts: IntArray, params: DispositionParams) -> _Context:
    rows = starts[None, :] + np.arange(horizon_days + 1)[:, None]
    return _Context(history, params, float(quantity), horizon_days, starts, rows,
                    history.closes, _cash_growth(history, params))


def _check_horizon(horizon_days: int) -> None:
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 2:
        raise InvalidInput(f"horizon_days must be a whole number >= 2, got {horizon_days!r}",
                           field="horizon_days")


def volatility(values: FloatArray, periods_per_year: int) -> FloatArray:
    """Annualized sample volatility of daily simple returns, per column (0 when constant)."""
    returns = values[1:] / values[:-1] - 1.0
    return np.asarray(returns.std(axis=0, ddof=1) * np.sqrt(periods_per_year),
                      dtype=np.float64)


def worst_drawdown(values: FloatArray) -> FloatArray:
    """``min(V / cummax(V) - 1)`` per column: a fraction <= 0, 0 when the path never falls."""
    return np.asarray((values / np.maximum.accumulate(values, axis=0) - 1.0).min(axis=0),
                      dtype=np.float64)


def _gap_warnings(history: PriceHistory, start: int, end: int) -> tuple[Finding, ...]:
    span = (history.dates[end] - history.dates[start]).days
    if span == end - start:
        return ()
    return (Finding("disposition.calendar_gap", Severity.WARNING, "price history",
                    f"{end - start} rows span {span} calendar days from "
                    f"{history.dates[start]}: days are counted as rows",
                    history.dates[start]),)


def compare_dispositions(batch: DispositionBatch, history: PriceHistory, horizon_days: int,
                         params: DispositionParams | None = None) -> DispositionComparison:
    """Every model in ``params.models`` for one batch from its forfeiture day."""
    params = params or DispositionParams()
    _check_horizon(horizon_days)
    start = history.index_on_or_after(batch.forfeited_on)
    end = start + horizon_days
    if end >= len(history.dates):
        raise InsufficientHistory(
            f"a {horizon_days}-day horizon from {history.dates[start]} needs prices to row "
            f"{end}; the history has {len(history.dates) - start - 1} days after it (to "
            f"{history.dates[-1]})", field="horizon_days")
    ctx = _context(history, batch.quantity, horizon_days, np.array([start]), params)
    dates = history.dates[start:end + 1]
    paths: dict[DispositionModel, DispositionPath] = {}
    warnings = list(_gap_warnings(history, start, end))
    for model in params.models:
        run = _run(ctx, model)
        value = np.ascontiguousarray(run.values[:, 0])
        value.setflags(write=False)
        days = int(run.days_to_cash[0])
        if model is DispositionModel.STAGED_LIQUIDATION and days < 0:
            warnings.append(Finding("disposition.unsold_at_horizon", Severity.WARNING,
                                    batch.instrument_code,
                                    f"{float(run.unsold[0]):g} still unsold at the horizon "
                                    "(volume cap or slices due after it)", dates[-1]))
        paths[model] = DispositionPath(
            model, dates, value, float(value[-1]),
            float(volatility(run.values, params.periods_per_year)[0]),
            float(worst_drawdown(run.values)[0]), days if days >= 0 else None,
            float(run.unsold[0]), _model_parameters(model, params))
    best = max(params.models, key=lambda m: paths[m].proceeds_usd_at_horizon)
    return DispositionComparison(
        batch, dates[0], horizon_days, paths, best,
        _provenance(history, start, end, params,
                    {"instrument": batch.instrument_code, "quantity": str(batch.quantity),
                     "forfeited_on": batch.forfeited_on.isoformat(),
                     "horizon_days": horizon_days}, warnings))


def compare_over_history(quantity: Decimal, instrument_code: str, history: PriceHistory,
                         horizon_days: int, *, first_start: date | None = None,
                         last_start: date | None = None,
                         params: DispositionParams | None = None) -> HistoryComparison:
    """Each model over every forfeiture date in [first_start, last_start] (default: every
    date with ``horizon_days`` of history after it), relative to the auction on that date."""
    params = params or DispositionParams()
    _check_quantity(quantity)
    _check_horizon(horizon_days)
    lo = history.index_on_or_after(first_start) if first_start else 0
    last_possible = len(history.dates) - 1 - horizon_days
    hi = last_possible
    if last_start is not None:
        if first_start is not None and last_start < first_start:
            raise InvalidInput(f"last_start {last_start} is before first_start {first_start}",
                               field="last_start")
        hi = min(hi, int(np.searchsorted([d.toordinal() for d in history.dates],
                                         last_start.toordinal(), side="right")) - 1)
    if hi < lo:
        raise InsufficientHistory(
            f"no forfeiture date in the window has {horizon_days} days of prices after it "
            f"(the last such date is "
            f"{history.dates[last_possible] if last_possible >= 0 else 'none'})",
            field="horizon_days")
    starts = np.arange(lo, hi + 1, dtype=np.int64)
    ctx = _context(history, quantity, horizon_days, starts, params)
    auction = _run(ctx, DispositionModel.AUCTION_ON_FORFEITURE).values[-1]
    distributions = {}
    for model in params.models:
        run = _run(ctx, model)
        proceeds = np.ascontiguousarray(run.values[-1])
        relative = proceeds / auction
        drawdowns = worst_drawdown(run.values)
        for array in (proceeds, relative, drawdowns):
            array.setflags(write=False)
        p5, median, p95 = np.percentile(relative, [5, 50, 95])
        distributions[model] = ModelDistribution(
            model, proceeds, relative, drawdowns, float(relative.mean()), float(median),
            float(p5), float(p95), float(drawdowns.min()),
            float((run.days_to_cash < 0).mean()) if model is
            DispositionModel.STAGED_LIQUIDATION else 0.0)
    return HistoryComparison(
        instrument_code, quantity, horizon_days, history.dates[lo:hi + 1], distributions,
        _provenance(history, lo, hi + horizon_days, params,
                    {"instrument": instrument_code, "quantity": str(quantity),
                     "horizon_days": horizon_days, "first_start": history.dates[lo].isoformat(),
                     "last_start": history.dates[hi].isoformat()},
                    _gap_warnings(history, lo, hi + horizon_days)))


def _model_parameters(model: DispositionModel, params: DispositionParams) -> dict[str, Any]:
    names = {
        DispositionModel.AUCTION_ON_FORFEITURE: ("cash_rate",),
        DispositionModel.CHINA_QUIET_DISPOSAL: ("cash_rate", "disposal_discount"),
        DispositionModel.STAGED_LIQUIDATION: ("slices", "spacing_days", "adv_share",
                                              "adv_window_days", "cash_rate"),
        DispositionModel.HOLD_IN_RESERVE: (),
        DispositionModel.EXTERNAL_MANAGER: ("management_fee", "performance_fee", "hurdle",
                                            "periods_per_year"),
    }[model]
    return {name: getattr(params, name) for name in names}


def _provenance(history: PriceHistory, lo: int, hi: int, params: DispositionParams,
                extra: Mapping[str, Any], warnings: Sequence[Finding]) -> Provenance:
    window = slice(lo, hi + 1)
    arrays = [history.closes[window]]
    arrays += [a[window] for a in (history.volumes, history.cash_rates) if a is not None]
    return Provenance(METHOD, array_hash(*arrays), {**params.as_dict(), **extra,
                                                    "volume_unit": str(history.volume_unit)},
                      warnings=tuple(warnings))
