"""Migration 0008 (authentication, idempotency keys) and its repositories, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

import qoima.store.manager_tables  # noqa: F401  (0007's tables, for the whole-schema diff)
from qoima.app.auth_ports import (
    CredentialRecord,
    IdempotencyRecord,
    LoginAttemptRecord,
    SessionRecord,
    TokenRecord,
)
from qoima.app.governance_ports import GrantRecord, UserRecord
from qoima.domain.errors import Conflict, NotFound
from qoima.store import auth_tables as at
from qoima.store.auth_repo import SqlAuthRepository, SqlIdempotencyRepository
from qoima.store.database import Database
from qoima.store.schema import current_revision, head_revision, upgrade
from qoima.store.tables import metadata
from tests.store.test_governance_schema import _differences, _downgrade, _tables

AUTH = {"auth_credentials", "auth_login_attempts", "auth_sessions", "api_tokens",
        "idempotency_keys"}
AT = datetime(2026, 12, 6, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    made = Database(database_url)
    yield made
    made.dispose()


def test_auth_tables_are_on_the_shared_metadata() -> None:
    assert {t.name for t in at.AUTH_TABLES} == AUTH
    for table in at.AUTH_TABLES:
        assert metadata.tables[table.name] is table


def test_0008_adds_exactly_the_auth_tables_and_goes_back(database: Database) -> None:
    engine = database.engine
    upgrade(engine, "0007")
    at_0007 = _tables(engine)
    assert not (at_0007 & AUTH)
    upgrade(engine, "0008")
    assert _tables(engine) - at_0007 == AUTH
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    assert _differences(engine) == []
    inspector = inspect(engine)
    assert "ix_idempotency_keys_expires" in {
        ix["name"] for ix in inspector.get_indexes("idempotency_keys")}
    assert inspector.get_pk_constraint("idempotency_keys")["constrained_columns"] == [
        "user_name", "idempotency_key"]
    _downgrade(engine, "0007")
    assert current_revision(engine) == "0007"
    assert _tables(engine) == at_0007
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)


def _with_user(database: Database) -> None:
    upgrade(database.engine)
    with database.units(write=True) as uow:
        uow.users.add_user(UserRecord("alice", "Alice", AT, True,
                                      (GrantRecord("auditor"),)))
        uow.commit()


def test_auth_repository_round_trips(database: Database) -> None:
    _with_user(database)
    later = AT + timedelta(hours=8)
    with database.units(write=True) as uow:
        repo = SqlAuthRepository(uow._connection)
        with pytest.raises(NotFound):
            repo.save_credentials(CredentialRecord("nobody", AT, "$argon2id$x"))
        repo.save_credentials(CredentialRecord("alice", AT, "$argon2id$x"))
        repo.save_credentials(CredentialRecord("alice", later, "$argon2id$y", "SECRET", 59))
        assert repo.find_credentials("alice") == CredentialRecord("alice", later, "$argon2id$y",
                                                                  "SECRET", 59)
        repo.save_attempts(LoginAttemptRecord("mallory", 3, AT))
        repo.save_attempts(LoginAttemptRecord("mallory", 0, AT, later))
        assert repo.find_attempts("mallory") == LoginAttemptRecord("mallory", 0, AT, later)
        repo.clear_attempts("mallory")
        assert repo.find_attempts("mallory") is None
        for digest in ("a" * 64, "b" * 64):
            repo.add_session(SessionRecord(digest, "alice", AT, later, "10.0.0.1"))
        assert repo.revoke_session("a" * 64, AT)
        assert not repo.revoke_session("a" * 64, AT)
        assert repo.revoke_user_sessions("alice", later) == 1
        assert repo.find_session("b" * 64) == SessionRecord("b" * 64, "alice", AT, later,
                                                            "10.0.0.1", later)
        token = TokenRecord("tok-1", "c" * 64, "alice", "bot", ("read", "write"), AT, "admin",
                            later)
        repo.add_token(token)
        with pytest.raises(Conflict):
            repo.add_token(token)
        assert repo.find_token_by_hash("c" * 64) == token
        assert repo.revoke_token("tok-1", later, "admin")
        assert not repo.revoke_token("tok-1", later, "admin")
        assert repo.list_tokens("alice") == [TokenRecord(
            "tok-1", "c" * 64, "alice", "bot", ("read", "write"), AT, "admin", later, later,
            "admin")]
        assert repo.list_tokens("bob") == []
        uow.commit()


def test_idempotency_repository_reserves_once_without_breaking_the_unit(
        database: Database) -> None:
    upgrade(database.engine)
    body = bytes(range(256))  # any bytes, kept exactly
    record = IdempotencyRecord("alice", "k-1", "POST /api/orders", "d" * 64, "in_flight", AT,
                               AT + timedelta(days=1))
    with database.units(write=True) as uow:
        repo = SqlIdempotencyRepository(uow._connection)
        assert repo.reserve(record)
        assert not repo.reserve(record)  # a duplicate is refused, the transaction lives on
        assert repo.complete("alice", "k-1", status=201, content_type="application/json",
                             body=body, expires_at=AT + timedelta(days=2))
        assert not repo.complete("alice", "k-1", status=500, content_type="text/plain",
                                 body=b"", expires_at=AT)
        assert repo.reserve(IdempotencyRecord("bob", "k-1", "POST /x", "e" * 64, "in_flight",
                                              AT, AT + timedelta(hours=1)))
        uow.commit()
    with database.units(write=True) as uow:
        repo = SqlIdempotencyRepository(uow._connection)
        stored = repo.find("alice", "k-1")
        assert stored is not None
        assert (stored.state, stored.status, stored.body) == ("done", 201, body)
        assert repo.purge_expired(AT + timedelta(hours=1)) == 1  # bob's, at its expiry
        assert repo.find("bob", "k-1") is None
        repo.delete("alice", "k-1")
        assert repo.find("alice", "k-1") is None
        uow.commit()
