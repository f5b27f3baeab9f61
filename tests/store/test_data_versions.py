"""Migration 0009: data tokens renewed by triggers, and the read caches keyed on them.

A cached snapshot, session, user or order page may be reused only while its token is
unchanged; these tests change the data behind each token through services, through raw
SQL and through a second connection pool (another process's view), and check the next read.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from qoima.app.ports import ACCESS_DATA, ORDERS_DATA, VALUATION_DATA
from qoima.app.read_cache import TokenCache
from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import Reserve, open_reserve
from qoima.domain.roles import Role, RoleGrant
from qoima.store.schema import current_revision, head_revision, upgrade
from tests.builders import cash_in
from tests.store.helpers import entries, ready
from tests.store.test_governance_schema import _differences, _downgrade

DAY = date(2025, 6, 2)
MIGRATION = Path(__file__).resolve().parents[2] / (
    "src/qoima/store/migrations/versions/0009_data_versions.py")


def token(reserve: Reserve, name: str) -> str:
    with reserve.units(write=False) as uow:
        return uow.reference.data_token(name)


def tokens(reserve: Reserve) -> dict[str, str]:
    return {name: token(reserve, name) for name in (VALUATION_DATA, ACCESS_DATA, ORDERS_DATA)}


def tracked_tables() -> dict[str, tuple[str, ...]]:
    namespace: dict[str, object] = {}
    exec(compile(MIGRATION.read_text(), str(MIGRATION), "exec"), namespace)
    found = namespace["TOKENS"]
    assert isinstance(found, dict)
    return found


def triggers(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(text(  # this schema's only (tests share a database)
                "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname = current_schema()"))
        else:
            rows = connection.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'"))
        return {row[0] for row in rows}


def test_every_tracked_table_has_its_trigger(reserve: Reserve) -> None:
    found = triggers(reserve.engine)
    for tables in tracked_tables().values():
        for table in tables:
            assert any(name.startswith(f"trg_{table}_") for name in found), table
    assert set(tracked_tables()["valuation"]) >= {"entries", "postings", "prices", "fx_rates",
                                                  "accounts", "instruments", "vehicles"}


def test_each_write_renews_only_its_own_token(reserve: Reserve) -> None:
    ready(reserve)
    before = tokens(reserve)
    assert tokens(reserve) == before  # reading renews nothing
    reserve.book.post([cash_in("c-1", DAY, "fund-a", "100")], actor="t")
    after_post = tokens(reserve)
    assert after_post[VALUATION_DATA] != before[VALUATION_DATA]
    assert after_post[ACCESS_DATA] == before[ACCESS_DATA]
    assert after_post[ORDERS_DATA] == before[ORDERS_DATA]
    reserve.users.add("admin", "Admin", [RoleGrant(Role.ADMINISTRATOR)], actor="admin")
    after_user = tokens(reserve)
    assert after_user[ACCESS_DATA] != after_post[ACCESS_DATA]
    assert after_user[VALUATION_DATA] == after_post[VALUATION_DATA]


def test_raw_sql_renews_the_token_too(reserve: Reserve) -> None:
    """A DBA's UPDATE, not only the services' writes, invalidates the caches."""
    ready(reserve)
    before = token(reserve, VALUATION_DATA)
    with reserve.engine.begin() as connection:
        connection.execute(text("UPDATE vehicles SET name = 'Renamed' WHERE code = 'fund-a'"))
    assert token(reserve, VALUATION_DATA) != before


def test_cached_snapshot_follows_a_post_from_another_pool(reserve: Reserve,
                                                          database_url: str,
                                                          tmp_path: Path) -> None:
    """A second reserve on the same database (what another API worker is) posts cash: the
    first one's next snapshot includes it, exactly, and a repeated read is a cache hit."""
    ready(reserve)
    reserve.book.post([cash_in("c-1", DAY, "fund-a", "100")], actor="t")
    first = reserve.valuation.snapshot(DAY, vehicle="fund-a")
    assert reserve.valuation.snapshot(DAY, vehicle="fund-a") is first  # cached
    other = open_reserve(database_url=database_url,
                         settings=Settings(runs_dir=tmp_path / "other-runs"))
    try:
        other.book.post([cash_in("c-2", DAY, "fund-a", "23.45")], actor="t")
    finally:
        other.close()
    second = reserve.valuation.snapshot(DAY, vehicle="fund-a")
    assert second is not first
    nav = {v.vehicle_code: v.nav_usd for v in second.vehicles}
    assert nav["fund-a"] - {v.vehicle_code: v.nav_usd for v in first.vehicles}["fund-a"] \
        == Decimal("23.45")


