"""Column types that keep money exact on every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from qoima.domain.money import MONEY_CONTEXT

# 38 digits with 18 after the point: ETH in wei and KZT reserves both fit exactly.
NUMERIC_PRECISION = 38
NUMERIC_SCALE = 18


class ExactDecimal(TypeDecorator[Decimal]):
    """NUMERIC(38,18) on PostgreSQL; canonical text on SQLite, whose NUMERIC is a float."""

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(
                Numeric(NUMERIC_PRECISION, NUMERIC_SCALE, asdecimal=True)
            )
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"exact columns take Decimal, got {type(value).__name__}")
        if dialect.name == "postgresql":
            return value
        return format(value, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return strip_zeros(value if isinstance(value, Decimal) else Decimal(value))


def strip_zeros(value: Decimal) -> Decimal:
    """``100.000000`` -> ``100``, ``0.50`` -> ``0.5``, never exponent form."""
    # MONEY_CONTEXT: the default context's 28 digits would round NUMERIC(38,18) values
    normalized = value.normalize(MONEY_CONTEXT)
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return normalized.quantize(Decimal(1), context=MONEY_CONTEXT)
    return normalized


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes: TIMESTAMPTZ on PostgreSQL, ISO text on SQLite.

    Values always come back in UTC, whatever the server's time zone, because audit hashes
    cover their ISO form.
    """

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        utc = value.astimezone(UTC)
        return utc if dialect.name == "postgresql" else utc.isoformat(timespec="microseconds")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return parsed.astimezone(UTC)


class IsoDate(TypeDecorator[date]):
    """Dates as ISO text on SQLite (sortable), native DATE on PostgreSQL."""

    impl = String(10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Date())
        return dialect.type_descriptor(String(10))

    def process_bind_param(self, value: date | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value if dialect.name == "postgresql" else value.isoformat()

    def process_result_value(self, value: Any, dialect: Dialect) -> date | None:
        if value is None or isinstance(value, date):
            return value
        return date.fromisoformat(value)
