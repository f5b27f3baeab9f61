"""The inventory report: what each case holds, what the seized pool holds, and what is stale.

The inspector general's audit of the US Marshals found no system that could say what was
held, where, and when it was last checked. This module answers that from plain records:
per case, the assets with their legal status, value and address count, and when the case was
last reconciled and last proved; for the pool, counts by legal status, quantity and value per
instrument, and every finding. It is pure: the app reads the store and passes
:class:`CaseSnapshot` records (the store's records come later; these are the fields the
report needs and nothing else).

Conventions:

* Only assets still in custody count in quantities and values: an asset returned to its
  owner, released to victims, liquidated or transferred to the reserve is listed with its
  status but has no value here (it is no longer the seized pool's).
* ``value_usd = quantity * price`` rounded half-even to cents per asset; totals are sums of
  those rounded values, so a report's rows add up to its totals. A held asset without a
  price has ``value_usd`` None, is left out of the totals (``value_complete`` False) and
  raises an ``inventory.unpriced_asset`` finding.
* Reconciliation and proof findings are raised only for cases that still hold something.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from qoima.custody.legal import LegalStatus
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.domain.money import MONEY_CONTEXT, ZERO, quantize

_E = TypeVar("_E", bound=StrEnum)
USD_SCALE = 2
DEFAULT_STALE_AFTER_DAYS = 30
#: Statuses under which the coins are still in the seized pool's custody.
HELD_STATUSES = frozenset({LegalStatus.SEIZED, LegalStatus.FROZEN,
                           LegalStatus.UNDER_COURT_REVIEW, LegalStatus.FORFEITED})


class ReconciliationState(StrEnum):
    """Outcome of a case's last reconciliation against observed on-chain balances."""

    MATCHED = "matched"
    DIFFERENCES = "differences"


@dataclass(frozen=True, slots=True)
class AssetSnapshot:
    """One seized asset as the report needs it: instrument, quantity (the instrument's own
    unit, exact), legal status and how many on-chain addresses it involves."""

    asset_id: str
    instrument_code: str
    quantity: Decimal
    legal_status: LegalStatus
    addresses_count: int

    def __post_init__(self) -> None:
        _text(self.asset_id, "asset_id")
        _text(self.instrument_code, "instrument_code")
        if not isinstance(self.quantity, Decimal) or not self.quantity.is_finite():
            raise InvalidInput(f"asset {self.asset_id}: quantity must be an exact finite "
                               f"Decimal, got {self.quantity!r}", field="quantity")
        if self.quantity <= 0:
            raise InvalidInput(f"asset {self.asset_id}: quantity must be > 0, got "
                               f"{self.quantity}", field="quantity")
        object.__setattr__(self, "legal_status",
                           _member(LegalStatus, self.legal_status, "legal_status"))
        count = self.addresses_count
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidInput(f"asset {self.asset_id}: addresses_count must be a whole "
                               f"number >= 0, got {count!r}", field="addresses_count")


@dataclass(frozen=True, slots=True)
class CaseSnapshot:
    """A case's assets and its last reconciliation and proof of control.

    ``last_reconciled_on``/``last_reconciliation_status`` come together (both None when the
    case was never reconciled); ``proofs_valid`` says whether every proof of control on
    record verified (None when there is none).
    """

    case_id: str
    assets: tuple[AssetSnapshot, ...]
    last_reconciled_on: date | None = None
    last_reconciliation_status: ReconciliationState | None = None
    last_proof_on: date | None = None
    proofs_valid: bool | None = None

    def __post_init__(self) -> None:
        _text(self.case_id, "case_id")
        object.__setattr__(self, "assets", tuple(self.assets))
        ids = [asset.asset_id for asset in self.assets]
        if len(set(ids)) != len(ids):
            raise InvalidInput(f"case {self.case_id}: asset ids repeat", field="assets")
        if (self.last_reconciled_on is None) != (self.last_reconciliation_status is None):
            raise InvalidInput(f"case {self.case_id}: a reconciliation needs both its date and "
                               "its status", field="last_reconciliation_status")
        if self.last_reconciliation_status is not None:
            object.__setattr__(self, "last_reconciliation_status",
                               _member(ReconciliationState, self.last_reconciliation_status,
                                       "last_reconciliation_status"))
        if (self.last_proof_on is None) != (self.proofs_valid is None):
            raise InvalidInput(f"case {self.case_id}: a proof of control needs both its date "
                               "and whether it is valid", field="proofs_valid")


