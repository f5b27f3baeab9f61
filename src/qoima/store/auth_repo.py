"""Credentials, login failures, sessions, API tokens and idempotency keys. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from qoima.app.auth_ports import (
    CredentialRecord,
    IdempotencyRecord,
    LoginAttemptRecord,
    SessionRecord,
    TokenRecord,
)
from qoima.domain.errors import Conflict, NotFound
from qoima.store import auth_tables as a
from qoima.store import governance_tables as g

_C, _A, _S, _T, _K = (a.auth_credentials, a.auth_login_attempts, a.auth_sessions,
                      a.api_tokens, a.idempotency_keys)

# Idempotency keys are read and written by every POST, inside its write unit: statements
# built once (SQLAlchemy builds a statement and its cache key in about twice the time it
# takes to run one on SQLite), so the writer lock is held for less.
_KEY = (_K.c.user_name == bindparam("b_user"), _K.c.idempotency_key == bindparam("b_key"))
_FIND_KEY = select(_K).where(*_KEY)
_RESERVE_KEY = {
    dialect: insert_(_K).on_conflict_do_nothing(
        index_elements=["user_name", "idempotency_key"]).returning(_K.c.user_name)
    for dialect, insert_ in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}
# SET takes the columns the parameters name (state, status, content_type, body, expires_at)
_COMPLETE_KEY = update(_K).where(*_KEY, _K.c.state == "in_flight")
_DELETE_KEY = delete(_K).where(*_KEY)


class SqlAuthRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    # -- credentials and failures ---------------------------------------------------------
    def find_credentials(self, user: str) -> CredentialRecord | None:
        row = self._c.execute(select(_C).where(_C.c.user_name == user)).first()
        if row is None:
            return None
        return CredentialRecord(row.user_name, row.updated_at, row.password_hash,
                                row.totp_secret, row.totp_last_step)

    def save_credentials(self, record: CredentialRecord) -> None:
        if self._c.execute(select(g.users.c.name).where(g.users.c.name == record.user)
                           ).first() is None:
            raise NotFound(f"no user {record.user!r}", user=record.user)
        values = {"password_hash": record.password_hash, "totp_secret": record.totp_secret,
                  "totp_last_step": record.totp_last_step, "updated_at": record.updated_at}
        self._upsert(_C, _C.c.user_name, record.user, values)

    def find_attempts(self, name: str) -> LoginAttemptRecord | None:
        row = self._c.execute(select(_A).where(_A.c.name == name)).first()
        if row is None:
            return None
        return LoginAttemptRecord(row.name, row.failures, row.last_failure_at, row.locked_until)

    def save_attempts(self, record: LoginAttemptRecord) -> None:
        self._upsert(_A, _A.c.name, record.name, {
            "failures": record.failures, "last_failure_at": record.last_failure_at,
            "locked_until": record.locked_until})

    def clear_attempts(self, name: str) -> None:
        self._c.execute(delete(_A).where(_A.c.name == name))

    # -- sessions -------------------------------------------------------------------------
    def add_session(self, record: SessionRecord) -> None:
        self._c.execute(insert(_S).values(
            token_hash=record.token_hash, user_name=record.user, created_at=record.created_at,
            expires_at=record.expires_at, ip=record.ip, revoked_at=record.revoked_at))

    def find_session(self, token_hash: str) -> SessionRecord | None:
        row = self._c.execute(select(_S).where(_S.c.token_hash == token_hash)).first()
        if row is None:
            return None
        return SessionRecord(row.token_hash, row.user_name, row.created_at, row.expires_at,
                             row.ip, row.revoked_at)

    def revoke_session(self, token_hash: str, at: datetime) -> bool:
        result = self._c.execute(update(_S).where(
            _S.c.token_hash == token_hash, _S.c.revoked_at.is_(None)).values(revoked_at=at))
        return result.rowcount > 0

    def revoke_user_sessions(self, user: str, at: datetime) -> int:
        result = self._c.execute(update(_S).where(
            _S.c.user_name == user, _S.c.revoked_at.is_(None)).values(revoked_at=at))
        return int(result.rowcount)

    # -- API tokens -----------------------------------------------------------------------
    def add_token(self, record: TokenRecord) -> None:
        if self.find_token(record.token_id) is not None:
            raise Conflict(f"API token {record.token_id!r} already exists",
                           token_id=record.token_id)
        self._c.execute(insert(_T).values(
            token_id=record.token_id, secret_hash=record.secret_hash, user_name=record.user,
            name=record.name, scopes=" ".join(sorted(record.scopes)),
            created_at=record.created_at, created_by=record.created_by,
            expires_at=record.expires_at, revoked_at=record.revoked_at,
            revoked_by=record.revoked_by))

    def find_token(self, token_id: str) -> TokenRecord | None:
        row = self._c.execute(select(_T).where(_T.c.token_id == token_id)).first()
        return None if row is None else _token(row)

    def find_token_by_hash(self, secret_hash: str) -> TokenRecord | None:
        row = self._c.execute(select(_T).where(_T.c.secret_hash == secret_hash)).first()
        return None if row is None else _token(row)

    def list_tokens(self, user: str | None = None) -> list[TokenRecord]:
        query = select(_T).order_by(_T.c.user_name, _T.c.created_at, _T.c.token_id)
        if user is not None:
            query = query.where(_T.c.user_name == user)
        return [_token(row) for row in self._c.execute(query)]

    def revoke_token(self, token_id: str, at: datetime, by: str) -> bool:
        result = self._c.execute(update(_T).where(
            _T.c.token_id == token_id, _T.c.revoked_at.is_(None)).values(revoked_at=at,
                                                                          revoked_by=by))
        return result.rowcount > 0

    def _upsert(self, table: Any, key_column: Any, key: str, values: dict[str, Any]) -> None:
        # writers are serialized (see uow), so update-then-insert cannot race
        result = self._c.execute(update(table).where(key_column == key).values(**values))
        if result.rowcount == 0:
            self._c.execute(insert(table).values({key_column.name: key, **values}))


class SqlIdempotencyRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def find(self, user: str, key: str) -> IdempotencyRecord | None:
        row = self._c.execute(_FIND_KEY, {"b_user": user, "b_key": key}).first()
        if row is None:
            return None
        return IdempotencyRecord(row.user_name, row.idempotency_key, row.method_path,
                                 row.body_hash, row.state, row.created_at, row.expires_at,
                                 row.status, row.content_type,
                                 None if row.body is None else bytes(row.body))

    def reserve(self, record: IdempotencyRecord) -> bool:
        # INSERT ... ON CONFLICT DO NOTHING: a duplicate never aborts the transaction
        values = {"user_name": record.user, "idempotency_key": record.key,
                  "method_path": record.method_path, "body_hash": record.body_hash,
                  "state": record.state, "created_at": record.created_at,
                  "expires_at": record.expires_at, "status": record.status,
                  "content_type": record.content_type, "body": record.body}
        # RETURNING says whether the row went in (rowcount is not reliable here on psycopg)
        statement = _RESERVE_KEY[self._c.dialect.name]
        return self._c.execute(statement, values).first() is not None

    def complete(self, user: str, key: str, *, status: int, content_type: str, body: bytes,
                 expires_at: datetime) -> bool:
        result = self._c.execute(_COMPLETE_KEY, {
            "b_user": user, "b_key": key, "state": "done", "status": status,
            "content_type": content_type, "body": body, "expires_at": expires_at})
        return result.rowcount > 0

    def delete(self, user: str, key: str) -> None:
        self._c.execute(_DELETE_KEY, {"b_user": user, "b_key": key})

    def purge_expired(self, now: datetime) -> int:
        return int(self._c.execute(delete(_K).where(_K.c.expires_at <= now)).rowcount)


def _token(row: Any) -> TokenRecord:
    return TokenRecord(row.token_id, row.secret_hash, row.user_name, row.name,
                       tuple(row.scopes.split()), row.created_at, row.created_by,
                       row.expires_at, row.revoked_at, row.revoked_by)
