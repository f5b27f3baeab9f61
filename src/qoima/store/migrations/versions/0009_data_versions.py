"""data versions: tokens the database renews on every change to valuation inputs or access

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 07:45:00.000000

Triggers, not application code, renew the token: every path that writes these tables (the
services, the bulk loaders, manual SQL) invalidates the read caches keyed on it. PostgreSQL
fires once per statement; SQLite has only row triggers (cheap: one in-page update per row).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: The tables behind each token: "valuation" for every table a valuation snapshot reads
#: (reference, journal, market); "access" for who may call (users, grants, credentials,
#: sessions, API tokens); "orders" for orders with their approvals and fills.
TOKENS = {
    "valuation": ("custodians", "vehicles", "tranches", "managers", "instruments", "accounts",
                  "entries", "postings", "pending_resolutions", "account_balances", "prices",
                  "rates", "market_series", "etf_facts", "fx_rates"),
    "access": ("users", "user_grants", "auth_credentials", "auth_sessions", "api_tokens"),
    "orders": ("orders", "order_approvals", "order_fills"),
}
OPERATIONS = ("INSERT", "UPDATE", "DELETE")
PG_FUNCTION = "qoima_renew_data_token"


def _triggers() -> list[tuple[str, str, str]]:
    """(token name, table, operation) for every SQLite trigger."""
    return [(name, table, operation) for name, tables in TOKENS.items() for table in tables
            for operation in OPERATIONS]


def upgrade() -> None:
    op.create_table(
        "data_versions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_versions")),
    )
    for name in TOKENS:
        op.execute(f"INSERT INTO data_versions (name, token) VALUES ('{name}', 'initial')")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql
            SET search_path FROM CURRENT AS $$
            DECLARE
                renewed text := 'qoima.renewed_' || TG_ARGV[0];
            BEGIN
                -- once per transaction: a reader sees the new token exactly when it sees
                -- the transaction's changes, so one renewal covers all of its statements
                IF coalesce(current_setting(renewed, true), '') <> 'yes' THEN
                    UPDATE data_versions SET token = gen_random_uuid()::text
                    WHERE name = TG_ARGV[0];
                    PERFORM set_config(renewed, 'yes', true);
                END IF;
                RETURN NULL;
            END $$""")
        for name, tables in TOKENS.items():
            for table in tables:
                op.execute(f"CREATE TRIGGER trg_{table}_data_token AFTER INSERT OR UPDATE "
                           f"OR DELETE OR TRUNCATE ON {table} FOR EACH STATEMENT "
                           f"EXECUTE FUNCTION {PG_FUNCTION}('{name}')")
        return
    for name, table, operation in _triggers():
        op.execute(f"CREATE TRIGGER trg_{table}_{operation.lower()}_data_token "
                   f"AFTER {operation} ON {table} BEGIN UPDATE data_versions SET "
                   f"token = lower(hex(randomblob(16))) WHERE name = '{name}'; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for tables in TOKENS.values():
            for table in tables:
                op.execute(f"DROP TRIGGER trg_{table}_data_token ON {table}")
        op.execute(f"DROP FUNCTION {PG_FUNCTION}()")
    else:
        for _, table, operation in _triggers():
            op.execute(f"DROP TRIGGER trg_{table}_{operation.lower()}_data_token")
    op.drop_table("data_versions")
