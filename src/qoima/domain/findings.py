"""Findings: problems the user must see, carried as data instead of exceptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from qoima.domain.enums import Severity


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation about a subject (a position, a price, a record) as of a date.

    ``rule`` is a stable id such as ``valuation.missing_price``; ``measured`` and ``limit``
    are kept as text so exact values survive serialization.
    """

    rule: str
    severity: Severity
    subject: str
    message: str
    as_of_date: date | None = None
    measured: str | None = None
    limit: str | None = None
