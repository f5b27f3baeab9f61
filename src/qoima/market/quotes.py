"""Price and FX quotes, and the rule that says when a quote is too old to use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from qoima.domain.enums import InstrumentKind
from qoima.domain.errors import InvalidInput

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


#: Calendar days a quote stays usable, by instrument kind. Exchange-traded kinds allow a
#: long weekend; crypto trades every day; fund interests are priced by monthly or
#: quarterly statements.
DEFAULT_MAX_AGE_DAYS: Mapping[InstrumentKind, int] = {
    InstrumentKind.CASH: 0,
    InstrumentKind.TBILL: 5,
    InstrumentKind.BOND: 5,
    InstrumentKind.GOLD: 5,
    InstrumentKind.SDR: 5,
    InstrumentKind.ETF: 4,
    InstrumentKind.EQUITY: 4,
    InstrumentKind.HEDGE_FUND_INTEREST: 45,
    InstrumentKind.VENTURE_FUND_INTEREST: 120,
    InstrumentKind.TOKEN: 1,
    InstrumentKind.STABLECOIN: 1,
    InstrumentKind.TOKENIZED_RWA: 5,
}
FX_MAX_AGE_DAYS = 4


@dataclass(frozen=True, slots=True)
class StalenessRule:
    """How old a quote may be, in calendar days, before valuation reports it as stale."""

    max_age_days: Mapping[InstrumentKind, int]
    fx_max_age_days: int = FX_MAX_AGE_DAYS

    @classmethod
    def default(cls) -> StalenessRule:
        return cls(DEFAULT_MAX_AGE_DAYS)

    def is_stale(self, kind: InstrumentKind, quote_date: date, as_of: date) -> bool:
        return (as_of - quote_date).days > self.max_age_days[kind]

    def is_fx_stale(self, quote_date: date, as_of: date) -> bool:
        return (as_of - quote_date).days > self.fx_max_age_days
