"""Verifying the audit trail and publishing checkpoints."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qoima.app.ports import Checkpoint, Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.units import in_write_unit, record_change
from qoima.app.users import require
from qoima.audit.merkle import MerkleAccumulator, merkle_root
from qoima.audit.records import ChainBreak, find_chain_break
from qoima.domain.roles import Permission


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int | None  # the first bad audit record, when the problem is in the trail
    message: str


@dataclass(frozen=True, slots=True)
class AuditVerification:
    records: int
    checkpoints_checked: int
    entries_checked: int
    root: str
    problems: tuple[AuditProblem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        return next((p.seq for p in self.problems if p.seq is not None), None)


Progress = Callable[[int, int], None]
REFUSED = "access.refused"


class AuditService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock) -> None:
        self._units = units
        self._clock = clock

    def verify(self, *, expected_root: str | None = None, expected_size: int | None = None,
               progress: Progress | None = None) -> AuditVerification:
        """Check the chain, every checkpoint, and that the book matches the trail."""
        with self._units(write=False) as uow:
            return _verify(uow, expected_root, expected_size, progress)

    def latest_checkpoint(self) -> Checkpoint | None:
        with self._units(write=False) as uow:
            found = uow.audit.list_checkpoints()
        return max(found, key=lambda c: c.checkpoint_id) if found else None

    def checkpoint(self, *, actor: str) -> Checkpoint:
        """Record the Merkle root over every record so far, then audit that act."""
        def work(uow: UnitOfWork) -> Checkpoint:
            require(uow, actor, Permission.AUDIT_CHECKPOINT)
            hashes = [bytes.fromhex(r.record_hash) for r in uow.audit.iter_records()]
            cp = uow.audit.add_checkpoint(len(hashes), merkle_root(hashes), self._clock.now())
            record_change(uow, at=cp.created_at, actor=actor, action="audit.checkpoint",
                          object_type="checkpoint", object_id=str(cp.checkpoint_id),
                          payload={"size": cp.size, "root": cp.root})
            return cp
        return in_write_unit(self._units, work)

    def record_refusal(self, *, actor: str, target: str, reason: str,
                       details: Mapping[str, Any]) -> None:
        """Audit a refused request (not allowed, bad credentials, CSRF, key reuse...).

        The refused use case rolled its own unit back, so the refusal gets a unit of its
        own; ``target`` says what was asked for (e.g. ``"POST /api/v1/orders"``).
        """
        payload = {"reason": reason, **details}

        def work(uow: UnitOfWork) -> None:
            record_change(uow, at=self._clock.now(), actor=actor[:128], action=REFUSED,
                          object_type="request", object_id=target[:300], payload=payload)
        in_write_unit(self._units, work)


def _verify(uow: UnitOfWork, expected_root: str | None, expected_size: int | None,
            progress: Progress | None) -> AuditVerification:
    total = uow.audit.count()
    checkpoints = {cp.size: cp for cp in uow.audit.list_checkpoints()}
    wanted_roots = dict.fromkeys(checkpoints, "")
    if expected_size is not None:
        wanted_roots[expected_size] = ""
    problems: list[AuditProblem] = []
    accumulator = MerkleAccumulator()
    entry_hashes: dict[str, str] = {}
    for record in find_chain_break(uow.audit.iter_records()):
        if isinstance(record, ChainBreak):
            problems.append(AuditProblem(record.seq, f"audit record {record.seq}: "
                                                     f"{record.reason}"))
            break
        accumulator.append(bytes.fromhex(record.record_hash))
        if record.object_type == "entry":
            entry_hashes[record.object_id] = record.payload_hash
        if accumulator.size in wanted_roots:
            wanted_roots[accumulator.size] = accumulator.root()
        if progress and accumulator.size % 5000 == 0:
            progress(accumulator.size, total)
    verified = accumulator.size
    for size, cp in sorted(checkpoints.items()):
        if size > verified:
            problems.append(AuditProblem(verified + 1, f"checkpoint {cp.checkpoint_id} covers "
                                         f"{size} records but only {verified} verify"))
        elif wanted_roots[size] != cp.root:
            problems.append(AuditProblem(None, f"checkpoint {cp.checkpoint_id} root {cp.root} "
                                         f"differs from the trail's root over {size} records"))
    if expected_size is not None:
        got = wanted_roots.get(expected_size) or None
        if expected_size > verified or got != expected_root:
            problems.append(AuditProblem(None, f"published root over {expected_size} records "
                                         f"does not match the trail ({got or 'not reachable'})"))
    entries = 0
    if not problems:
        for entry in uow.journal.iter_entries():
            entries += 1
            recorded = entry_hashes.pop(entry.entry_id, None)
            recomputed = entry.draft.content_hash()
            if recorded is None:
                problems.append(AuditProblem(None, f"entry {entry.entry_id} is in the book but "
                                             "not in the audit trail"))
            elif recorded != recomputed or entry.content_hash != recomputed:
                problems.append(AuditProblem(None, f"entry {entry.entry_id} was altered after "
                                             "posting (content differs from the audit trail)"))
        for missing in sorted(entry_hashes):
            problems.append(AuditProblem(None, f"entry {missing} is in the audit trail but "
                                         "missing from the book (deleted?)"))
    if progress:
        progress(verified, total)
    return AuditVerification(verified, len(checkpoints), entries, accumulator.root(),
                             tuple(problems))
