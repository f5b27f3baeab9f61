"""The breach register: which policy breaches are open, since when, and when they closed.

A breach is keyed by (vehicle, rule, subject). Each daily evaluation opens the breaches it
sees for the first time, keeps the ones it sees again (with today's figures, the opening
date unchanged) and closes the ones it no longer sees. "Not evaluated" findings and the
valuation warning are not breaches: a missing input must not close or open one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.policy.evaluate import VALUATION_INCOMPLETE_RULE
from qoima.policy.rules import NOT_EVALUATED

_BREACH_SEVERITIES = (Severity.BLOCKING, Severity.ERROR, Severity.WARNING)


@dataclass(frozen=True, slots=True)
class Breach:
    vehicle_code: str
    rule: str
    subject: str
    opened_on: date
    closed_on: date | None
    severity: Severity
    measured: str | None
    limit: str | None
    message: str

    @property
    def key(self) -> tuple[str, str, str]:
        return self.vehicle_code, self.rule, self.subject

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


@dataclass(frozen=True, slots=True)
class RegisterUpdate:
    opened: tuple[Breach, ...]
    still_open: tuple[Breach, ...]
    closed: tuple[Breach, ...]


def is_breach(finding: Finding) -> bool:
    """A policy finding that records a limit crossed (not a check that could not run)."""
    return (finding.rule.startswith("policy.")
            and not finding.rule.endswith("." + NOT_EVALUATED)
            and finding.rule != VALUATION_INCOMPLETE_RULE
            and finding.severity in _BREACH_SEVERITIES)


def update_register(open_breaches: Sequence[Breach], findings: Iterable[Finding],
                    as_of: date, *, vehicle_code: str) -> RegisterUpdate:
    """Compare the open breaches of ``vehicle_code`` with the findings of ``as_of``.

    Breaches of other vehicles pass through in ``still_open`` untouched. A rule that could
    not be evaluated today keeps its open breaches open (nothing proves them cured).
    """
    current: dict[tuple[str, str, str], Finding] = {}
    unevaluated: set[str] = set()
    for finding in findings:
        if finding.rule.endswith("." + NOT_EVALUATED):
            unevaluated.add(finding.rule.removesuffix("." + NOT_EVALUATED))
        elif is_breach(finding):
            current.setdefault((vehicle_code, finding.rule, finding.subject), finding)
    opened: list[Breach] = []
    still_open: list[Breach] = []
    closed: list[Breach] = []
    seen: set[tuple[str, str, str]] = set()
    for breach in open_breaches:
        if not breach.is_open:
            raise InvalidInput(f"breach {breach.key} is already closed", field="closed_on")
        if breach.key in seen:
            raise InvalidInput(f"breach {breach.key} is listed twice")
        seen.add(breach.key)
        if breach.vehicle_code != vehicle_code:
            still_open.append(breach)
            continue
        if as_of < breach.opened_on:
            raise InvalidInput(f"breach {breach.key} opened on {breach.opened_on}, after "
                               f"{as_of}", field="as_of")
        today = current.get(breach.key)
        if today is not None:
            still_open.append(replace(breach, severity=today.severity,
                                      measured=today.measured, limit=today.limit,
                                      message=today.message))
        elif breach.rule in unevaluated:
            still_open.append(breach)
        else:
            closed.append(replace(breach, closed_on=as_of))
    for key, finding in current.items():
        if key not in seen:
            opened.append(Breach(vehicle_code, finding.rule, finding.subject, as_of, None,
                                 finding.severity, finding.measured, finding.limit,
                                 finding.message))
    return RegisterUpdate(tuple(opened), tuple(still_open), tuple(closed))
