"""Storage ports for governance: users and grants, policy versions, breaches, orders.

Records carry primitives only (str, int, bool, Decimal, date, datetime, None and tuples of
records), so the store knows nothing of the policy and order models: the application maps
them to ``qoima.policy`` / ``qoima.orders`` objects. Enumerated values (roles, order sides and
statuses, severities) are their string values. Repositories never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class PolicyVersionStatus(StrEnum):
    """Where a stored policy version stands; only one version per vehicle is ACTIVE."""

    PROPOSED = "proposed"
    APPROVED = "approved"  # approved, waiting for its change delay (takes_effect_at)
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    VETOED = "vetoed"


# -- users -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GrantRecord:
    """A role held by a user on one vehicle, or on every vehicle when ``vehicle_code`` is None."""

    role: str
    vehicle_code: str | None = None


@dataclass(frozen=True, slots=True)
class UserRecord:
    name: str
    display_name: str
    created_at: datetime
    active: bool = True
    grants: tuple[GrantRecord, ...] = ()


class UserRepository(Protocol):
    def add_user(self, user: UserRecord) -> None:
        """Store a new user and its grants; Conflict when the name is taken."""
        ...

    def find_user(self, name: str) -> UserRecord | None: ...

    def list_users(self) -> list[UserRecord]:
        """Every user by name; grants come back in the order they were given."""
        ...

    def set_active(self, name: str, active: bool) -> None:
        """NotFound for an unknown user."""
        ...

    def grant(self, name: str, grant: GrantRecord) -> bool:
        """Add a grant; False when the user holds it already. NotFound for an unknown user."""
        ...

    def revoke(self, name: str, grant: GrantRecord) -> bool:
        """Remove a grant; False when the user did not hold it."""
        ...

    def set_grants(self, name: str, grants: Sequence[GrantRecord]) -> None:
        """Replace every grant of the user (duplicates collapse)."""
        ...


# -- policies and breaches ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PolicyVersionRecord:
    """One version of a vehicle's investment policy: its source text and its approval state.

    ``content_hash`` is the policy's canonical hash; ``source_text`` is the file as given
    (``format`` "yaml" or "toml"), so the exact text that was approved can be shown again.
    ``takes_effect_at`` is when a loosening change may become active (after the delay).
    """

    vehicle_code: str
    version: int
    content_hash: str
    source_text: str
    format: str
    status: str
    proposed_by: str
    proposed_at: datetime
    effective_from: date
    approved_by: str | None = None
    approved_at: datetime | None = None
    vetoed_by: str | None = None
    vetoed_at: datetime | None = None
    takes_effect_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class BreachRecord:
    """A policy finding that stayed open across days; ``breach_id`` is None until stored."""

    vehicle_code: str
    rule: str
    subject: str
    severity: str
    opened_on: date
    message: str
    policy_hash: str
    measured: str | None = None
    limit_text: str | None = None
    closed_on: date | None = None
    breach_id: int | None = None


class PolicyRepository(Protocol):
    def add_version(self, record: PolicyVersionRecord) -> None:
        """Conflict when the vehicle already has this version number."""
        ...

    def update_version(self, record: PolicyVersionRecord) -> None:
        """Write the approval state (status, approved/vetoed by/at, takes_effect_at, reason,
        effective_from) of a stored version. The content (hash, text, format, proposer) never
        changes: NotFound for an unknown version, Conflict when the content_hash differs."""
        ...

    def find_version(self, vehicle_code: str, version: int) -> PolicyVersionRecord | None: ...

    def latest_version(self, vehicle_code: str) -> PolicyVersionRecord | None:
        """The highest version number in any status (the next proposal takes number + 1)."""
        ...

    def list_versions(self, vehicle_code: str | None = None,
                      status: str | None = None) -> list[PolicyVersionRecord]:
        """By vehicle, then version ascending."""
        ...

    def find_active(self, vehicle_code: str) -> PolicyVersionRecord | None:
        """The highest ACTIVE version of the vehicle."""
        ...

    def list_active(self) -> list[PolicyVersionRecord]:
        """The highest ACTIVE version of each vehicle that has one, by vehicle."""
        ...

    def in_force(self, vehicle_code: str, on: date) -> PolicyVersionRecord | None:
        """The version that governed ``on``: the highest ACTIVE or SUPERSEDED version whose
        effective_from is on or before that day."""
        ...

    def add_breach(self, record: BreachRecord) -> int:
        """Open a breach, returning its id. Conflict when the same (vehicle, rule, subject)
        is already open."""
        ...

    def close_breach(self, breach_id: int, closed_on: date) -> None:
        """NotFound for an unknown id, Conflict when already closed, InvalidInput when
        ``closed_on`` is before ``opened_on``."""
        ...

    def list_open_breaches(self, vehicle_code: str | None = None) -> list[BreachRecord]:
        """Open breaches by vehicle, opened_on, id."""
        ...

    def list_breaches(self, vehicle_code: str | None = None,
                      since: date | None = None) -> list[BreachRecord]:
        """Open and closed breaches (``since``: still open on or closed on or after that
        day), by vehicle, opened_on, id."""
        ...


# -- orders ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    """One approval, bound to the terms it approved (an edit changes terms_hash)."""

    user: str
    roles: tuple[str, ...]
    terms_hash: str
    at: datetime
    override_reason: str | None = None


@dataclass(frozen=True, slots=True)
class FillRecord:
    """One execution of an order; ``entry_id`` is the ledger entry it posted, if any."""

    fill_id: str
    quantity: Decimal
    price: Decimal
    fees_usd: Decimal
    venue: str
    counterparty: str
    executed_at: datetime
    settlement_date: date
    entry_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order's current state. ``pretrade_json`` is the canonical JSON of its pre-trade
    findings; approvals and fills come back in the order they were added."""

    order_id: str
    idempotency_key: str
    vehicle_code: str
    instrument_code: str
    side: str
    quantity: Decimal
    estimated_price: Decimal
    status: str
    maker: str
    created_at: datetime
    updated_at: datetime
    terms_hash: str
    limit_price: Decimal | None = None
    tranche_code: str | None = None
    custodian_code: str | None = None
    note: str = ""
    rejection_reason: str | None = None
    pretrade_json: str = "[]"
    pretrade_policy_hash: str | None = None
    approvals: tuple[ApprovalRecord, ...] = ()
    fills: tuple[FillRecord, ...] = ()


