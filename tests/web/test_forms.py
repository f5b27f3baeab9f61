"""Form fields into values (property tests): numbers as people type them come back exact,
a date is ISO or refused naming the field, and only a path on this site may follow a login."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qoima.domain.errors import InvalidInput
from qoima.web.forms import amount, day, optional_amount
from qoima.web.login import safe_next
from qoima.web.session import Posted


def posted(**fields: str) -> Posted:
    viewer: Any = None  # field parsing never looks at who sent the form
    return Posted(viewer, dict(fields), b"")


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6,
                   min_value=Decimal("-1e15"), max_value=Decimal("1e15")))
def test_a_number_typed_with_thousands_commas_is_read_exactly(value: Decimal) -> None:
    assert amount(posted(quantity=f"{value:,}"), "quantity", "Quantity") == value
    assert amount(posted(quantity=f" {value} "), "quantity", "Quantity") == value


@pytest.mark.parametrize("text", ["abc", "1.2.3", "NaN", "Infinity", "1e", "--1"])
def test_a_number_that_is_not_one_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        amount(posted(price=text), "price", "Price")
    assert refused.value.field == "price" and "Price" in refused.value.message


def test_an_empty_field_is_required_or_absent() -> None:
    with pytest.raises(InvalidInput, match="Quantity is required"):
        amount(posted(quantity="  "), "quantity", "Quantity")
    assert optional_amount(posted(limit_price=""), "limit_price", "Limit price") is None


@given(st.dates())
def test_an_iso_date_is_read_and_an_empty_one_takes_the_default(value: date) -> None:
    assert day(posted(on=value.isoformat()), "on", "Effective on") == value
    assert day(posted(on=""), "on", "Effective on", value) == value


@pytest.mark.parametrize("text", ["10/03/2026", "2026-13-01", "yesterday"])
def test_a_date_in_another_form_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="is not a date") as refused:
        day(posted(dated=text), "dated", "Document date")
    assert refused.value.field == "dated"


@given(st.text())
def test_after_a_login_only_a_path_on_this_site_is_followed(target: str) -> None:
    went = safe_next(target)
    assert went == "/" or went == target
    assert went.startswith("/") and not went.startswith("//")
    assert "\\" not in went and not any(ch.isspace() or ord(ch) < 32 for ch in went)
