"""Seizure cases and the assets seized in them, validated on construction.

A case is what law enforcement opened (agency, case number, court); a seized asset is one
instrument on one chain taken in that case, with the addresses and transaction ids that
prove where it came from and where it is held. These constructors are pure: the app checks
every address with :func:`qoima.custody.addresses.validate_address` before it builds an
asset, so a value that exists in memory has passed both the shape checks here and the
chain checks there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from qoima.domain.errors import InvalidInput
from qoima.domain.money import KNOWN_SCALES, check_scale
from qoima.domain.reference import MAX_SCALE, check_code


class HoldingPlace(StrEnum):
    """Where seized coins sit while the case runs."""

    STATE_WALLET = "state_wallet"  # keys generated and held by the state
    CUSTODIAN = "custodian"  # a qualified crypto custodian holds the keys for the state
    EXCHANGE_FREEZE = "exchange_freeze"  # still on an exchange account, frozen by order


def _text(value: object, field: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must not be empty", field=field)
    if value != value.strip():
        raise InvalidInput(f"{what} {value!r} has leading or trailing spaces", field=field)
    return value


def _unique_texts(values: tuple[str, ...], field: str, what: str) -> None:
    if not isinstance(values, tuple):
        raise InvalidInput(f"{field} must be a tuple of {what}s", field=field)
    seen: set[str] = set()
    for value in values:
        _text(value, field, what)
        if value in seen:
            raise InvalidInput(f"{what} {value!r} is listed twice", field=field)
        seen.add(value)


#: Coins that seized assets fork into, booked like their chains (not in the domain's table).
FORK_SCALES = {"BCH": 8, "BSV": 8, "BTG": 8, "LTC": 8, "ETC": 18, "ETHW": 18}


def asset_scale(instrument_code: str) -> int:
    """Decimal places an instrument is booked with (BTC 8, BCH 8, ETH 18; unknown 18)."""
    return KNOWN_SCALES.get(instrument_code, FORK_SCALES.get(instrument_code, MAX_SCALE))


@dataclass(frozen=True, slots=True)
class Case:
    """A seizure case as opened by the enforcement liaison."""

    case_id: str
    agency: str
    case_number: str
    court: str
    description: str
    opened_on: date

    def __post_init__(self) -> None:
        check_code(self.case_id, what="case")
        _text(self.agency, "agency", "agency")
        _text(self.case_number, "case_number", "case number")
        _text(self.court, "court", "court")
        if not isinstance(self.description, str):
            raise InvalidInput("description must be text", field="description")
        if not isinstance(self.opened_on, date):
            raise InvalidInput("opened_on must be a date", field="opened_on")


@dataclass(frozen=True, slots=True)
class SeizedAsset:
    """One instrument seized in a case.

    ``quantity`` is in the instrument's own unit (BTC, not satoshi) and may not carry more
    decimal places than the instrument is booked with; ``addresses`` are the on-chain
    addresses involved (source and custody), ``tx_ids`` the seizure transactions, and
    ``holder`` names who holds the keys (the state unit, the custodian or the exchange).
    """

    asset_id: str
    case_id: str
    chain: str
    instrument_code: str
    quantity: Decimal
    addresses: tuple[str, ...]
    tx_ids: tuple[str, ...]
    holding: HoldingPlace
    holder: str
    seized_on: date

    def __post_init__(self) -> None:
        check_code(self.asset_id, what="asset")
        check_code(self.case_id, what="case")
        _text(self.chain, "chain", "chain")
        check_code(self.instrument_code, what="instrument")
        if not isinstance(self.quantity, Decimal) or not self.quantity.is_finite():
            raise InvalidInput("quantity must be an exact finite Decimal", field="quantity")
        if self.quantity <= 0:
            raise InvalidInput(f"quantity must be > 0, got {self.quantity}", field="quantity")
        try:  # ScaleError names the asset and both counts: "... has 9 ...; BTC allows 8"
            check_scale(self.quantity, asset_scale(self.instrument_code),
                        asset=self.instrument_code)
        except InvalidInput as error:
            raise error.with_origin(None, "quantity") from None
        if not self.addresses:
            raise InvalidInput("a seized asset needs at least one address", field="addresses")
        _unique_texts(self.addresses, "addresses", "address")
        _unique_texts(self.tx_ids, "tx_ids", "transaction id")
        if not isinstance(self.holding, HoldingPlace):
            raise InvalidInput(f"holding must be one of: {', '.join(HoldingPlace)}",
                               field="holding")
        _text(self.holder, "holder", "holder")
        if not isinstance(self.seized_on, date):
            raise InvalidInput("seized_on must be a date", field="seized_on")

