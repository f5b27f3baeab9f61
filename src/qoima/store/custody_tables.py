"""Seized-asset cases: assets, addresses, legal history, custody events, reconciliations,
proofs of control, sanctions lists and screening hits, forked assets (issue 8)."""

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
)

from qoima.store.tables import Id, metadata
from qoima.store.types import ExactDecimal, IsoDate, UtcDateTime

cases = Table(
    "cases", metadata,
    Column("case_id", String(128), primary_key=True),
    Column("agency", String(200), nullable=False),
    Column("case_number", String(200), nullable=False),
    Column("court", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("opened_on", IsoDate, nullable=False),
    Column("legal_status", String(32), nullable=False),
    Column("status_changed_on", IsoDate, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
)

# intake_entry_id: the pending ledger entry booked at intake (posted on forfeiture, voided
# on return); no foreign key, as for transfers (the journal writes at commit).
seized_assets = Table(
    "seized_assets", metadata,
    Column("asset_id", String(128), primary_key=True),
    Column("case_id", String(128), ForeignKey("cases.case_id"), nullable=False),
    Column("chain", String(32), nullable=False),
    Column("instrument_code", String(64), ForeignKey("instruments.code"), nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("holding_place", String(32), nullable=False),
    Column("holder", String(200), nullable=False),
    Column("seized_on", IsoDate, nullable=False),
    Column("account_code", String(300), nullable=False),
    Column("intake_entry_id", String(128), nullable=False),
    Column("addresses_json", Text, nullable=False),
    Column("tx_ids_json", Text, nullable=False),
)
Index("ix_seized_assets_case", seized_assets.c.case_id)

# Every address the state controls or watches for a case: one case per address.
custody_addresses = Table(
    "custody_addresses", metadata,
    Column("chain", String(32), nullable=False),
    Column("address", String(200), nullable=False),
    Column("case_id", String(128), ForeignKey("cases.case_id"), nullable=False),
    Column("asset_id", String(128), ForeignKey("seized_assets.asset_id"), nullable=False),
    Column("instrument_code", String(64), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("source", String(32), nullable=False),
    PrimaryKeyConstraint("chain", "address"),
)

legal_transitions = Table(
    "legal_transitions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", String(128), ForeignKey("cases.case_id"), nullable=False),
    Column("from_status", String(32), nullable=False),
    Column("to_status", String(32), nullable=False),
    Column("on_date", IsoDate, nullable=False),
    Column("documents_json", Text, nullable=False),
    Column("ledger_effect", String(32), nullable=False),
    Column("entry_id", String(128)),
    Column("actor", String(128), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)
Index("ix_legal_transitions_case", legal_transitions.c.case_id)

custody_events = Table(
    "custody_events", metadata,
    Column("event_id", String(128), primary_key=True),
    Column("case_id", String(128), ForeignKey("cases.case_id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("from_holder", String(200)),
    Column("to_holder", String(200)),
    Column("from_address", String(200)),
    Column("to_address", String(200)),
    Column("tx_id", String(200)),
    Column("quantity", ExactDecimal),
    Column("instrument_code", String(64)),
    Column("note", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("fee", ExactDecimal),
    Column("chain", String(32)),
)
Index("ix_custody_events_case", custody_events.c.case_id, custody_events.c.at)

reconciliations = Table(
    "reconciliations", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("as_of_date", IsoDate, nullable=False),
    Column("source", String(300), nullable=False),
    Column("status", String(16), nullable=False),
    Column("rows_json", Text, nullable=False),
    Column("findings_json", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(128), nullable=False),
    CheckConstraint("status IN ('matched', 'differences')", name="status"),
)

challenges = Table(
    "control_challenges", metadata,
    Column("nonce", String(64), primary_key=True),
    Column("case_id", String(128), ForeignKey("cases.case_id"), nullable=False),
    Column("chain", String(32), nullable=False),
    Column("address", String(200), nullable=False),
    Column("issued_on", IsoDate, nullable=False),
    Column("message", Text, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("issued_by", String(128), nullable=False),
)

control_proofs = Table(
    "control_proofs", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("nonce", String(64), ForeignKey("control_challenges.nonce"), nullable=False),
    Column("case_id", String(128), ForeignKey("cases.case_id"), nullable=False),
    Column("chain", String(32), nullable=False),
    Column("address", String(200), nullable=False),
    Column("signature", Text, nullable=False),
    Column("scheme", String(32), nullable=False),
    Column("valid", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("verified_at", UtcDateTime, nullable=False),
    Column("verified_by", String(128), nullable=False),
)
Index("ix_control_proofs_case", control_proofs.c.case_id)

sanctions_lists = Table(
    "sanctions_lists", metadata,
    Column("list_id", Id, primary_key=True, autoincrement=True),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("source", String(300), nullable=False),
    Column("list_date", IsoDate),
    Column("entries", Integer, nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
    Column("imported_by", String(128), nullable=False),
)

sanctioned_addresses = Table(
    "sanctioned_addresses", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("list_id", Id, ForeignKey("sanctions_lists.list_id"), nullable=False),
    Column("chain_code", String(32), nullable=False),
    Column("address", String(200), nullable=False),
    Column("address_key", String(200), nullable=False),  # lower-case for EVM and bech32
    Column("entity", Text, nullable=False),
    Column("program", String(200), nullable=False),
)
Index("ix_sanctioned_addresses_key", sanctioned_addresses.c.address_key)

screening_hits = Table(
    "screening_hits", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", String(128), ForeignKey("cases.case_id")),
    Column("chain", String(32), nullable=False),
    Column("address", String(200), nullable=False),
    Column("list_id", Id, ForeignKey("sanctions_lists.list_id"), nullable=False),
    Column("entity", Text, nullable=False),
    Column("context", String(64), nullable=False),  # intake, custody_event, disposition
    Column("status", String(16), nullable=False),
    Column("found_at", UtcDateTime, nullable=False),
    Column("overrides_json", Text, nullable=False),
    CheckConstraint("status IN ('open', 'overridden')", name="status"),
)

forked_assets = Table(
    "forked_assets", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", String(128), ForeignKey("cases.case_id"), nullable=False),
    Column("parent_instrument", String(64), nullable=False),
    Column("instrument_code", String(64), nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("fork_date", IsoDate, nullable=False),
    Column("source_address", String(200), nullable=False),
    Column("valuation_policy", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(128), nullable=False),
)

DISPOSITION_STATUSES = ("proposed", "approved", "executed", "rejected")

dispositions = Table(
    "dispositions", metadata,
    Column("disposition_id", String(128), primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("case_id", String(128), ForeignKey("cases.case_id"), nullable=False),
    Column("asset_id", String(128), ForeignKey("seized_assets.asset_id"), nullable=False),
    Column("model", String(32), nullable=False),
    Column("target_vehicle", String(64), ForeignKey("vehicles.code")),
    Column("target_account", String(300)),
    Column("quantity", ExactDecimal, nullable=False),
    Column("price_usd", ExactDecimal, nullable=False),
    Column("valuation_usd", ExactDecimal, nullable=False),
    Column("status", String(16), nullable=False),
    Column("maker", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("approvals_json", Text, nullable=False),
    Column("comparison_json", Text, nullable=False),
    Column("entry_id", String(128)),
    Column("reason", Text),
    CheckConstraint(f"status IN ({', '.join(repr(s) for s in DISPOSITION_STATUSES)})",
                    name="status"),
)
