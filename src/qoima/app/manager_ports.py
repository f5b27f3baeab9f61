"""Storage port for external managers: mandate versions and imported statements.

Records carry primitives only (enums as their string values, a mandate and findings as
canonical JSON), so the store knows nothing of :mod:`qoima.managers`; the application maps
them. Repositories never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MandateRecord:
    """One version of a manager's mandate; the highest version is the one in force.

    ``mandate_json`` is the canonical JSON of the mandate and ``content_hash`` its hash;
    ``source_text`` is the file as given (empty when built in code, as by the demo).
    """

    manager_code: str
    version: int
    vehicle_code: str
    kind: str
    content_hash: str
    mandate_json: str
    source_text: str
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True, slots=True)
class FlowRecord:
    """An investor cash flow of a statement and the ledger entry that books it.

    ``matched``: the book already held that flow (``entry_id`` is the existing entry);
    otherwise ``entry_id`` is the entry the import posted.
    """

    position: int
    on_date: date
    kind: str
    amount: Decimal
    entry_id: str
    matched: bool
    source_row: int = 0


@dataclass(frozen=True, slots=True)
class FeeRecord:
    position: int
    kind: str
    amount: Decimal
    source_row: int = 0


@dataclass(frozen=True, slots=True)
class ExposureRecord:
    position: int
    asset: str
    venue: str
    custodian: str
    market_value: Decimal
    gross_exposure: Decimal | None = None
    source_row: int = 0


@dataclass(frozen=True, slots=True)
class StatementRecord:
    """An imported statement, unique per (manager, period end).

    ``file_hash`` is the SHA-256 of the file read (its idempotency key with the manager and
    the period end); ``content_hash`` that of the parsed statement. ``findings_json`` holds
    the oversight findings raised at import (breaches, fee mismatches); ``source_rows_json``
    the rows of the single-value lines, so a later finding can still point at its row.
    """

    manager_code: str
    period_start: date
    period_end: date
    currency: str
    opening_nav: Decimal
    pnl: Decimal
    closing_nav: Decimal
    reported_leverage: Decimal | None
    received_on: date | None
    source_file: str
    source_sheet: str | None
    source_rows_json: str
    file_hash: str
    content_hash: str
    mandate_version: int
    findings_json: str
    imported_at: datetime
    imported_by: str
    flows: tuple[FlowRecord, ...] = ()
    fees: tuple[FeeRecord, ...] = ()
    exposures: tuple[ExposureRecord, ...] = ()
    statement_id: int | None = None


class ManagerRepository(Protocol):
    def add_mandate(self, record: MandateRecord) -> None:
        """Store a new version; Conflict when (manager, version) is taken."""
        ...

    def find_mandate(self, manager_code: str, version: int | None = None
                     ) -> MandateRecord | None:
        """The version asked for, or the latest one when ``version`` is None."""
        ...

    def list_mandates(self) -> list[MandateRecord]:
        """The latest version of every manager's mandate, by manager code."""
        ...

    def mandate_history(self, manager_code: str) -> list[MandateRecord]:
        """Every version, oldest first."""
        ...

    def add_statement(self, record: StatementRecord) -> StatementRecord:
        """Store a statement with its flows, fees and exposures (``statement_id`` filled
        in). Conflict when the manager already has a statement for that period end."""
        ...

    def find_statement(self, manager_code: str, period_end: date) -> StatementRecord | None:
        ...

    def list_statements(self, manager_code: str | None = None,
                        until: date | None = None) -> list[StatementRecord]:
        """With their lines, by manager then period end; ``until``: period_end <= until."""
        ...

    def latest_statements(self, as_of: date) -> dict[str, StatementRecord]:
        """Each manager's statement with the latest period end on or before ``as_of``."""
        ...
