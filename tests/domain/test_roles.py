"""Roles and permissions: the DOMAIN.md table, per-vehicle grants, inactive users."""

from __future__ import annotations

import pytest

from qoima.domain.errors import Conflict, Forbidden, InvalidInput, QoimaError
from qoima.domain.roles import PERMISSIONS, Permission, Role, RoleGrant, User, authorize

P = Permission
ORDER_WRITES = {P.ORDER_CREATE, P.ORDER_SUBMIT, P.ORDER_APPROVE, P.ORDER_REJECT,
                P.ORDER_EXECUTE, P.ORDER_SETTLE, P.ORDER_CANCEL}

# Written out by hand from DOMAIN.md, not derived from the table under test.
EXPECTED = {
    Role.PORTFOLIO_MANAGER: {P.READ, P.ORDER_CREATE, P.ORDER_SUBMIT, P.ORDER_CANCEL,
                             P.POLICY_PROPOSE},
    Role.RISK_OFFICER: {P.READ, P.ORDER_APPROVE, P.ORDER_REJECT, P.POLICY_PROPOSE, P.RISK_RUN,
                        P.MARKET_WRITE},
    Role.COMMITTEE_MEMBER: {P.READ, P.ORDER_APPROVE, P.ORDER_REJECT, P.POLICY_APPROVE,
                            P.POLICY_VETO},
    Role.OPERATIONS: {P.READ, P.ORDER_EXECUTE, P.ORDER_SETTLE, P.ENTRY_POST, P.MARKET_WRITE,
                      P.AUDIT_CHECKPOINT},
    Role.ENFORCEMENT_LIAISON: {P.READ, P.CASE_WRITE},
    Role.AUDITOR: {P.READ},
    Role.ADMINISTRATOR: {P.READ, P.USER_ADMIN, P.REFERENCE_WRITE, P.AUDIT_CHECKPOINT},
}


def user(name: str, *grants: tuple[Role, str | None], active: bool = True) -> User:
    return User(name, name.title(), tuple(RoleGrant(r, v) for r, v in grants), active=active)


def test_stored_values_never_change() -> None:
    assert [r.value for r in Role] == [
        "portfolio_manager", "risk_officer", "committee_member", "operations",
        "enforcement_liaison", "auditor", "administrator"]
    assert P.ORDER_APPROVE.value == "order.approve"
    assert P.USER_ADMIN.value == "user.admin"
    assert all(p.value == p.value.lower() for p in P)


@pytest.mark.parametrize("role", list(Role))
def test_permission_table_matches_domain(role: Role) -> None:
    assert PERMISSIONS[role] == EXPECTED[role]


@pytest.mark.parametrize(("role", "permission"),
                         [(r, p) for r in Role for p in Permission])
def test_authorize_follows_the_table(role: Role, permission: Permission) -> None:
    someone = user("someone", (role, "fx-sleeve"))
    if permission in EXPECTED[role]:
        authorize(someone, permission, "fx-sleeve")
    else:
        with pytest.raises(Forbidden):
            authorize(someone, permission, "fx-sleeve")


def test_separation_of_duties() -> None:
    assert P.ORDER_APPROVE not in PERMISSIONS[Role.PORTFOLIO_MANAGER]  # maker never approves
    assert P.ORDER_EXECUTE not in PERMISSIONS[Role.RISK_OFFICER]  # risk never executes
    assert not {P.POLICY_PROPOSE, P.POLICY_APPROVE} & PERMISSIONS[Role.OPERATIONS]
    assert PERMISSIONS[Role.AUDITOR] == {P.READ}  # reads everything, writes nothing


def test_auditor_reads_everywhere_and_writes_nothing() -> None:
    auditor = user("aigerim", (Role.AUDITOR, None))
    for vehicle in ("fx-sleeve", "seized-pool", None):
        authorize(auditor, P.READ, vehicle)
        for permission in set(Permission) - {P.READ}:
            with pytest.raises(Forbidden):
                authorize(auditor, permission, vehicle)


def test_enforcement_liaison_never_touches_reserve_orders() -> None:
    liaison = user("erlan", (Role.ENFORCEMENT_LIAISON, None))
    authorize(liaison, P.CASE_WRITE, "seized-pool")
    for permission in ORDER_WRITES | {P.POLICY_PROPOSE, P.RISK_RUN}:
        with pytest.raises(Forbidden):
            authorize(liaison, permission, "fx-reserve")


def test_grant_on_one_vehicle_does_not_reach_another() -> None:
    pm = user("dana", (Role.PORTFOLIO_MANAGER, "fx-sleeve"))
    authorize(pm, P.ORDER_CREATE, "fx-sleeve")
    with pytest.raises(Forbidden) as caught:
        authorize(pm, P.ORDER_CREATE, "state-fund")
    error = caught.value
    assert error.code == "forbidden"
    assert isinstance(error, QoimaError)
    assert not isinstance(error, Conflict)
    assert "dana" in str(error)
    assert "order.create" in str(error)
    assert "state-fund" in str(error)
    assert error.details == {"user": "dana", "permission": "order.create",
                             "vehicle_code": "state-fund"}


def test_vehicle_wide_action_needs_a_grant_on_every_vehicle() -> None:
    scoped = user("admin1", (Role.ADMINISTRATOR, "fx-sleeve"))
    everywhere = user("admin2", (Role.ADMINISTRATOR, None))
    authorize(everywhere, P.USER_ADMIN, None)
    authorize(everywhere, P.USER_ADMIN, "any-vehicle")
    with pytest.raises(Forbidden, match="every vehicle"):
        authorize(scoped, P.USER_ADMIN, None)


def test_roles_combine_per_vehicle() -> None:
    both = user("marat", (Role.RISK_OFFICER, None), (Role.COMMITTEE_MEMBER, "fx-sleeve"))
    assert both.roles_for("fx-sleeve") == {Role.RISK_OFFICER, Role.COMMITTEE_MEMBER}
    assert both.roles_for("state-fund") == {Role.RISK_OFFICER}
    assert both.roles_for(None) == {Role.RISK_OFFICER}
    assert both.can(P.POLICY_VETO, "fx-sleeve")
    assert not both.can(P.POLICY_VETO, "state-fund")


def test_inactive_user_is_refused_even_reading() -> None:
    gone = user("old", (Role.AUDITOR, None), active=False)
    assert gone.roles_for("fx-sleeve") == frozenset()
    with pytest.raises(Forbidden, match="inactive"):
        authorize(gone, P.READ, "fx-sleeve")


def test_user_without_grants_may_not_even_read() -> None:
    with pytest.raises(Forbidden, match="no role"):
        authorize(user("nobody"), P.READ, "fx-sleeve")


def test_bad_grants_and_users_are_refused() -> None:
    assert RoleGrant("auditor").role is Role.AUDITOR  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="unknown role"):
        RoleGrant("superuser")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        RoleGrant(Role.AUDITOR, " ")
    with pytest.raises(InvalidInput):
        User(" ", "x", ())
