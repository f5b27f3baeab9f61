"""In-memory as-of index: the latest bar on or before a date, for valuation and risk.

Each series is held as a NumPy ``int64`` array of day ordinals (``date.toordinal()``) in
ascending order, with its bars in a tuple of the same length, so closes stay exact
``Decimal`` while lookups are a binary search. One date uses :func:`bisect.bisect_right`
on a tuple of ints (cheaper than a NumPy call for a scalar); many dates use one
``numpy.searchsorted`` call (on the sorted dates). Measured for 10,000 random dates on a
6,000-bar series: ``lookup_many`` ≈0.9 ms from a list of ``date`` (pandas ``Series.asof``
≈1.8 ms from the same list, ≈0.5-1.1 ms from a prebuilt ``DatetimeIndex``; ours ≈0.45 ms
from ``datetime64``), and 10,000 single ``lookup`` calls ≈7 ms against ≈110 ms.

Series are found by ``SeriesId`` or by text: ``"price:BTC"``, ``"fx:USD/KZT"``, or a bare
code ("BTC") when only one kind of series has that code.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from qoima.domain.errors import InvalidInput
from qoima.market.calendars import Calendar
from qoima.market.series import Bar, Series, SeriesId

#: ``date.toordinal()`` of 1970-01-01: turns ``datetime64[D]`` day numbers into ordinals.
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

SeriesKey = str | SeriesId
DatesLike = Sequence[date] | npt.NDArray[np.datetime64]


@dataclass(frozen=True, slots=True, eq=False)
class _Track:
    ordinals: npt.NDArray[np.int64]  # (n_bars,) strictly ascending day ordinals
    ordinal_list: tuple[int, ...]  # the same, for scalar bisect
    bars: tuple[Bar, ...]  # (n_bars,) parallel to ordinals
    closes: npt.NDArray[np.float64]  # (n_bars,) float copies of the closes, for arrays
    # (n_bars + 1,) object array: None, then the bars, so ``[positions + 1]`` maps the
    # "before the first bar" position -1 to None without a Python-level loop
    bar_table: npt.NDArray[np.object_]


@dataclass(frozen=True, slots=True, eq=False)
class AsOfIndex:
    """Latest-bar-on-or-before lookups over several series.

    Build with :meth:`from_series`; immutable afterwards. Lookups of a series the index does
    not hold return None (a missing price the caller reports), an ambiguous bare code raises.
    """

    _tracks: Mapping[SeriesId, _Track]
    _by_code: Mapping[str, tuple[SeriesId, ...]]

    @classmethod
    def from_series(cls, series_list: Iterable[Series]) -> AsOfIndex:
        """Index ``series_list``; bars must be ascending with unique dates, one series per id.

        Raises
        ------
        InvalidInput
            Two series with the same id, or bars out of order.
        """
        tracks: dict[SeriesId, _Track] = {}
        by_code: dict[str, list[SeriesId]] = {}
        for s in series_list:
            if s.id in tracks:
                raise InvalidInput(f"series {s.id} given twice", field="series")
            bars = tuple(s.bars)  # ColumnarBars from the file readers: built once, here
            ordinal_list = tuple(bar.day.toordinal() for bar in bars)
            ordinals = np.array(ordinal_list, dtype=np.int64)
            if ordinals.size > 1 and not bool(np.all(np.diff(ordinals) > 0)):
                raise InvalidInput(f"series {s.id}: bars must be in ascending date order "
                                   f"with unique dates", field="bars")
            closes = np.array([float(bar.close) for bar in bars], dtype=np.float64)
            ordinals.setflags(write=False)
            closes.setflags(write=False)
            bar_table = np.empty(len(bars) + 1, dtype=object)
            bar_table[1:] = bars
            bar_table.setflags(write=False)
            tracks[s.id] = _Track(ordinals, ordinal_list, bars, closes, bar_table)
            by_code.setdefault(s.id.code, []).append(s.id)
        return cls(tracks, {code: tuple(ids) for code, ids in by_code.items()})

    @property
    def series_ids(self) -> tuple[SeriesId, ...]:
        return tuple(self._tracks)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str) and ":" not in key:
            return key in self._by_code  # held, even when the bare code is ambiguous
        if not isinstance(key, str | SeriesId):
            return False
        return self._find_track(key) is not None

    def lookup(self, key: SeriesKey, as_of_date: date) -> Bar | None:
        """The latest bar of ``key`` dated on or before ``as_of_date``; None when there is
        none or the series is unknown."""
        track = self._find_track(key)
        if track is None:
            return None
        position = bisect.bisect_right(track.ordinal_list, as_of_date.toordinal()) - 1
        return track.bars[position] if position >= 0 else None

    def close_as_of(self, key: SeriesKey, as_of_date: date) -> tuple[date, Decimal] | None:
        """``(bar date, exact close)`` of :meth:`lookup`; None when there is no bar."""
        bar = self.lookup(key, as_of_date)
        return None if bar is None else (bar.day, bar.close)

    def lookup_many(self, key: SeriesKey, dates: DatesLike) -> list[Bar | None]:
        """:meth:`lookup` for each of ``dates`` (any order), with one ``searchsorted``.

        Parameters
        ----------
        dates : sequence of date, or ndarray of datetime64, shape (n,)

        Returns
        -------
        list of Bar or None, length n
        """
        track = self._find_track(key)
        targets = _ordinals(dates)
        if track is None:
            return [None] * targets.size
        positions = _after(track.ordinals, targets)
        found: list[Bar | None] = track.bar_table[positions].tolist()
        return found

    def closes_many(self, key: SeriesKey, dates: DatesLike) -> npt.NDArray[np.float64]:
        """Closes as of each of ``dates`` as float64, shape (n,), NaN where no bar: for risk
        code that wants arrays (exact values: :meth:`lookup_many`)."""
        track = self._find_track(key)
        targets = _ordinals(dates)
        result = np.full(targets.size, np.nan, dtype=np.float64)
        if track is None or not track.bars:
            return result
        positions = _after(track.ordinals, targets) - 1
        found = positions >= 0
        result[found] = track.closes[positions[found]]
        return result

    def staleness(self, key: SeriesKey, as_of_date: date, calendar: Calendar) -> int | None:
        """Sessions of ``calendar`` after the last bar on or before ``as_of_date``, up to and
        including ``as_of_date``: 0 when the bar is on ``as_of_date`` or nothing has traded
        since it (Friday's close on Saturday, on ``xnys``). None when there is no bar."""
        bar = self.lookup(key, as_of_date)
        if bar is None:
            return None
        return calendar.sessions_between(bar.day, as_of_date)

    def _find_track(self, key: SeriesKey) -> _Track | None:
        if isinstance(key, SeriesId):
            return self._tracks.get(key)
        if ":" in key:
            return self._tracks.get(SeriesId.parse(key))
        ids = self._by_code.get(key, ())
        if len(ids) > 1:
            raise InvalidInput(f"code {key!r} names several series "
                               f"({', '.join(str(i) for i in ids)}); say which", field="series")
        return self._tracks[ids[0]] if ids else None


def _ordinals(dates: DatesLike) -> npt.NDArray[np.int64]:
    """Day ordinals of ``dates``, shape (n,)."""
    if isinstance(dates, np.ndarray):
        days = dates.astype("datetime64[D]").astype(np.int64)
        return days + EPOCH_ORDINAL
    return np.fromiter(map(date.toordinal, dates), dtype=np.int64, count=len(dates))


def _after(ordinals: npt.NDArray[np.int64],
           targets: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    """For each target, the number of ``ordinals`` on or before it, shape (n,).

    ``searchsorted`` is several times faster on sorted keys (each search starts from the
    last), so random dates are sorted first and the answers put back in their order.
    """
    if targets.size < 2 or bool(np.all(targets[1:] >= targets[:-1])):
        return np.searchsorted(ordinals, targets, side="right")
    order = np.argsort(targets)
    positions = np.empty(targets.size, dtype=np.intp)
    positions[order] = np.searchsorted(ordinals, targets[order], side="right")
    return positions
