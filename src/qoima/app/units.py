"""Running a use case in a write unit of work, retried when a concurrent writer wins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from qoima.app.ports import UnitOfWork, UnitOfWorkFactory
from qoima.audit.records import new_record
from qoima.domain.errors import TransientConflict

T = TypeVar("T")
MAX_ATTEMPTS = 8


def in_write_unit(factory: UnitOfWorkFactory, work: Callable[[UnitOfWork], T]) -> T:
    """Run ``work`` and commit; on a serialization failure start again from scratch."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with factory(write=True) as uow:
                result = work(uow)
                uow.commit()
                return result
        except TransientConflict:
            if attempt == MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def record_change(uow: UnitOfWork, *, at: Any, actor: str, action: str, object_type: str,
                  object_id: str, payload: Any) -> None:
    """Append the audit record for a state change, in the same unit as the change."""
    record = new_record(uow.audit.last(), at=at, actor=actor, action=action,
                        object_type=object_type, object_id=object_id, payload=payload)
    uow.audit.append(record)
