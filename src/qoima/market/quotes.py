"""Price and FX quotes, and the rule that says when a quote is too old to use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from qoima.domain.enums import InstrumentKind, Venue
from qoima.domain.errors import InvalidInput
from qoima.market.calendars import calendar_name_for, get_calendar

SYNTHETIC_SOURCE_PREFIX = "synthetic"


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """Close of ``instrument_code`` on ``price_date``, in ``currency`` per unit."""

    instrument_code: str
    price_date: date
    price: Decimal
    currency: str
    source: str

    def __post_init__(self) -> None:
        if self.price <= 0:
            raise InvalidInput(f"price of {self.instrument_code} on {self.price_date} must be "
                               f"positive, got {self.price}", field="close")

    @property
    def is_synthetic(self) -> bool:
        return self.source.startswith(SYNTHETIC_SOURCE_PREFIX)


@dataclass(frozen=True, slots=True)
class FxQuote:
    """One ``base`` buys ``rate`` units of ``quote`` (USD/KZT 520.10: base USD, quote KZT)."""

    base: str
    quote: str
    rate_date: date
    rate: Decimal
    source: str

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise InvalidInput(f"FX rate {self.base}/{self.quote} on {self.rate_date} must be "
                               f"positive, got {self.rate}", field="rate")
        if self.base == self.quote:
            raise InvalidInput(f"FX pair needs two currencies, got {self.base}/{self.quote}")

    @property
    def is_synthetic(self) -> bool:
        return self.source.startswith(SYNTHETIC_SOURCE_PREFIX)


@dataclass(frozen=True, slots=True)
class MaxAge:
    """How far behind ``as_of`` a quote may be: ``count`` calendar days, or ``count``
    sessions of the instrument's own trading calendar when ``in_sessions`` (an ETF's Friday
    close is current on Monday, and after a Monday holiday on Tuesday too)."""

    count: int
    in_sessions: bool = False

    def age(self, kind: InstrumentKind, venue: Venue | None, quote_date: date,
            as_of: date) -> int:
        if not self.in_sessions:
            return (as_of - quote_date).days
        calendar = get_calendar(calendar_name_for(kind, venue))
        return calendar.sessions_between(quote_date, as_of)

    @property
    def unit(self) -> str:
        return "sessions" if self.in_sessions else "days"


#: Exchange-traded kinds may lag by a couple of their own sessions; crypto trades every
#: day; fund interests are priced by monthly or quarterly statements.
DEFAULT_MAX_AGE: Mapping[InstrumentKind, MaxAge] = {
    InstrumentKind.CASH: MaxAge(0),
    InstrumentKind.TBILL: MaxAge(2, in_sessions=True),
    InstrumentKind.BOND: MaxAge(2, in_sessions=True),
    InstrumentKind.GOLD: MaxAge(2, in_sessions=True),
    InstrumentKind.SDR: MaxAge(2, in_sessions=True),
    InstrumentKind.ETF: MaxAge(2, in_sessions=True),
    InstrumentKind.EQUITY: MaxAge(2, in_sessions=True),
    InstrumentKind.HEDGE_FUND_INTEREST: MaxAge(45),
    InstrumentKind.VENTURE_FUND_INTEREST: MaxAge(120),
    InstrumentKind.TOKEN: MaxAge(1),
    InstrumentKind.STABLECOIN: MaxAge(1),
    InstrumentKind.TOKENIZED_RWA: MaxAge(5),
}
FX_MAX_AGE_DAYS = 4


@dataclass(frozen=True, slots=True)
class StalenessRule:
    """How old a quote may be before valuation reports it as stale, by instrument kind."""

    max_age: Mapping[InstrumentKind, MaxAge]
    fx_max_age_days: int = FX_MAX_AGE_DAYS

    @classmethod
    def default(cls) -> StalenessRule:
        return cls(DEFAULT_MAX_AGE)

    def age(self, kind: InstrumentKind, venue: Venue | None, quote_date: date,
            as_of: date) -> int:
        """The quote's age in the rule's unit for ``kind`` (days or sessions)."""
        return self.max_age[kind].age(kind, venue, quote_date, as_of)

    def is_stale(self, kind: InstrumentKind, venue: Venue | None, quote_date: date,
                 as_of: date) -> bool:
        return self.age(kind, venue, quote_date, as_of) > self.max_age[kind].count

    def is_fx_stale(self, quote_date: date, as_of: date) -> bool:
        return (as_of - quote_date).days > self.fx_max_age_days
