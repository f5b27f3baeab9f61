"""Daily run records. Never commits."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from qoima.app.run_ports import RunRecord
from qoima.domain.errors import Conflict
from qoima.store import run_tables

_R = run_tables.daily_runs


class SqlRunRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_run(self, record: RunRecord) -> None:
        if self.find_run(record.run_id) is not None:
            raise Conflict(f"run {record.run_id!r} is already recorded", run_id=record.run_id)
        self._c.execute(insert(_R).values(asdict(record)))

    def find_run(self, run_id: str) -> RunRecord | None:
        row = self._c.execute(select(_R).where(_R.c.run_id == run_id)).first()
        return None if row is None else _record(row)

    def list_runs(self, limit: int | None = None) -> list[RunRecord]:
        query = select(_R).order_by(_R.c.started_at.desc(), _R.c.run_id.desc())
        if limit is not None:
            query = query.limit(limit)
        return [_record(r) for r in self._c.execute(query).all()]

    def previous_run(self, as_of: date, *, before: datetime | None = None
                     ) -> RunRecord | None:
        """The latest original (not replayed) run on an earlier date than ``as_of``."""
        query = (select(_R).where(_R.c.as_of_date < as_of, _R.c.replay_of.is_(None))
                 .order_by(_R.c.as_of_date.desc(), _R.c.started_at.desc()).limit(1))
        if before is not None:
            query = query.where(_R.c.started_at < before)
        row = self._c.execute(query).first()
        return None if row is None else _record(row)


def _record(row: Any) -> RunRecord:
    return RunRecord(**{k: getattr(row, k) for k in RunRecord.__dataclass_fields__})
