"""Explicit alignment of daily series onto one target calendar, for return analysis.

Series in the reserve follow different calendars: crypto trades every day, US ETFs on NYSE
sessions, the reserve values on Kazakhstan working days, FRED rates on weekdays. Putting
them side by side needs a rule, chosen per analysis and recorded with the result, never an
accident of ``dropna``. The rules (:class:`AlignmentRule`):

``COMPOUND``
    For each target session take the last close on or before it. A series observed on more
    days than the target calendar (crypto on NYSE sessions) therefore *compounds* its moves
    between target sessions into the next target session: nothing is dropped.
``LAST_OBSERVATION``
    The same sampling ("the level as of each target session"), stated for levels such as
    interest rates, which do not compound. ``COMPOUND`` refuses rate series so that the
    choice is visible.
``COMMON_SESSIONS``
    Keep only the target sessions on which every series has its own close. This loses
    information: the sample shrinks and kept periods span unequal numbers of days (the
    price rows are dropped, not the returns, so a move on a dropped day still lands in the
    next kept period's return).

Worked example (``COMPOUND``, BTC aligned on ``xnys``)::

    BTC closes   Fri 100   Sat 110   Sun 90   Mon 99
    xnys         Fri  ·    (closed)  (closed) Mon  ·
    Monday's log return = ln(99/100) = ln(110/100) + ln(90/110) + ln(99/90) ≈ -1.005 %

The accident this module exists to avoid: computing BTC's daily returns first and then
keeping the rows of NYSE sessions gives Monday ln(99/90) ≈ +9.53 % and loses the weekend.

Missing data. Under ``COMPOUND`` and ``LAST_OBSERVATION`` a close may be carried forward
for at most ``max_stale_sessions`` target sessions (a US holiday on a Kazakh valuation day
is one stale session: the return over the holiday is 0 and the move lands on the next US
session). Beyond that limit the price is NaN, every return touching it is NaN, and a
``Finding`` lists the dates; there is never a silent forward fill beyond the limit. Target
sessions before a series' first close are NaN with a finding of their own.

Rates (``SeriesKind.RATE``, in percent) are levels: :func:`changes` gives their differences
in percentage points; :func:`log_returns` and :func:`simple_returns` refuse them.

Everything here is pure: no I/O, no clock; values are converted from exact ``Decimal`` to
``float64`` once, at alignment, because analysis works on float arrays.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.market.calendars import Calendar
from qoima.market.series import Series, SeriesKind, bars_hash

FloatMatrix = npt.NDArray[np.float64]
IntMatrix = npt.NDArray[np.int64]

DEFAULT_MAX_STALE_SESSIONS = 3
#: How many dates (or runs of dates) a finding's message spells out; the full list is kept
#: in the result (``gaps``, ``dropped_dates``).
MESSAGE_DATES_MAX = 10

STALE_GAP = "market.returns_stale_gap"
NO_HISTORY = "market.returns_no_history"
DROPPED_SESSIONS = "market.returns_dropped_sessions"


class AlignmentRule(StrEnum):
    """How series on different calendars are put onto the target calendar (module doc)."""

    COMPOUND = "compound"
    LAST_OBSERVATION = "last-observation"
    COMMON_SESSIONS = "common-sessions"


class ReturnMeasure(StrEnum):
    LOG = "log"  # ln(p_t / p_{t-1})
    SIMPLE = "simple"  # p_t / p_{t-1} - 1, a fraction
    CHANGE = "change"  # p_t - p_{t-1}, in the level's units (percentage points for rates)


@dataclass(frozen=True, slots=True)
class StaleGap:
    """A run of consecutive target sessions on which series ``name`` has no usable close.

    ``last_observed_date`` is the close before the run (None: the series had not started).
    """

    name: str
    dates: tuple[date, ...]
    last_observed_date: date | None


@dataclass(frozen=True, slots=True, eq=False)
class AlignedPrices:
    """Closes of several series on the sessions of one calendar.

    Attributes
    ----------
    dates : tuple[date, ...], length n_dates
        Target sessions, ascending (under ``COMMON_SESSIONS`` only the kept ones).
    names : tuple[str, ...], length n_series
        Column names, in the order of the input mapping.
    kinds, units : tuple, length n_series
        Series kind and the unit of each column's level ("USD", "KZT per USD", "percent").
    values : ndarray of float64, shape (n_dates, n_series)
        Close as of each date in the column's unit; NaN where no usable close.
    stale_sessions : ndarray of int64, shape (n_dates, n_series)
        Target sessions since the close used (0: a close on that date or since the previous
        target session; -1: none). Set even where ``values`` is NaN because over the limit.
    rule, calendar, max_stale_sessions, start_date, end_date
        The parameters the alignment ran with.
    dropped_dates : tuple[date, ...]
        ``COMMON_SESSIONS``: target sessions dropped because a series had no close on them.
    gaps : tuple[StaleGap, ...]
        Runs of NaN prices, per series.
    warnings : tuple[Finding, ...]
        One finding per series with gaps, one for dropped sessions.
    inputs_hash : str
        SHA-256 over names, series ids and bars, so a figure can be traced to its data.
    """

    dates: tuple[date, ...]
    names: tuple[str, ...]
    kinds: tuple[SeriesKind, ...]
    units: tuple[str, ...]
    values: FloatMatrix
    stale_sessions: IntMatrix
    rule: AlignmentRule
    calendar: str
    max_stale_sessions: int
    start_date: date
    end_date: date
    dropped_dates: tuple[date, ...]
    gaps: tuple[StaleGap, ...]
    warnings: tuple[Finding, ...]
    inputs_hash: str

    def column(self, name: str) -> npt.NDArray[np.float64]:
        """Closes of ``name``, shape (n_dates,)."""
        return self.values[:, _index(self.names, name)]

    def select(self, *names: str) -> AlignedPrices:
        """The same alignment restricted to ``names`` (in that order); gaps and warnings of
        other series are left out, dropped dates and the hash are kept (they describe the
        alignment that ran)."""
        columns = [_index(self.names, name) for name in names]
        wanted = set(names)
        return replace(
            self,
            names=tuple(names),
            kinds=tuple(self.kinds[i] for i in columns),
            units=tuple(self.units[i] for i in columns),
            values=_frozen(self.values[:, columns]),
            stale_sessions=_frozen(self.stale_sessions[:, columns]),
            gaps=tuple(g for g in self.gaps if g.name in wanted),
            warnings=tuple(w for w in self.warnings
                           if w.rule == DROPPED_SESSIONS or w.subject in wanted),
        )


@dataclass(frozen=True, slots=True, eq=False)
class AlignedReturns:
    """Per-period returns (or changes) between consecutive aligned dates.

    Attributes
    ----------
    start_dates, dates : tuple[date, ...], length n_periods = n_dates - 1
        Period ``i`` runs from the close of ``start_dates[i]`` to the close of ``dates[i]``.
    names, kinds : tuple, length n_series
    units : tuple[str, ...], length n_series
        "log return", "fraction", or for changes the level's unit ("percentage points").
    values : ndarray of float64, shape (n_periods, n_series)
        NaN where either end's price is NaN.
    measure : ReturnMeasure
    rule, calendar, warnings, inputs_hash
        Carried from the :class:`AlignedPrices` they were computed from.
    """

    start_dates: tuple[date, ...]
    dates: tuple[date, ...]
    names: tuple[str, ...]
    kinds: tuple[SeriesKind, ...]
    units: tuple[str, ...]
    values: FloatMatrix
    measure: ReturnMeasure
    rule: AlignmentRule
    calendar: str
    warnings: tuple[Finding, ...]
    inputs_hash: str

    def column(self, name: str) -> npt.NDArray[np.float64]:
        """Returns of ``name``, shape (n_periods,)."""
        return self.values[:, _index(self.names, name)]


def align_closes(
    series: Mapping[str, Series],
    calendar: Calendar,
    start_date: date,
    end_date: date,
    *,
    rule: AlignmentRule,
    max_stale_sessions: int = DEFAULT_MAX_STALE_SESSIONS,
) -> AlignedPrices:
    """Put the closes of ``series`` onto ``calendar``'s sessions in ``[start_date, end_date]``.

    Parameters
    ----------
    series : mapping of column name to Series
        Bars ascending with unique dates; any calendar.
    calendar : Calendar
        The target calendar (e.g. the reserve's valuation days, or ``xnys``).
    start_date, end_date : date
        Inclusive window; closes before ``start_date`` are used as of the first sessions
        (within ``max_stale_sessions``).
    rule : AlignmentRule
        Required: the choice belongs to the analysis (module doc).
    max_stale_sessions : int
        Target sessions a close may be carried forward; beyond, NaN and a finding.

    Returns
    -------
    AlignedPrices
        ``values`` of shape (n_dates, n_series), float64.
    """
    if not series:
        raise InvalidInput("align_closes needs at least one series", field="series")
    if start_date > end_date:
        raise InvalidInput(f"start_date {start_date} is after end_date {end_date}",
                           field="start_date")
    if max_stale_sessions < 0:
        raise InvalidInput(f"max_stale_sessions must be >= 0, got {max_stale_sessions}",
                           field="max_stale_sessions")
    rule = AlignmentRule(rule)
    names = tuple(series)
    kinds = tuple(s.id.kind for s in series.values())
    if rule is AlignmentRule.COMPOUND:
        rates = [name for name, kind in zip(names, kinds, strict=True)
                 if kind is SeriesKind.RATE]
        if rates:
            raise InvalidInput(f"rates are levels and do not compound: {', '.join(rates)}; "
                               f"align them with {AlignmentRule.LAST_OBSERVATION.value!r}",
                               field="rule")
    tracks = [_track(name, s) for name, s in series.items()]
    targets = np.array([d.toordinal() for d in calendar.sessions(start_date, end_date)],
                       dtype=np.int64)
    aligner = _ALIGNERS[rule]
    values, stale, kept, gaps = aligner(names, tracks, targets, calendar, max_stale_sessions)
    dates = tuple(date.fromordinal(int(o)) for o in targets[kept])
    dropped = tuple(date.fromordinal(int(o)) for o in targets[~kept])
    warnings = [_gap_finding(name, [g for g in gaps if g.name == name], max_stale_sessions)
                for name in names if any(g.name == name for g in gaps)]
    if dropped:
        warnings.append(_dropped_finding(dropped, len(targets)))
    return AlignedPrices(
        dates=dates,
        names=names,
        kinds=kinds,
        units=tuple(_level_unit(s) for s in series.values()),
        values=_frozen(values),
        stale_sessions=_frozen(stale),
        rule=rule,
        calendar=calendar.name,
        max_stale_sessions=max_stale_sessions,
        start_date=start_date,
        end_date=end_date,
        dropped_dates=dropped,
        gaps=tuple(gaps),
        warnings=tuple(warnings),
        inputs_hash=_inputs_hash(series),
    )


def log_returns(aligned: AlignedPrices) -> AlignedReturns:
    """Log returns ln(p_t / p_{t-1}) between consecutive aligned dates, shape
    (n_dates - 1, n_series); prices and FX only, all positive."""
    prices = _positive_prices(aligned, ReturnMeasure.LOG)
    with np.errstate(invalid="ignore"):
        values = np.diff(np.log(prices), axis=0)
    return _returns(aligned, values, ReturnMeasure.LOG, ("log return",) * len(aligned.names))


def simple_returns(aligned: AlignedPrices) -> AlignedReturns:
    """Simple returns p_t / p_{t-1} - 1 as fractions, shape (n_dates - 1, n_series); prices
    and FX only, all positive."""
    prices = _positive_prices(aligned, ReturnMeasure.SIMPLE)
    values = prices[1:] / prices[:-1] - 1.0
    return _returns(aligned, values, ReturnMeasure.SIMPLE, ("fraction",) * len(aligned.names))


def changes(aligned: AlignedPrices) -> AlignedReturns:
    """Differences p_t - p_{t-1} in each column's own unit, shape (n_dates - 1, n_series).

    For rates (levels in percent) this is the change in percentage points: DGS10 from 4.06
    to 4.16 is +0.10 pp, not a 2.5 % return.
    """
    values = np.diff(aligned.values, axis=0)
    units = tuple("percentage points" if kind is SeriesKind.RATE else unit
                  for kind, unit in zip(aligned.kinds, aligned.units, strict=True))
    return _returns(aligned, values, ReturnMeasure.CHANGE, units)


# --- alignment rules -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Track:
    ordinals: npt.NDArray[np.int64]  # (n_bars,) date ordinals, strictly ascending
    closes: npt.NDArray[np.float64]  # (n_bars,)


_Aligned = tuple[FloatMatrix, IntMatrix, npt.NDArray[np.bool_], list[StaleGap]]
_Aligner = Callable[
    [tuple[str, ...], Sequence[_Track], npt.NDArray[np.int64], Calendar, int], _Aligned]


def _track(name: str, s: Series) -> _Track:
    ordinals = np.array([bar.day.toordinal() for bar in s.bars], dtype=np.int64)
    if ordinals.size > 1 and not bool(np.all(np.diff(ordinals) > 0)):
        raise InvalidInput(f"series {name} ({s.id}): bars must be in ascending date order "
                           f"with unique dates", field="bars")
    closes = np.array([float(bar.close) for bar in s.bars], dtype=np.float64)
    return _Track(ordinals, closes)


def _align_last_observation(
    names: tuple[str, ...],
    tracks: Sequence[_Track],
    targets: npt.NDArray[np.int64],
    calendar: Calendar,
    max_stale_sessions: int,
) -> _Aligned:
    """COMPOUND and LAST_OBSERVATION: the last close on or before each target session."""
    n_dates, n_series = targets.size, len(tracks)
    values = np.full((n_dates, n_series), np.nan, dtype=np.float64)
    stale = np.full((n_dates, n_series), -1, dtype=np.int64)
    gaps: list[StaleGap] = []
    if n_dates == 0:
        return values, stale, np.ones(0, dtype=np.bool_), gaps
    positions = [np.searchsorted(t.ordinals, targets, side="right") - 1 for t in tracks]
    used = [t.ordinals[p[p >= 0]] for t, p in zip(tracks, positions, strict=True)]
    earliest = min((int(u[0]) for u in used if u.size), default=int(targets[0]))
    # Target sessions from the earliest close used, so staleness counts sessions even when
    # the close lies before start_date.
    session_ordinals = np.array(
        [d.toordinal() for d in calendar.sessions(date.fromordinal(min(earliest,
                                                                       int(targets[0]))),
                                                  date.fromordinal(int(targets[-1])))],
        dtype=np.int64)
    target_rank = np.searchsorted(session_ordinals, targets, side="right")
    for column, (track, position) in enumerate(zip(tracks, positions, strict=True)):
        if track.ordinals.size == 0:
            gaps.extend(_runs(names[column], targets, np.ones(n_dates, dtype=np.bool_),
                              np.zeros(n_dates, dtype=np.int64),
                              np.zeros(n_dates, dtype=np.bool_)))
            continue
        has = position >= 0
        observed = np.where(has, track.ordinals[np.maximum(position, 0)], 0)
        sessions_since = target_rank - np.searchsorted(session_ordinals, observed, side="right")
        stale[:, column] = np.where(has, sessions_since, -1)
        usable = has & (sessions_since <= max_stale_sessions)
        values[:, column] = np.where(usable, track.closes[np.maximum(position, 0)], np.nan)
        gaps.extend(_runs(names[column], targets, ~usable, observed, has))
    return values, stale, np.ones(n_dates, dtype=np.bool_), gaps


def _align_common_sessions(
    names: tuple[str, ...],
    tracks: Sequence[_Track],
    targets: npt.NDArray[np.int64],
    calendar: Calendar,
    max_stale_sessions: int,
) -> _Aligned:
    """COMMON_SESSIONS: keep the target sessions on which every series has its own close."""
    kept = np.ones(targets.size, dtype=np.bool_)
    for track in tracks:
        kept &= np.isin(targets, track.ordinals)
    dates = targets[kept]
    values = np.empty((dates.size, len(tracks)), dtype=np.float64)
    for column, track in enumerate(tracks):
        values[:, column] = track.closes[np.searchsorted(track.ordinals, dates)]
    stale = np.zeros(values.shape, dtype=np.int64)
    return values, stale, kept, []


_ALIGNERS: Mapping[AlignmentRule, _Aligner] = {
    AlignmentRule.COMPOUND: _align_last_observation,
    AlignmentRule.LAST_OBSERVATION: _align_last_observation,
    AlignmentRule.COMMON_SESSIONS: _align_common_sessions,
}


def _runs(
    name: str,
    targets: npt.NDArray[np.int64],
    missing: npt.NDArray[np.bool_],
    observed: npt.NDArray[np.int64],
    has: npt.NDArray[np.bool_],
) -> Iterable[StaleGap]:
    """Runs of consecutive missing target sessions; a run ends where the close used changes."""
    indices = np.flatnonzero(missing)
    if indices.size == 0:
        return []
    breaks = np.flatnonzero((np.diff(indices) != 1)
                            | (np.diff(observed[indices]) != 0)) + 1
    gaps = []
    for run in np.split(indices, breaks):
        first = int(run[0])
        last_observed = date.fromordinal(int(observed[first])) if has[first] else None
        gaps.append(StaleGap(name, tuple(date.fromordinal(int(o)) for o in targets[run]),
                             last_observed))
    return gaps


# --- helpers ---------------------------------------------------------------------------

def _positive_prices(aligned: AlignedPrices, measure: ReturnMeasure) -> FloatMatrix:
    rates = [name for name, kind in zip(aligned.names, aligned.kinds, strict=True)
             if kind is SeriesKind.RATE]
    if rates:
        raise InvalidInput(f"{measure.value} returns of rates are meaningless: "
                           f"{', '.join(rates)}; use changes() (percentage points), and "
                           f"select() the price columns", field="series")
    prices = aligned.values
    bad = np.argwhere(prices <= 0)
    if bad.size:
        row, column = (int(i) for i in bad[0])
        raise InvalidInput(f"{measure.value} returns need positive prices: "
                           f"{aligned.names[column]} is {prices[row, column]} on "
                           f"{aligned.dates[row]}", field="close")
    return prices


def _returns(aligned: AlignedPrices, values: FloatMatrix, measure: ReturnMeasure,
             units: tuple[str, ...]) -> AlignedReturns:
    return AlignedReturns(
        start_dates=aligned.dates[:-1],
        dates=aligned.dates[1:],
        names=aligned.names,
        kinds=aligned.kinds,
        units=units,
        values=_frozen(values.reshape(max(len(aligned.dates) - 1, 0), len(aligned.names))),
        measure=measure,
        rule=aligned.rule,
        calendar=aligned.calendar,
        warnings=aligned.warnings,
        inputs_hash=aligned.inputs_hash,
    )


def _level_unit(s: Series) -> str:
    if s.id.kind is SeriesKind.RATE:
        return "percent"
    if s.id.kind is SeriesKind.FX:
        base, quote = s.id.fx_pair
        return f"{quote} per {base}"
    return s.currency or "price"


def _gap_finding(name: str, gaps: list[StaleGap], max_stale_sessions: int) -> Finding:
    dates = [d for g in gaps for d in g.dates]
    shown = ", ".join(_run_text(g) for g in gaps[:MESSAGE_DATES_MAX])
    more = (f" and {len(gaps) - MESSAGE_DATES_MAX} more runs"
            if len(gaps) > MESSAGE_DATES_MAX else "")
    no_history = all(g.last_observed_date is None for g in gaps)
    if no_history:
        message = (f"{name}: no close on or before {len(dates)} target sessions "
                   f"(prices and returns are NaN): {shown}{more}")
    else:
        message = (f"{name}: no close for more than {max_stale_sessions} target sessions on "
                   f"{len(dates)} sessions; prices there and the returns touching them are "
                   f"NaN, not forward-filled: {shown}{more}")
    return Finding(NO_HISTORY if no_history else STALE_GAP, Severity.WARNING, name, message,
                   dates[0], measured=str(len(dates)), limit=str(max_stale_sessions))


def _run_text(gap: StaleGap) -> str:
    span = (gap.dates[0].isoformat() if len(gap.dates) == 1
            else f"{gap.dates[0]}..{gap.dates[-1]} ({len(gap.dates)} sessions)")
    since = (f" after the close of {gap.last_observed_date}"
             if gap.last_observed_date is not None else " before the first close")
    return span + since


def _dropped_finding(dropped: tuple[date, ...], n_targets: int) -> Finding:
    shown = ", ".join(d.isoformat() for d in dropped[:MESSAGE_DATES_MAX])
    more = (f" and {len(dropped) - MESSAGE_DATES_MAX} more"
            if len(dropped) > MESSAGE_DATES_MAX else "")
    return Finding(DROPPED_SESSIONS, Severity.INFO, "alignment",
                   f"{AlignmentRule.COMMON_SESSIONS.value}: dropped {len(dropped)} of "
                   f"{n_targets} target sessions where not every series has its own close "
                   f"(fewer, longer periods): {shown}{more}",
                   dropped[0], measured=str(len(dropped)), limit=str(n_targets))


def _inputs_hash(series: Mapping[str, Series]) -> str:
    digest = hashlib.sha256()
    for name, s in series.items():
        digest.update(f"{name}\t{s.id}\t{s.calendar}\t{bars_hash(s.bars)}\n".encode())
    return digest.hexdigest()


def _index(names: tuple[str, ...], name: str) -> int:
    try:
        return names.index(name)
    except ValueError:
        raise InvalidInput(f"no series {name!r}; have {', '.join(names)}",
                           field="series") from None


_Scalar = TypeVar("_Scalar", bound=np.generic)


def _frozen(array: npt.NDArray[_Scalar]) -> npt.NDArray[_Scalar]:
    array.setflags(write=False)
    return array
