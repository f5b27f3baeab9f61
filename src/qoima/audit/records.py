"""Audit records and the hash chain that links them. Pure.

Each record's hash covers its own fields and the previous record's hash, so altering,
deleting, reordering or inserting a record breaks the chain at that point. A rewrite of the
whole tail is caught by comparing against a published Merkle checkpoint root.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qoima.domain.canonical import canonical_json, content_hash, sha256_hex

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    payload: str  # canonical JSON of what changed
    payload_hash: str
    prev_hash: str
    record_hash: str

    def hashed_fields(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "payload_hash": self.payload_hash,
            "prev_hash": self.prev_hash,
        }


def compute_record_hash(record: AuditRecord) -> str:
    return content_hash(record.hashed_fields())


def new_record(
    previous: AuditRecord | None,
    *,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: Any,
) -> AuditRecord:
    """The record that follows ``previous``.

    ``payload_hash`` is SHA-256 of the canonical JSON payload; for a journal entry this is
    exactly the entry's content hash, which lets verification compare book and trail.
    """
    if at.tzinfo is None:
        raise ValueError("audit time must be timezone-aware UTC")
    text = canonical_json(payload)
    draft = AuditRecord(
        seq=1 if previous is None else previous.seq + 1,
        at=at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        payload=text,
        payload_hash=sha256_hex(text),
        prev_hash=GENESIS_HASH if previous is None else previous.record_hash,
        record_hash="",
    )
    return _with_hash(draft)


def _with_hash(record: AuditRecord) -> AuditRecord:
    return AuditRecord(**{**_fields(record), "record_hash": compute_record_hash(record)})


def _fields(record: AuditRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in AuditRecord.__slots__}


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first record at which the chain stops being what was written."""

    seq: int
    reason: str


def find_chain_break(records: Iterable[AuditRecord]) -> Iterator[ChainBreak | AuditRecord]:
    """Walk ``records`` in storage order; yield each verified record, then the break if any.

    Yielding as it goes lets callers build Merkle roots and show progress in one pass.
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    for record in records:
        if record.seq != expected_seq:
            what = "missing (deleted?)" if record.seq > expected_seq else "out of order"
            yield ChainBreak(expected_seq, f"record {expected_seq} is {what}; found "
                                           f"seq {record.seq} in its place")
            return
        if record.prev_hash != prev_hash:
            yield ChainBreak(record.seq, "prev_hash does not match the previous record "
                                         "(record inserted, removed or reordered)")
            return
        if sha256_hex(record.payload) != record.payload_hash:
            yield ChainBreak(record.seq, "payload does not match payload_hash (payload altered)")
            return
        if compute_record_hash(record) != record.record_hash:
            yield ChainBreak(record.seq, "record_hash does not match its fields "
                                         "(record altered)")
            return
        prev_hash = record.record_hash
        expected_seq += 1
        yield record

