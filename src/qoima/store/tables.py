"""Table definitions (SQLAlchemy Core). Alembic migrations are written against these."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from qoima.store.types import ExactDecimal, IsoDate, UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)
Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys

custodians = Table(
    "custodians", metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("jurisdiction", String(100), nullable=False, default=""),
)

vehicles = Table(
    "vehicles", metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("cost_method", String(16), nullable=False),
    Column("parent_code", String(64), ForeignKey("vehicles.code"), nullable=True),
    Column("description", Text, nullable=False, default=""),
)

tranches = Table(
    "tranches", metadata,
    Column("vehicle_code", String(64), ForeignKey("vehicles.code"), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("name", String(200), nullable=False, default=""),
    Column("position", Integer, nullable=False),
)

managers = Table(
    "managers", metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("vehicle_code", String(64), ForeignKey("vehicles.code"), nullable=True),
    Column("strategy", String(200), nullable=False, default=""),
)

instruments = Table(
    "instruments", metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("scale", Integer, nullable=False),
    Column("currency", String(16), nullable=False),
    Column("price_factor", ExactDecimal, nullable=False),
    Column("ticker", String(32)),
    Column("isin", String(12)),
    Column("venue", String(16)),
    Column("chain", String(64)),
    Column("contract", String(128)),
    Column("underlying_asset", String(64)),
    Column("underlying_units_per_share", ExactDecimal),
    Column("issuer", String(200)),
    Column("manager_code", String(64), ForeignKey("managers.code")),
    Column("maturity", String(10)),
)

accounts = Table(
    "accounts", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(300), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("instrument_code", String(64), ForeignKey("instruments.code"), nullable=False),
    Column("vehicle_code", String(64), ForeignKey("vehicles.code")),
    Column("tranche_code", String(64)),
    Column("custodian_code", String(64), ForeignKey("custodians.code")),
    Column("label", String(64)),
    Column("opened_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(["vehicle_code", "tranche_code"],
                         ["tranches.vehicle_code", "tranches.code"]),
)

entries = Table(
    "entries", metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("entry_id", String(128), nullable=False, unique=True),
    Column("code", String(32), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("value_date", IsoDate, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("resolves_entry_id", String(128), ForeignKey("entries.entry_id")),
    Column("reverses_entry_id", String(128), ForeignKey("entries.entry_id"), unique=True),
    Column("metadata_json", Text, nullable=False, default="{}"),
    Column("content_hash", String(64), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
)
Index("ix_entries_value_date", entries.c.value_date)

postings = Table(
    "postings", metadata,
    Column("entry_seq", Id, ForeignKey("entries.seq"), primary_key=True),
    Column("leg", Integer, primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("unit_cost_usd", ExactDecimal),
    Column("unit_price_usd", ExactDecimal),
)
Index("ix_postings_account", postings.c.account_id, postings.c.entry_seq)

pending_resolutions = Table(
    "pending_resolutions", metadata,
    Column("pending_entry_id", String(128), ForeignKey("entries.entry_id"), primary_key=True),
    Column("resolved_by_entry_id", String(128), ForeignKey("entries.entry_id"), nullable=False,
           unique=True),
    Column("outcome", String(16), nullable=False),
    Column("resolved_date", IsoDate, nullable=False),
)

# Posted balance of each account at the end of each date it changed: balances as of any
# date are one indexed lookup per account instead of a sum over every posting.
account_balances = Table(
    "account_balances", metadata,
    Column("account_id", Id, ForeignKey("accounts.id"), primary_key=True),
    Column("balance_date", IsoDate, primary_key=True),
    Column("balance", ExactDecimal, nullable=False),
)

# Daily bars by code. No foreign key to instruments: risk factors (SPX, DXY, WTI) have
# history without being held; valuation looks prices up by the held instrument's code.
prices = Table(
    "prices", metadata,
    Column("instrument_code", String(64), primary_key=True),
    Column("price_date", IsoDate, primary_key=True),
    Column("price", ExactDecimal, nullable=False),  # the close
    Column("currency", String(16), nullable=False),
    Column("source", String(100), nullable=False),
    Column("open", ExactDecimal),
    Column("high", ExactDecimal),
    Column("low", ExactDecimal),
    Column("volume", ExactDecimal),
)

rates = Table(
    "rates", metadata,
    Column("code", String(64), primary_key=True),  # DGS10, EFFR, DFEDTARU, ...
    Column("rate_date", IsoDate, primary_key=True),
    Column("value", ExactDecimal, nullable=False),  # percent
    Column("source", String(100), nullable=False),
)

# One row per imported data set: where it came from, its calendar, and the quality
# warnings kept with it (the bars themselves live in prices / fx_rates / rates).
market_series = Table(
    "market_series", metadata,
    Column("kind", String(16), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("source", String(100), nullable=False),
    Column("calendar", String(32), nullable=False),
    Column("currency", String(16)),
    Column("first_date", IsoDate, nullable=False),
    Column("last_date", IsoDate, nullable=False),
    Column("bars", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("warnings_json", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

etf_facts = Table(
    "etf_facts", metadata,
    Column("instrument_code", String(64), primary_key=True),
    Column("as_of_date", IsoDate, primary_key=True),
    Column("underlying", String(64), nullable=False),
    Column("units_per_share", ExactDecimal, nullable=False),
    Column("expense_ratio", ExactDecimal, nullable=False),  # a fraction per year: 0.0025
    Column("source", String(100), nullable=False),
)

fx_rates = Table(
    "fx_rates", metadata,
    Column("base", String(16), primary_key=True),
    Column("quote", String(16), primary_key=True),
    Column("rate_date", IsoDate, primary_key=True),
    Column("rate", ExactDecimal, nullable=False),
    Column("source", String(100), nullable=False),
)

audit_records = Table(
    "audit_records", metadata,
    Column("seq", Id, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(300), nullable=False),
    Column("payload", Text, nullable=False),
    Column("payload_hash", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("record_hash", String(64), nullable=False),
)

audit_checkpoints = Table(
    "audit_checkpoints", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("size", Id, nullable=False),
    Column("root", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


# Stability-gate decisions and tranche plans (issue 6).
from qoima.store import allocation_tables as _allocation  # noqa: E402, F401

# Credentials, sessions, API tokens and idempotency keys (issue 10).
from qoima.store import auth_tables as _auth  # noqa: E402, F401

# Seized-asset cases (issue 8).
from qoima.store import custody_tables as _custody  # noqa: E402, F401

# Users, policies, breaches and orders live in their own module, on this metadata.
from qoima.store import governance_tables as _governance  # noqa: E402, F401

# External managers: mandates and statements (issue 9).
from qoima.store import manager_tables as _managers  # noqa: E402, F401
from qoima.store import run_tables as _runs  # noqa: E402, F401

# Custody transfers and their approvals (issue 5, item 7).
from qoima.store import transfer_tables as _transfers  # noqa: E402, F401

# The valuation inputs' version token, kept by database triggers (issue 10: read caches).
from qoima.store import version_tables as _versions  # noqa: E402, F401
