"""Authentication and idempotency tables, on the metadata of :mod:`qoima.store.tables`.

No secret is stored in clear except the TOTP seed (the server must recompute codes):
passwords are argon2 hashes, session tokens and API-token secrets their SHA-256 hex.
``auth_login_attempts`` has no foreign key to users: failures under unknown names are
counted too, so a lock-out does not reveal which names exist.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
)

from qoima.store.tables import metadata
from qoima.store.types import UtcDateTime

IDEMPOTENCY_STATES = ("in_flight", "done")

auth_credentials = Table(
    "auth_credentials", metadata,
    Column("user_name", String(128), ForeignKey("users.name"), primary_key=True),
    Column("password_hash", String(255)),
    Column("totp_secret", String(64)),
    Column("totp_last_step", Integer),  # the last accepted TOTP step: a replay is refused
    Column("updated_at", UtcDateTime, nullable=False),
)

auth_login_attempts = Table(
    "auth_login_attempts", metadata,
    Column("name", String(128), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime),
)

auth_sessions = Table(
    "auth_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_name", String(128), ForeignKey("users.name"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ip", String(64), nullable=False),
    Column("revoked_at", UtcDateTime),
)
Index("ix_auth_sessions_user", auth_sessions.c.user_name)

api_tokens = Table(
    "api_tokens", metadata,
    Column("token_id", String(32), primary_key=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("user_name", String(128), ForeignKey("users.name"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("scopes", String(64), nullable=False),  # space-separated, sorted: "read write"
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("revoked_by", String(128)),
)
Index("ix_api_tokens_user", api_tokens.c.user_name)

# The primary key (user, key) is what makes a second reservation of a key impossible.
idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("user_name", String(128), primary_key=True),
    Column("idempotency_key", String(200), primary_key=True),
    Column("method_path", String(300), nullable=False),
    Column("body_hash", String(128), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("status", Integer),
    Column("content_type", String(200)),
    Column("body", LargeBinary),
    CheckConstraint(f"state IN ({', '.join(repr(s) for s in IDEMPOTENCY_STATES)})",
                    name="state"),
)
Index("ix_idempotency_keys_expires", idempotency_keys.c.expires_at)

AUTH_TABLES = (auth_credentials, auth_login_attempts, auth_sessions, api_tokens,
               idempotency_keys)
