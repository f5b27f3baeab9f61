"""User administration (``qoima user``): list, add, set roles, disable or enable. Every
route needs the administrator's ``user.admin`` on every vehicle; refusals are audited.
Passwords: ``PUT /auth/password``; API tokens: ``/auth/tokens``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from qoima.api.access import require_everywhere
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.models import Code, Strict
from qoima.api.pagination import Paging, page
from qoima.api.responses import Out, PageOut
from qoima.domain.roles import Permission, Role, RoleGrant, User

router = api_router("users")


class GrantIn(Strict):
    role: Role
    vehicle: Code | None = None  # None: every vehicle


Grants = Annotated[list[GrantIn], Field(min_length=1, max_length=100)]


class UserIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@-]+$")]
    display_name: Annotated[str, Field(max_length=200)] = ""
    grants: Grants


class GrantsIn(Strict):
    grants: Grants


class ActiveIn(Strict):
    active: bool


class GrantOut(Out):
    role: str
    vehicle: str | None


class UserOut(Out):
    name: str
    display_name: str
    active: bool
    grants: list[GrantOut]


def _grants(given: list[GrantIn]) -> list[RoleGrant]:
    return [RoleGrant(g.role, g.vehicle) for g in given]


def _view(user: User) -> UserOut:
    return UserOut(name=user.name, display_name=user.display_name, active=user.active,
                   grants=[GrantOut(role=str(g.role), vehicle=g.vehicle_code)
                           for g in user.grants])


@router.get("/users", response_model=PageOut[UserOut], summary="Every user and their roles")
def list_users(reserve: ReserveDep, user: UserDep, paging: Paging) -> PageOut[UserOut]:
    require_everywhere(user, Permission.USER_ADMIN)
    return PageOut[UserOut].model_validate(
        page(reserve.users.list(), paging, lambda u: _view(u).model_dump()))


@router.get("/users/{name}", response_model=UserOut)
def get_user(name: str, reserve: ReserveDep, user: UserDep) -> UserOut:
    require_everywhere(user, Permission.USER_ADMIN)
    return _view(reserve.users.get(name))


@router.post("/users", status_code=201, response_model=UserOut, summary="Add a user")
def add_user(body: UserIn, reserve: ReserveDep, user: UserDep) -> UserOut:
    return _view(reserve.users.add(body.name, body.display_name, _grants(body.grants),
                                   actor=user.name))


@router.put("/users/{name}/grants", response_model=UserOut,
            summary="Replace a user's roles")
def set_grants(name: str, body: GrantsIn, reserve: ReserveDep, user: UserDep) -> UserOut:
    return _view(reserve.users.set_grants(name, _grants(body.grants), actor=user.name))


@router.put("/users/{name}/active", response_model=UserOut,
            summary="Disable (false) or enable (true) a user; a disabled user holds no role")
def set_active(name: str, body: ActiveIn, reserve: ReserveDep, user: UserDep) -> UserOut:
    reserve.users.set_active(name, body.active, actor=user.name)
    return _view(reserve.users.get(name))
