"""Users, policy versions and the breach register through the unit of work, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from qoima.app.governance_ports import GrantRecord, PolicyVersionStatus, UserRecord
from qoima.app.ports import UnitOfWork
from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import Conflict, InvalidInput, NotFound
from qoima.store import governance_tables as g
from tests.store.governance_helpers import ALMATY, T0, at, breach, order, policy, seed

ALICE = UserRecord(name="alice", display_name="Alice Ömirbek", created_at=T0, grants=(
    GrantRecord("risk_officer", "fund-a"), GrantRecord("committee_member"),
    GrantRecord("auditor", "fund-b")))
BOB = UserRecord(name="bob", display_name="Bob", created_at=at(5), active=False)


@pytest.fixture
def governed(reserve: Reserve) -> Reserve:
    return seed(reserve)


def write(reserve: Reserve, work: Callable[[UnitOfWork], object]) -> object:
    with reserve.units(write=True) as uow:
        result = work(uow)
        uow.commit()
    return result


def read(reserve: Reserve, work: Callable[[UnitOfWork], object]) -> object:
    with reserve.units(write=False) as uow:
        return work(uow)


# -- users ------------------------------------------------------------------------------
def test_users_round_trip_with_grants_in_given_order(governed: Reserve) -> None:
    write(governed, lambda uow: (uow.users.add_user(BOB), uow.users.add_user(ALICE)))
    assert read(governed, lambda uow: uow.users.find_user("alice")) == ALICE
    assert read(governed, lambda uow: uow.users.list_users()) == [ALICE, BOB]
    assert read(governed, lambda uow: uow.users.find_user("carol")) is None


def test_user_name_is_unique(governed: Reserve) -> None:
    write(governed, lambda uow: uow.users.add_user(ALICE))
    with pytest.raises(Conflict, match="alice"):
        write(governed, lambda uow: uow.users.add_user(replace(ALICE, display_name="other")))
    assert read(governed, lambda uow: uow.users.find_user("alice")) == ALICE


def test_grant_revoke_and_replace(governed: Reserve) -> None:
    write(governed, lambda uow: uow.users.add_user(BOB))
    every, one = GrantRecord("operations"), GrantRecord("operations", "fund-a")
    assert write(governed, lambda uow: uow.users.grant("bob", every)) is True
    assert write(governed, lambda uow: uow.users.grant("bob", every)) is False
    assert write(governed, lambda uow: uow.users.grant("bob", one)) is True
    assert read(governed, lambda uow: uow.users.find_user("bob")).grants == (every, one)
    assert write(governed, lambda uow: uow.users.revoke("bob", every)) is True
    assert write(governed, lambda uow: uow.users.revoke("bob", every)) is False
    assert read(governed, lambda uow: uow.users.find_user("bob")).grants == (one,)
    auditor = GrantRecord("auditor")
    write(governed, lambda uow: uow.users.set_grants("bob", [auditor, one, auditor]))
    assert read(governed, lambda uow: uow.users.find_user("bob")).grants == (auditor, one)
    with pytest.raises(NotFound, match="carol"):
        write(governed, lambda uow: uow.users.grant("carol", auditor))
    with pytest.raises(NotFound, match="carol"):
        write(governed, lambda uow: uow.users.set_grants("carol", [auditor]))


def test_set_active(governed: Reserve) -> None:
    write(governed, lambda uow: uow.users.add_user(BOB))
    write(governed, lambda uow: uow.users.set_active("bob", True))
    assert read(governed, lambda uow: uow.users.find_user("bob")).active is True
    write(governed, lambda uow: uow.users.set_active("bob", False))
    assert read(governed, lambda uow: uow.users.find_user("bob")).active is False
    with pytest.raises(NotFound):
        write(governed, lambda uow: uow.users.set_active("carol", True))


def test_repositories_never_commit(governed: Reserve) -> None:
    with governed.units(write=True) as uow:
        uow.users.add_user(ALICE)
        uow.policies.add_version(policy())
        uow.policies.add_breach(breach())
        uow.orders.add_order(order())
        assert uow.orders.find_order("ord-1") is not None  # visible inside the unit
    assert read(governed, lambda uow: (uow.users.list_users(), uow.policies.list_versions(),
                                       uow.policies.list_breaches(),
                                       uow.orders.list_orders())) == ([], [], [], [])


# -- policy versions --------------------------------------------------------------------
def test_policy_version_round_trip_keeps_text_and_instants(governed: Reserve) -> None:
    record = policy(status="approved", approved_by="committee", approved_at=at(90).astimezone(
        ALMATY), takes_effect_at=at(60 * 24 * 7), reason="loosens size: seven-day delay",
        source_text="# «size»\r\nsize:\n  max_usd: '300000000.00'\n\ttab\n")
    write(governed, lambda uow: uow.policies.add_version(record))
    stored = read(governed, lambda uow: uow.policies.find_version("fund-a", 1))
    assert stored == record
    assert stored.source_text == record.source_text
    assert stored.approved_at.utcoffset().total_seconds() == 0  # same instant, in UTC
    assert read(governed, lambda uow: uow.policies.find_version("fund-a", 2)) is None


def test_policy_version_number_is_unique_per_vehicle(governed: Reserve) -> None:
    write(governed, lambda uow: (uow.policies.add_version(policy("fund-a", 1)),
                                 uow.policies.add_version(policy("fund-b", 1))))
    with pytest.raises(Conflict, match="version 1"):
        write(governed, lambda uow: uow.policies.add_version(policy("fund-a", 1, reason="x")))


def test_policy_status_must_be_known(governed: Reserve) -> None:
    with pytest.raises(InvalidInput, match="unknown policy status 'live'"):
        write(governed, lambda uow: uow.policies.add_version(policy(status="live")))
    # the database refuses it as well, whatever writes
    values = {**{f: getattr(policy(), f) for f in policy().__slots__}, "status": "live"}
    with governed.engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(insert(g.policy_versions).values(values))


def test_versions_listed_in_order_and_filtered(governed: Reserve) -> None:
    def add(uow: UnitOfWork) -> None:
        for vehicle, version, status in [("fund-b", 1, "active"), ("fund-a", 3, "proposed"),
                                         ("fund-a", 1, "superseded"), ("fund-a", 2, "active")]:
            uow.policies.add_version(policy(vehicle, version, status))
    write(governed, add)

    def keys(records):  # type: ignore[no-untyped-def]
        return [(r.vehicle_code, r.version) for r in records]

    assert keys(read(governed, lambda uow: uow.policies.list_versions())) == [
        ("fund-a", 1), ("fund-a", 2), ("fund-a", 3), ("fund-b", 1)]
    assert keys(read(governed, lambda uow: uow.policies.list_versions("fund-a"))) == [
        ("fund-a", 1), ("fund-a", 2), ("fund-a", 3)]
    assert keys(read(governed, lambda uow: uow.policies.list_versions(
        status=PolicyVersionStatus.ACTIVE))) == [("fund-a", 2), ("fund-b", 1)]
    assert read(governed, lambda uow: uow.policies.latest_version("fund-a")).version == 3
    assert read(governed, lambda uow: uow.policies.latest_version("seized")) is None


def test_latest_active_version_per_vehicle(governed: Reserve) -> None:
    def add(uow: UnitOfWork) -> None:
        uow.policies.add_version(policy("fund-a", 1, "active"))
        uow.policies.add_version(policy("fund-a", 2, "active"))  # not yet superseding v1
        uow.policies.add_version(policy("fund-a", 3, "approved"))
        uow.policies.add_version(policy("fund-b", 1, "vetoed"))
    write(governed, add)
    assert read(governed, lambda uow: uow.policies.find_active("fund-a")).version == 2
    assert read(governed, lambda uow: uow.policies.find_active("fund-b")) is None
    active = read(governed, lambda uow: uow.policies.list_active())
    assert [(r.vehicle_code, r.version) for r in active] == [("fund-a", 2)]
    write(governed, lambda uow: uow.policies.add_version(policy("fund-b", 2, "active")))
    active = read(governed, lambda uow: uow.policies.list_active())
    assert [(r.vehicle_code, r.version) for r in active] == [("fund-a", 2), ("fund-b", 2)]


def test_update_version_changes_state_not_content(governed: Reserve) -> None:
    write(governed, lambda uow: uow.policies.add_version(policy()))
    approved = policy(status=PolicyVersionStatus.ACTIVE, approved_by="committee",
                      approved_at=at(30), effective_from=date(2026, 6, 10), reason="tighter")
    write(governed, lambda uow: uow.policies.update_version(approved))
    assert read(governed, lambda uow: uow.policies.find_version("fund-a", 1)) == approved
    vetoed = replace(approved, status="vetoed", vetoed_by="chair", vetoed_at=at(40))
    write(governed, lambda uow: uow.policies.update_version(vetoed))
    assert read(governed, lambda uow: uow.policies.find_version("fund-a", 1)) == vetoed
    with pytest.raises(Conflict, match="other content"):
        write(governed, lambda uow: uow.policies.update_version(
            replace(vetoed, content_hash="b" * 64)))
    with pytest.raises(NotFound):
        write(governed, lambda uow: uow.policies.update_version(policy(version=9)))
    assert read(governed, lambda uow: uow.policies.find_version("fund-a", 1)) == vetoed


def test_policy_in_force_on_a_day(governed: Reserve) -> None:
    def add(uow: UnitOfWork) -> None:
        uow.policies.add_version(policy(version=1, status="superseded",
                                        effective_from=date(2026, 1, 1)))
        uow.policies.add_version(policy(version=2, status="active",
                                        effective_from=date(2026, 3, 1)))
        uow.policies.add_version(policy(version=3, status="approved",
                                        effective_from=date(2026, 4, 1)))
    write(governed, add)

    def in_force(day: date):  # type: ignore[no-untyped-def]
        return read(governed, lambda uow: uow.policies.in_force("fund-a", day))

    assert in_force(date(2025, 12, 31)) is None
    assert in_force(date(2026, 1, 1)).version == 1
    assert in_force(date(2026, 2, 28)).version == 1
    assert in_force(date(2026, 3, 1)).version == 2
    assert in_force(date(2026, 5, 1)).version == 2  # v3 is approved, not active yet


# -- breaches ---------------------------------------------------------------------------
def test_breach_register_open_list_close(governed: Reserve) -> None:
    def add(uow: UnitOfWork) -> list[int]:
        return [uow.policies.add_breach(breach(opened_on=date(2026, 6, 3))),
                uow.policies.add_breach(breach(rule="policy.concentration", subject="IBIT",
                                               opened_on=date(2026, 6, 2))),
                uow.policies.add_breach(breach("fund-b", subject="fund-b", measured=None,
                                               limit_text=None, severity="warning"))]
    size_a, concentration_a, size_b = write(governed, add)
    assert len({size_a, concentration_a, size_b}) == 3
    open_a = read(governed, lambda uow: uow.policies.list_open_breaches("fund-a"))
    assert [b.breach_id for b in open_a] == [concentration_a, size_a]  # by opened_on
    assert open_a[1] == breach(opened_on=date(2026, 6, 3), breach_id=size_a)
    write(governed, lambda uow: uow.policies.close_breach(size_a, date(2026, 6, 5)))
    open_a = read(governed, lambda uow: uow.policies.list_open_breaches("fund-a"))
    assert [b.breach_id for b in open_a] == [concentration_a]
    every_open = read(governed, lambda uow: uow.policies.list_open_breaches())
    assert [b.breach_id for b in every_open] == [concentration_a, size_b]
    assert every_open[1].measured is None and every_open[1].severity == "warning"
    closed = read(governed, lambda uow: uow.policies.list_breaches("fund-a"))
    assert [(b.breach_id, b.closed_on) for b in closed] == [
        (concentration_a, None), (size_a, date(2026, 6, 5))]

    def since(day: date) -> list[int]:
        found = read(governed, lambda uow: uow.policies.list_breaches("fund-a", since=day))
        return [b.breach_id for b in found]

    assert since(date(2026, 6, 5)) == [concentration_a, size_a]
    assert since(date(2026, 6, 6)) == [concentration_a]


def test_breach_rules(governed: Reserve) -> None:
    first = write(governed, lambda uow: uow.policies.add_breach(breach()))
    with pytest.raises(Conflict, match="already open"):
        write(governed, lambda uow: uow.policies.add_breach(breach(opened_on=date(2026, 6, 4))))
    with pytest.raises(InvalidInput, match="cannot close"):
        write(governed, lambda uow: uow.policies.close_breach(first, date(2026, 6, 1)))
    write(governed, lambda uow: uow.policies.close_breach(first, date(2026, 6, 2)))  # same day
    with pytest.raises(Conflict, match="closed on 2026-06-02"):
        write(governed, lambda uow: uow.policies.close_breach(first, date(2026, 6, 3)))
    with pytest.raises(NotFound):
        write(governed, lambda uow: uow.policies.close_breach(first + 100, date(2026, 6, 3)))
    again = write(governed, lambda uow: uow.policies.add_breach(breach(
        opened_on=date(2026, 6, 8))))  # the same rule and subject may breach again
    assert again != first
    history = read(governed, lambda uow: uow.policies.list_breaches())
    assert [(b.opened_on, b.closed_on) for b in history] == [
        (date(2026, 6, 2), date(2026, 6, 2)), (date(2026, 6, 8), None)]
