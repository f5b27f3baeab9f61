"""Users and their role grants. Never commits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from qoima.app.governance_ports import GrantRecord, UserRecord
from qoima.domain.errors import Conflict, NotFound
from qoima.store import governance_tables as g

_U, _G = g.users, g.user_grants


class SqlUserRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_user(self, user: UserRecord) -> None:
        if self._exists(user.name):
            raise Conflict(f"user {user.name!r} already exists", user=user.name)
        self._c.execute(insert(_U).values(name=user.name, display_name=user.display_name,
                                          active=user.active, created_at=user.created_at))
        self._insert_grants(user.name, user.grants)

    def find_user(self, name: str) -> UserRecord | None:
        row = self._c.execute(select(_U).where(_U.c.name == name)).first()
        if row is None:
            return None
        return _user(row, self._grants([name]).get(name, ()))

    def list_users(self) -> list[UserRecord]:
        rows = self._c.execute(select(_U).order_by(_U.c.name)).all()
        grants = self._grants(None)
        return [_user(row, grants.get(row.name, ())) for row in rows]

    def set_active(self, name: str, active: bool) -> None:
        result = self._c.execute(update(_U).where(_U.c.name == name).values(active=active))
        if result.rowcount == 0:
            raise NotFound(f"no user {name!r}", user=name)

    def grant(self, name: str, grant: GrantRecord) -> bool:
        self._require(name)
        if grant in self._grants([name]).get(name, ()):
            return False
        self._insert_grants(name, [grant])
        return True

    def revoke(self, name: str, grant: GrantRecord) -> bool:
        vehicle = (_G.c.vehicle_code.is_(None) if grant.vehicle_code is None
                   else _G.c.vehicle_code == grant.vehicle_code)
        result = self._c.execute(delete(_G).where(_G.c.user_name == name,
                                                  _G.c.role == grant.role, vehicle))
        return result.rowcount > 0

    def set_grants(self, name: str, grants: Sequence[GrantRecord]) -> None:
        self._require(name)
        self._c.execute(delete(_G).where(_G.c.user_name == name))
        self._insert_grants(name, grants)

    def _exists(self, name: str) -> bool:
        return self._c.execute(select(_U.c.name).where(_U.c.name == name)).first() is not None

    def _require(self, name: str) -> None:
        if not self._exists(name):
            raise NotFound(f"no user {name!r}", user=name)

    def _insert_grants(self, name: str, grants: Iterable[GrantRecord]) -> None:
        unique = list(dict.fromkeys(grants))
        if unique:
            self._c.execute(insert(_G), [
                {"user_name": name, "role": grant.role, "vehicle_code": grant.vehicle_code}
                for grant in unique])

    def _grants(self, names: list[str] | None) -> dict[str, tuple[GrantRecord, ...]]:
        query = select(_G).order_by(_G.c.id)
        if names is not None:
            query = query.where(_G.c.user_name.in_(names))
        found: dict[str, list[GrantRecord]] = defaultdict(list)
        for row in self._c.execute(query):
            found[row.user_name].append(GrantRecord(row.role, row.vehicle_code))
        return {name: tuple(items) for name, items in found.items()}


def _user(row: Any, grants: tuple[GrantRecord, ...]) -> UserRecord:
    return UserRecord(name=row.name, display_name=row.display_name, created_at=row.created_at,
                      active=bool(row.active), grants=grants)
