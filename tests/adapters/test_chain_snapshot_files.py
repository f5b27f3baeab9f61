"""Reading on-chain balance snapshots: exact unit conversion, located errors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qoima.adapters.chain_snapshot_files import (
    COLUMNS,
    from_asset_units,
    read_snapshot,
    to_asset_units,
    unit_shift,
)
from qoima.custody.reconciliation import reconcile
from qoima.domain.errors import InvalidInput

DATA = Path(__file__).parents[1] / "custody" / "data"
HEADER = ",".join(COLUMNS) + "\n"
EVM = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"


def test_fixture() -> None:
    balances = read_snapshot(DATA / "snapshot.csv")
    assert [(b.instrument_code, b.quantity) for b in balances] == [
        ("BTC", Decimal("1.5")), ("BTC", Decimal("0.25")), ("ETH", Decimal("12.5")),
        ("ETH", Decimal("1.5")), ("USDT", Decimal("1000.5"))]
    assert balances[2].observed_at == datetime(2025, 11, 30, tzinfo=UTC)  # +01:00 -> UTC
    assert balances[0].chain == "bitcoin" and balances[0].source == "mempool.space"
    book = {(b.address, b.instrument_code): b.quantity for b in balances}
    assert reconcile(book, balances, datetime(2025, 12, 1, tzinfo=UTC)).matched


def test_units() -> None:
    assert to_asset_units(Decimal(1), "BTC", "sat") == Decimal("0.00000001")
    assert to_asset_units(Decimal(1), "ETH", "wei") == Decimal("1E-18")
    assert to_asset_units(Decimal("1.5"), "ETH", "GWEI") == Decimal("0.0000000015")
    assert to_asset_units(Decimal("0.123456789"), "ETH", "gwei") == Decimal("1.23456789E-10")
    assert to_asset_units(Decimal("2"), "BTC", "btc") == Decimal(2)
    assert from_asset_units(Decimal("1.5"), "BTC", "sat") == Decimal(150000000)
    assert unit_shift("USDT", "USDT") == 0


@given(st.integers(0, 21_000_000 * 10**8))
def test_property_satoshis_round_trip(sats: int) -> None:
    btc = to_asset_units(Decimal(sats), "BTC", "sat")
    assert btc == Decimal(sats) / Decimal(10**8)
    assert from_asset_units(btc, "BTC", "sat") == sats
    assert to_asset_units(btc, "BTC", "BTC") == btc


@given(st.integers(0, 10**30), st.sampled_from(["wei", "gwei"]))
def test_property_ether_units_round_trip(units: int, unit: str) -> None:
    quantity = Decimal(units).scaleb(-9) if unit == "gwei" else Decimal(units)
    eth = to_asset_units(quantity, "ETH", unit)
    assert from_asset_units(eth, "ETH", unit) == quantity
    assert to_asset_units(from_asset_units(eth, "ETH", "wei"), "ETH", "wei") == eth


def write(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "snapshot.csv"
    path.write_text(header + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


GOOD = "bitcoin,1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2,BTC,0.25,BTC,2025-11-30T00:00:00Z,x"


@pytest.mark.parametrize(("row", "field", "message"), [
    (GOOD.replace("0.25,BTC", "0.000000001,BTC"), "quantity",
     "0.000000001 BTC has 9 decimal places; BTC allows 8"),
    (GOOD.replace("0.25,BTC", "1.5,sat"), "quantity",
     "1.5 sat has 1 decimal places; sat must be whole"),
    (GOOD.replace("0.25,BTC", "25,wei"), "unit", "'wei' is not a unit of BTC \\(use BTC, sat\\)"),
    (GOOD.replace("BTC,0.25,BTC", "ETH,0.0000000001,gwei"), "quantity", "gwei allows 9"),
    (GOOD.replace("0.25", "-1"), "quantity", "quantity must be >= 0"),
    (GOOD.replace("0.25", "abc"), "quantity", "not a number"),
    (GOOD.replace("BTC,0.25,BTC", "DOGE,1,DOGE"), "asset", "unknown asset 'DOGE'"),
    (GOOD.replace("2025-11-30T00:00:00Z", "2025-11-30T00:00:00"), "observed_at",
     "has no time zone"),
    (GOOD.replace("2025-11-30T00:00:00Z", "yesterday"), "observed_at", "not an ISO 8601"),
    (GOOD.replace(",x", ","), "source", "a value is required"),
    (GOOD + ",extra", None, "more values than columns"),
])
def test_bad_row_names_file_line_and_field(tmp_path: Path, row: str, field: str | None,
                                           message: str) -> None:
    path = write(tmp_path, GOOD.replace("1Bv", "1Other"), row)
    with pytest.raises(InvalidInput, match=message) as caught:
        read_snapshot(path)
    assert caught.value.origin is not None
    assert (caught.value.origin.file, caught.value.origin.line) == (str(path), 3)
    assert caught.value.field == field


def test_duplicates_header_and_empty(tmp_path: Path) -> None:
    lower = GOOD.replace("bitcoin,1Bv", "bitcoin,1Bv")
    evm = f"ethereum,{EVM},ETH,1,ETH,2025-11-30T00:00:00Z,x"
    with pytest.raises(InvalidInput, match="already on line 2") as caught:
        read_snapshot(write(tmp_path, evm, evm.replace(EVM, EVM.lower())))
    assert caught.value.origin is not None and caught.value.origin.line == 3
    with pytest.raises(InvalidInput, match="already on line 2"):
        read_snapshot(write(tmp_path, lower, lower))
    with pytest.raises(InvalidInput, match="header must be") as caught:
        read_snapshot(write(tmp_path, GOOD, header="chain,address\n"))
    assert caught.value.field == "header"
    with pytest.raises(InvalidInput, match="no balances"):
        read_snapshot(write(tmp_path, ",,,,,,"))
    with pytest.raises(InvalidInput, match="file not found"):
        read_snapshot(tmp_path / "missing.csv")
