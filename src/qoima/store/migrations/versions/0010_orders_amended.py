"""orders amended: a token renewed when an existing order changes, not when one is added

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 11:00:00.000000

A page of orders is a list of order ids (cheap to read) and their contents. Adding an order
changes which ids a page holds and the total, which the page query reads each time, but
none of the existing orders: so the contents are kept under this token, renewed only by an
update or delete of an order or any change to approvals and fills, and orders keep being
posted without every reader rebuilding the same fifty orders (see ``OrderService.page``).
Also an index for the orders' list order (created_at, order_id).
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NAME = "orders_amended"
#: (table, operations that amend an existing order)
TABLES = (("orders", ("UPDATE", "DELETE")),
          ("order_approvals", ("INSERT", "UPDATE", "DELETE")),
          ("order_fills", ("INSERT", "UPDATE", "DELETE")))
PG_FUNCTION = "qoima_renew_data_token"  # from 0009: once per transaction and name


def upgrade() -> None:
    op.create_index("ix_orders_created", "orders", ["created_at", "order_id"])
    op.execute(f"INSERT INTO data_versions (name, token) VALUES ('{NAME}', 'initial')")
    if op.get_bind().dialect.name == "postgresql":
        for table, operations in TABLES:
            events = " OR ".join((*operations, "TRUNCATE"))
            op.execute(f"CREATE TRIGGER trg_{table}_amended_token AFTER {events} ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}('{NAME}')")
        return
    for table, operations in TABLES:
        for operation in operations:
            op.execute(f"CREATE TRIGGER trg_{table}_{operation.lower()}_amended_token "
                       f"AFTER {operation} ON {table} BEGIN UPDATE data_versions SET "
                       f"token = lower(hex(randomblob(16))) WHERE name = '{NAME}'; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, _ in TABLES:
            op.execute(f"DROP TRIGGER trg_{table}_amended_token ON {table}")
    else:
        for table, operations in TABLES:
            for operation in operations:
                op.execute(f"DROP TRIGGER trg_{table}_{operation.lower()}_amended_token")
    op.execute(f"DELETE FROM data_versions WHERE name = '{NAME}'")
    op.drop_index("ix_orders_created", "orders")
