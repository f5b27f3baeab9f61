"""Shared fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL tests run when ``QOIMA_TEST_POSTGRES_URL`` is set (CI sets it) and then fail,
never skip, if the server cannot be reached. Each test gets its own schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import Reserve, open_reserve

PG_ENV = "QOIMA_TEST_POSTGRES_URL"


def postgres_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _pg_connect(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = postgres_admin_url()
    if url is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (CI sets it)")
    try:
        with _pg_connect(url) as conn:
            conn.execute("SELECT 1")
    except Exception as error:
        pytest.fail(f"{PG_ENV} is set but PostgreSQL is unreachable: {error}")
    return url


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh schema on the test server, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with _pg_connect(pg_admin_url) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    base = pg_admin_url.replace("postgresql://", "postgresql+psycopg://", 1)
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with _pg_connect(pg_admin_url) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+pysqlite:///{tmp_path / 'qoima.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def reserve(database_url: str, tmp_path: Path) -> Iterator[Reserve]:
    opened = open_reserve(database_url=database_url, create=True,
                          settings=Settings(runs_dir=tmp_path / "runs"))
    yield opened
    opened.close()
