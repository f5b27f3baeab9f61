"""Audit trail repository: append-only records and Merkle checkpoints."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from qoima.app.ports import Checkpoint
from qoima.audit.records import AuditRecord
from qoima.store import tables as t

_INSERT_RECORDS = insert(t.audit_records)
# every audited write reads the chain's head under the writer lock: built once
_LAST_RECORD = select(t.audit_records).order_by(t.audit_records.c.seq.desc()).limit(1)


class SqlAuditRepository:
    """Appends are held until ``flush`` (at commit, or before a read of the trail), then
    written in one statement: the unit of work is one transaction either way."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection
        self._last: AuditRecord | None = None
        self._new: list[dict[str, Any]] = []

    def last(self) -> AuditRecord | None:
        if self._last is None:
            row = self._c.execute(_LAST_RECORD).first()
            self._last = None if row is None else _record(row)
        return self._last

    def append(self, record: AuditRecord) -> None:
        self._new.append({name: getattr(record, name) for name in AuditRecord.__slots__})
        self._last = record

    def flush(self) -> None:
        if self._new:
            self._c.execute(_INSERT_RECORDS, self._new)
            self._new = []

    def iter_records(self, batch_size: int = 5000) -> Iterator[AuditRecord]:
        self.flush()
        last = 0
        while True:
            rows = self._c.execute(select(t.audit_records).where(t.audit_records.c.seq > last)
                                   .order_by(t.audit_records.c.seq).limit(batch_size)).all()
            if not rows:
                return
            for row in rows:
                yield _record(row)
            last = rows[-1].seq

    def count(self) -> int:
        self.flush()
        return int(self._c.execute(select(func.count()).select_from(t.audit_records))
                   .scalar_one())

    def add_checkpoint(self, size: int, root: str, created_at: datetime) -> Checkpoint:
        self.flush()
        new_id = self._c.execute(insert(t.audit_checkpoints).values(
            size=size, root=root, created_at=created_at).returning(t.audit_checkpoints.c.id)
        ).scalar_one()
        return Checkpoint(int(new_id), size, root, created_at)

    def list_checkpoints(self) -> list[Checkpoint]:
        rows = self._c.execute(select(t.audit_checkpoints).order_by(t.audit_checkpoints.c.id))
        return [Checkpoint(r.id, r.size, r.root, r.created_at) for r in rows]


def _record(row: Any) -> AuditRecord:
    m = row._mapping
    return AuditRecord(**{name: m[name] for name in AuditRecord.__slots__})
