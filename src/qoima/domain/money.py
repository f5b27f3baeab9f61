"""Exact quantities: ``Decimal`` with a fixed scale per asset, never float.

The scale of an asset is the number of decimal places it is booked with (USD 2, BTC 8,
ETH 18). An amount with more places than its asset allows is an error, not a rounding.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

from qoima.domain.errors import InvalidInput, ScaleError

# 60 significant digits hold any reserve-sized amount at 18 decimal places exactly.
MONEY_CONTEXT = Context(prec=60, rounding=ROUND_HALF_EVEN)
ZERO = Decimal(0)

#: Decimal places of well-known assets; instruments may declare their own.
KNOWN_SCALES: dict[str, int] = {
    "USD": 2,
    "KZT": 2,
    "EUR": 2,
    "SDR": 2,
    "XAU": 3,  # troy ounces
    "BTC": 8,
    "ETH": 18,
    "BNB": 18,
    "USDT": 6,
    "USDC": 6,
    "SOL": 9,
}


def parse_decimal(value: object, *, what: str = "amount") -> Decimal:
    """Parse ``value`` into a finite Decimal; floats are refused because they are inexact."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a number, got {value!r}")
    if isinstance(value, float):
        raise InvalidInput(f"{what} must be given exactly (string or integer), got float {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise InvalidInput(f"{what} is not a number: {value!r}") from None
    else:
        raise InvalidInput(f"{what} must be a number, got {type(value).__name__}")
    if not result.is_finite():
        raise InvalidInput(f"{what} must be finite, got {value!r}")
    return result


def decimal_places(value: Decimal) -> int:
    """Number of significant decimal places in ``value`` (trailing zeros do not count)."""
    normalized = value.normalize(MONEY_CONTEXT)
    exponent = normalized.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def check_scale(value: Decimal, scale: int, *, asset: str) -> Decimal:
    """Return ``value`` quantized to ``scale`` places; raise if it carries more places."""
    if decimal_places(value) > scale:
        raise ScaleError(
            f"{value} {asset} has {decimal_places(value)} decimal places; {asset} allows {scale}"
        )
    return quantize(value, scale)


def quantize(value: Decimal, scale: int) -> Decimal:
    """Round half-even to ``scale`` places (only for derived figures such as valuations)."""
    return value.quantize(Decimal(1).scaleb(-scale), context=MONEY_CONTEXT)


def to_minor_units(value: Decimal, scale: int) -> int:
    """Integer minor units of an amount already at ``scale`` (1.23 USD -> 123)."""
    return int(check_scale(value, scale, asset="amount").scaleb(scale, context=MONEY_CONTEXT))


def from_minor_units(units: int, scale: int) -> Decimal:
    return Decimal(units).scaleb(-scale, context=MONEY_CONTEXT)


def format_amount(value: Decimal, scale: int = 2) -> str:
    """``1234567.5`` -> ``'1,234,567.50'`` for display only."""
    return f"{quantize(value, scale):,.{scale}f}"
