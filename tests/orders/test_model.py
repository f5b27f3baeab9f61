"""Order values: exact notionals, the terms hash approvals bind to, and refused input."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from qoima.domain.canonical import content_hash
from qoima.domain.errors import InvalidInput
from qoima.orders.model import Fill, OrderSide, OrderStatus, PretradeCheck
from tests.orders.builders import BLOCKED, CLEAN, WARNED, at, draft, fill, order_in, terms

D = Decimal


def test_notional_is_exact_decimal() -> None:
    assert terms("600000", "50").notional_usd == D("30000000")
    small = terms("0.123456789012345678", "3000.5").notional_usd
    # by hand: 370.370367037037034 (× 3000) + 0.061728394506172839 (× 0.5)
    assert small == D("370.432095431543206839")
    assert isinstance(small, Decimal)
    # 36 significant digits: the default 28-digit context would round this
    big = terms("123456789012.123456789012345678", "1").notional_usd
    assert str(big) == "123456789012.123456789012345678"


def test_terms_hash_is_the_canonical_hash_of_the_terms() -> None:
    made = terms()
    assert made.content_hash == content_hash(made.content())
    assert len(made.content_hash) == 64


def test_terms_hash_ignores_trailing_zeros() -> None:
    assert terms("1000", "50").content_hash == terms("1000.000", "50.00").content_hash


@pytest.mark.parametrize(("field", "value"), [
    ("instrument_code", "FBTC"), ("side", OrderSide.SELL), ("quantity", D("1000.0001")),
    ("limit_price", D("51")), ("estimated_price", D("50.01")), ("tranche_code", None),
    ("custodian_code", "bitgo"), ("note", "rebalance"), ("vehicle_code", "state-fund"),
])
def test_every_field_changes_the_terms_hash(field: str, value: Any) -> None:
    base = terms()
    assert replace(base, **{field: value}).content_hash != base.content_hash


def test_side_given_as_text_becomes_the_enum() -> None:
    made = replace(terms(), side="sell")  # type: ignore[arg-type]
    assert made.side is OrderSide.SELL


@pytest.mark.parametrize(("field", "value"), [
    ("quantity", D("-5")), ("quantity", D("0")), ("quantity", D("NaN")),
    ("quantity", D("Infinity")), ("estimated_price", D("0")), ("estimated_price", D("-1")),
    ("limit_price", D("0")), ("vehicle_code", " "), ("instrument_code", ""),
    ("side", "hold"), ("quantity", 5.0),
])
def test_bad_terms_are_refused_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        replace(terms(), **{field: value})
    assert caught.value.field == field


def test_fill_checks() -> None:
    good = fill("f-1", "10")
    assert good.gross_usd == D("500")
    changes: list[tuple[dict[str, Any], str]] = [
        ({"quantity": D("0")}, "quantity"), ({"price": D("-1")}, "price"),
        ({"fees_usd": D("-0.01")}, "fees_usd"), ({"venue": ""}, "venue"),
        ({"counterparty": " "}, "counterparty"), ({"fill_id": ""}, "fill_id"),
        ({"settlement_date": date(2026, 5, 31)}, "settlement_date")]
    for change, name in changes:
        with pytest.raises(InvalidInput) as caught:
            replace(good, **change)
        assert caught.value.field == name
    assert replace(good, fees_usd=D("0")).fees_usd == 0


@pytest.mark.parametrize("when", [
    datetime(2026, 6, 1, 9, 0),  # noqa: DTZ001 - naive on purpose
    datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=5))),  # Astana, not UTC
])
def test_times_must_be_aware_utc(when: datetime) -> None:
    with pytest.raises(InvalidInput, match="UTC"):
        Fill("f", D(1), D(1), D(0), "NYSE", "b", when, date(2026, 6, 1))
    with pytest.raises(InvalidInput, match="UTC"):
        replace(draft(), created_at=when)


def test_order_refuses_impossible_states() -> None:
    order = draft()
    with pytest.raises(InvalidInput, match="before it was created"):
        replace(order, updated_at=order.created_at - timedelta(seconds=1))
    with pytest.raises(InvalidInput, match="more than"):
        replace(order, fills=(fill("a", "600"), fill("b", "401")))
    with pytest.raises(InvalidInput):
        replace(order, maker=" ")


def test_quantities_and_fees_follow_the_fills() -> None:
    order = order_in(OrderStatus.PARTIALLY_EXECUTED)
    assert order.executed_quantity == D("400")
    assert order.remaining_quantity == D("600")
    assert order.fees_usd == D("1.25")
    assert draft().executed_quantity == 0
    assert draft().remaining_quantity == D("1000")


def test_blocking_findings_are_picked_out() -> None:
    both = PretradeCheck(WARNED.findings + BLOCKED.findings, "p")
    order = replace(draft(), pretrade_findings=both.findings)
    assert order.blocking_findings == BLOCKED.findings
    assert replace(draft(), pretrade_findings=CLEAN.findings).blocking_findings == ()
    with pytest.raises(InvalidInput):
        PretradeCheck((), " ")


def test_stored_status_values_never_change() -> None:
    assert [s.value for s in OrderStatus] == [
        "draft", "submitted", "approved", "partially_executed", "executed", "settled",
        "rejected", "cancelled"]
    assert at(0).tzinfo is UTC
