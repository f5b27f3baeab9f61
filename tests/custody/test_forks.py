"""Forked assets: exact quantities and every valuation policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from qoima.custody.forks import (
    KNOWN_FORKS,
    ForkedAsset,
    ForkPrice,
    ValuationPolicy,
    forked_quantity,
    value_forked,
)
from qoima.domain.errors import InvalidInput, ScaleError

P = ValuationPolicy
BCH = ForkedAsset("KZ-1", "BTC", "BCH", Decimal("2.5"), date(2017, 8, 1),
                  "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", P.MARKET_PRICE)
THIN = ForkPrice(Decimal("301.337"), Decimal("5000"), date(2025, 1, 2), "kraken")
DEEP = ForkPrice(Decimal("301.337"), Decimal("50000000"), date(2025, 1, 2), "kraken")


def test_forked_quantity_is_exact() -> None:
    assert forked_quantity(Decimal("1.23456789"), Decimal(1)) == Decimal("1.23456789")
    assert forked_quantity(Decimal("3"), Decimal("0.1")) == Decimal("0.3")
    big = Decimal("123456789.123456789123456789")
    assert forked_quantity(big, Decimal("0.5")) == Decimal("61728394.5617283945617283945")
    assert forked_quantity(Decimal("0.00000001"), Decimal("3"), instrument_code="BCH") == \
        Decimal("0.00000003")


def test_forked_quantity_refuses_rounding_and_bad_input() -> None:
    with pytest.raises(ScaleError, match="BTC allows 8") as caught:
        forked_quantity(Decimal("0.00000001"), Decimal("0.5"), instrument_code="BTC")
    assert caught.value.field == "ratio"
    with pytest.raises(InvalidInput, match="ratio must be an exact Decimal > 0"):
        forked_quantity(Decimal(1), Decimal(0))
    with pytest.raises(InvalidInput, match="parent quantity"):
        forked_quantity(1, Decimal(1))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="more than 60 digits"):
        forked_quantity(Decimal("1." + "1" * 40), Decimal("1." + "1" * 40))


def test_known_forks_are_checked() -> None:
    assert KNOWN_FORKS["BSV"].parent_instrument == "BCH"
    with pytest.raises(InvalidInput, match="BCH forked from BTC, not ETH"):
        replace(BCH, parent_instrument="ETH")
    with pytest.raises(InvalidInput, match="BCH forked on 2017-08-01, not 2017-08-02"):
        replace(BCH, fork_date=date(2017, 8, 2))
    airdrop = replace(BCH, instrument_code="XAIR", fork_date=date(2024, 1, 1))
    assert airdrop.instrument_code == "XAIR"


@pytest.mark.parametrize(("changes", "field"), [
    ({"quantity": Decimal(0)}, "quantity"),
    ({"quantity": Decimal("0.000000001")}, "quantity"),
    ({"instrument_code": "BTC"}, "instrument_code"),
    ({"source_address": " "}, "source_address"),
    ({"valuation_policy": "market"}, "valuation_policy"),
    ({"case_id": ""}, "code"),
])
def test_bad_forked_asset(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        replace(BCH, **changes)
    assert caught.value.field == field


def test_market_price() -> None:
    valued = value_forked(BCH, THIN)
    assert valued.value_usd == Decimal("753.34")  # 2.5 * 301.337 = 753.3425, half-even
    assert valued.price == THIN and "market" in valued.basis
    missing = value_forked(BCH, None)
    assert missing.value_usd is None and missing.basis == "no market price for BCH"


def test_zero_until_liquid() -> None:
    asset = replace(BCH, valuation_policy=P.ZERO_UNTIL_LIQUID)
    assert value_forked(asset, None, min_volume_usd=Decimal(1_000_000)).value_usd == 0
    thin = value_forked(asset, THIN, min_volume_usd=Decimal(1_000_000))
    assert thin.value_usd == 0 and thin.price is None and "below" in thin.basis
    deep = value_forked(asset, DEEP, min_volume_usd=Decimal(1_000_000))
    assert deep.value_usd == Decimal("753.34") and deep.price == DEEP
    at_limit = value_forked(asset, replace(THIN, volume_usd=Decimal(1_000_000)),
                            min_volume_usd=Decimal(1_000_000))
    assert at_limit.value_usd == Decimal("753.34")


def test_cost_zero_and_fair_value() -> None:
    assert value_forked(replace(BCH, valuation_policy=P.COST_ZERO), DEEP).value_usd == 0
    fair = replace(BCH, valuation_policy=P.FAIR_VALUE_ESTIMATE)
    assert value_forked(fair, THIN).value_usd == Decimal("753.34")
    assert value_forked(fair, None).value_usd is None


def test_price_validation() -> None:
    with pytest.raises(InvalidInput) as caught:
        replace(THIN, price_usd=Decimal(-1))
    assert caught.value.field == "price_usd"
