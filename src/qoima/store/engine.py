"""Engines for the two supported databases, configured for durability.

SQLite: WAL, ``synchronous=FULL`` (every commit reaches the disk), foreign keys on, and
write transactions opened with ``BEGIN IMMEDIATE`` so writers queue instead of failing.
PostgreSQL: writers queue on a transaction advisory lock (see ``uow``), readers take a
REPEATABLE READ snapshot; SERIALIZABLE is the engine default for anything else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool, QueuePool

WRITE_OPTION = "qoima_write"
BUSY_TIMEOUT_MS = 60_000


def sqlite_url(path: str) -> str:
    return f"sqlite+pysqlite:///{path}"


def normalize_url(url: str | URL) -> URL:
    """Accept ``postgresql://`` and route it through psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, isolation_level="SERIALIZABLE", pool_pre_ping=True,
                             **kwargs)
    raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use SQLite or "
                     "PostgreSQL")


#: Connections a file database keeps open: as many as the API's worker threads run units at
#: once, so a busy server does not close and reopen (and re-run the pragmas) per request.
SQLITE_POOL_SIZE = 40


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    # A file database keeps its connections open between units of work: closing the last
    # connection to a WAL database checkpoints it and deletes the WAL (extra fsyncs), and a
    # new connection re-runs the pragmas and re-reads the schema. No cap on connections.
    memory = url.database in (None, "", ":memory:")
    pooling: dict[str, Any] = (
        {"poolclass": NullPool} if memory
        else {"poolclass": QueuePool, "pool_size": SQLITE_POOL_SIZE, "max_overflow": -1})
    engine = create_engine(url, **pooling, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN IMMEDIATE is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
