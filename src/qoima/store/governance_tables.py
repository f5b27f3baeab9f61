"""Governance tables: users and their roles, policy versions and breaches, orders.

Registered on the metadata of :mod:`qoima.store.tables` (which imports this module), so
migrations, schema checks and ``metadata.sorted_tables`` see them. Every column is a
primitive: nested structures (pre-trade findings) are canonical JSON text; approvals and
fills get their own tables, kept in insertion order by their surrogate ``id``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from qoima.store.tables import Id, metadata
from qoima.store.types import ExactDecimal, IsoDate, UtcDateTime

POLICY_STATUSES = ("proposed", "approved", "active", "superseded", "vetoed")
ORDER_SIDES = ("buy", "sell")
ORDER_STATUSES = ("draft", "submitted", "approved", "partially_executed", "executed",
                  "settled", "rejected", "cancelled")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


users = Table(
    "users", metadata,
    Column("name", String(128), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# vehicle_code NULL = the role on every vehicle; no foreign key to vehicles, so users can
# be set up before the vehicles they will act on are registered.
user_grants = Table(
    "user_grants", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_name", String(128), ForeignKey("users.name"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("vehicle_code", String(64)),
)
Index("ix_user_grants_user", user_grants.c.user_name)

policy_versions = Table(
    "policy_versions", metadata,
    Column("vehicle_code", String(64), ForeignKey("vehicles.code"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("source_text", Text, nullable=False),
    Column("format", String(8), nullable=False),  # yaml | toml
    Column("status", String(16), nullable=False),
    Column("proposed_by", String(128), nullable=False),
    Column("proposed_at", UtcDateTime, nullable=False),
    Column("approved_by", String(128)),
    Column("approved_at", UtcDateTime),
    Column("vetoed_by", String(128)),
    Column("vetoed_at", UtcDateTime),
    Column("effective_from", IsoDate, nullable=False),
    Column("takes_effect_at", UtcDateTime),  # end of the change delay of a loosening
    Column("reason", Text),
    CheckConstraint(_one_of("status", POLICY_STATUSES), name="status"),
)
Index("ix_policy_versions_status", policy_versions.c.status)

policy_breaches = Table(
    "policy_breaches", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("vehicle_code", String(64), ForeignKey("vehicles.code"), nullable=False),
    Column("rule", String(128), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("opened_on", IsoDate, nullable=False),
    Column("closed_on", IsoDate),
    Column("measured", Text),
    Column("limit_text", Text),
    Column("message", Text, nullable=False),
    Column("policy_hash", String(64), nullable=False),
)
Index("ix_policy_breaches_open", policy_breaches.c.vehicle_code, policy_breaches.c.closed_on)

orders = Table(
    "orders", metadata,
    Column("order_id", String(128), primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("vehicle_code", String(64), ForeignKey("vehicles.code"), nullable=False),
    Column("instrument_code", String(64), ForeignKey("instruments.code"), nullable=False),
    Column("side", String(8), nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("limit_price", ExactDecimal),
    Column("estimated_price", ExactDecimal, nullable=False),
    Column("tranche_code", String(64)),
    Column("custodian_code", String(64), ForeignKey("custodians.code")),
    Column("note", Text, nullable=False, default=""),
    Column("status", String(24), nullable=False),
    Column("maker", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("rejection_reason", Text),
    Column("terms_hash", String(64), nullable=False),
    Column("pretrade_json", Text, nullable=False, default="[]"),
    Column("pretrade_policy_hash", String(64)),
    ForeignKeyConstraint(["vehicle_code", "tranche_code"],
                         ["tranches.vehicle_code", "tranches.code"]),
    CheckConstraint(_one_of("side", ORDER_SIDES), name="side"),
    CheckConstraint(_one_of("status", ORDER_STATUSES), name="status"),
)
Index("ix_orders_vehicle_status", orders.c.vehicle_code, orders.c.status)
Index("ix_orders_created", orders.c.created_at, orders.c.order_id)  # the list order

order_approvals = Table(
    "order_approvals", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", String(128), ForeignKey("orders.order_id"), nullable=False),
    Column("user_name", String(128), nullable=False),
    Column("roles", Text, nullable=False),  # JSON array of role values
    Column("terms_hash", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("override_reason", Text),
)
Index("ix_order_approvals_order", order_approvals.c.order_id)

# entry_id: the ledger entry the fill posted. No foreign key: the journal writes its
# entries at commit, after the fill row.
order_fills = Table(
    "order_fills", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", String(128), ForeignKey("orders.order_id"), nullable=False),
    Column("fill_id", String(128), nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("price", ExactDecimal, nullable=False),
    Column("fees_usd", ExactDecimal, nullable=False),
    Column("venue", String(64), nullable=False),
    Column("counterparty", String(200), nullable=False),
    Column("executed_at", UtcDateTime, nullable=False),
    Column("settlement_date", IsoDate, nullable=False),
    Column("entry_id", String(128)),
    UniqueConstraint("order_id", "fill_id"),
)
