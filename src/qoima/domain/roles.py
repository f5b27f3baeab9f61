"""Roles, their permissions and the one check every write goes through.

The table follows DOMAIN.md: the maker proposes, risk and the committee approve, operations
execute, the auditor only reads, and the enforcement liaison works on cases only (so it can
never touch an order of a reserve vehicle). Grants are per vehicle; a grant without a vehicle
covers every vehicle. Enforced in the application layer, so every entry point gets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from qoima.domain.errors import Forbidden, InvalidInput


class Role(StrEnum):
    PORTFOLIO_MANAGER = "portfolio_manager"
    RISK_OFFICER = "risk_officer"
    COMMITTEE_MEMBER = "committee_member"
    OPERATIONS = "operations"
    ENFORCEMENT_LIAISON = "enforcement_liaison"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


class Permission(StrEnum):
    READ = "read"
    ORDER_CREATE = "order.create"
    ORDER_SUBMIT = "order.submit"
    ORDER_APPROVE = "order.approve"
    ORDER_REJECT = "order.reject"
    ORDER_EXECUTE = "order.execute"
    ORDER_SETTLE = "order.settle"
    ORDER_CANCEL = "order.cancel"
    POLICY_PROPOSE = "policy.propose"
    POLICY_APPROVE = "policy.approve"
    POLICY_VETO = "policy.veto"
    RISK_RUN = "risk.run"
    CASE_WRITE = "case.write"
    USER_ADMIN = "user.admin"
    ENTRY_POST = "entry.post"  # ledger entries outside the order flow (transfers, income)
    MARKET_WRITE = "market.write"  # prices, FX, series, ETF facts
    REFERENCE_WRITE = "reference.write"  # vehicles, instruments, custodians, accounts
    AUDIT_CHECKPOINT = "audit.checkpoint"


_P = Permission

#: What each role may do. READ is everyone's; nothing else is implied by another role.
PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType({
    Role.PORTFOLIO_MANAGER: frozenset({
        _P.READ, _P.ORDER_CREATE, _P.ORDER_SUBMIT, _P.ORDER_CANCEL, _P.POLICY_PROPOSE}),
    Role.RISK_OFFICER: frozenset({
        _P.READ, _P.ORDER_APPROVE, _P.ORDER_REJECT, _P.POLICY_PROPOSE, _P.RISK_RUN,
        _P.MARKET_WRITE}),
    Role.COMMITTEE_MEMBER: frozenset({
        _P.READ, _P.ORDER_APPROVE, _P.ORDER_REJECT, _P.POLICY_APPROVE, _P.POLICY_VETO}),
    Role.OPERATIONS: frozenset({_P.READ, _P.ORDER_EXECUTE, _P.ORDER_SETTLE, _P.ENTRY_POST,
                                _P.MARKET_WRITE, _P.AUDIT_CHECKPOINT}),
    Role.ENFORCEMENT_LIAISON: frozenset({_P.READ, _P.CASE_WRITE}),
    Role.AUDITOR: frozenset({_P.READ}),
    Role.ADMINISTRATOR: frozenset({_P.READ, _P.USER_ADMIN, _P.REFERENCE_WRITE,
                                   _P.AUDIT_CHECKPOINT}),
})


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """``role`` on one vehicle, or on every vehicle when ``vehicle_code`` is None."""

    role: Role
    vehicle_code: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "role", Role(self.role))
        except ValueError:
            raise InvalidInput(f"unknown role {self.role!r}", field="role") from None
        if self.vehicle_code is not None and not self.vehicle_code.strip():
            raise InvalidInput("a grant's vehicle code cannot be blank", field="vehicle_code")

    def covers(self, vehicle_code: str | None) -> bool:
        """A vehicle-wide action (``vehicle_code`` None) needs a grant on every vehicle."""
        return self.vehicle_code is None or self.vehicle_code == vehicle_code


@dataclass(frozen=True, slots=True)
class User:
    """A named person; ``name`` is the stable login, ``display_name`` what reports show."""

    name: str
    display_name: str
    grants: tuple[RoleGrant, ...]
    active: bool = True

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("a user needs a name", field="name")

    def roles_for(self, vehicle_code: str | None) -> frozenset[Role]:
        """Roles this user holds on ``vehicle_code``; an inactive user holds none."""
        if not self.active:
            return frozenset()
        return frozenset(g.role for g in self.grants if g.covers(vehicle_code))

    def permissions_for(self, vehicle_code: str | None) -> frozenset[Permission]:
        granted: set[Permission] = set()
        for role in self.roles_for(vehicle_code):
            granted |= PERMISSIONS[role]
        return frozenset(granted)

    def can(self, permission: Permission, vehicle_code: str | None) -> bool:
        return permission in self.permissions_for(vehicle_code)


def authorize(user: User, permission: Permission, vehicle_code: str | None) -> None:
    """Raise :class:`Forbidden` unless ``user`` may do ``permission`` on ``vehicle_code``.

    ``vehicle_code`` None is an action on no one vehicle (user admin, institution-wide
    reads); it needs a grant that covers every vehicle.
    """
    where = f"vehicle {vehicle_code}" if vehicle_code is not None else "every vehicle"
    if not user.active:
        raise Forbidden(f"user {user.name} is inactive and may not {permission} on {where}",
                        user=user.name, permission=str(permission), vehicle_code=vehicle_code)
    if not user.can(permission, vehicle_code):
        roles = ", ".join(sorted(user.roles_for(vehicle_code))) or "no role"
        raise Forbidden(
            f"user {user.name} ({roles}) may not {permission} on {where}",
            user=user.name, permission=str(permission), vehicle_code=vehicle_code)
