"""Daily market series: bars of one instrument, FX pair or rate, with where they came from.

One shape for every kind of series so importers, quality checks, the store and the risk
engine pass the same object. Values are exact ``Decimal`` (parsed from the file's text,
never through float); risk code converts to float arrays itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

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
    bars: tuple[Bar, ...]
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