@dataclass(frozen=True, slots=True)
class AssetRow:
    asset_id: str
    instrument_code: str
    quantity: Decimal
    value_usd: Decimal | None  # None when not held or unpriced
    legal_status: LegalStatus
    addresses_count: int
    held: bool


@dataclass(frozen=True, slots=True)
class CaseInventory:
    case_id: str
    assets: tuple[AssetRow, ...]
    value_usd_total: Decimal
    value_complete: bool  # False when a held asset has no price
    last_reconciled_on: date | None
    last_reconciliation_status: ReconciliationState | None
    last_proof_on: date | None
    proofs_valid: bool | None
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class PoolInventory:
    """The whole seized pool; quantities and values cover held assets only."""

    as_of_date: date
    cases_count: int
    assets_by_legal_status: Mapping[LegalStatus, int]
    quantity_by_instrument: Mapping[str, Decimal]
    value_by_instrument: Mapping[str, Decimal | None]  # None when the instrument has no price
    value_usd_total: Decimal
    value_complete: bool
    cases: tuple[CaseInventory, ...]
    findings: tuple[Finding, ...]


def _member(enum: type[_E], value: object, field: str) -> _E:
    """``value`` as a member of ``enum``, or InvalidInput listing the allowed values."""
    if isinstance(value, str) and value in enum._value2member_map_:
        return enum(value)
    allowed = ", ".join(member.value for member in enum)
    raise InvalidInput(f"{field} {value!r} is not one of: {allowed}", field=field)


def _text(value: object, field: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} must not be empty", field=field)


def _price(prices: Mapping[str, Decimal | None], code: str) -> Decimal | None:
    price = prices.get(code)
    if price is None:
        return None
    if not isinstance(price, Decimal) or not price.is_finite() or price < 0:
        raise InvalidInput(f"price of {code} must be an exact Decimal >= 0, got {price!r}",
                           field="prices")
    return price


def _finding(rule: str, severity: Severity, subject: str, message: str, as_of_date: date,
             measured: str | None = None, limit: str | None = None) -> Finding:
    return Finding(rule, severity, subject, message, as_of_date, measured, limit)


def _check_settings(as_of_date: date, stale_after_days: int) -> None:
    if not isinstance(as_of_date, date):
        raise InvalidInput(f"as_of_date must be a date, got {as_of_date!r}", field="as_of_date")
    if isinstance(stale_after_days, bool) or not isinstance(stale_after_days, int) \
            or stale_after_days < 0:
        raise InvalidInput(f"stale_after_days must be a whole number >= 0, got "
                           f"{stale_after_days!r}", field="stale_after_days")


def _row(asset: AssetSnapshot, prices: Mapping[str, Decimal | None]) -> AssetRow:
    held = asset.legal_status in HELD_STATUSES
    price = _price(prices, asset.instrument_code) if held else None
    value = (quantize(MONEY_CONTEXT.multiply(asset.quantity, price), USD_SCALE)
             if price is not None else None)
    return AssetRow(asset.asset_id, asset.instrument_code, asset.quantity, value,
                    asset.legal_status, asset.addresses_count, held)


