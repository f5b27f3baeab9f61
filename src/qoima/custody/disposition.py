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
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from qoima.domain.enums import Severity
from qoima.domain.errors import InsufficientHistory, InvalidInput
from qoima.domain.findings import Finding
from qoima.risk.provenance import Provenance, array_hash

_E = TypeVar("_E", bound=StrEnum)
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
METHOD = "custody.disposition"


class DispositionModel(StrEnum):
    AUCTION_ON_FORFEITURE = "auction_on_forfeiture"
    STAGED_LIQUIDATION = "staged_liquidation"
    HOLD_IN_RESERVE = "hold_in_reserve"
    EXTERNAL_MANAGER = "external_manager"
    CHINA_QUIET_DISPOSAL = "china_quiet_disposal"


DEFAULT_MODELS = (DispositionModel.AUCTION_ON_FORFEITURE, DispositionModel.STAGED_LIQUIDATION,
                  DispositionModel.HOLD_IN_RESERVE, DispositionModel.EXTERNAL_MANAGER)


class VolumeUnit(StrEnum):
    """What a history's volumes count: token units, or USD traded (as Yahoo's crypto files)."""

    QUANTITY = "quantity"
    USD = "usd"


def _member(enum: type[_E], value: object, field: str) -> _E:
    """``value`` as a member of ``enum``, or InvalidInput listing the allowed values."""
    if isinstance(value, str) and value in enum._value2member_map_:
        return enum(value)
    allowed = ", ".join(member.value for member in enum)
    raise InvalidInput(f"{field} {value!r} is not one of: {allowed}", field=field)


def _frozen(values: npt.ArrayLike, what: str, n: int) -> FloatArray:
    array = np.array(values, dtype=np.float64)
    if array.shape != (n,):
        raise InvalidInput(f"{what} must hold one value per date ({n}), got shape "
                           f"{array.shape}", field=what)
    if not np.isfinite(array).all():
        bad = int(np.argmin(np.isfinite(array)))
        raise InvalidInput(f"{what} must be finite (row {bad} is {float(array[bad])!r})",
                           field=what)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True, eq=False)
class PriceHistory:
    """Daily closes in USD of one instrument, with optional volumes and annual cash rates.

    ``cash_rates`` are annual fractions (0.05 = 5 %) per row, applied from that row to the
    next. Arrays are copied to read-only float64.
    """

    dates: tuple[date, ...]
    closes: FloatArray
    volumes: FloatArray | None = None
    volume_unit: VolumeUnit = VolumeUnit.QUANTITY
    cash_rates: FloatArray | None = None

    def __post_init__(self) -> None:
        dates = tuple(self.dates)
        n = len(dates)
        if n < 2:
            raise InsufficientHistory(f"a price history needs at least 2 dates, got {n}",
                                      field="dates")
        ordinals = np.fromiter((d.toordinal() for d in dates), dtype=np.int64, count=n)
        steps = np.diff(ordinals)
        if (steps <= 0).any():
            bad = int(np.argmax(steps <= 0)) + 1
            raise InvalidInput(f"dates must be strictly increasing: {dates[bad]} follows "
                               f"{dates[bad - 1]}", field="dates")
        closes = _frozen(self.closes, "closes", n)
        if (closes <= 0).any():
            bad = int(np.argmax(closes <= 0))
            raise InvalidInput(f"closes must be positive: {float(closes[bad])!r} on {dates[bad]}",
                               field="closes")
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "closes", closes)
        object.__setattr__(self, "volume_unit",
                           _member(VolumeUnit, self.volume_unit, "volume_unit"))
        if self.volumes is not None:
            volumes = _frozen(self.volumes, "volumes", n)
            if (volumes < 0).any():
                raise InvalidInput("volumes cannot be negative", field="volumes")
            object.__setattr__(self, "volumes", volumes)
        if self.cash_rates is not None:
            rates = _frozen(self.cash_rates, "cash_rates", n)
            if (rates <= -1).any():
                raise InvalidInput("cash rates must be above -100 %", field="cash_rates")
            object.__setattr__(self, "cash_rates", rates)

    def volume_quantity(self) -> FloatArray | None:
        """Volumes in token units (USD volumes divided by the close)."""
        if self.volumes is None:
            return None
        if self.volume_unit is VolumeUnit.USD:
            return np.asarray(self.volumes / self.closes, dtype=np.float64)
        return self.volumes

    def index_on_or_after(self, day: date) -> int:
        """Row of the first price on or after ``day``."""
        if day < self.dates[0]:
            raise InvalidInput(f"forfeiture date {day} is before the first price "
                               f"({self.dates[0]})", field="forfeited_on")
        if day > self.dates[-1]:
            raise InsufficientHistory(f"no price on or after {day}: the history ends on "
                                      f"{self.dates[-1]}", field="forfeited_on")
        ordinals = [d.toordinal() for d in self.dates]
        return int(np.searchsorted(np.asarray(ordinals), day.toordinal(), side="left"))


@dataclass(frozen=True, slots=True)
class DispositionParams:
    """Model parameters; shares, rates and fees are annual fractions (0.02 = 2 %)."""

    slices: int = 4
    spacing_days: int = 7
    adv_share: float = 0.1
    adv_window_days: int = 30
    cash_rate: float = 0.0
    management_fee: float = 0.0
    performance_fee: float = 0.0
    hurdle: float = 0.0
    disposal_discount: float = 0.0
    periods_per_year: int = 365
    models: tuple[DispositionModel, ...] = DEFAULT_MODELS

    def __post_init__(self) -> None:
        for name in ("slices", "spacing_days", "adv_window_days", "periods_per_year"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(f"{name} must be a whole number >= 1, got {value!r}",
                                   field=name)
        _range("adv_share", self.adv_share, 0.0, 1.0, low_open=True)
        _range("cash_rate", self.cash_rate, -1.0, np.inf, low_open=True)
        for name in ("management_fee", "performance_fee", "disposal_discount"):
            _range(name, getattr(self, name), 0.0, 1.0, high_open=True)
        _range("hurdle", self.hurdle, 0.0, np.inf)
        models = tuple(_member(DispositionModel, m, "models") for m in self.models)
        if not models or len(set(models)) != len(models):
            raise InvalidInput("models must be a non-empty list without repeats",
                               field="models")
        object.__setattr__(self, "models", models)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["models"] = [str(m) for m in self.models]
        return data


def _range(name: str, value: float, low: float, high: float, *, low_open: bool = False,
           high_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise InvalidInput(f"{name} must be a finite number, got {value!r}", field=name)
    if value < low or (low_open and value == low) or value > high or (high_open and value == high):
        what = "negative" if value < 0 and low == 0 else "out of range"
        lo, hi = ("(" if low_open else "[") + f"{low:g}", f"{high:g}" + (")" if high_open else "]")
        raise InvalidInput(f"{name} is {what}: {value!r} (allowed {lo}, {hi})", field=name)


@dataclass(frozen=True, slots=True)
class DispositionBatch:
    """A forfeited batch: ``quantity`` token units of ``instrument_code``."""

    instrument_code: str
    quantity: Decimal
    forfeited_on: date

    def __post_init__(self) -> None:
        _check_quantity(self.quantity)


def _check_quantity(quantity: Decimal) -> None:
    if not isinstance(quantity, Decimal) or not quantity.is_finite():
        raise InvalidInput(f"quantity must be a finite Decimal, got {quantity!r}",
                           field="quantity")
    if quantity <= 0:
        raise InvalidInput(f"quantity must be positive, got {quantity}", field="quantity")


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
