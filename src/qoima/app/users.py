"""Users and their role grants: who may act, on which vehicle (``--as USER``).

The first user of a workspace may be created by anyone (someone has to be the first
administrator); after that only an administrator adds users or changes grants. Every change
is in the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from qoima.app.governance_ports import GrantRecord, UserRecord
from qoima.app.ports import ACCESS_DATA, Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.read_cache import TokenCache
from qoima.app.units import in_write_unit, record_change
from qoima.domain.errors import Conflict, Forbidden
from qoima.domain.reference import check_code
from qoima.domain.roles import Permission, Role, RoleGrant, User, authorize


def to_user(record: UserRecord) -> User:
    return User(record.name, record.display_name,
                tuple(RoleGrant(Role(g.role), g.vehicle_code) for g in record.grants),
                record.active)


def load_user(uow: UnitOfWork, name: str) -> User:
    """The acting user; an unknown name is refused, never treated as anonymous."""
    record = uow.users.find_user(name)
    if record is None:
        raise Forbidden(f"unknown user {name!r}: an administrator adds users with "
                        "`qoima user add NAME --role ROLE[:VEHICLE]`", user=name)
    return to_user(record)


class UserService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock) -> None:
        self._units, self._clock = units, clock
        self._known = TokenCache(256)  # users read, until the access data changes

    def add(self, name: str, display_name: str, grants: Sequence[RoleGrant], *,
            actor: str) -> User:
        check_code(name, what="user")
        if not grants:
            raise Conflict(f"user {name} needs at least one role", field="role")

        def work(uow: UnitOfWork) -> User:
            if uow.users.list_users():
                authorize(load_user(uow, actor), Permission.USER_ADMIN, None)
            record = UserRecord(name, display_name or name, self._clock.now(), True,
                                tuple(GrantRecord(str(g.role), g.vehicle_code)
                                      for g in grants))
            uow.users.add_user(record)
            record_change(uow, at=record.created_at, actor=actor, action="user.added",
                          object_type="user", object_id=name,
                          payload={"display_name": record.display_name,
                                   "grants": [[g.role, g.vehicle_code] for g in record.grants]})
            return to_user(record)
        return in_write_unit(self._units, work)

    def set_grants(self, name: str, grants: Sequence[RoleGrant], *, actor: str) -> User:
        def work(uow: UnitOfWork) -> User:
            authorize(load_user(uow, actor), Permission.USER_ADMIN, None)
            load_user(uow, name)
            uow.users.set_grants(name, [GrantRecord(str(g.role), g.vehicle_code)
                                        for g in grants])
            record_change(uow, at=self._clock.now(), actor=actor, action="user.grants_set",
                          object_type="user", object_id=name,
                          payload={"grants": [[str(g.role), g.vehicle_code] for g in grants]})
            return load_user(uow, name)
        return in_write_unit(self._units, work)

    def set_active(self, name: str, active: bool, *, actor: str) -> None:
        def work(uow: UnitOfWork) -> None:
            authorize(load_user(uow, actor), Permission.USER_ADMIN, None)
            uow.users.set_active(name, active)
            record_change(uow, at=self._clock.now(), actor=actor,
                          action="user.activated" if active else "user.deactivated",
                          object_type="user", object_id=name, payload={"active": active})
        in_write_unit(self._units, work)

    def get(self, name: str) -> User:
        with self._units(write=False) as uow:
            return self._known.get(uow.reference.data_token(ACCESS_DATA), name,
                                   lambda: load_user(uow, name))

    def list(self) -> list[User]:
        with self._units(write=False) as uow:
            return [to_user(r) for r in uow.users.list_users()]


def require(uow: UnitOfWork, actor: str, permission: Permission,
            vehicles: Iterable[str | None] = (None,)) -> None:
    """Guard of every write outside orders and policies.

    A workspace without users is in single-operator mode (a fresh install, the demo): anyone
    may write and the audit trail names who said they acted. Once the first user exists,
    every write needs a known, active user holding ``permission`` on each vehicle touched.
    """
    if not uow.users.list_users():
        return
    user = load_user(uow, actor)
    for vehicle in sorted(set(vehicles), key=lambda v: v or ""):
        authorize(user, permission, vehicle)
