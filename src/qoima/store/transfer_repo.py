"""Custody transfers with their approvals. Never commits.

Writers hold the write lock for their whole unit (see ``uow``), so checking an idempotency
key before inserting cannot race with another writer.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from qoima.app.transfer_ports import TransferApprovalRecord, TransferRecord
from qoima.domain.errors import Conflict, NotFound
from qoima.store import transfer_tables as tt

_T, _A = tt.transfers, tt.transfer_approvals
_HEADER = tuple(name for name in TransferRecord.__slots__ if name != "approvals")
_STATE = ("status", "value_usd", "updated_at", "quorum", "findings_json", "policy_hash",
          "entry_id", "tx_id", "executed_at", "reason")
_BATCH = 500


class SqlTransferRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_transfer(self, transfer: TransferRecord) -> str:
        stored = self._c.execute(select(_T.c.transfer_id).where(
            _T.c.idempotency_key == transfer.idempotency_key)).first()
        if stored is not None:
            return str(stored.transfer_id)
        if self._exists(transfer.transfer_id):
            raise Conflict(f"transfer id {transfer.transfer_id!r} is taken by another "
                           "idempotency key", transfer_id=transfer.transfer_id)
        self._c.execute(insert(_T).values(_values(transfer, _HEADER)))
        for approval in transfer.approvals:
            self.add_approval(transfer.transfer_id, approval)
        return transfer.transfer_id

    def find_transfer(self, transfer_id: str) -> TransferRecord | None:
        found = self._load(self._c.execute(
            select(_T).where(_T.c.transfer_id == transfer_id)).all())
        return found[0] if found else None

    def find_by_idempotency_key(self, key: str) -> TransferRecord | None:
        found = self._load(self._c.execute(
            select(_T).where(_T.c.idempotency_key == key)).all())
        return found[0] if found else None

    def list_transfers(self, vehicle_code: str | None = None,
                       status: str | Sequence[str] | None = None) -> list[TransferRecord]:
        query = select(_T).order_by(_T.c.created_at, _T.c.transfer_id)
        if vehicle_code is not None:
            query = query.where(_T.c.vehicle_code == vehicle_code)
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            query = query.where(_T.c.status.in_([str(s) for s in statuses]))
        return self._load(self._c.execute(query).all())

    def update_transfer(self, transfer: TransferRecord) -> None:
        result = self._c.execute(update(_T).where(_T.c.transfer_id == transfer.transfer_id)
                                 .values(_values(transfer, _STATE)))
        if result.rowcount == 0:
            raise NotFound(f"no transfer {transfer.transfer_id!r}",
                           transfer_id=transfer.transfer_id)

    def add_approval(self, transfer_id: str, approval: TransferApprovalRecord) -> None:
        if not self._exists(transfer_id):
            raise NotFound(f"no transfer {transfer_id!r}", transfer_id=transfer_id)
        self._c.execute(delete(_A).where(_A.c.transfer_id == transfer_id,
                                         _A.c.user_name == approval.user))
        self._c.execute(insert(_A).values(
            transfer_id=transfer_id, user_name=approval.user, at=approval.at,
            roles=json.dumps([str(role) for role in approval.roles]),
            override_reason=approval.override_reason))

    def _exists(self, transfer_id: str) -> bool:
        found = self._c.execute(select(_T.c.transfer_id).where(
            _T.c.transfer_id == transfer_id)).first()
        return found is not None

    def _load(self, rows: Sequence[Any]) -> list[TransferRecord]:
        """Transfer rows with their approvals (in the order given), in a few queries."""
        ids = [row.transfer_id for row in rows]
        approvals: dict[str, list[TransferApprovalRecord]] = defaultdict(list)
        for start in range(0, len(ids), _BATCH):
            for row in self._c.execute(select(_A).where(
                    _A.c.transfer_id.in_(ids[start:start + _BATCH])).order_by(_A.c.id)):
                approvals[row.transfer_id].append(TransferApprovalRecord(
                    user=row.user_name, at=row.at, roles=tuple(json.loads(row.roles)),
                    override_reason=row.override_reason))
        return [TransferRecord(**{name: row._mapping[name] for name in _HEADER},
                               approvals=tuple(approvals[row.transfer_id]))
                for row in rows]


def _values(transfer: TransferRecord, names: Sequence[str]) -> dict[str, Any]:
    values = {name: getattr(transfer, name) for name in names}
    if "status" in values:  # an enum member or its value: the value is stored
        values["status"] = str(values["status"])
    return values
