"""Reading an on-chain balance snapshot (CSV) for reconciliation.

One row per (chain, address, asset)::

    chain,address,asset,quantity,unit,observed_at,source
    bitcoin,bc1q...,BTC,150000000,sat,2025-11-30T00:00:00Z,mempool.space

``unit`` is the asset itself (BTC, ETH, USDT...) or one of its base units (sat for BTC;
wei and gwei for ETH). Quantities are converted exactly with Decimal; a quantity finer than
the unit allows (0.000000001 BTC, 1.5 sat) or a unit of another asset (wei for BTC) is an
error naming the file, line and field. The whole file is read before anything is returned.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from qoima.adapters.fields import parse_amount
from qoima.custody.cases import asset_scale
from qoima.custody.chain_of_custody import address_key
from qoima.custody.reconciliation import ObservedBalance
from qoima.domain.errors import InvalidInput, Origin
from qoima.domain.money import KNOWN_SCALES, MONEY_CONTEXT, decimal_places

COLUMNS = ("chain", "address", "asset", "quantity", "unit", "observed_at", "source")

#: Base units per asset: name -> decimal places of the asset one unit stands for
#: (1 sat = 10^-8 BTC). The asset's own code is always a unit with shift 0.
BASE_UNITS = MappingProxyType({
    "BTC": MappingProxyType({"sat": 8}),
    "ETH": MappingProxyType({"gwei": 9, "wei": 18}),
})


def unit_shift(asset: str, unit: str) -> int:
    """Decimal places that separate ``unit`` from ``asset`` (BTC/sat -> 8, ETH/ETH -> 0)."""
    if unit.upper() == asset:
        return 0
    units: Mapping[str, int] = BASE_UNITS.get(asset, {})
    shift = units.get(unit.lower())
    if shift is None:
        allowed = ", ".join([asset, *units])
        raise InvalidInput(f"{unit!r} is not a unit of {asset} (use {allowed})", field="unit")
    return shift


def to_asset_units(quantity: Decimal, asset: str, unit: str) -> Decimal:
    """``quantity`` in ``unit`` as an exact quantity of ``asset``; refused if it is finer
    than the asset's scale (a fraction of a satoshi, 9 places of BTC)."""
    shift = unit_shift(asset, unit)
    scale = asset_scale(asset)
    allowed = scale - shift
    places = decimal_places(quantity)
    if places > allowed:
        if shift == 0:
            what = f"{asset} allows {scale}"
        elif allowed == 0:
            what = f"{unit} must be whole ({asset} is booked to {scale})"
        else:
            what = f"{unit} allows {allowed} ({asset} is booked to {scale})"
        raise InvalidInput(f"{quantity:f} {unit} has {places} decimal places; {what}",
                           field="quantity")
    return quantity.scaleb(-shift, context=MONEY_CONTEXT)


def from_asset_units(quantity: Decimal, asset: str, unit: str) -> Decimal:
    """The inverse of :func:`to_asset_units` (1.5 BTC -> 150000000 sat)."""
    return quantity.scaleb(unit_shift(asset, unit), context=MONEY_CONTEXT)


def _observed_at(text: str, origin: Origin) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        value = None
    if value is None:
        raise InvalidInput(f"{text!r} is not an ISO 8601 time (2025-11-30T00:00:00Z)",
                           origin=origin, field="observed_at")
    if value.tzinfo is None:
        raise InvalidInput(f"{text!r} has no time zone; write Z or +00:00", origin=origin,
                           field="observed_at")
    return value.astimezone(UTC) if value.utcoffset() != timedelta(0) else \
        value.replace(tzinfo=UTC)


def _row(values: dict[str, str], origin: Origin) -> ObservedBalance:
    for name in COLUMNS:
        if not values[name]:
            raise InvalidInput("a value is required", origin=origin, field=name)
    asset = values["asset"].upper()
    if asset not in KNOWN_SCALES and asset not in BASE_UNITS:
        raise InvalidInput(f"unknown asset {values['asset']!r} (known: "
                           f"{', '.join(sorted(KNOWN_SCALES))})", origin=origin, field="asset")
    amount = parse_amount(values["quantity"], origin=origin, field="quantity")
    assert amount is not None
    if amount < 0:
        raise InvalidInput(f"quantity must be >= 0, got {amount}", origin=origin,
                           field="quantity")
    try:
        quantity = to_asset_units(amount, asset, values["unit"])
    except InvalidInput as error:
        raise error.with_origin(origin) from None
    return ObservedBalance(chain=values["chain"].lower(), address=values["address"],
                           instrument_code=asset, quantity=quantity,
                           observed_at=_observed_at(values["observed_at"], origin),
                           source=values["source"])


def read_snapshot(path: Path) -> list[ObservedBalance]:
    """Every balance in a snapshot CSV, or an error and nothing."""
    file = str(path)
    if not path.is_file():
        raise InvalidInput("file not found", origin=Origin(file))
    balances: list[ObservedBalance] = []
    seen: dict[tuple[str, str, str], int] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = tuple(reader.fieldnames or ())
        if tuple(name.strip() for name in header) != COLUMNS:
            raise InvalidInput(f"header must be {','.join(COLUMNS)}", origin=Origin(file, 1),
                               field="header")
        for row in reader:
            origin = Origin(file, reader.line_num)
            if None in row:
                raise InvalidInput("more values than columns", origin=origin)
            values = {k.strip(): (v or "").strip() for k, v in row.items()}
            if not any(values.values()):
                continue
            balance = _row(values, origin)
            key = (balance.chain, address_key(balance.address), balance.instrument_code)
            if key in seen:
                raise InvalidInput(f"{balance.address} {balance.instrument_code} is already on "
                                   f"line {seen[key]}", origin=origin, field="address")
            seen[key] = reader.line_num
            balances.append(balance)
    if not balances:
        raise InvalidInput("no balances in file", origin=Origin(file, 1))
    return balances