def _case_findings(case: CaseSnapshot, rows: Sequence[AssetRow], as_of_date: date,
                   stale_after_days: int) -> list[Finding]:
    subject = f"case {case.case_id}"
    findings = [
        _finding("inventory.unpriced_asset", Severity.WARNING, f"{subject} asset {row.asset_id}",
                 f"no price for {row.instrument_code}: {row.quantity} is left out of the value",
                 as_of_date)
        for row in rows if row.held and row.value_usd is None]
    if not any(row.held for row in rows):
        return findings
    for day, what in ((case.last_reconciled_on, "reconciliation"),
                      (case.last_proof_on, "proof of control")):
        if day is not None and day > as_of_date:
            raise InvalidInput(f"{subject}: last {what} on {day} is after the report date "
                               f"{as_of_date}", field="as_of_date")
    if case.last_reconciled_on is None:
        findings.append(_finding("inventory.never_reconciled", Severity.WARNING, subject,
                                 "holds assets but was never reconciled", as_of_date))
    else:
        age = (as_of_date - case.last_reconciled_on).days
        if age > stale_after_days:
            findings.append(_finding(
                "inventory.stale_reconciliation", Severity.WARNING, subject,
                f"last reconciled on {case.last_reconciled_on}, {age} days ago",
                as_of_date, str(age), str(stale_after_days)))
        if case.last_reconciliation_status is ReconciliationState.DIFFERENCES:
            findings.append(_finding(
                "inventory.reconciliation_differences", Severity.WARNING, subject,
                f"the reconciliation of {case.last_reconciled_on} found differences",
                as_of_date))
    if case.last_proof_on is None:
        findings.append(_finding("inventory.no_proof", Severity.WARNING, subject,
                                 "holds assets but has no proof of control", as_of_date))
    elif not case.proofs_valid:
        findings.append(_finding("inventory.invalid_proof", Severity.ERROR, subject,
                                 f"a proof of control (last on {case.last_proof_on}) did not "
                                 "verify", as_of_date))
    return findings


def case_inventory(case: CaseSnapshot, prices: Mapping[str, Decimal | None], *,
                   as_of_date: date,
                   stale_after_days: int = DEFAULT_STALE_AFTER_DAYS) -> CaseInventory:
    """One case's rows, value and findings as of ``as_of_date``.

    ``prices`` are USD per unit by instrument code; a missing code or None is unpriced. A
    reconciliation older than ``stale_after_days`` days is stale.
    """
    _check_settings(as_of_date, stale_after_days)
    rows = tuple(_row(asset, prices) for asset in case.assets)
    values = [row.value_usd for row in rows if row.held]
    total = sum((v for v in values if v is not None), ZERO)
    return CaseInventory(
        case.case_id, rows, quantize(total, USD_SCALE), None not in values,
        case.last_reconciled_on, case.last_reconciliation_status, case.last_proof_on,
        case.proofs_valid,
        tuple(_case_findings(case, rows, as_of_date, stale_after_days)))


def pool_inventory(cases: Sequence[CaseSnapshot], prices: Mapping[str, Decimal | None], *,
                   as_of_date: date,
                   stale_after_days: int = DEFAULT_STALE_AFTER_DAYS) -> PoolInventory:
    """Every case's inventory and the pool's totals (held assets only), sorted by code."""
    ids = [case.case_id for case in cases]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise InvalidInput(f"case ids repeat: {', '.join(repeated)}", field="cases")
    inventories = tuple(case_inventory(case, prices, as_of_date=as_of_date,
                                       stale_after_days=stale_after_days) for case in cases)
    by_status = dict.fromkeys(LegalStatus, 0)
    quantities: dict[str, Decimal] = {}
    values: dict[str, Decimal | None] = {}
    for row in (row for inventory in inventories for row in inventory.assets):
        by_status[row.legal_status] += 1
        if not row.held:
            continue
        code = row.instrument_code
        quantities[code] = MONEY_CONTEXT.add(quantities.get(code, ZERO), row.quantity)
        previous = values.get(code, ZERO)
        values[code] = (None if previous is None or row.value_usd is None
                        else MONEY_CONTEXT.add(previous, row.value_usd))
    total = sum((v for v in values.values() if v is not None), ZERO)
    return PoolInventory(
        as_of_date, len(inventories), by_status, dict(sorted(quantities.items())),
        dict(sorted(values.items())), quantize(total, USD_SCALE),
        all(inventory.value_complete for inventory in inventories), inventories,
        tuple(f for inventory in inventories for f in inventory.findings))
