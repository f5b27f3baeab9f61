"""money: exact parsing, fixed scales, half-even rounding and minor units."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qoima.domain.errors import InvalidInput, ScaleError
from qoima.domain.money import (
    KNOWN_SCALES,
    check_scale,
    decimal_places,
    format_amount,
    from_minor_units,
    parse_decimal,
    quantize,
    to_minor_units,
)

D = Decimal


# -- parse_decimal ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("1.25", D("1.25")),
        ("  -3.5 ", D("-3.5")),
        ("1_000_000.01", D("1000000.01")),
        ("0.000000000000000001", D("1E-18")),
        (42, D(42)),
        (-7, D(-7)),
        (D("2.50"), D("2.50")),
        ("1e3", D("1000")),
    ],
)
def test_parse_decimal_accepts_exact_forms(given_value: object, expected: Decimal) -> None:
    result = parse_decimal(given_value)
    assert isinstance(result, Decimal)
    assert result == expected


def test_parse_decimal_keeps_the_given_exponent() -> None:
    # "2.50" stays 2.50: the scale check decides, not the parser
    assert parse_decimal("2.50").as_tuple().exponent == -2


@pytest.mark.parametrize("bad", [0.1, 1.0, float("nan"), float("inf")])
def test_parse_decimal_refuses_floats(bad: float) -> None:
    with pytest.raises(InvalidInput, match="float"):
        parse_decimal(bad)


@pytest.mark.parametrize("bad", [True, False])
def test_parse_decimal_refuses_bools(bad: bool) -> None:
    with pytest.raises(InvalidInput, match="must be a number"):
        parse_decimal(bad)


@pytest.mark.parametrize(
    "bad", ["NaN", "nan", "sNaN", "Infinity", "-inf", D("NaN"), D("Infinity"), D("-Infinity")]
)
def test_parse_decimal_refuses_non_finite(bad: object) -> None:
    with pytest.raises(InvalidInput, match="finite"):
        parse_decimal(bad)


@pytest.mark.parametrize("bad", ["", "   ", "abc", "1.2.3", "1,000", "12 34", "$5", "0x10"])
def test_parse_decimal_refuses_garbage(bad: str) -> None:
    with pytest.raises(InvalidInput, match="not a number"):
        parse_decimal(bad)


@pytest.mark.parametrize("bad", [None, [1], {"a": 1}, b"1", object()])
def test_parse_decimal_refuses_other_types(bad: object) -> None:
    with pytest.raises(InvalidInput, match="must be a number"):
        parse_decimal(bad)


def test_parse_decimal_names_what_it_parses() -> None:
    with pytest.raises(InvalidInput, match=r"^quantity is not a number"):
        parse_decimal("x", what="quantity")


# -- scales -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "places"),
    [("1", 0), ("1.5", 1), ("1.50", 1), ("100", 0), ("1E+3", 0), ("0.001", 3), ("0", 0)],
)
def test_decimal_places_ignores_trailing_zeros(value: str, places: int) -> None:
    assert decimal_places(D(value)) == places


def test_check_scale_usd_two_places() -> None:
    assert check_scale(D("12.34"), 2, asset="USD") == D("12.34")
    assert str(check_scale(D("12"), 2, asset="USD")) == "12.00"
    assert str(check_scale(D("12.5"), 2, asset="USD")) == "12.50"


def test_check_scale_refuses_a_third_usd_place() -> None:
    with pytest.raises(ScaleError, match=r"12\.345 USD has 3 decimal places; USD allows 2"):
        check_scale(D("12.345"), 2, asset="USD")


def test_check_scale_trailing_zeros_are_not_extra_places() -> None:
    assert str(check_scale(D("12.3400000"), 2, asset="USD")) == "12.34"
    assert str(check_scale(D("5.000"), 0, asset="IBIT")) == "5"


def test_check_scale_eth_eighteen_places() -> None:
    wei = D("1.000000000000000001")
    assert check_scale(wei, KNOWN_SCALES["ETH"], asset="ETH") == wei
    with pytest.raises(ScaleError):
        check_scale(D("0.0000000000000000001"), KNOWN_SCALES["ETH"], asset="ETH")


def test_scale_error_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        check_scale(D("0.001"), 2, asset="USD")


# -- rounding ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [
        ("0.125", 2, "0.12"),
        ("0.135", 2, "0.14"),
        ("0.145", 2, "0.14"),
        ("-0.125", 2, "-0.12"),
        ("2.5", 0, "2"),
        ("3.5", 0, "4"),
        ("1.2351", 2, "1.24"),
        ("7", 3, "7.000"),
    ],
)
def test_quantize_rounds_half_even(value: str, scale: int, expected: str) -> None:
    assert str(quantize(D(value), scale)) == expected


def test_format_amount() -> None:
    assert format_amount(D("1234567.5")) == "1,234,567.50"
    assert format_amount(D("0.005")) == "0.00"
    assert format_amount(D("-1000"), 0) == "-1,000"


# -- minor units ------------------------------------------------------------------------
def test_minor_units_examples() -> None:
    assert to_minor_units(D("1.23"), 2) == 123
    assert to_minor_units(D("-0.05"), 2) == -5
    assert to_minor_units(D("1"), 18) == 10**18
    assert from_minor_units(123, 2) == D("1.23")
    assert from_minor_units(1, 8) == D("0.00000001")


def test_to_minor_units_refuses_excess_places() -> None:
    with pytest.raises(ScaleError):
        to_minor_units(D("1.234"), 2)


@given(units=st.integers(min_value=-(10**30), max_value=10**30),
       scale=st.integers(min_value=0, max_value=18))
def test_minor_units_round_trip(units: int, scale: int) -> None:
    amount = from_minor_units(units, scale)
    assert decimal_places(amount) <= scale
    assert to_minor_units(amount, scale) == units


@given(value=st.decimals(allow_nan=False, allow_infinity=False, places=6,
                         min_value=D("-1e12"), max_value=D("1e12")))
def test_parse_decimal_round_trips_its_text(value: Decimal) -> None:
    assert parse_decimal(str(value)) == value
    assert parse_decimal(value) == value


@given(value=st.decimals(allow_nan=False, allow_infinity=False,
                         min_value=D("-1e9"), max_value=D("1e9")),
       scale=st.integers(min_value=0, max_value=18))
def test_quantize_is_within_half_a_unit(value: Decimal, scale: int) -> None:
    rounded = quantize(value, scale)
    assert decimal_places(rounded) <= scale
    assert abs(rounded - value) <= D(1).scaleb(-scale) / 2
