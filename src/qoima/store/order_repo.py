"""Orders with their approvals and fills. Never commits.

Writers hold the write lock for their whole unit (see ``uow``), so checking an idempotency
key or a fill id before inserting cannot race with another writer.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, or_, select, update

from qoima.app.governance_ports import ApprovalRecord, FillRecord, OrderRecord
from qoima.domain.errors import Conflict, NotFound
from qoima.store import governance_tables as g

_O, _A, _F = g.orders, g.order_approvals, g.order_fills
_HEADER = tuple(name for name in OrderRecord.__slots__ if name not in ("approvals", "fills"))
_IDENTITY = ("order_id", "idempotency_key", "maker", "created_at")
_STATE = tuple(name for name in _HEADER if name not in _IDENTITY)
_FILL_FIELDS = FillRecord.__slots__
_BATCH = 500  # order ids per IN list when loading approvals and fills
# Built once: a draft runs these under the writer lock (see auth_repo's idempotency keys).
_BY_KEY = select(_O).where(_O.c.idempotency_key == bindparam("key"))
_KEY_OR_ID = select(_O.c.order_id, _O.c.idempotency_key).where(
    or_(_O.c.idempotency_key == bindparam("key"), _O.c.order_id == bindparam("id")))
_INSERT_ORDER = insert(_O)


class SqlOrderRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_order(self, order: OrderRecord) -> str:
        taken = self._c.execute(_KEY_OR_ID, {"key": order.idempotency_key,
                                             "id": order.order_id}).all()
        for row in taken:
            if row.idempotency_key == order.idempotency_key:
                return str(row.order_id)
        if taken:
            raise Conflict(f"order id {order.order_id!r} is taken by another idempotency key",
                           order_id=order.order_id)
        fill_ids = [fill.fill_id for fill in order.fills]
        if len(set(fill_ids)) != len(fill_ids):
            raise Conflict(f"order {order.order_id!r} carries a fill id twice",
                           order_id=order.order_id)
        self._c.execute(_INSERT_ORDER, _header(order, _HEADER))
        if order.approvals:
            self._c.execute(insert(_A), [_approval_row(order.order_id, approval)
                                         for approval in order.approvals])
        if order.fills:
            self._c.execute(insert(_F), [_fill_row(order.order_id, fill)
                                         for fill in order.fills])
        return order.order_id

    def find_order(self, order_id: str) -> OrderRecord | None:
        rows = self._c.execute(select(_O).where(_O.c.order_id == order_id)).all()
        found = self._orders(rows)
        return found[0] if found else None

    def find_by_idempotency_key(self, key: str) -> OrderRecord | None:
        rows = self._c.execute(_BY_KEY, {"key": key}).all()
        found = self._orders(rows)
        return found[0] if found else None

    def list_orders(self, vehicle_code: str | None = None,
                    status: str | Sequence[str] | None = None,
                    limit: int | None = None) -> list[OrderRecord]:
        query = select(_O).order_by(_O.c.created_at, _O.c.order_id)
        if vehicle_code is not None:
            query = query.where(_O.c.vehicle_code == vehicle_code)
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            query = query.where(_O.c.status.in_([str(s) for s in statuses]))
        if limit is not None:
            query = query.limit(limit)
        return self._orders(self._c.execute(query).all())

    def page_order_ids(self, vehicle_codes: Sequence[str] | None,
                       status: Sequence[str] | None, offset: int, limit: int
                       ) -> tuple[list[str], int]:
        """One page of the ids :meth:`list_orders` gives, and the total: two index reads."""
        where = []
        if vehicle_codes is not None:
            where.append(_O.c.vehicle_code.in_(list(vehicle_codes)))
        if status is not None:
            where.append(_O.c.status.in_([str(s) for s in status]))
        total = self._c.execute(select(func.count()).select_from(_O).where(*where)).scalar_one()
        ids = self._c.execute(select(_O.c.order_id).where(*where)
                              .order_by(_O.c.created_at, _O.c.order_id)
                              .offset(offset).limit(limit)).scalars().all()
        return [str(i) for i in ids], int(total)

    def orders_by_ids(self, order_ids: Sequence[str]) -> list[OrderRecord]:
        """These orders, in this order (ids that do not exist are left out)."""
        found: dict[str, Any] = {}
        for start in range(0, len(order_ids), _BATCH):
            batch = list(order_ids[start:start + _BATCH])
            found.update((row.order_id, row) for row in self._c.execute(
                select(_O).where(_O.c.order_id.in_(batch))))
        return self._orders([found[i] for i in order_ids if i in found])

    def update_order(self, order: OrderRecord) -> None:
        result = self._c.execute(update(_O).where(_O.c.order_id == order.order_id)
                                 .values(_header(order, _STATE)))
        if result.rowcount == 0:
            raise NotFound(f"no order {order.order_id!r}", order_id=order.order_id)

    def add_approval(self, order_id: str, approval: ApprovalRecord) -> None:
        self._require(order_id)
        self._c.execute(insert(_A).values(_approval_row(order_id, approval)))

    def clear_approvals(self, order_id: str) -> int:
        return int(self._c.execute(delete(_A).where(_A.c.order_id == order_id)).rowcount)

    def add_fill(self, order_id: str, fill: FillRecord) -> None:
        self._require(order_id)
        taken = self._c.execute(select(_F.c.id).where(
            _F.c.order_id == order_id, _F.c.fill_id == fill.fill_id)).first()
        if taken is not None:
            raise Conflict(f"fill {fill.fill_id!r} is already recorded on order {order_id!r}",
                           order_id=order_id, fill_id=fill.fill_id)
        self._c.execute(insert(_F).values(_fill_row(order_id, fill)))

    def _exists(self, order_id: str) -> bool:
        found = self._c.execute(select(_O.c.order_id).where(_O.c.order_id == order_id))
        return found.first() is not None

    def _require(self, order_id: str) -> None:
        if not self._exists(order_id):
            raise NotFound(f"no order {order_id!r}", order_id=order_id)

    def _orders(self, rows: Sequence[Any]) -> list[OrderRecord]:
        """Order rows with their approvals and fills, in a few queries for any number."""
        ids = [row.order_id for row in rows]
        approvals: dict[str, list[ApprovalRecord]] = defaultdict(list)
        fills: dict[str, list[FillRecord]] = defaultdict(list)
        for start in range(0, len(ids), _BATCH):
            batch = ids[start:start + _BATCH]
            for row in self._c.execute(select(_A).where(_A.c.order_id.in_(batch))
                                       .order_by(_A.c.id)):
                approvals[row.order_id].append(ApprovalRecord(
                    user=row.user_name, roles=tuple(json.loads(row.roles)),
                    terms_hash=row.terms_hash, at=row.at, override_reason=row.override_reason))
            for row in self._c.execute(select(_F).where(_F.c.order_id.in_(batch))
                                       .order_by(_F.c.id)):
                m = row._mapping
                fills[row.order_id].append(FillRecord(**{name: m[name] for name in _FILL_FIELDS}))
        return [OrderRecord(**{name: row._mapping[name] for name in _HEADER},
                            approvals=tuple(approvals[row.order_id]),
                            fills=tuple(fills[row.order_id]))
                for row in rows]


def _header(order: OrderRecord, names: Sequence[str]) -> dict[str, Any]:
    values = {name: getattr(order, name) for name in names}
    for name in ("side", "status"):  # an enum member or its value: the value is stored
        if name in values:
            values[name] = str(values[name])
    return values


def _approval_row(order_id: str, approval: ApprovalRecord) -> dict[str, Any]:
    return {"order_id": order_id, "user_name": approval.user,
            "roles": json.dumps([str(role) for role in approval.roles]),
            "terms_hash": approval.terms_hash, "at": approval.at,
            "override_reason": approval.override_reason}


def _fill_row(order_id: str, fill: FillRecord) -> dict[str, Any]:
    return {"order_id": order_id, **{name: getattr(fill, name) for name in _FILL_FIELDS}}