def test_renamed_vehicle_shows_at_once(reserve: Reserve) -> None:
    ready(reserve)
    reserve.book.post([cash_in("c-1", DAY, "fund-a", "100")], actor="t")
    assert reserve.valuation.snapshot(DAY).vehicles[0].name == "Fund A"
    with reserve.engine.begin() as connection:
        connection.execute(text("UPDATE vehicles SET name = 'Renamed' WHERE code = 'fund-a'"))
    names = {v.vehicle_code: v.name for v in reserve.valuation.snapshot(DAY).vehicles}
    assert names["fund-a"] == "Renamed"


def test_revoked_token_and_deactivated_user_are_refused_at_once(reserve: Reserve,
                                                                database_url: str,
                                                                tmp_path: Path) -> None:
    """Revocation through another pool takes effect on this one's next request."""
    from qoima.app.auth import AuthenticationFailed

    reserve.users.add("admin", "Admin", [RoleGrant(Role.ADMINISTRATOR)], actor="admin")
    reserve.users.add("bot", "Robot", [RoleGrant(Role.AUDITOR)], actor="admin")
    issued = reserve.auth.issue_token("bot", name="t", scopes=["read"],
                                      expires_in=timedelta(days=1), actor="admin")
    assert reserve.auth.token(issued.secret).user == "bot"
    assert reserve.auth.token(issued.secret).user == "bot"  # cached path
    assert reserve.users.get("bot").active
    other = open_reserve(database_url=database_url,
                         settings=Settings(runs_dir=tmp_path / "other-runs"))
    try:
        other.auth.revoke_token(issued.token_id, actor="admin")
        other.users.set_active("bot", False, actor="admin")
    finally:
        other.close()
    with pytest.raises(AuthenticationFailed):
        reserve.auth.token(issued.secret)
    assert not reserve.users.get("bot").active


def test_a_deleted_version_row_disables_reuse(reserve: Reserve) -> None:
    with reserve.engine.begin() as connection:
        connection.execute(text("DELETE FROM data_versions"))
    assert token(reserve, VALUATION_DATA) != token(reserve, VALUATION_DATA)


def test_0009_goes_back_and_forth(database_url: str) -> None:
    from qoima.store.database import Database

    database = Database(database_url)
    try:
        engine = database.engine
        upgrade(engine)
        _downgrade(engine, "0008")
        assert "data_versions" not in inspect(engine).get_table_names()
        assert not {name for name in triggers(engine) if name.endswith("_data_token")}
        upgrade(engine)
        assert current_revision(engine) == head_revision(engine)
        assert _differences(engine) == []
    finally:
        database.dispose()


def test_token_cache_reuses_only_under_the_same_token() -> None:
    cache = TokenCache(2)
    calls: list[str] = []

    def compute(value: str) -> Callable[[], str]:
        return lambda: calls.append(value) or value  # type: ignore[func-returns-value]

    assert cache.get("t1", "a", compute("a1")) == "a1"
    assert cache.get("t1", "a", compute("a2")) == "a1"  # hit
    assert cache.get("t2", "a", compute("a3")) == "a3"  # new token: computed again
    assert cache.get("t1", "a", compute("a4")) == "a4"  # an old token is never reused
    cache.get("t1", "b", compute("b1"))
    cache.get("t1", "c", compute("c1"))  # size 2: "a" drops out
    assert cache.get("t1", "a", compute("a5")) == "a5"
    assert calls == ["a1", "a3", "a4", "b1", "c1", "a5"]
    with pytest.raises(ValueError):
        cache.get("t1", "d", lambda: int("x"))
    assert cache.get("t1", "d", lambda: 4) == 4  # a failure is not kept


def test_sqlite_writers_queue_on_the_gate(tmp_path: Path) -> None:
    """A write unit waits for another pool's open write unit (the gate's flock) and then
    succeeds; both entries land."""
    fcntl = pytest.importorskip("fcntl")
    url = f"sqlite+pysqlite:///{tmp_path / 'gate.sqlite'}"
    first = ready(open_reserve(database_url=url, create=True,
                               settings=Settings(runs_dir=tmp_path / "r1")))
    second = open_reserve(database_url=url, settings=Settings(runs_dir=tmp_path / "r2"))
    order: list[str] = []
    try:
        def post_second() -> None:
            second.book.post([cash_in("c-2", DAY, "fund-a", "2")], actor="t")
            order.append("second")

        with first.units(write=True) as uow:
            waiter = threading.Thread(target=post_second)
            waiter.start()
            time.sleep(0.3)
            descriptor = os.open(tmp_path / "gate.sqlite.writer", os.O_RDWR)
            try:  # the gate is what holds the second writer: its lock is taken
                with pytest.raises(BlockingIOError):
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(descriptor)
            order.append("first")
            uow.commit()
        waiter.join(timeout=30)
        assert order == ["first", "second"]
        assert "c-2" in {e.entry_id for e in entries(first)}
    finally:
        first.close()
        second.close()
