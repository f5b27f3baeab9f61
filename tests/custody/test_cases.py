"""Cases and seized assets validate themselves on construction."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from qoima.custody.cases import Case, HoldingPlace, SeizedAsset, asset_scale
from qoima.domain.errors import InvalidInput, ScaleError

CASE = Case("KZ-2025-0042", "AFM", "2025/0042", "Astana City Court",
            "illegal exchange 'X'", date(2025, 3, 1))
ASSET = SeizedAsset(
    asset_id="A1", case_id="KZ-2025-0042", chain="bitcoin", instrument_code="BTC",
    quantity=Decimal("1.23456789"),
    addresses=("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",),
    tx_ids=("a" * 64,), holding=HoldingPlace.STATE_WALLET, holder="AFM key unit",
    seized_on=date(2025, 3, 2))


def test_valid_case_and_asset() -> None:
    assert CASE.case_id == "KZ-2025-0042"
    assert ASSET.quantity == Decimal("1.23456789")
    assert [h.value for h in HoldingPlace] == ["state_wallet", "custodian", "exchange_freeze"]
    usdt = replace(ASSET, instrument_code="USDT", chain="ethereum", quantity=Decimal("10.5"),
                   addresses=("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",), tx_ids=())
    assert usdt.tx_ids == ()


def test_scales() -> None:
    assert asset_scale("BTC") == 8 and asset_scale("ETH") == 18 and asset_scale("XYZ") == 18


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"case_id": ""}, "code", "case code"),
    ({"agency": " "}, "agency", "agency must not be empty"),
    ({"case_number": ""}, "case_number", "case number must not be empty"),
    ({"court": "  Court"}, "court", "leading or trailing spaces"),
    ({"opened_on": "2025-03-01"}, "opened_on", "must be a date"),
])
def test_bad_case(changes: dict[str, Any], field: str, text: str) -> None:
    with pytest.raises(InvalidInput, match=text) as caught:
        replace(CASE, **changes)
    assert caught.value.field == field


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"quantity": Decimal(0)}, "quantity", "quantity must be > 0, got 0"),
    ({"quantity": Decimal("-1")}, "quantity", "must be > 0"),
    ({"quantity": Decimal("NaN")}, "quantity", "exact finite Decimal"),
    ({"quantity": 1.5}, "quantity", "exact finite Decimal"),
    ({"asset_id": ""}, "code", "asset code"),
    ({"chain": ""}, "chain", "chain must not be empty"),
    ({"addresses": ()}, "addresses", "at least one address"),
    ({"addresses": ("a", "a")}, "addresses", "address 'a' is listed twice"),
    ({"addresses": ("a", "")}, "addresses", "address must not be empty"),
    ({"addresses": ["a"]}, "addresses", "must be a tuple"),
    ({"tx_ids": ("t", "t")}, "tx_ids", "transaction id 't' is listed twice"),
    ({"holding": "vault"}, "holding", "holding must be one of"),
    ({"holder": ""}, "holder", "holder must not be empty"),
    ({"seized_on": None}, "seized_on", "must be a date"),
])
def test_bad_asset(changes: dict[str, Any], field: str, text: str) -> None:
    with pytest.raises(InvalidInput, match=text) as caught:
        replace(ASSET, **changes)
    assert caught.value.field == field


def test_quantity_finer_than_the_asset_scale() -> None:
    with pytest.raises(ScaleError) as caught:
        replace(ASSET, quantity=Decimal("0.000000001"))
    assert caught.value.field == "quantity"
    assert "has 9 decimal places; BTC allows 8" in caught.value.message
    # trailing zeros are not places
    assert replace(ASSET, quantity=Decimal("1.100000000000")).quantity == Decimal("1.1")
    with pytest.raises(ScaleError, match="USDT allows 6"):
        replace(ASSET, instrument_code="USDT", quantity=Decimal("1.0000001"))
