"""Storage port for custody transfers: the record, its approvals and the repository.

Records carry primitives only (like :mod:`qoima.app.governance_ports`): the status is its
string value and the custody findings of the last check are canonical JSON. Repositories
never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class TransferStatus(StrEnum):
    PROPOSED = "proposed"  # checked, waiting for the quorum
    APPROVED = "approved"  # quorum met, waiting for operations to send it
    EXECUTED = "executed"  # sent on chain and posted in the ledger
    REJECTED = "rejected"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class TransferApprovalRecord:
    """One person's approval; ``roles`` are the roles held on the vehicle at that time."""

    user: str
    at: datetime
    roles: tuple[str, ...] = ()
    override_reason: str | None = None


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """A token transfer out of a holding account.

    ``to_account`` None: the tokens leave the institution for ``destination``; an account
    code: they move to another of its own holdings (another custodian). ``findings_json``,
    ``policy_hash`` and ``quorum`` are those of the latest custody check. ``entry_id`` and
    ``tx_id`` are set once executed.
    """

    transfer_id: str
    idempotency_key: str
    vehicle_code: str
    instrument_code: str
    chain: str
    destination: str
    quantity: Decimal
    from_account: str
    status: str
    maker: str
    created_at: datetime
    updated_at: datetime
    quorum: int
    value_usd: Decimal | None = None
    to_account: str | None = None
    findings_json: str = "[]"
    policy_hash: str | None = None
    entry_id: str | None = None
    tx_id: str | None = None
    executed_at: datetime | None = None
    reason: str | None = None
    approvals: tuple[TransferApprovalRecord, ...] = ()


class TransferRepository(Protocol):
    def add_transfer(self, transfer: TransferRecord) -> str:
        """Store a new transfer and return its id; when the idempotency key is stored
        already, nothing is written and the stored id is returned (the caller compares)."""
        ...

    def find_transfer(self, transfer_id: str) -> TransferRecord | None: ...

    def find_by_idempotency_key(self, key: str) -> TransferRecord | None: ...

    def list_transfers(self, vehicle_code: str | None = None,
                       status: str | Sequence[str] | None = None) -> list[TransferRecord]:
        """By created_at then transfer_id."""
        ...

    def update_transfer(self, transfer: TransferRecord) -> None:
        """Write the state (status, value, check, execution, reason, updated_at); the
        identity and the content never change. NotFound for an unknown transfer."""
        ...

    def add_approval(self, transfer_id: str, approval: TransferApprovalRecord) -> None:
        """Record ``approval``, replacing an earlier one by the same user (one person counts
        once). NotFound for an unknown transfer."""
        ...
