"""Mandate versions and imported manager statements (with flows, fees, exposures). Never
commits; writers hold the write lock for their unit (see ``uow``), so a look-up before an
insert cannot race with another writer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Select, Table, and_, func, insert, select

from qoima.app.manager_ports import (
    ExposureRecord,
    FeeRecord,
    FlowRecord,
    MandateRecord,
    StatementRecord,
)
from qoima.domain.errors import Conflict
from qoima.store import manager_tables as mt

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    _R = TypeVar("_R", bound=DataclassInstance)
else:
    _R = TypeVar("_R")

_LINES = "flows", "fees", "exposures", "statement_id"
_BATCH = 500  # statement ids per IN (...) query


class SqlManagerRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    # mandates

    def add_mandate(self, record: MandateRecord) -> None:
        if self.find_mandate(record.manager_code, record.version) is not None:
            raise Conflict(f"mandate {record.manager_code} version {record.version} is "
                           "already recorded", manager=record.manager_code)
        self._c.execute(insert(mt.manager_mandates).values(_values(record)))

    def find_mandate(self, manager_code: str, version: int | None = None
                     ) -> MandateRecord | None:
        t = mt.manager_mandates
        query = select(t).where(t.c.manager_code == manager_code)
        query = (query.order_by(t.c.version.desc()).limit(1) if version is None
                 else query.where(t.c.version == version))
        row = self._c.execute(query).first()
        return None if row is None else _record(MandateRecord, row)

    def list_mandates(self) -> list[MandateRecord]:
        t = mt.manager_mandates
        inner = t.alias("inner")
        latest = (select(func.max(inner.c.version))
                  .where(inner.c.manager_code == t.c.manager_code).scalar_subquery())
        query = select(t).where(t.c.version == latest).order_by(t.c.manager_code)
        return [_record(MandateRecord, row) for row in self._c.execute(query).all()]

    def mandate_history(self, manager_code: str) -> list[MandateRecord]:
        t = mt.manager_mandates
        query = select(t).where(t.c.manager_code == manager_code).order_by(t.c.version)
        return [_record(MandateRecord, row) for row in self._c.execute(query).all()]

    # statements

    def add_statement(self, record: StatementRecord) -> StatementRecord:
        if self.find_statement(record.manager_code, record.period_end) is not None:
            raise Conflict(f"manager {record.manager_code} already has a statement for the "
                           f"period ending {record.period_end}", manager=record.manager_code)
        done = self._c.execute(insert(mt.manager_statements).values(_values(record, *_LINES)))
        key = done.inserted_primary_key
        assert key is not None
        statement_id = int(key[0])
        for table, lines in ((mt.manager_statement_flows, record.flows),
                             (mt.manager_statement_fees, record.fees),
                             (mt.manager_exposures, record.exposures)):
            rows = [{**_values(line), "statement_id": statement_id} for line in lines]
            if rows:
                self._c.execute(insert(table), rows)
        return replace(record, statement_id=statement_id)

    def find_statement(self, manager_code: str, period_end: date) -> StatementRecord | None:
        t = mt.manager_statements
        found = self._statements(select(t).where(and_(t.c.manager_code == manager_code,
                                                      t.c.period_end == period_end)))
        return found[0] if found else None

    def list_statements(self, manager_code: str | None = None,
                        until: date | None = None) -> list[StatementRecord]:
        t = mt.manager_statements
        query = select(t)
        if manager_code is not None:
            query = query.where(t.c.manager_code == manager_code)
        if until is not None:
            query = query.where(t.c.period_end <= until)
        return self._statements(query)

    def latest_statements(self, as_of: date) -> dict[str, StatementRecord]:
        t = mt.manager_statements
        inner = t.alias("inner")
        latest = (select(func.max(inner.c.period_end))
                  .where(inner.c.manager_code == t.c.manager_code,
                         inner.c.period_end <= as_of).scalar_subquery())
        found = self._statements(select(t).where(t.c.period_end == latest))
        return {s.manager_code: s for s in found}

    # helpers

    def _statements(self, query: Select[Any]) -> list[StatementRecord]:
        t = mt.manager_statements
        rows = self._c.execute(query.order_by(t.c.manager_code, t.c.period_end)).all()
        ids = [int(row.statement_id) for row in rows]
        flows = self._lines(mt.manager_statement_flows, FlowRecord, ids)
        fees = self._lines(mt.manager_statement_fees, FeeRecord, ids)
        exposures = self._lines(mt.manager_exposures, ExposureRecord, ids)
        result = []
        for row in rows:
            key = int(row.statement_id)
            mapping = row._mapping
            result.append(StatementRecord(
                **{f.name: mapping[f.name] for f in fields(StatementRecord)
                   if f.name not in _LINES},
                flows=tuple(flows.get(key, ())), fees=tuple(fees.get(key, ())),
                exposures=tuple(exposures.get(key, ())), statement_id=key))
        return result

    def _lines(self, table: Table, cls: type[_R], ids: Sequence[int]) -> dict[int, list[_R]]:
        found: dict[int, list[_R]] = defaultdict(list)
        for start in range(0, len(ids), _BATCH):
            query = (select(table).where(table.c.statement_id.in_(ids[start:start + _BATCH]))
                     .order_by(table.c.statement_id, table.c.position))
            for row in self._c.execute(query).all():
                found[int(row.statement_id)].append(_record(cls, row))
        return found


def _values(record: DataclassInstance, *leave_out: str) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record) if f.name not in leave_out}


def _record(cls: type[_R], row: Any) -> _R:
    mapping = row._mapping
    return cls(**{f.name: mapping[f.name] for f in fields(cls)})


def manager_repository(uow: Any) -> SqlManagerRepository:
    """The unit's manager repository: ``uow.managers`` once the unit of work carries it,
    else one bound to the unit's connection (until the wiring registers it)."""
    found = getattr(uow, "managers", None)
    if isinstance(found, SqlManagerRepository):
        return found
    return SqlManagerRepository(uow._connection)
