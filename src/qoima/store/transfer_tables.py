"""Custody transfers and their approvals, on the metadata of :mod:`qoima.store.tables`."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from qoima.store.tables import Id, metadata
from qoima.store.types import ExactDecimal, UtcDateTime

TRANSFER_STATUSES = ("proposed", "approved", "executed", "rejected", "cancelled")

# entry_id: the ledger entry of the execution; no foreign key (the journal writes its
# entries at commit, after this row).
transfers = Table(
    "transfers", metadata,
    Column("transfer_id", String(128), primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("vehicle_code", String(64), ForeignKey("vehicles.code"), nullable=False),
    Column("instrument_code", String(64), ForeignKey("instruments.code"), nullable=False),
    Column("chain", String(64), nullable=False),
    Column("destination", String(200), nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("value_usd", ExactDecimal),
    Column("from_account", String(300), nullable=False),
    Column("to_account", String(300)),  # NULL: leaves the institution
    Column("status", String(16), nullable=False),
    Column("maker", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("quorum", Integer, nullable=False),
    Column("findings_json", Text, nullable=False, default="[]"),
    Column("policy_hash", String(64)),
    Column("entry_id", String(128)),
    Column("tx_id", String(200)),
    Column("executed_at", UtcDateTime),
    Column("reason", Text),
    CheckConstraint(f"status IN ({', '.join(repr(s) for s in TRANSFER_STATUSES)})",
                    name="status"),
)
Index("ix_transfers_vehicle_status", transfers.c.vehicle_code, transfers.c.status)

transfer_approvals = Table(
    "transfer_approvals", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("transfer_id", String(128), ForeignKey("transfers.transfer_id"), nullable=False),
    Column("user_name", String(128), nullable=False),
    Column("roles", Text, nullable=False),  # JSON array of role values
    Column("at", UtcDateTime, nullable=False),
    Column("override_reason", Text),
    UniqueConstraint("transfer_id", "user_name"),
)
