"""Daily market series: bars of one instrument, FX pair or rate, with where they came from.

One shape for every kind of series so importers, quality checks, the store and the risk
engine pass the same object. Values are exact ``Decimal`` (parsed from the file's text,
never through float); risk code converts to float arrays itself.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, overload

import numpy as np

from qoima.domain.canonical import plain_decimal
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.market.quotes import SYNTHETIC_SOURCE_PREFIX


class SeriesKind(StrEnum):
    PRICE = "price"  # an instrument's price in ``currency`` per unit
    FX = "fx"  # code "USD/KZT": one USD buys ``close`` KZT
    RATE = "rate"  # an interest rate or yield in percent (DGS10 4.06 = 4.06 %)


@dataclass(frozen=True, slots=True)
class Bar:
    """One day. ``close`` is always known; open/high/low/volume may be missing."""

    day: date
    close: Decimal
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    volume: Decimal | None = None


BAR_VALUE_FIELDS = ("close", "open", "high", "low", "volume")


class ColumnarBars(Sequence[Bar]):
    """Bars held as columns: an immutable ``Sequence[Bar]`` that builds each ``Bar`` on
    demand, so a long file costs no Python object per row until someone reads the rows.

    ``day_ordinals`` are ``date.toordinal()`` values (int64). Each value column is the text
    of the file's cells (a list/tuple/NumPy array of ``str``, or a pyarrow string array;
    ``""`` or a null is a missing value, None a missing column): ``Decimal(text)`` keeps them exact.
    The float64 copies (NaN where missing) are for vectorized checks only; they must be the
    correctly rounded value of each text, as ``float(Decimal(text))`` is.
    """

    __slots__ = ("_floats", "_hash", "_lists", "_materialized", "_texts", "day_ordinals")

    def __init__(self, day_ordinals: np.ndarray, texts: Sequence[Any | None],
                 floats: Sequence[np.ndarray | None]) -> None:
        if len(texts) != len(BAR_VALUE_FIELDS) or len(floats) != len(BAR_VALUE_FIELDS):
            raise ValueError("texts and floats hold close, open, high, low, volume")
        if texts[0] is None or floats[0] is None:
            raise ValueError("the close column is required")
        n = len(day_ordinals)
        for text, values in zip(texts, floats, strict=True):
            if (text is None) != (values is None):
                raise ValueError("a column needs both its text and its floats")
            if text is not None and values is not None and (len(text) != n or len(values) != n):
                raise ValueError("columns must have one value per day")
        ordinals = np.asarray(day_ordinals, dtype=np.int64)
        ordinals.setflags(write=False)
        self.day_ordinals = ordinals
        self._texts = tuple(texts)
        frozen = []
        for values in floats:
            if values is not None:
                values = np.asarray(values, dtype=np.float64)
                values.setflags(write=False)
            frozen.append(values)
        self._floats: tuple[np.ndarray | None, ...] = tuple(frozen)
        self._lists: list[list[str | None] | None] = [None] * len(BAR_VALUE_FIELDS)
        self._materialized: tuple[Bar, ...] | None = None
        self._hash: int | None = None

    @classmethod
    def from_bars(cls, bars: Sequence[Bar]) -> ColumnarBars:
        """The same bars in columns (``str(Decimal)`` reads back exactly)."""
        ordinals = np.array([bar.day.toordinal() for bar in bars], dtype=np.int64)
        texts: list[list[str] | None] = []
        floats: list[np.ndarray | None] = []
        for name in BAR_VALUE_FIELDS:
            values = [getattr(bar, name) for bar in bars]
            if name != "close" and all(value is None for value in values):
                texts.append(None)
                floats.append(None)
                continue
            texts.append(["" if value is None else str(value) for value in values])
            floats.append(np.array([math.nan if value is None else float(value)
                                    for value in values], dtype=np.float64))
        return cls(ordinals, texts, floats)

    # -- columns -----------------------------------------------------------------------

    def float_column(self, name: str) -> np.ndarray | None:
        """The float64 copy of value column ``name`` (NaN where missing), None if absent."""
        return self._floats[BAR_VALUE_FIELDS.index(name)]

    @property
    def close_float(self) -> np.ndarray:
        close = self._floats[0]
        assert close is not None
        return close

    def _column(self, k: int) -> list[str | None] | None:
        cached = self._lists[k]
        if cached is None:
            source = self._texts[k]
            if source is None:
                return None
            cached = (source.to_pylist() if hasattr(source, "to_pylist")  # null: None
                      else [str(text) for text in source])
            self._lists[k] = cached
        return cached

    def _cell(self, k: int, index: int) -> str | None:
        cached = self._lists[k]
        if cached is not None:
            return cached[index]
        source = self._texts[k]
        if source is None:
            return None
        cell = source[index]
        if hasattr(cell, "as_py"):  # a pyarrow scalar; null is a missing value
            cell = cell.as_py()
        return None if cell is None else str(cell)

    def decimal(self, name: str, index: int) -> Decimal | None:
        """The exact value of column ``name`` at ``index`` (None when missing)."""
        text = self._cell(BAR_VALUE_FIELDS.index(name), index)
        return Decimal(text) if text else None

    def day(self, index: int) -> date:
        return date.fromordinal(int(self.day_ordinals[index]))

    # -- Sequence ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.day_ordinals)

    def _bar(self, index: int) -> Bar:
        dec = Decimal
        values = []
        for k in range(len(BAR_VALUE_FIELDS)):
            text = self._cell(k, index)
            values.append(dec(text) if text else None)
        close, open_, high, low, volume = values
        assert close is not None
        return Bar(date.fromordinal(int(self.day_ordinals[index])), close, open_, high, low,
                   volume)

    @overload
    def __getitem__(self, index: int) -> Bar: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Bar, ...]: ...

    def __getitem__(self, index: int | slice) -> Bar | tuple[Bar, ...]:
        if self._materialized is not None:
            return self._materialized[index]
        if isinstance(index, slice):
            return tuple(self._bar(i) for i in range(*index.indices(len(self))))
        n = len(self)
        position = index + n if index < 0 else index
        if not 0 <= position < n:
            raise IndexError("bar index out of range")
        return self._bar(position)

    def bars(self) -> tuple[Bar, ...]:
        """Every bar as a tuple, built once and kept."""
        if self._materialized is None:
            dec = Decimal
            from_ordinal = date.fromordinal
            n = len(self)
            columns = []
            for k in range(len(BAR_VALUE_FIELDS)):
                column = self._column(k)
                columns.append([None] * n if column is None
                               else [dec(text) if text else None for text in column])
            days = [from_ordinal(o) for o in self.day_ordinals.tolist()]
            self._materialized = tuple(
                Bar(day, close, open_, high, low, volume)
                for day, close, open_, high, low, volume in zip(days, *columns, strict=True))
        return self._materialized

    def __iter__(self) -> Iterator[Bar]:
        return iter(self.bars())

    def __reversed__(self) -> Iterator[Bar]:
        return reversed(self.bars())

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        if len(other) != len(self):
            return False
        if isinstance(other, ColumnarBars):
            other = other.bars()
        return self.bars() == tuple(other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:  # equal to the hash of the same bars as a tuple
        if self._hash is None:
            self._hash = hash(self.bars())
        return self._hash

    def __repr__(self) -> str:
        return f"ColumnarBars({len(self)} bars)"

    def __reduce__(self) -> tuple[Any, ...]:  # pickles as the plain tuple it equals
        return (tuple, (self.bars(),))


@dataclass(frozen=True, slots=True)
class SeriesId:
    kind: SeriesKind
    code: str  # instrument code, "BASE/QUOTE" for FX, series name for rates

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.code}"

    @classmethod
    def parse(cls, text: str) -> SeriesId:
        """``price:BTC``, ``fx:USD/KZT``, ``rate:DGS10``; a bare code means a price."""
        kind, sep, code = text.partition(":")
        if not sep:
            return cls(SeriesKind.PRICE, text)
        try:
            return cls(SeriesKind(kind), code)
        except ValueError:
            raise InvalidInput(f"unknown series kind {kind!r} in {text!r}; kinds: "
                               f"{', '.join(k.value for k in SeriesKind)}",
                               field="series") from None

    @property
    def fx_pair(self) -> tuple[str, str]:
        base, _, quote = self.code.partition("/")
        return base, quote


@dataclass(frozen=True, slots=True)
class Series:
    """Bars in ascending date order, unique dates (importers and quality checks enforce it).

    ``calendar`` names the session calendar the series follows (``CalendarName`` value);
    ``warnings`` are the quality findings kept with the data set.
    """

    id: SeriesId
    bars: Sequence[Bar]  # a tuple, or ColumnarBars from the fast file readers
    source: str
    calendar: str
    currency: str | None = None  # prices: quote currency; rates: None
    warnings: tuple[Finding, ...] = field(default=())

    @property
    def is_synthetic(self) -> bool:
        return self.source.startswith(SYNTHETIC_SOURCE_PREFIX)

    @property
    def first_date(self) -> date | None:
        return self.bars[0].day if self.bars else None

    @property
    def last_date(self) -> date | None:
        return self.bars[-1].day if self.bars else None


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """What the store knows about a stored data set, without its bars."""

    id: SeriesId
    source: str
    calendar: str
    currency: str | None
    first_date: date
    last_date: date
    bars: int
    content_hash: str
    warnings: tuple[Finding, ...]
    updated_at: datetime

    @property
    def is_synthetic(self) -> bool:
        return self.source.startswith(SYNTHETIC_SOURCE_PREFIX)


@dataclass(frozen=True, slots=True)
class EtfFacts:
    """An ETF's look-through as of a date: ``units_per_share`` of ``underlying`` per share,
    and its ``expense_ratio`` as a fraction per year (0.0025 = 25 bp)."""

    instrument_code: str
    as_of_date: date
    underlying: str
    units_per_share: Decimal
    expense_ratio: Decimal
    source: str

    def __post_init__(self) -> None:
        if self.units_per_share <= 0:
            raise InvalidInput(f"ETF {self.instrument_code}: units_per_share must be > 0",
                               field="units_per_share")
        if not 0 <= self.expense_ratio < 1:
            raise InvalidInput(f"ETF {self.instrument_code}: expense_ratio is a fraction "
                               f"per year in [0, 1), got {self.expense_ratio}",
                               field="expense_ratio")


def bars_hash(bars: Sequence[Bar]) -> str:
    """SHA-256 over one text line per bar: cheap enough for long histories, and equal for
    equal values whatever their trailing zeros (``normalize``)."""
    digest = hashlib.sha256()
    for bar in bars:
        values = (bar.close, bar.open, bar.high, bar.low, bar.volume)
        digest.update((bar.day.isoformat() + "," + ",".join(
            "" if v is None else plain_decimal(v) for v in values) + "\n").encode())
    return digest.hexdigest()
