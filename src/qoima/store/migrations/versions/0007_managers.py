"""managers: mandate versions and imported manager statements

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:00:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import qoima.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STATEMENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _line_key(table: str) -> list[Any]:
    """The statement id and position every statement line is keyed by."""
    return [
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["manager_statements.statement_id"],
            name=op.f(f"fk_{table}_statement_id_manager_statements"),
        ),
        sa.PrimaryKeyConstraint("statement_id", "position", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "manager_mandates",
        sa.Column("manager_code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("vehicle_code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("mandate_json", sa.Text(), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("recorded_at", qoima.store.types.UtcDateTime(length=40), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_manager_mandates_version")),
        sa.ForeignKeyConstraint(
            ["manager_code"], ["managers.code"],
            name=op.f("fk_manager_mandates_manager_code_managers"),
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_code"], ["vehicles.code"],
            name=op.f("fk_manager_mandates_vehicle_code_vehicles"),
        ),
        sa.PrimaryKeyConstraint("manager_code", "version", name=op.f("pk_manager_mandates")),
    )
    op.create_table(
        "manager_statements",
        sa.Column("statement_id", STATEMENT_ID, autoincrement=True, nullable=False),
        sa.Column("manager_code", sa.String(length=64), nullable=False),
        sa.Column("period_start", qoima.store.types.IsoDate(length=10), nullable=False),
        sa.Column("period_end", qoima.store.types.IsoDate(length=10), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("opening_nav", qoima.store.types.ExactDecimal(length=64), nullable=False),
        sa.Column("pnl", qoima.store.types.ExactDecimal(length=64), nullable=False),
        sa.Column("closing_nav", qoima.store.types.ExactDecimal(length=64), nullable=False),
        sa.Column("reported_leverage", qoima.store.types.ExactDecimal(length=64), nullable=True),
        sa.Column("received_on", qoima.store.types.IsoDate(length=10), nullable=True),
        sa.Column("source_file", sa.String(length=500), nullable=False),
        sa.Column("source_sheet", sa.String(length=200), nullable=True),
        sa.Column("source_rows_json", sa.Text(), nullable=False),
        sa.Column("file_hash", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("mandate_version", sa.Integer(), nullable=False),
        sa.Column("findings_json", sa.Text(), nullable=False),
        sa.Column("imported_at", qoima.store.types.UtcDateTime(length=40), nullable=False),
        sa.Column("imported_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_code"], ["managers.code"],
            name=op.f("fk_manager_statements_manager_code_managers"),
        ),
        sa.PrimaryKeyConstraint("statement_id", name=op.f("pk_manager_statements")),
        sa.UniqueConstraint("manager_code", "period_end", name="uq_manager_statements_period"),
    )
    with op.batch_alter_table("manager_statements", schema=None) as batch_op:
        batch_op.create_index("ix_manager_statements_period_end", ["period_end"], unique=False)

    op.create_table(
        "manager_statement_flows",
        sa.Column("statement_id", STATEMENT_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("on_date", qoima.store.types.IsoDate(length=10), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("amount", qoima.store.types.ExactDecimal(length=64), nullable=False),
        sa.Column("entry_id", sa.String(length=128), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('subscription', 'redemption', 'capital_call', 'distribution')",
            name=op.f("ck_manager_statement_flows_kind"),
        ),
        *_line_key("manager_statement_flows"),
    )
    op.create_table(
        "manager_statement_fees",
        sa.Column("statement_id", STATEMENT_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("amount", qoima.store.types.ExactDecimal(length=64), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        *_line_key("manager_statement_fees"),
    )
    op.create_table(
        "manager_exposures",
        sa.Column("statement_id", STATEMENT_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("asset", sa.String(length=64), nullable=False),
        sa.Column("venue", sa.String(length=100), nullable=False),
        sa.Column("custodian", sa.String(length=100), nullable=False),
        sa.Column("market_value", qoima.store.types.ExactDecimal(length=64), nullable=False),
        sa.Column("gross_exposure", qoima.store.types.ExactDecimal(length=64), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset"], ["instruments.code"],
            name=op.f("fk_manager_exposures_asset_instruments"),
        ),
        *_line_key("manager_exposures"),
    )
    with op.batch_alter_table("manager_exposures", schema=None) as batch_op:
        batch_op.create_index("ix_manager_exposures_asset", ["asset"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("manager_exposures", schema=None) as batch_op:
        batch_op.drop_index("ix_manager_exposures_asset")
    op.drop_table("manager_exposures")
    op.drop_table("manager_statement_fees")
    op.drop_table("manager_statement_flows")
    with op.batch_alter_table("manager_statements", schema=None) as batch_op:
        batch_op.drop_index("ix_manager_statements_period_end")
    op.drop_table("manager_statements")
    op.drop_table("manager_mandates")
