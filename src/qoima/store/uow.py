"""The unit of work: one transaction, repositories bound to it, commit only on request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from qoima.domain.errors import TransientConflict
from qoima.store.allocation_repo import SqlAllocationRepository
from qoima.store.audit_repo import SqlAuditRepository
from qoima.store.auth_repo import SqlAuthRepository, SqlIdempotencyRepository
from qoima.store.custody_repo import SqlCustodyRepository
from qoima.store.engine import WRITE_OPTION
from qoima.store.journal_repo import SqlJournalRepository
from qoima.store.manager_repo import SqlManagerRepository
from qoima.store.market_repo import SqlMarketRepository
from qoima.store.order_repo import SqlOrderRepository
from qoima.store.policy_repo import SqlPolicyRepository
from qoima.store.reference_repo import SqlReferenceRepository
from qoima.store.run_repo import SqlRunRepository
from qoima.store.transfer_repo import SqlTransferRepository
from qoima.store.users_repo import SqlUserRepository
from qoima.store.writer_gate import WriterGate

# Any constant: every writer takes this lock first, so writes are applied one at a time.
WRITER_LOCK_KEY = 0x716F696D61  # "qoima"
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock
# Writers queue on the advisory lock, so they run one after another; under READ COMMITTED
# every statement after the lock sees every earlier commit: the same as running serially,
# without SERIALIZABLE's snapshot being taken before the lock is granted (which would make
# every queued writer fail and retry). Readers get one consistent snapshot.
POSTGRES_ISOLATION = {True: "READ COMMITTED", False: "REPEATABLE READ"}


class SqlUnitOfWork:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.reference = SqlReferenceRepository(connection)
        self.journal = SqlJournalRepository(connection)
        self.market = SqlMarketRepository(connection)
        self.audit = SqlAuditRepository(connection)
        self.users = SqlUserRepository(connection)
        self.policies = SqlPolicyRepository(connection)
        self.orders = SqlOrderRepository(connection)
        self.transfers = SqlTransferRepository(connection)
        self.allocation = SqlAllocationRepository(connection)
        self.custody = SqlCustodyRepository(connection)
        self.runs = SqlRunRepository(connection)
        self.managers = SqlManagerRepository(connection)
        self.auth = SqlAuthRepository(connection)
        self.idempotency = SqlIdempotencyRepository(connection)
        self.committed = False

    def commit(self) -> None:
        self.journal.flush()
        self.audit.flush()
        self._connection.commit()
        self.committed = True


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine) -> None:
        # No cache of accounts across units: a restored or re-created database would
        # silently invalidate it, and the lookup is one indexed query per entry.
        self.engine = engine
        database = engine.url.database
        self._gate = (WriterGate(Path(database)) if engine.dialect.name == "sqlite"
                      and database not in (None, "", ":memory:") else None)

    def close(self) -> None:
        if self._gate is not None:
            self._gate.close()

    @contextmanager
    def __call__(self, *, write: bool) -> Iterator[SqlUnitOfWork]:
        if write and self._gate is not None:
            with self._gate.held(), self._unit(write=True) as uow:
                yield uow
        else:
            with self._unit(write=write) as uow:
                yield uow

    @contextmanager
    def _unit(self, *, write: bool) -> Iterator[SqlUnitOfWork]:
        with self.engine.connect() as connection:
            options: dict[str, object] = {WRITE_OPTION: write}
            if self.engine.dialect.name == "postgresql":
                options["isolation_level"] = POSTGRES_ISOLATION[write]
            connection = connection.execution_options(**options)
            try:
                connection.begin()
                if self.engine.dialect.name == "postgresql":
                    if write:
                        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                           {"k": WRITER_LOCK_KEY})
                    else:
                        connection.execute(text("SET TRANSACTION READ ONLY"))
                uow = SqlUnitOfWork(connection)
                yield uow
                if not uow.committed:
                    connection.rollback()
            except (OperationalError, DBAPIError) as error:
                connection.rollback()
                if _is_transient(error):
                    raise TransientConflict(f"concurrent update, retry: {error.orig}") from error
                raise


def _is_transient(error: DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message
