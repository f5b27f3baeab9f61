"""External managers: mandate versions and imported statements with their lines (issue 9)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from qoima.store.tables import Id, metadata
from qoima.store.types import ExactDecimal, IsoDate, UtcDateTime

FLOW_KINDS = ("subscription", "redemption", "capital_call", "distribution")

manager_mandates = Table(
    "manager_mandates", metadata,
    Column("manager_code", String(64), ForeignKey("managers.code"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("vehicle_code", String(64), ForeignKey("vehicles.code"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("mandate_json", Text, nullable=False),
    Column("source_text", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(128), nullable=False),
    PrimaryKeyConstraint("manager_code", "version"),
    CheckConstraint("version >= 1", name="version"),
)

manager_statements = Table(
    "manager_statements", metadata,
    Column("statement_id", Id, primary_key=True, autoincrement=True),
    Column("manager_code", String(64), ForeignKey("managers.code"), nullable=False),
    Column("period_start", IsoDate, nullable=False),
    Column("period_end", IsoDate, nullable=False),
    Column("currency", String(16), nullable=False),
    Column("opening_nav", ExactDecimal, nullable=False),
    Column("pnl", ExactDecimal, nullable=False),
    Column("closing_nav", ExactDecimal, nullable=False),
    Column("reported_leverage", ExactDecimal),
    Column("received_on", IsoDate),
    Column("source_file", String(500), nullable=False),
    Column("source_sheet", String(200)),
    Column("source_rows_json", Text, nullable=False),
    Column("file_hash", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("mandate_version", Integer, nullable=False),
    Column("findings_json", Text, nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
    Column("imported_by", String(128), nullable=False),
    UniqueConstraint("manager_code", "period_end", name="uq_manager_statements_period"),
)
Index("ix_manager_statements_period_end", manager_statements.c.period_end)

# entry_id: the ledger entry that books the flow (posted by the import, or matched in the
# book); no foreign key, as for transfers (the journal writes at commit).
manager_statement_flows = Table(
    "manager_statement_flows", metadata,
    Column("statement_id", Id, ForeignKey("manager_statements.statement_id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("on_date", IsoDate, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("entry_id", String(128), nullable=False),
    Column("matched", Boolean, nullable=False),
    Column("source_row", Integer, nullable=False),
    PrimaryKeyConstraint("statement_id", "position"),
    CheckConstraint(f"kind IN ({', '.join(repr(k) for k in FLOW_KINDS)})", name="kind"),
)

manager_statement_fees = Table(
    "manager_statement_fees", metadata,
    Column("statement_id", Id, ForeignKey("manager_statements.statement_id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("source_row", Integer, nullable=False),
    PrimaryKeyConstraint("statement_id", "position"),
)

manager_exposures = Table(
    "manager_exposures", metadata,
    Column("statement_id", Id, ForeignKey("manager_statements.statement_id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("asset", String(64), ForeignKey("instruments.code"), nullable=False),
    Column("venue", String(100), nullable=False),
    Column("custodian", String(100), nullable=False),
    Column("market_value", ExactDecimal, nullable=False),
    Column("gross_exposure", ExactDecimal),
    Column("source_row", Integer, nullable=False),
    PrimaryKeyConstraint("statement_id", "position"),
)
Index("ix_manager_exposures_asset", manager_exposures.c.asset)

MANAGER_TABLES = (manager_mandates, manager_statements, manager_statement_flows,
                  manager_statement_fees, manager_exposures)
