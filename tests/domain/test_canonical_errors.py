"""Canonical JSON / content hashes, findings, and the error tree."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qoima.domain.canonical import canonical_json, content_hash, sha256_hex
from qoima.domain.enums import EntryCode, Severity
from qoima.domain.errors import (
    IdempotencyConflict,
    InvalidInput,
    Origin,
    Overdraft,
    QoimaError,
    ScaleError,
    UnbalancedEntry,
)
from qoima.domain.findings import Finding

D = Decimal


def test_decimal_trailing_zeros_hash_the_same() -> None:
    assert canonical_json(D("1.50")) == canonical_json(D("1.5")) == '"1.5"'
    assert content_hash({"x": D("1.50")}) == content_hash({"x": D("1.5")})
    assert content_hash({"x": D("1.51")}) != content_hash({"x": D("1.5")})


@pytest.mark.parametrize(
    ("value", "text"),
    [(D("100"), '"100"'), (D("1E+3"), '"1000"'), (D("0.000000000000000001"),
                                                   '"0.000000000000000001"'),
     (D("-0"), '"0"'), (D("-0.00"), '"0"'), (D("-2.50"), '"-2.5"')],
)
def test_decimal_plain_text(value: Decimal, text: str) -> None:
    assert canonical_json(value) == text


def test_long_decimals_are_not_rounded() -> None:
    # 29 significant digits: more than the default decimal context holds
    a = D("12345678901.123456789012345678")
    b = D("12345678901.123456789012345679")
    assert canonical_json(a) == '"12345678901.123456789012345678"'
    assert content_hash(a) != content_hash(b)


def test_hash_ignores_the_callers_decimal_context() -> None:
    expected = canonical_json(D("1234.5678"))
    with localcontext() as ctx:
        ctx.prec = 3
        assert canonical_json(D("1234.5678")) == expected == '"1234.5678"'


def test_key_order_does_not_matter() -> None:
    assert canonical_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
    assert content_hash({"a": 1, "b": 2}) == content_hash({"b": 2, "a": 1})
    assert content_hash([1, 2]) != content_hash([2, 1])


def test_dates_enums_tuples_and_dataclasses() -> None:
    @dataclass
    class Leg:
        code: EntryCode
        day: date
        amount: Decimal

    value = {"at": datetime(2024, 3, 1, 12, 30, tzinfo=UTC), "leg": Leg(EntryCode.BUY,
             date(2024, 3, 1), D("2.0")), "t": (1, None, True), 3: "int key"}
    assert canonical_json(value) == (
        '{"3":"int key","at":"2024-03-01T12:30:00+00:00",'
        '"leg":{"amount":"2","code":"buy","day":"2024-03-01"},"t":[1,null,true]}'
    )


def test_non_ascii_kept_verbatim() -> None:
    assert canonical_json("Қазақстан") == '"Қазақстан"'


@pytest.mark.parametrize("bad", [1.5, {1, 2}, object(), b"x"])
def test_canonical_refuses_unknown_types(bad: object) -> None:
    with pytest.raises(TypeError, match="cannot canonicalize"):
        canonical_json(bad)


def test_sha256_hex() -> None:
    assert sha256_hex("") == hashlib.sha256(b"").hexdigest()
    assert sha256_hex("abc") == sha256_hex(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    assert content_hash({"a": 1}) == sha256_hex('{"a":1}')


@given(st.decimals(allow_nan=False, allow_infinity=False, places=18,
                   min_value=D("-1e20"), max_value=D("1e20")),
       st.integers(min_value=0, max_value=6))
def test_equal_decimals_hash_equal(value: Decimal, zeros: int) -> None:
    padded = D(f"{value:f}" + ("0" * zeros if "." in f"{value:f}" else ""))
    assert padded == value
    assert content_hash({"v": padded}) == content_hash({"v": value})
    assert D(json.loads(canonical_json(value))) == value


@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=8))
def test_hash_independent_of_insertion_order(mapping: dict[str, object]) -> None:
    reordered = dict(reversed(list(mapping.items())))
    assert canonical_json(reordered) == canonical_json(mapping)
    assert json.loads(canonical_json(mapping)) == mapping


# -- findings ---------------------------------------------------------------------------
def test_findings_are_hashable_values() -> None:
    one = Finding("valuation.missing_price", Severity.ERROR, "holding:a:BTC", "no price")
    assert one == Finding("valuation.missing_price", Severity.ERROR, "holding:a:BTC", "no price")
    assert len({one, one}) == 1


# -- errors -----------------------------------------------------------------------------
def test_error_names_file_line_and_field() -> None:
    error = InvalidInput("amount is not a number", origin=Origin("entries.csv", 7),
                         field="amount")
    assert str(error) == "entries.csv:7: field 'amount': amount is not a number"
    assert error.code == "invalid_input"
    assert error.args == (str(error),)


def test_error_without_line_or_field() -> None:
    assert str(Origin("prices.csv")) == "prices.csv"
    assert str(QoimaError("boom", origin=Origin("prices.csv"))) == "prices.csv: boom"
    assert str(QoimaError("boom", field="close")) == "field 'close': boom"
    assert str(QoimaError("boom")) == "boom"


def test_error_keeps_details() -> None:
    error = Overdraft("negative", account="holding:a:BTC", shortfall="1")
    assert error.details == {"account": "holding:a:BTC", "shortfall": "1"}
    assert error.code == "overdraft"


def test_with_origin_fills_in_but_never_overwrites() -> None:
    error = ScaleError("too many places")
    error.with_origin(Origin("a.csv", 3), "amount")
    assert str(error) == "a.csv:3: field 'amount': too many places"
    assert error.args == (str(error),)
    error.with_origin(Origin("b.csv", 9), "price")
    assert str(error) == "a.csv:3: field 'amount': too many places"


def test_error_tree() -> None:
    assert issubclass(UnbalancedEntry, InvalidInput)
    assert issubclass(ScaleError, InvalidInput)
    assert issubclass(IdempotencyConflict, QoimaError)
    with pytest.raises(QoimaError):
        raise UnbalancedEntry("x")


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_plain_decimal_equals_exact_normalization(value: Decimal) -> None:
    from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context

    from qoima.domain.canonical import plain_decimal

    exact = format(value.normalize(Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)), "f")
    assert plain_decimal(value) == (exact if exact != "-0" else "0")
