"""Reconciliation: the book's balance per address against what the chain shows.

The book (from :func:`qoima.custody.chain_of_custody.apply_events`) says what each
state-controlled address should hold; an observed snapshot (a file today, a live chain-data
source later, both behind :class:`ChainDataSource`) says what it does hold. Each
(address, instrument) becomes one row; every row that does not match becomes a finding.
Less on chain than in the book is *blocking*: coins may have left the state's control.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from qoima.custody.chain_of_custody import address_key
from qoima.domain.canonical import plain_decimal
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.domain.money import ZERO


@dataclass(frozen=True, slots=True)
class ObservedBalance:
    """What a source saw at an address at ``observed_at`` (aware UTC), in the instrument's
    own unit (BTC, not satoshi: adapters convert)."""

    chain: str
    address: str
    instrument_code: str
    quantity: Decimal
    observed_at: datetime
    source: str

    def __post_init__(self) -> None:
        if not isinstance(self.quantity, Decimal) or not self.quantity.is_finite() \
                or self.quantity < 0:
            raise InvalidInput(f"observed quantity at {self.address} must be an exact Decimal "
                               f">= 0, got {self.quantity!r}", field="quantity")
        if not isinstance(self.observed_at, datetime) \
                or self.observed_at.utcoffset() != timedelta(0):
            raise InvalidInput(f"observed_at must be an aware UTC datetime, got "
                               f"{self.observed_at!r}", field="observed_at")


class ChainDataSource(Protocol):
    """A source of on-chain balances (an explorer API, a node, a file snapshot)."""

    def balances(self, addresses: Sequence[tuple[str, str]],
                 as_of: datetime) -> list[ObservedBalance]:
        """Balances of ``(chain, address)`` pairs, observed at or before ``as_of``."""
        ...


class RowStatus(StrEnum):
    MATCHED = "matched"
    DIFFERENCE = "difference"
    MISSING_ON_CHAIN = "missing_on_chain"  # the book has the address, the snapshot does not
    UNKNOWN_ADDRESS = "unknown_address"  # the snapshot has an address the book does not


@dataclass(frozen=True, slots=True)
class ReconciliationRow:
    address: str
    instrument_code: str
    book: Decimal | None
    observed: Decimal | None
    difference: Decimal | None  # observed - book
    status: RowStatus
    observed_at: datetime | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Reconciliation:
    as_of: datetime
    rows: tuple[ReconciliationRow, ...]
    findings: tuple[Finding, ...]

    @property
    def matched(self) -> bool:
        return all(row.status is RowStatus.MATCHED for row in self.rows)


def _finding(rule: str, severity: Severity, row: ReconciliationRow, message: str,
             as_of: datetime, limit: Decimal | None = None) -> Finding:
    return Finding(rule=f"custody.{rule}", severity=severity,
                   subject=f"{row.address} {row.instrument_code}", message=message,
                   as_of_date=as_of.date(),
                   measured=None if row.difference is None else plain_decimal(row.difference),
                   limit=None if limit is None else plain_decimal(limit))


def _index(observed: Sequence[ObservedBalance],
           as_of: datetime) -> dict[tuple[str, str], ObservedBalance]:
    index: dict[tuple[str, str], ObservedBalance] = {}
    for item in observed:
        if item.observed_at > as_of:
            raise InvalidInput(f"{item.address} {item.instrument_code} was observed at "
                               f"{item.observed_at.isoformat()}, after as_of "
                               f"{as_of.isoformat()}", field="observed_at")
        key = (address_key(item.address), item.instrument_code)
        if key in index:
            raise InvalidInput(f"{item.address} {item.instrument_code} is observed twice "
                               f"({index[key].source}, {item.source})", field="address")
        index[key] = item
    return index


def reconcile(book: Mapping[tuple[str, str], Decimal], observed: Sequence[ObservedBalance],
              as_of: datetime, tolerance: Mapping[str, Decimal] | None = None, *,
              max_age: timedelta | None = None) -> Reconciliation:
    """Compare book balances with observed ones.

    Parameters
    ----------
    book
        ``{(address, instrument): expected quantity}``.
    observed
        At most one observation per (address, instrument), none later than ``as_of``.
    as_of
        The moment reconciled (aware UTC).
    tolerance
        Largest absolute difference per instrument still counted as matched (default 0:
        exact). Meant for dust, never for rounding: quantities are exact.
    max_age
        Observations older than ``as_of - max_age`` still count, with a warning finding.
    """
    if as_of.utcoffset() != timedelta(0):
        raise InvalidInput(f"as_of must be an aware UTC datetime, got {as_of!r}", field="as_of")
    tolerances = dict(tolerance or {})
    for code, value in tolerances.items():
        if value < 0:
            raise InvalidInput(f"tolerance for {code} must be >= 0, got {value}",
                               field="tolerance")
    index = _index(observed, as_of)
    rows: list[ReconciliationRow] = []
    findings: list[Finding] = []
    booked: set[tuple[str, str]] = set()
    for (address, code), expected in sorted(book.items()):
        key = (address_key(address), code)
        if key in booked:
            raise InvalidInput(f"{address} {code} is in the book twice (spelled two ways)",
                               field="address")
        booked.add(key)
        seen = index.get(key)
        limit = tolerances.get(code, ZERO)
        if seen is None:
            row = ReconciliationRow(address, code, expected, None, None,
                                    RowStatus.MISSING_ON_CHAIN)
            rows.append(row)
            if expected != 0:
                findings.append(_finding(
                    "balance_not_observed", Severity.ERROR, row,
                    f"the book holds {expected} {code} at {address}; the snapshot has no "
                    "balance for it", as_of))
            continue
        difference = seen.quantity - expected
        status = RowStatus.MATCHED if abs(difference) <= limit else RowStatus.DIFFERENCE
        row = ReconciliationRow(address, code, expected, seen.quantity, difference, status,
                                seen.observed_at, seen.source)
        rows.append(row)
        if status is RowStatus.DIFFERENCE:
            short = difference < 0
            findings.append(_finding(
                "balance_short" if short else "balance_excess",
                Severity.BLOCKING if short else Severity.WARNING, row,
                f"{seen.source} shows {seen.quantity} {code} at {address}, the book "
                f"{expected} ({'short' if short else 'over'} by {abs(difference)})",
                as_of, limit))
        if max_age is not None and seen.observed_at < as_of - max_age:
            findings.append(_finding(
                "stale_observation", Severity.WARNING, row,
                f"{address} {code} was last observed at {seen.observed_at.isoformat()}, "
                f"older than {max_age}", as_of))
    for key, seen in sorted(index.items()):
        if key in booked:
            continue
        row = ReconciliationRow(seen.address, seen.instrument_code, None, seen.quantity, None,
                                RowStatus.UNKNOWN_ADDRESS, seen.observed_at, seen.source)
        rows.append(row)
        if seen.quantity != 0:
            findings.append(_finding(
                "unknown_address", Severity.WARNING, row,
                f"{seen.source} shows {seen.quantity} {seen.instrument_code} at "
                f"{seen.address}, which the book does not know", as_of))
    return Reconciliation(as_of=as_of, rows=tuple(rows), findings=tuple(findings))