class OrderRepository(Protocol):
    def add_order(self, order: OrderRecord) -> str:
        """Store a new order (with any approvals and fills it carries) and return its id.

        When the idempotency key is already stored, nothing is written and the stored
        order's id is returned: the caller compares content (IdempotencyConflict is its
        call). Conflict when the order id is taken under another key.
        """
        ...

    def find_order(self, order_id: str) -> OrderRecord | None: ...

    def find_by_idempotency_key(self, key: str) -> OrderRecord | None: ...

    def list_orders(self, vehicle_code: str | None = None,
                    status: str | Sequence[str] | None = None,
                    limit: int | None = None) -> list[OrderRecord]:
        """By created_at then order_id; ``status`` one value or several."""
        ...
    def page_order_ids(self, vehicle_codes: Sequence[str] | None,
                       status: Sequence[str] | None, offset: int, limit: int
                       ) -> tuple[list[str], int]:
        """One page of the ids :meth:`list_orders` gives over several vehicles (None: all),
        and the number of orders matching in total."""
        ...

    def orders_by_ids(self, order_ids: Sequence[str]) -> list[OrderRecord]:
        """These orders with approvals and fills, in the order given."""
        ...

    def update_order(self, order: OrderRecord) -> None:
        """Write the order's terms and state (status, timestamps, rejection, pre-trade).

        The identity (idempotency key, maker, created_at) and the approvals and fills
        (see add_approval / add_fill) are not touched. NotFound for an unknown order.
        """
        ...

    def add_approval(self, order_id: str, approval: ApprovalRecord) -> None:
        """Append an approval. NotFound for an unknown order."""
        ...

    def clear_approvals(self, order_id: str) -> int:
        """Remove every approval of the order (an edit voids them; the audit trail keeps
        them); returns how many were removed."""
        ...

    def add_fill(self, order_id: str, fill: FillRecord) -> None:
        """Append a fill. NotFound for an unknown order, Conflict for a fill id already
        recorded on that order."""
        ...
