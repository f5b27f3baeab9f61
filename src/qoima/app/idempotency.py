"""Idempotency-Key on POST: a retried request gets the first response, never a second write.

``begin`` reserves (user, key) in its own committed unit before the request does anything,
so a concurrent retry sees it in flight (writers are serialized, and the key is the table's
primary key besides). The request then runs; ``complete`` stores its response, or
``abandon`` frees the key when the request failed before writing anything. Keys are per
user, so two callers can never see each other's responses, and expire after ``ttl``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from qoima.app.auth_ports import IdempotencyRecord, IdempotencyRepository
from qoima.app.ports import Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.units import in_write_unit
from qoima.domain.errors import Conflict, InvalidInput, NotFound

IN_FLIGHT, DONE = "in_flight", "done"
_KEY = re.compile(r"[\x21-\x7e]{1,200}")  # visible ASCII, as an HTTP header value allows


class IdempotencyKeyReused(InvalidInput):
    """The key was used before for a different request (another body or endpoint): 422."""

    code = "idempotency_key_reused"


class IdempotencyInFlight(Conflict):
    """The first request under this key has not finished yet: 409, retry later."""

    code = "idempotency_in_flight"


class IdempotencyOutcome(StrEnum):
    NEW = "new"  # reserved: run the request, then complete() or abandon()
    REPLAY = "replay"  # send the stored response back


@dataclass(frozen=True, slots=True)
class IdempotencyState:
    outcome: IdempotencyOutcome
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None

    @property
    def is_new(self) -> bool:
        return self.outcome is IdempotencyOutcome.NEW


#: What a use case run under a key answers: status, body bytes, content type.
Response = tuple[int, bytes, str]


def _check_key(key: str) -> None:
    if not _KEY.fullmatch(key):
        raise InvalidInput("an Idempotency-Key is 1 to 200 visible ASCII characters",
                           field="Idempotency-Key")


def _idempotency_repository(uow: UnitOfWork) -> IdempotencyRepository:
    """``uow.idempotency`` (tests may pass another repository)."""
    return uow.idempotency


class IdempotencyService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock, *,
                 ttl: timedelta = timedelta(hours=24),
                 repository: Callable[[UnitOfWork], IdempotencyRepository] = (
                     _idempotency_repository)) -> None:
        self._units, self._clock, self._ttl, self._repo = units, clock, ttl, repository

    def begin(self, key: str, principal_user: str, method_path: str,
              body_hash: str) -> IdempotencyState:
        """NEW (key reserved) or REPLAY; IdempotencyKeyReused / IdempotencyInFlight."""
        _check_key(key)
        return in_write_unit(self._units, lambda uow: self._begin_in(
            uow, key, principal_user, method_path, body_hash))

    def run_once(self, key: str, principal_user: str, method_path: str, body_hash: str,
                 work: Callable[[UnitOfWork], Response]) -> IdempotencyState:
        """Reserve the key, run ``work`` and store its response, all in one write unit: a
        hot endpoint (drafting an order) then takes the write lock once, not three times.
        REPLAY for a key already done; NEW carries the response ``work`` gave. A failure
        anywhere writes nothing, so the key stays free for a retry."""
        _check_key(key)

        def unit(uow: UnitOfWork) -> IdempotencyState:
            state = self._begin_in(uow, key, principal_user, method_path, body_hash)
            if not state.is_new:
                return state
            status, body, content_type = work(uow)
            if 200 <= status < 300:
                self._complete_in(uow, key, principal_user, status, body, content_type)
            else:
                self._repo(uow).delete(principal_user, key)
            return IdempotencyState(IdempotencyOutcome.NEW, status,
                                    (("content-type", content_type),), body)
        return in_write_unit(self._units, unit)

    def _begin_in(self, uow: UnitOfWork, key: str, principal_user: str, method_path: str,
                  body_hash: str) -> IdempotencyState:
        repo, now = self._repo(uow), self._clock.now()
        reserved = IdempotencyRecord(principal_user, key, method_path, body_hash,
                                     IN_FLIGHT, now, now + self._ttl)
        # a new key (nearly every request) costs one statement: reserve first, look after
        if repo.reserve(reserved):
            return IdempotencyState(IdempotencyOutcome.NEW)
        found = repo.find(principal_user, key)
        if found is not None and found.expires_at <= now:
            repo.delete(principal_user, key)
            if repo.reserve(reserved):
                return IdempotencyState(IdempotencyOutcome.NEW)
            found = repo.find(principal_user, key)
        if found is None:  # pragma: no cover - reserved and gone in one unit
            raise IdempotencyInFlight("Idempotency-Key is being used, retry")
        if (found.method_path, found.body_hash) != (method_path, body_hash):
            raise IdempotencyKeyReused(
                f"Idempotency-Key {key!r} was used for a different request "
                f"({found.method_path}); use a new key", field="Idempotency-Key")
        if found.state == IN_FLIGHT:
            raise IdempotencyInFlight(
                f"the request under Idempotency-Key {key!r} is still in progress; "
                "retry later", field="Idempotency-Key")
        headers = (("content-type", found.content_type),) if found.content_type else ()
        return IdempotencyState(IdempotencyOutcome.REPLAY, found.status, headers,
                                found.body)

    def complete(self, key: str, principal_user: str, status: int, body: bytes,
                 content_type: str) -> None:
        """Store the response; NotFound when the key is not in flight (expired, abandoned)."""
        in_write_unit(self._units, lambda uow: self._complete_in(
            uow, key, principal_user, status, body, content_type))

    def _complete_in(self, uow: UnitOfWork, key: str, principal_user: str, status: int,
                     body: bytes, content_type: str) -> None:
        expires_at = self._clock.now() + self._ttl
        if not self._repo(uow).complete(principal_user, key, status=status,
                                        content_type=content_type, body=body,
                                        expires_at=expires_at):
            raise NotFound(f"Idempotency-Key {key!r} is not in flight",
                           field="Idempotency-Key")

    def abandon(self, key: str, principal_user: str) -> None:
        """Free a key still in flight; a completed key keeps its response."""
        def work(uow: UnitOfWork) -> None:
            repo = self._repo(uow)
            found = repo.find(principal_user, key)
            if found is not None and found.state == IN_FLIGHT:
                repo.delete(principal_user, key)
        in_write_unit(self._units, work)

    def purge(self) -> int:
        """Delete expired keys (a housekeeping job may call it); returns how many."""
        return in_write_unit(self._units, lambda uow: self._repo(uow).purge_expired(
            self._clock.now()))
