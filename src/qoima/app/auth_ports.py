"""Storage and hashing ports for authentication and idempotency keys.

Records carry primitives only. Secrets never reach the store in clear: session tokens and
API-token secrets are stored as their SHA-256 hex, passwords as an argon2 hash made by a
:class:`PasswordHasher` adapter. Repositories never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class PasswordHasher(Protocol):
    """A slow, salted password hash (argon2id in production, see ``adapters.passwords``)."""

    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches; False for a mismatch or an unreadable hash."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""
        ...


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """How one user proves who they are; ``totp_last_step`` refuses a replayed code."""

    user: str
    updated_at: datetime
    password_hash: str | None = None
    totp_secret: str | None = None
    totp_last_step: int | None = None


@dataclass(frozen=True, slots=True)
class LoginAttemptRecord:
    """Consecutive failed logins under a name (known or not, so lock-out reveals nothing)."""

    name: str
    failures: int
    last_failure_at: datetime
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    token_hash: str
    user: str
    created_at: datetime
    expires_at: datetime
    ip: str
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token; ``scopes`` is a sorted tuple of "read" / "write"."""

    token_id: str
    secret_hash: str
    user: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None


class AuthRepository(Protocol):
    def find_credentials(self, user: str) -> CredentialRecord | None: ...

    def save_credentials(self, record: CredentialRecord) -> None:
        """Insert or replace the user's credentials. NotFound for an unknown user."""
        ...

    def find_attempts(self, name: str) -> LoginAttemptRecord | None: ...

    def save_attempts(self, record: LoginAttemptRecord) -> None:
        """Insert or replace the failure count of ``record.name``."""
        ...

    def clear_attempts(self, name: str) -> None: ...

    def add_session(self, record: SessionRecord) -> None: ...

    def find_session(self, token_hash: str) -> SessionRecord | None: ...

    def revoke_session(self, token_hash: str, at: datetime) -> bool:
        """Mark a live session revoked; False when unknown or already revoked."""
        ...

    def revoke_user_sessions(self, user: str, at: datetime) -> int:
        """Revoke every live session of ``user``; returns how many."""
        ...

    def add_token(self, record: TokenRecord) -> None: ...

    def find_token(self, token_id: str) -> TokenRecord | None: ...

    def find_token_by_hash(self, secret_hash: str) -> TokenRecord | None: ...

    def list_tokens(self, user: str | None = None) -> list[TokenRecord]:
        """By user, then created_at, then id."""
        ...

    def revoke_token(self, token_id: str, at: datetime, by: str) -> bool:
        """False when unknown or already revoked."""
        ...


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A POST under an Idempotency-Key: reserved while in flight, then its stored response."""

    user: str
    key: str
    method_path: str
    body_hash: str
    state: str  # "in_flight" | "done"
    created_at: datetime
    expires_at: datetime
    status: int | None = None
    content_type: str | None = None
    body: bytes | None = None


class IdempotencyRepository(Protocol):
    def find(self, user: str, key: str) -> IdempotencyRecord | None: ...

    def reserve(self, record: IdempotencyRecord) -> bool:
        """Insert ``record``; False (nothing written) when (user, key) is already there."""
        ...

    def complete(self, user: str, key: str, *, status: int, content_type: str, body: bytes,
                 expires_at: datetime) -> bool:
        """Store the response of an in-flight key; False when no such key is in flight."""
        ...

    def delete(self, user: str, key: str) -> None: ...

    def purge_expired(self, now: datetime) -> int: ...
