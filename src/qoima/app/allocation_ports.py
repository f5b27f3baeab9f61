"""Storage port for the allocation workflow: recorded gate decisions and tranche plans.

Records carry primitives only (like :mod:`qoima.app.governance_ports`): the decision and
the plan are canonical JSON. Repositories never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class PlanStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class GateDecisionRecord:
    """A stability-gate decision as recorded (``decision_json``: every signal reading)."""

    decision_hash: str
    vehicle_code: str
    as_of_date: date
    verdict: str
    policy_version: int | None
    policy_hash: str | None
    gate_hash: str
    inputs_hash: str
    decision_json: str
    recorded_at: datetime
    recorded_by: str
    id: int | None = None


@dataclass(frozen=True, slots=True)
class TranchePlanRecord:
    """A tranche plan (``plan_json``: tranches, instruments, amounts and schedules) and the
    draft orders generated for it, as ``(tranche_id, order_id)`` pairs."""

    plan_id: str
    idempotency_key: str
    vehicle_code: str
    as_of_date: date
    target_usd: Decimal
    status: str
    policy_version: int | None
    policy_hash: str | None
    plan_json: str
    created_at: datetime
    created_by: str
    orders: tuple[tuple[str, str], ...] = ()


class AllocationRepository(Protocol):
    def add_gate_decision(self, record: GateDecisionRecord) -> GateDecisionRecord:
        """Insert, or return the stored record with the same ``decision_hash``."""
        ...

    def list_gate_decisions(self, vehicle_code: str | None = None,
                            limit: int | None = None) -> list[GateDecisionRecord]: ...

    def add_plan(self, record: TranchePlanRecord) -> TranchePlanRecord:
        """Insert, or return the stored plan with the same idempotency key."""
        ...

    def add_plan_order(self, plan_id: str, tranche_id: str, order_id: str) -> None: ...

    def find_plan(self, plan_id: str) -> TranchePlanRecord | None: ...

    def list_plans(self, vehicle_code: str | None = None,
                   status: str | Sequence[str] | None = None) -> list[TranchePlanRecord]: ...

    def set_plan_status(self, plan_id: str, status: str) -> None: ...
