"""Data-quality checks on a daily series, run before any series is accepted.

Errors are bars that cannot be true (a non-positive price, a high below the low, dates out
of order); warnings are bars that may be true but need a look (a gap in the calendar, a
close repeated for a week, a jump of many standard deviations). Warnings never drop data:
they travel with the series so a reader of any figure can see them.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.market.calendars import Calendar, get_calendar
from qoima.market.series import Bar, ColumnarBars, Series, SeriesId, SeriesKind

NON_POSITIVE = "market.non_positive"
UNORDERED = "market.unordered"
DUPLICATE_DATE = "market.duplicate_date"
OHLC = "market.ohlc"
NEGATIVE_VOLUME = "market.negative_volume"
GAP = "market.gap"
STALE_CLOSE = "market.stale_close"
JUMP = "market.jump"

MAD_TO_SIGMA = 1.4826  # 1 / Phi^-1(3/4): MAD of a normal sample times this is its sigma
MEAN_AD_TO_SIGMA = math.sqrt(math.pi / 2)  # same for the mean absolute deviation


@dataclass(frozen=True, slots=True)
class QualityLimits:
    """Thresholds of the checks; the defaults suit daily crypto and NYSE series.

    ``allow_non_positive`` accepts prices at or below zero (WTI spot and futures printed
    negative on 2020-04-20); rates may always be zero or negative. ``strict_ohlc=False``
    turns inconsistent bars into warnings, for sources that publish a settlement or
    computed close outside the traded range (futures, Cboe indices).
    """

    max_missing_sessions: int = 3
    stale_sessions: int = 5
    jump_sigmas: float = 8.0
    jump_min_returns: int = 20  # below this a MAD says little: no jump check
    allow_non_positive: bool = False
    strict_ohlc: bool = True


DEFAULT_LIMITS = QualityLimits()


@dataclass(frozen=True, slots=True)
class ErrorLocation:
    """Where an error sits: ``index`` into the bars, the caller's ``line`` (or None) and the
    bar ``field`` at fault, so an importer can raise an error naming file, line and field."""

    index: int
    line: int | None
    field: str


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Findings of one check run; ``error_locations`` is parallel to ``errors``."""

    errors: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    error_locations: tuple[ErrorLocation, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


class _Collector:
    """Builds findings with the bar's line in subject and message when lines are known."""

    __slots__ = ("errors", "lines", "locations", "series", "source", "warnings")

    def __init__(self, series_id: SeriesId, source_name: str,
                 lines: Sequence[int] | None) -> None:
        self.series = str(series_id)
        self.source = source_name
        self.lines = lines
        self.errors: list[Finding] = []
        self.warnings: list[Finding] = []
        self.locations: list[ErrorLocation] = []

    def where(self, index: int) -> str:
        if self.lines is None:
            return self.source
        return f"{self.source} line {self.lines[index]}"

    def error(self, rule: str, index: int, bar: Bar, field: str, message: str,
              measured: str | None = None, limit: str | None = None) -> None:
        self.errors.append(Finding(rule, Severity.ERROR, f"{self.series} {self.where(index)}",
                                   f"{bar.day}: {message}", bar.day, measured, limit))
        line = None if self.lines is None else int(self.lines[index])
        self.locations.append(ErrorLocation(index, line, field))

    def warning(self, rule: str, index: int, day: date, message: str,
                measured: str | None = None, limit: str | None = None) -> None:
        self.warnings.append(Finding(rule, Severity.WARNING,
                                     f"{self.series} {self.where(index)}",
                                     f"{day}: {message}", day, measured, limit))


def check_series(series_id: SeriesId, bars: Sequence[Bar], calendar: Calendar, *,
                 source_name: str, lines: Sequence[int] | None = None,
                 limits: QualityLimits = DEFAULT_LIMITS) -> QualityReport:
    """Check ``bars`` (in file order) of ``series_id`` against ``calendar``.

    ``lines`` (parallel to ``bars``) are the caller's line numbers, named in each finding.
    Calendar, staleness and jump checks run only when dates are strictly ascending, since
    gaps and returns mean nothing over unordered dates (those are errors already).
    """
    if lines is not None and len(lines) != len(bars):
        raise ValueError("lines must be parallel to bars")
    out = _Collector(series_id, source_name, lines)
    positive_only = series_id.kind is not SeriesKind.RATE and not limits.allow_non_positive
    if isinstance(bars, ColumnarBars):
        _check_columns(series_id, bars, calendar, limits, out, positive_only=positive_only)
        return QualityReport(tuple(out.errors), tuple(out.warnings), tuple(out.locations))
    ordered = _check_bars(bars, out, positive_only=positive_only, strict_ohlc=limits.strict_ohlc)
    if ordered and bars:
        _check_gaps(bars, calendar, limits.max_missing_sessions, out)
        if series_id.kind is not SeriesKind.RATE:  # policy rates stay flat for weeks
            _check_stale(bars, limits.stale_sessions, out)
        _check_jumps(bars, series_id.kind, limits, out)
    return QualityReport(tuple(out.errors), tuple(out.warnings), tuple(out.locations))


def _check_bars(bars: Sequence[Bar], out: _Collector, *, positive_only: bool,
                strict_ohlc: bool) -> bool:
    """Per-bar and order checks; returns whether dates are strictly ascending."""
    ordered = True
    previous: date | None = None
    seen: set[date] = set()
    for index, bar in enumerate(bars):
        day = bar.day
        if previous is not None and day <= previous:
            ordered = False
            if day in seen:
                out.error(DUPLICATE_DATE, index, bar, "date", f"date {day} appears again")
            else:
                out.error(UNORDERED, index, bar, "date",
                          f"date {day} comes after {previous}; dates must ascend")
        seen.add(day)
        previous = day
        _check_values(index, bar, out, positive_only, strict_ohlc)
    return ordered


def _check_values(index: int, bar: Bar, out: _Collector, positive_only: bool,
                  strict_ohlc: bool) -> None:
    """Value checks of one bar: non-positive prices, negative volume, OHLC consistency."""
    zero = _ZERO
    close, open_, high, low, volume = bar.close, bar.open, bar.high, bar.low, bar.volume
    # fast path: one combined test per bar; the reporting loops run only on a failure
    if positive_only and (close <= zero or (open_ is not None and open_ <= zero)
                          or (high is not None and high <= zero)
                          or (low is not None and low <= zero)):
        for name in ("close", "open", "high", "low"):
            value = getattr(bar, name)
            if value is not None and value <= zero:
                out.error(NON_POSITIVE, index, bar, name,
                          f"{name} {value} is not positive", str(value), "> 0")
    if volume is not None and volume < zero:
        out.error(NEGATIVE_VOLUME, index, bar, "volume", f"volume {volume} is negative",
                  str(volume), ">= 0")
    if (high is not None or low is not None) and not (
            (high is None or low is None or low <= high)
            and (high is None or (close <= high and (open_ is None or open_ <= high)))
            and (low is None or (close >= low and (open_ is None or open_ >= low)))):
        _check_ohlc(index, bar, out, strict_ohlc)


_ZERO = Decimal(0)


def _check_ohlc(index: int, bar: Bar, out: _Collector, strict: bool) -> None:
    high, low = bar.high, bar.low
    problems: list[tuple[str, str]] = []
    if high is not None and low is not None and high < low:
        problems.append(("high", f"high {high} is below low {low}"))
    for name, value in (("close", bar.close), ("open", bar.open)):
        if value is None:
            continue
        if high is not None and value > high:
            problems.append((name, f"{name} {value} is above high {high}"))
        elif low is not None and value < low:
            problems.append((name, f"{name} {value} is below low {low}"))
    for field, message in problems:
        if strict:
            out.error(OHLC, index, bar, field, message)
        else:
            out.warning(OHLC, index, bar.day, message + " (kept as published)")


def _check_gaps(bars: Sequence[Bar], calendar: Calendar, max_missing: int,
                out: _Collector) -> None:
    """Warn when more than ``max_missing`` sessions lie strictly between two bars."""
    one_day = timedelta(days=1)
    for index in range(1, len(bars)):
        earlier, later = bars[index - 1].day, bars[index].day
        if (later - earlier).days - 1 <= max_missing:
            continue  # too few calendar days in between to hide that many sessions
        missing = calendar.sessions_between(earlier, later - one_day)
        if missing > max_missing:
            out.warning(GAP, index, later,
                        f"{missing} {calendar.name} sessions missing between {earlier} and "
                        f"{later}", str(missing), str(max_missing))


def _check_stale(bars: Sequence[Bar], min_run: int, out: _Collector) -> None:
    """One warning per run of at least ``min_run`` consecutive bars with the same close."""
    start = 0
    for index in range(1, len(bars) + 1):
        if index < len(bars) and bars[index].close == bars[start].close:
            continue
        run = index - start
        if run >= min_run:
            first, last = bars[start].day, bars[index - 1].day
            out.warning(STALE_CLOSE, start, first,
                        f"close {bars[start].close} repeated for {run} sessions from {first} "
                        f"to {last}", str(run), str(min_run - 1))
        start = index


def robust_sigma(values: np.ndarray) -> float:
    """MAD-based standard deviation; falls back to the mean absolute deviation when more
    than half the values are equal (a policy rate, a pegged price), where the MAD is 0."""
    return _center_and_sigma(values)[1]


def _center_and_sigma(values: np.ndarray) -> tuple[float, float]:
    """The median of ``values`` and their robust sigma (see ``robust_sigma``)."""
    center = float(np.median(values))
    deviations = np.abs(values - center)
    sigma = MAD_TO_SIGMA * float(np.median(deviations))
    if sigma == 0.0:
        sigma = MEAN_AD_TO_SIGMA * float(np.mean(deviations))
    return center, sigma


def _check_jumps(bars: Sequence[Bar], kind: SeriesKind, limits: QualityLimits,
                 out: _Collector) -> None:
    """Warn on changes beyond ``jump_sigmas`` robust sigmas from the median change.

    Prices and FX use log returns (pairs with a non-positive close are skipped: the log
    is undefined there); rates use changes in percentage points, since a log return of a
    rate near zero says nothing.
    """
    if len(bars) <= limits.jump_min_returns:
        return
    closes = np.array([float(bar.close) for bar in bars])
    _jumps_from_closes(closes, lambda index: bars[index].day, kind, limits, out)


def _jumps_from_closes(closes: np.ndarray, day_at: Callable[[int], date], kind: SeriesKind,
                       limits: QualityLimits, out: _Collector) -> None:
    k = limits.jump_sigmas
    if kind is SeriesKind.RATE:
        changes = np.diff(closes)
        valid = np.ones(changes.shape, dtype=bool)
    else:
        valid = (closes[1:] > 0) & (closes[:-1] > 0)
        safe = np.where(closes > 0, closes, 1.0)
        changes = np.diff(np.log(safe))
    used = changes[valid]
    if used.size < limits.jump_min_returns:
        return
    center, sigma = _center_and_sigma(used)
    if sigma == 0.0:
        return
    sizes = np.abs(changes - center) / sigma
    what = "change" if kind is SeriesKind.RATE else "log return"
    for position in np.flatnonzero(valid & (sizes > k)):
        index = int(position) + 1
        size = float(sizes[position])
        out.warning(JUMP, index, day_at(index),
                    f"{what} {float(changes[position]):+.4f} from {day_at(index - 1)} is "
                    f"{size:.1f} robust standard deviations (sigma {sigma:.4g})",
                    f"{size:.1f}", f"{k:g}")


def average_daily_volume(bars: Sequence[Bar], as_of: date,
                         window_sessions: int = 20) -> Decimal | None:
    """Mean volume over the last ``window_sessions`` bars on or before ``as_of``, counting
    only bars that report one; None when none does (liquidity unknown, not zero)."""
    end = bisect.bisect_right(bars, as_of, key=lambda bar: bar.day)
    volumes = [bar.volume for bar in bars[max(0, end - window_sessions):end]
               if bar.volume is not None]
    if not volumes:
        return None
    return sum(volumes, Decimal(0)) / len(volumes)


def validated(series: Series, limits: QualityLimits = DEFAULT_LIMITS) -> Series:
    """``series`` with its quality warnings attached; raises on the first error. For data
    that did not come from a file (providers, generators): files name their lines."""
    report = check_series(series.id, series.bars, get_calendar(series.calendar),
                          source_name=series.source, limits=limits)
    if report.errors:
        first, where = report.errors[0], report.error_locations[0]
        raise InvalidInput(f"{series.id} from {series.source}: {first.message}",
                           field=where.field)
    return replace(series, warnings=(*series.warnings, *report.warnings))


# --- the vectorized path, for ColumnarBars ---------------------------------------------------
#
# The same checks as above over NumPy columns. Floats only select candidate rows: a correctly
# rounded conversion is monotone, so ``x < y`` implies ``float(x) <= float(y)``; every
# candidate is then checked (and reported) by the exact per-bar code on its Decimals.


def _check_columns(series_id: SeriesId, bars: ColumnarBars, calendar: Calendar,
                   limits: QualityLimits, out: _Collector, *, positive_only: bool) -> None:
    n = len(bars)
    if n == 0:
        return
    ordinals = bars.day_ordinals
    step = np.diff(ordinals)
    bad_order = np.zeros(n, dtype=bool)
    bad_order[1:] = step <= 0
    ordered = not bool(bad_order.any())
    suspect = bad_order.copy()
    columns = {name: bars.float_column(name) for name in ("close", "open", "high", "low")}
    present = {name: values for name, values in columns.items() if values is not None}
    if positive_only:
        for values in present.values():
            suspect |= values <= 0.0
    volume = bars.float_column("volume")
    if volume is not None:
        suspect |= (volume < 0.0) | ((volume == 0.0) & np.signbit(volume))
    high, low = columns["high"], columns["low"]
    if high is not None or low is not None:
        with np.errstate(invalid="ignore"):
            if high is not None and low is not None:
                suspect |= low >= high
            for name in ("close", "open"):
                value_column = columns[name]
                if value_column is None:
                    continue
                if high is not None:
                    suspect |= value_column >= high
                if low is not None:
                    suspect |= value_column <= low
    candidates = np.flatnonzero(suspect)
    if candidates.size:
        first_seen: dict[int, int] = {}
        if not ordered:
            unique, first = np.unique(ordinals, return_index=True)
            first_seen = dict(zip(unique.tolist(), first.tolist(), strict=True))
        for position in candidates.tolist():
            bar = bars[position]
            if bad_order[position]:
                day = bar.day
                if first_seen[int(ordinals[position])] < position:
                    out.error(DUPLICATE_DATE, position, bar, "date", f"date {day} appears again")
                else:
                    out.error(UNORDERED, position, bar, "date",
                              f"date {day} comes after {bars.day(position - 1)}; dates must "
                              "ascend")
            _check_values(position, bar, out, positive_only, limits.strict_ohlc)
    if not ordered:
        return
    _gaps_from_ordinals(bars, step, calendar, limits.max_missing_sessions, out)
    if series_id.kind is not SeriesKind.RATE:
        _stale_from_columns(bars, limits.stale_sessions, out)
    if n > limits.jump_min_returns:
        _jumps_from_closes(bars.close_float, bars.day, series_id.kind, limits, out)


_SESSION_TABLE_MAX_DAYS = 200_000  # beyond this span, count sessions per gap instead


def _gaps_from_ordinals(bars: ColumnarBars, step: np.ndarray, calendar: Calendar,
                        max_missing: int, out: _Collector) -> None:
    ordinals = bars.day_ordinals
    wide = np.flatnonzero(step - 1 > max_missing)  # pairs (wide[i], wide[i] + 1)
    if wide.size == 0:
        return
    earlier = ordinals[wide]
    later = ordinals[wide + 1]
    base = int(ordinals[0])
    span = int(ordinals[-1]) - base + 1
    if span <= _SESSION_TABLE_MAX_DAYS:
        days = np.arange(base, base + span, dtype=np.int64)
        session = np.isin((days - 1) % 7, np.fromiter(calendar.weekmask, dtype=np.int64))
        if calendar.holidays:
            session &= ~np.isin(days, _holiday_ordinals(calendar))
        counted = np.cumsum(session)  # counted[k]: sessions in [base, base + k]
        missing: np.ndarray = counted[later - 1 - base] - counted[earlier - base]
    else:
        one_day = timedelta(days=1)
        missing = np.array([calendar.sessions_between(date.fromordinal(int(e)),
                                                      date.fromordinal(int(lt)) - one_day)
                            for e, lt in zip(earlier, later, strict=True)], dtype=np.int64)
    counts: list[int] = missing.tolist()
    for position, count, first, last in zip(wide.tolist(), counts, earlier.tolist(),
                                            later.tolist(), strict=True):
        if count > max_missing:
            earlier_day, later_day = date.fromordinal(first), date.fromordinal(last)
            out.warning(GAP, position + 1, later_day,
                        f"{count} {calendar.name} sessions missing between {earlier_day} and "
                        f"{later_day}", str(count), str(max_missing))


_HOLIDAY_ORDINALS: dict[int, tuple[frozenset[date], np.ndarray]] = {}


def _holiday_ordinals(calendar: Calendar) -> np.ndarray:
    key = id(calendar.holidays)
    cached = _HOLIDAY_ORDINALS.get(key)
    if cached is None or cached[0] is not calendar.holidays:
        cached = (calendar.holidays,
                  np.array(sorted(day.toordinal() for day in calendar.holidays), dtype=np.int64))
        _HOLIDAY_ORDINALS[key] = cached
    return cached[1]


def _stale_from_columns(bars: ColumnarBars, min_run: int, out: _Collector) -> None:
    """Runs of equal floats hold every run of equal closes; each long one is re-read exactly."""
    closes = bars.close_float
    n = closes.size
    if n < min_run:
        return
    change = np.flatnonzero(closes[1:] != closes[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [n]))
    long = np.flatnonzero(ends - starts >= min_run)
    for start, end in zip(starts[long].tolist(), ends[long].tolist(), strict=True):
        values = [bars.decimal("close", i) for i in range(start, end)]
        run_start = start
        for index in range(start + 1, end + 1):
            if index < end and values[index - start] == values[run_start - start]:
                continue
            run = index - run_start
            if run >= min_run:
                first, last = bars.day(run_start), bars.day(index - 1)
                out.warning(STALE_CLOSE, run_start, first,
                            f"close {values[run_start - start]} repeated for {run} sessions "
                            f"from {first} to {last}", str(run), str(min_run - 1))
            run_start = index
