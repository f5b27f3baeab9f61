"""Data versions: tokens that change whenever the data behind a cached result changes.

Database triggers (migration 0009) give ``data_versions.token`` a new random value on every
insert, update or delete in the tables behind it, whatever code path wrote them (services,
bulk loaders, a DBA's psql): "valuation" for the reference, journal and market tables,
"access" for users, grants, credentials, sessions and API tokens, "orders" for orders,
their approvals and fills. A reader compares the
token it sees in its own transaction with the one a cached result was computed under: equal
tokens mean equal inputs. Random tokens, not counters, so a database restored from a backup
can never match a cache built on a later state that happened to reach the same count.
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from qoima.store.tables import metadata

data_versions = Table(
    "data_versions", metadata,
    Column("name", String(32), primary_key=True),
    Column("token", String(64), nullable=False),
)
