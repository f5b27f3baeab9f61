"""Reference data: vehicles, tranches, instruments, custodians, managers and accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from qoima.domain.enums import (
    AccountKind,
    CostMethod,
    CustodianKind,
    InstrumentKind,
    ManagerKind,
    TrancheKind,
    VehicleKind,
    Venue,
)
from qoima.domain.errors import InvalidInput

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
BASE_CURRENCY = "USD"
REPORTING_CURRENCIES = ("USD", "KZT")
MAX_SCALE = 18


def check_code(value: str, *, what: str) -> str:
    """Codes are the human-readable keys users type; keep them simple and unambiguous."""
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise InvalidInput(
            f"{what} code {value!r} must be 1-64 letters, digits, dots, dashes or underscores",
            field="code",
        )
    return value


@dataclass(frozen=True, slots=True)
class Tranche:
    code: str
    kind: TrancheKind
    name: str = ""


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A separate pot of money with its own policy, book and reports."""

    code: str
    name: str
    kind: VehicleKind
    cost_method: CostMethod = CostMethod.FIFO
    parent_code: str | None = None  # e.g. the digital-asset sleeve sits inside the FX reserves
    tranches: tuple[Tranche, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        check_code(self.code, what="vehicle")
        seen = set()
        for tranche in self.tranches:
            check_code(tranche.code, what="tranche")
            if tranche.code in seen:
                raise InvalidInput(f"vehicle {self.code}: tranche {tranche.code} listed twice")
            seen.add(tranche.code)

    def has_tranche(self, code: str) -> bool:
        return any(t.code == code for t in self.tranches)


@dataclass(frozen=True, slots=True)
class UnderlyingExposure:
    """What a wrapper holds per unit: e.g. an ETF share holds 0.000568 BTC."""

    asset: str
    units_per_share: Decimal


@dataclass(frozen=True, slots=True)
class Instrument:
    """Anything the book can hold. ``scale`` is its fixed number of decimal places."""

    code: str
    name: str
    kind: InstrumentKind
    scale: int
    currency: str = BASE_CURRENCY  # the currency its price is quoted in (or, for cash, itself)
    price_factor: Decimal = Decimal(1)  # value = quantity * price * factor (bonds: 0.01 of par)
    ticker: str | None = None
    isin: str | None = None
    venue: Venue | None = None
    chain: str | None = None
    contract: str | None = None
    underlying: UnderlyingExposure | None = None
    issuer: str | None = None
    manager_code: str | None = None
    maturity: str | None = None  # ISO date for bills and bonds

    def __post_init__(self) -> None:
        check_code(self.code, what="instrument")
        if not 0 <= self.scale <= MAX_SCALE:
            raise InvalidInput(
                f"instrument {self.code}: scale must be 0..{MAX_SCALE}, got {self.scale}",
                field="scale",
            )
        if self.kind is InstrumentKind.CASH and self.currency != self.code:
            raise InvalidInput(
                f"cash instrument {self.code} must be its own currency (currency={self.currency})",
                field="currency",
            )
        if self.price_factor <= 0:
            raise InvalidInput(f"instrument {self.code}: price_factor must be > 0")
        if self.isin is not None and not re.fullmatch(r"[A-Z]{2}[A-Z0-9]{9}[0-9]", self.isin):
            raise InvalidInput(f"instrument {self.code}: malformed ISIN {self.isin!r}",
                               field="isin")

    @property
    def is_currency(self) -> bool:
        return self.kind is InstrumentKind.CASH


@dataclass(frozen=True, slots=True)
class Custodian:
    code: str
    name: str
    kind: CustodianKind
    jurisdiction: str = ""

    def __post_init__(self) -> None:
        check_code(self.code, what="custodian")


@dataclass(frozen=True, slots=True)
class Manager:
    code: str
    name: str
    kind: ManagerKind
    vehicle_code: str | None = None
    strategy: str = ""

    def __post_init__(self) -> None:
        check_code(self.code, what="manager")


@dataclass(frozen=True, slots=True)
class Account:
    """One balance: an instrument held for a purpose by a vehicle (and tranche, custodian).

    The code is derived from its parts, so the same holding is always the same account:
    ``holding:fx-reserves/liquidity:USD@fed-ny``, ``external:IBIT``.
    """

    kind: AccountKind
    instrument_code: str
    vehicle_code: str | None = None
    tranche_code: str | None = None
    custodian_code: str | None = None
    label: str | None = None  # free qualifier, e.g. a counterparty or an income type

    def __post_init__(self) -> None:
        if self.kind in (AccountKind.HOLDING, AccountKind.SUSPENSE) and not self.vehicle_code:
            raise InvalidInput(f"{self.kind} account for {self.instrument_code} needs a vehicle")
        if self.label is not None:
            check_code(self.label, what="account label")

    @property
    def code(self) -> str:
        owner = ""
        if self.vehicle_code:
            owner = self.vehicle_code + (f"/{self.tranche_code}" if self.tranche_code else "")
        text = f"{self.kind.value}:{owner}{':' if owner else ''}{self.instrument_code}"
        if self.custodian_code:
            text += f"@{self.custodian_code}"
        if self.label:
            text += f"#{self.label}"
        return text

    @staticmethod
    def parse(code: str) -> Account:
        """Inverse of :attr:`code`; raises :class:`InvalidInput` naming what is malformed."""
        kind_text, sep, rest = code.partition(":")
        if not sep:
            raise InvalidInput(
                f"account {code!r} must look like KIND:[VEHICLE[/TRANCHE]:]INSTRUMENT")
        try:
            kind = AccountKind(kind_text)
        except ValueError:
            kinds = ", ".join(k.value for k in AccountKind)
            raise InvalidInput(f"account {code!r}: unknown kind {kind_text!r} ({kinds})") from None
        rest, _, label = rest.partition("#")
        rest, _, custodian = rest.partition("@")
        owner, sep, instrument = rest.rpartition(":")
        vehicle, _, tranche = owner.partition("/")
        account = Account(
            kind=kind,
            instrument_code=check_code(instrument, what="instrument"),
            vehicle_code=check_code(vehicle, what="vehicle") if vehicle else None,
            tranche_code=check_code(tranche, what="tranche") if tranche else None,
            custodian_code=check_code(custodian, what="custodian") if custodian else None,
            label=label or None,
        )
        if account.code != code:
            raise InvalidInput(f"account {code!r} is not in canonical form ({account.code})")
        return account
