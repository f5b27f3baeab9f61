"""Gate decisions and tranche plans. Never commits.

Writers hold the write lock for their whole unit (see ``uow``), so looking up a hash or an
idempotency key before inserting cannot race with another writer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import Connection, insert, select, update

from qoima.app.allocation_ports import GateDecisionRecord, TranchePlanRecord
from qoima.domain.errors import Conflict, NotFound
from qoima.store import allocation_tables as at

_G, _P, _O = at.gate_decisions, at.tranche_plans, at.tranche_orders


class SqlAllocationRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_gate_decision(self, record: GateDecisionRecord) -> GateDecisionRecord:
        stored = self._c.execute(select(_G).where(
            _G.c.decision_hash == record.decision_hash)).first()
        if stored is not None:
            return _decision(stored)
        values = {k: v for k, v in asdict(record).items() if k != "id"}
        new_id = self._c.execute(insert(_G).values(values)).inserted_primary_key
        return replace(record, id=int(new_id[0]) if new_id else None)

    def list_gate_decisions(self, vehicle_code: str | None = None,
                            limit: int | None = None) -> list[GateDecisionRecord]:
        query = select(_G).order_by(_G.c.as_of_date.desc(), _G.c.id.desc())
        if vehicle_code is not None:
            query = query.where(_G.c.vehicle_code == vehicle_code)
        if limit is not None:
            query = query.limit(limit)
        return [_decision(row) for row in self._c.execute(query).all()]

    def add_plan(self, record: TranchePlanRecord) -> TranchePlanRecord:
        stored = self._c.execute(select(_P.c.plan_id).where(
            _P.c.idempotency_key == record.idempotency_key)).first()
        if stored is not None:
            found = self.find_plan(str(stored.plan_id))
            assert found is not None
            return found
        if self._c.execute(select(_P.c.plan_id).where(
                _P.c.plan_id == record.plan_id)).first() is not None:
            raise Conflict(f"plan id {record.plan_id!r} is taken by another idempotency key",
                           plan_id=record.plan_id)
        values = {k: v for k, v in asdict(record).items() if k != "orders"}
        self._c.execute(insert(_P).values(values))
        for tranche_id, order_id in record.orders:
            self.add_plan_order(record.plan_id, tranche_id, order_id)
        return record

    def add_plan_order(self, plan_id: str, tranche_id: str, order_id: str) -> None:
        self._c.execute(insert(_O).values(plan_id=plan_id, tranche_id=tranche_id,
                                          order_id=order_id))

    def find_plan(self, plan_id: str) -> TranchePlanRecord | None:
        rows = self._plans(select(_P).where(_P.c.plan_id == plan_id))
        return rows[0] if rows else None

    def list_plans(self, vehicle_code: str | None = None,
                   status: str | Sequence[str] | None = None) -> list[TranchePlanRecord]:
        query = select(_P).order_by(_P.c.created_at, _P.c.plan_id)
        if vehicle_code is not None:
            query = query.where(_P.c.vehicle_code == vehicle_code)
        if status is not None:
            query = query.where(_P.c.status.in_([status] if isinstance(status, str)
                                                else list(status)))
        return self._plans(query)

    def set_plan_status(self, plan_id: str, status: str) -> None:
        done = self._c.execute(update(_P).where(_P.c.plan_id == plan_id).values(
            status=status))
        if done.rowcount == 0:
            raise NotFound(f"no tranche plan {plan_id!r}", field="plan")

    def _plans(self, query: Any) -> list[TranchePlanRecord]:
        rows = self._c.execute(query).all()
        if not rows:
            return []
        links: dict[str, list[tuple[str, str]]] = defaultdict(list)
        found = self._c.execute(select(_O).where(_O.c.plan_id.in_([r.plan_id for r in rows]))
                                .order_by(_O.c.tranche_id, _O.c.order_id)).all()
        for link in found:
            links[link.plan_id].append((link.tranche_id, link.order_id))
        fields = [name for name in TranchePlanRecord.__slots__ if name != "orders"]
        return [TranchePlanRecord(**{name: getattr(row, name) for name in fields},
                                  orders=tuple(links[row.plan_id])) for row in rows]


def _decision(row: Any) -> GateDecisionRecord:
    return GateDecisionRecord(**{name: getattr(row, name)
                                 for name in GateDecisionRecord.__slots__})
