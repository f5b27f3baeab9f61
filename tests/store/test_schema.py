"""Alembic migrations: empty -> head on both databases, and the result matches tables.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from qoima.bootstrap.wiring import open_reserve
from qoima.domain.errors import ConfigurationError
from qoima.store.engine import make_engine
from qoima.store.schema import current_revision, head_revision, upgrade
from qoima.store.tables import metadata
from tests.builders import reference_data


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    yield made
    made.dispose()


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "target_metadata": metadata})
        return list(compare_metadata(context, metadata))


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_empty_database_has_no_revision(engine: Engine) -> None:
    assert current_revision(engine) is None
    assert head_revision(engine) is not None
    assert not (_tables(engine) & set(metadata.tables))


def test_upgrade_from_empty_reaches_head(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    assert set(metadata.tables) <= _tables(engine)


def test_migrated_schema_matches_table_definitions(engine: Engine) -> None:
    upgrade(engine)
    assert _differences(engine) == []


def test_comparison_notices_a_schema_drift(engine: Engine) -> None:
    """Control: the comparison above is able to fail."""
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_postings_account"))
    differences = _differences(engine)
    assert any("ix_postings_account" in repr(d) for d in differences)


def test_upgrading_twice_is_a_no_op(database_url: str, engine: Engine) -> None:
    upgrade(engine)
    reserve = open_reserve(database_url=database_url)
    try:
        reserve.book.register(reference_data(), actor="test")
        records_before = reserve.audit.verify().records
    finally:
        reserve.close()
    tables_before = _tables(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    assert _tables(engine) == tables_before
    assert _differences(engine) == []
    reserve = open_reserve(database_url=database_url)
    try:
        check = reserve.audit.verify()
        assert check.ok, check.problems
        assert check.records == records_before > 0
    finally:
        reserve.close()


def test_open_reserve_with_create_migrates(database_url: str, engine: Engine) -> None:
    reserve = open_reserve(database_url=database_url, create=True)
    reserve.close()
    assert current_revision(engine) == head_revision(engine)
    reopened = open_reserve(database_url=database_url, create=False)
    reopened.close()


def test_open_reserve_without_schema_refuses(database_url: str, engine: Engine) -> None:
    with pytest.raises(ConfigurationError, match="schema none"):
        open_reserve(database_url=database_url, create=False)
    assert current_revision(engine) is None
    assert not (_tables(engine) & set(metadata.tables))


def test_open_reserve_behind_head_refuses(database_url: str, engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    with pytest.raises(ConfigurationError, match="qoima init"):
        open_reserve(database_url=database_url, create=False)
