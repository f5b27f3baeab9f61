"""What one daily run gathered, step by step: the input of the committee report.

Every field is optional because a step may fail; the report shows the failure where the
section would have been, and the run goes on with the steps that do not depend on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from qoima.app.allocation import GateCheck, Sizing
from qoima.app.audit_trail import AuditVerification
from qoima.app.governance_ports import BreachRecord
from qoima.app.policies import CheckOutcome
from qoima.app.ports import Checkpoint
from qoima.app.tranche_plans import PlanView
from qoima.orders.model import Order
from qoima.portfolio.snapshot import PortfolioSnapshot
from qoima.report.document import Notice
from qoima.risk.assessment import RiskAssessment


@dataclass(frozen=True, slots=True)
class StepLog:
    name: str
    title: str
    status: str  # ok | failed | skipped
    seconds: float
    message: str = ""


@dataclass(frozen=True, slots=True)
class PreviousRun:
    run_id: str
    as_of: date
    nav_usd: Mapping[str, Decimal]  # vehicle -> NAV
    total_usd: Decimal


@dataclass(slots=True)
class RunFacts:
    as_of: date
    label: str
    snapshot: PortfolioSnapshot | None = None
    previous: PreviousRun | None = None
    assessment: RiskAssessment | None = None
    scenarios_run: tuple[str, ...] = ()
    policy: tuple[CheckOutcome, ...] | None = None
    open_breaches: tuple[BreachRecord, ...] | None = None
    gates: tuple[GateCheck, ...] | None = None
    plans: tuple[PlanView, ...] | None = None
    sizings: tuple[Sizing, ...] | None = None
    pending_orders: tuple[Order, ...] | None = None
    audit: AuditVerification | None = None
    checkpoint: Checkpoint | None = None
    failures: dict[str, str] = field(default_factory=dict)  # step -> what went wrong
    notices: list[Notice] = field(default_factory=list)
    steps: list[StepLog] = field(default_factory=list)

    @property
    def synthetic(self) -> bool:
        if self.snapshot is not None and self.snapshot.synthetic_market:
            return True
        return self.assessment is not None and self.assessment.synthetic
