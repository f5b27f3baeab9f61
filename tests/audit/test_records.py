"""The audit hash chain: every kind of tampering breaks it at the right record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from qoima.audit.records import (
    GENESIS_HASH,
    AuditRecord,
    ChainBreak,
    compute_record_hash,
    find_chain_break,
    new_record,
)
from qoima.domain.canonical import canonical_json, sha256_hex

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
HASHED = ["at", "actor", "action", "object_type", "object_id", "payload_hash", "prev_hash"]


def chain(length: int = 6) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    for n in range(length):
        records.append(new_record(
            records[-1] if records else None, at=T0 + timedelta(minutes=n), actor=f"user-{n % 2}",
            action="entry.post", object_type="entry", object_id=f"e-{n}",
            payload={"entry_id": f"e-{n}", "amount": Decimal(f"{n}.50")}))
    return records


def verify(records: list[AuditRecord]) -> tuple[list[AuditRecord], ChainBreak | None]:
    good: list[AuditRecord] = []
    for item in find_chain_break(records):
        if isinstance(item, ChainBreak):
            return good, item
        good.append(item)
    return good, None


def test_new_record_links_to_the_previous() -> None:
    first, second = chain(2)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.record_hash
    assert first.payload == '{"amount":"0.5","entry_id":"e-0"}'
    assert first.payload_hash == sha256_hex(first.payload)
    assert first.record_hash == compute_record_hash(first)
    assert len(first.record_hash) == 64


def test_record_hash_covers_the_documented_fields() -> None:
    record = chain(1)[0]
    assert record.record_hash == sha256_hex(canonical_json(record.hashed_fields()))
    assert set(record.hashed_fields()) == {"seq", *HASHED}


def test_payload_hash_is_the_content_hash() -> None:
    record = new_record(None, at=T0, actor="a", action="x", object_type="t", object_id="1",
                        payload={"b": 1, "a": Decimal("2.0")})
    assert record.payload_hash == sha256_hex('{"a":"2","b":1}')


def test_naive_time_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        new_record(None, at=datetime(2024, 1, 1), actor="a", action="x",  # noqa: DTZ001
                   object_type="t", object_id="1", payload={})


def test_intact_chain_verifies() -> None:
    records = chain()
    good, broken = verify(records)
    assert broken is None
    assert good == records


def test_empty_chain_verifies() -> None:
    assert verify([]) == ([], None)


@pytest.mark.parametrize("position", range(6))
@pytest.mark.parametrize("name", [*HASHED, "payload", "record_hash"])
def test_altering_any_field_breaks_at_that_record(name: str, position: int) -> None:
    records = chain()
    value = getattr(records[position], name)
    if name == "at":
        altered = value + timedelta(seconds=1)
    elif name == "payload":
        altered = value.replace("\"e-", "\"f-")
    elif name in ("payload_hash", "prev_hash", "record_hash"):
        altered = ("1" if value[0] != "1" else "2") + value[1:]
    else:
        altered = value + "x"
    records[position] = replace(records[position], **{name: altered})
    good, broken = verify(records)
    assert broken is not None
    assert broken.seq == position + 1
    assert len(good) == position


def test_same_instant_in_another_zone_is_still_an_alteration() -> None:
    records = chain()
    records[2] = replace(records[2], at=records[2].at.astimezone(timezone(timedelta(hours=5))))
    assert verify(records)[1] == ChainBreak(3, "record_hash does not match its fields "
                                               "(record altered)")


def test_altered_payload_is_named() -> None:
    records = chain()
    records[1] = replace(records[1], payload='{"amount":"999","entry_id":"e-1"}')
    broken = verify(records)[1]
    assert broken is not None
    assert (broken.seq, "payload altered" in broken.reason) == (2, True)


def test_record_rehashed_after_alteration_breaks_the_next() -> None:
    records = chain()
    forged = replace(records[2], actor="mallory")
    records[2] = replace(forged, record_hash=compute_record_hash(forged))
    broken = verify(records)[1]
    assert broken is not None
    assert broken.seq == 4
    assert "prev_hash" in broken.reason


def test_altered_seq_breaks() -> None:
    records = chain()
    records[3] = replace(records[3], seq=99)
    assert verify(records)[1] == ChainBreak(4, "record 4 is missing (deleted?); found seq 99 "
                                               "in its place")


@pytest.mark.parametrize("position", range(5))  # deleting the last one is a truncation
def test_deleting_a_record(position: int) -> None:
    records = chain()
    del records[position]
    good, broken = verify(records)
    assert broken is not None
    assert broken.seq == position + 1
    assert "missing (deleted?)" in broken.reason
    assert len(good) == position


def test_truncating_the_tail_is_left_to_checkpoints() -> None:
    # documented: a cut tail still chains; the published Merkle root catches it
    assert verify(chain()[:-1])[1] is None


@pytest.mark.parametrize(("i", "j"), [(0, 1), (1, 4), (2, 3), (4, 5)])
def test_swapping_two_records(i: int, j: int) -> None:
    records = chain()
    records[i], records[j] = records[j], records[i]
    good, broken = verify(records)
    assert broken is not None
    assert broken.seq == i + 1
    assert len(good) == i


def test_swapping_and_renumbering_breaks_the_links() -> None:
    records = chain()
    records[1], records[2] = replace(records[2], seq=2), replace(records[1], seq=3)
    broken = verify(records)[1]
    assert broken is not None
    assert broken.seq == 2


@pytest.mark.parametrize("position", range(1, 6))
def test_inserting_a_forged_record(position: int) -> None:
    """A well-formed record slipped in after ``position`` records: the original record
    that now follows it no longer carries the expected sequence number."""
    records = chain()
    forged = new_record(records[position - 1], at=T0, actor="mallory", action="entry.post",
                        object_type="entry", object_id="evil", payload={"x": 1})
    records.insert(position, forged)
    good, broken = verify(records)
    assert broken is not None
    assert broken.seq == position + 2
    assert "out of order" in broken.reason
    assert good[-1] == forged


def test_inserting_a_renumbered_record_breaks_the_links() -> None:
    records = chain()
    forged = new_record(records[1], at=T0, actor="mallory", action="x", object_type="entry",
                        object_id="evil", payload={})
    # renumber everything after it so seq matches, but the old links no longer do
    records = [*records[:2], forged, *(replace(r, seq=r.seq + 1) for r in records[2:])]
    broken = verify(records)[1]
    assert broken is not None
    assert broken.seq == 4
    assert "prev_hash" in broken.reason


def test_chain_break_stops_the_walk() -> None:
    records = chain()
    records[1] = replace(records[1], actor="x")
    items = list(find_chain_break(records))
    assert items[:-1] == records[:1]
    assert isinstance(items[-1], ChainBreak)
