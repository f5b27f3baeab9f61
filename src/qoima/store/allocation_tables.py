"""Recorded gate decisions and tranche plans, on the metadata of :mod:`qoima.store.tables`."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from qoima.store.tables import Id, metadata
from qoima.store.types import ExactDecimal, IsoDate, UtcDateTime

PLAN_STATUSES = ("active", "completed", "cancelled")

# decision_hash covers the vehicle, date, verdict, every signal reading, the gate's hash and
# the inputs' hash: recording the same decision twice returns the first row.
gate_decisions = Table(
    "gate_decisions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("decision_hash", String(64), nullable=False, unique=True),
    Column("vehicle_code", String(64), ForeignKey("vehicles.code"), nullable=False),
    Column("as_of_date", IsoDate, nullable=False),
    Column("verdict", String(8), nullable=False),
    Column("policy_version", Integer),
    Column("policy_hash", String(64)),
    Column("gate_hash", String(64), nullable=False),
    Column("inputs_hash", String(64), nullable=False),
    Column("decision_json", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(128), nullable=False),
    CheckConstraint("verdict IN ('go', 'wait')", name="verdict"),
)
Index("ix_gate_decisions_vehicle_date", gate_decisions.c.vehicle_code,
      gate_decisions.c.as_of_date)

tranche_plans = Table(
    "tranche_plans", metadata,
    Column("plan_id", String(128), primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("vehicle_code", String(64), ForeignKey("vehicles.code"), nullable=False),
    Column("as_of_date", IsoDate, nullable=False),
    Column("target_usd", ExactDecimal, nullable=False),
    Column("status", String(16), nullable=False),
    Column("policy_version", Integer),
    Column("policy_hash", String(64)),
    Column("plan_json", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    CheckConstraint(f"status IN ({', '.join(repr(s) for s in PLAN_STATUSES)})",
                    name="status"),
)

# Which draft orders a plan generated for which of its tranches.
tranche_orders = Table(
    "tranche_orders", metadata,
    Column("plan_id", String(128), ForeignKey("tranche_plans.plan_id"), nullable=False),
    Column("tranche_id", String(64), nullable=False),
    Column("order_id", String(128), ForeignKey("orders.order_id"), nullable=False),
    PrimaryKeyConstraint("plan_id", "order_id"),
)
