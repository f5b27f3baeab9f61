"""One error tree for qoima.

Every error the user must act on derives from :class:`QoimaError` and carries structured
fields, so the CLI can print one clear line and the API can map it to problem+json from
one table. Bad input names where it came from (file, line, field) through :class:`Origin`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a piece of input came from: a file and a 1-based line (0 when unknown)."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class QoimaError(Exception):
    """Root of every qoima error; ``code`` is stable and machine-readable."""

    code = "qoima_error"

    def __init__(
        self,
        message: str,
        *,
        origin: Origin | None = None,
        field: str | None = None,
        **details: Any,
    ) -> None:
        self.message = message
        self.origin = origin
        self.field = field
        self.details = details
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = []
        if self.origin is not None:
            parts.append(str(self.origin))
        if self.field:
            parts.append(f"field '{self.field}'")
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message

    def with_origin(self, origin: Origin | None, field: str | None = None) -> QoimaError:
        """Return the same error located at ``origin`` (keeps an origin already set)."""
        if self.origin is None and origin is not None:
            self.origin = origin
        if self.field is None and field is not None:
            self.field = field
        self.args = (self.__str__(),)
        return self


class InvalidInput(QoimaError):
    """Input that can never be accepted as given (bad value, unknown reference, bad format)."""

    code = "invalid_input"


class NotFound(QoimaError):
    code = "not_found"


class Conflict(QoimaError):
    """The request clashes with what is already recorded."""

    code = "conflict"


class IdempotencyConflict(Conflict):
    """The same idempotency id was used before with different content."""

    code = "idempotency_conflict"


class LedgerError(QoimaError):
    code = "ledger_error"


class UnbalancedEntry(LedgerError, InvalidInput):
    code = "unbalanced_entry"


class ScaleError(LedgerError, InvalidInput):
    code = "scale_error"


class Overdraft(LedgerError):
    """A holding account would go below zero on some date."""

    code = "overdraft"


class EntryStateError(LedgerError, Conflict):
    """A pending entry already resolved, an entry already reversed, and the like."""

    code = "entry_state"


class AuditError(QoimaError):
    code = "audit_error"


class ConfigurationError(QoimaError):
    code = "configuration_error"


class StorageError(QoimaError):
    code = "storage_error"


class TransientConflict(StorageError):
    """Another writer won a race (serialization failure); the unit of work may be retried."""

    code = "transient_conflict"


class RiskError(QoimaError):
    """A risk computation cannot give a meaningful number (never a NaN in a report)."""

    code = "risk_error"


class InsufficientHistory(RiskError, InvalidInput):
    """Fewer observations than the window or model needs."""

    code = "insufficient_history"


class DegenerateSeries(RiskError, InvalidInput):
    """A constant series, or one with NaNs inside the window: the measure is undefined."""

    code = "degenerate_series"


class UnknownScenario(RiskError, NotFound):
    code = "unknown_scenario"


class Forbidden(QoimaError):
    """The acting user lacks the permission on that vehicle (or is inactive, or is the maker)."""

    code = "forbidden"


class OrderStateError(Conflict):
    """The order's status does not allow the action (approve a draft, fill a settled order)."""

    code = "order_state"
