"""Tampering directly in the database is caught by ``AuditService.verify``, on both DBs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from qoima.app.ports import Checkpoint
from qoima.audit.records import AuditRecord, new_record
from qoima.bootstrap.wiring import Reserve
from tests.builders import buy, cash_in, sell
from tests.store.helpers import ready

DAY = date(2025, 3, 3)
FIELDS = ", ".join(AuditRecord.__slots__)


@pytest.fixture
def book(reserve: Reserve) -> tuple[Reserve, Checkpoint]:
    ready(reserve)
    reserve.book.post([
        cash_in("c1", DAY, "fund-a", "1000000"),
        buy("b1", DAY + timedelta(days=1), "fund-a", "BTC", "2", "60000"),
        sell("s1", DAY + timedelta(days=2), "fund-a", "BTC", "0.5", "65000"),
        buy("b2", DAY + timedelta(days=3), "fund-a", "IBIT", "1000", "55"),
    ], actor="tester")
    checkpoint = reserve.audit.checkpoint(actor="auditor")
    return reserve, checkpoint


def sql(reserve: Reserve, statement: str, **params: Any) -> list[Any]:
    with reserve.engine.begin() as connection:
        result = connection.execute(text(statement), params)
        return list(result) if result.returns_rows else []


def records(reserve: Reserve) -> list[AuditRecord]:
    with reserve.units(write=False) as uow:
        return list(uow.audit.iter_records())


def replace_trail(reserve: Reserve, trail: list[AuditRecord]) -> None:
    with reserve.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_records"))
        for record in trail:
            connection.execute(
                text(f"INSERT INTO audit_records ({FIELDS}) VALUES "
                     f"({', '.join(':' + f for f in AuditRecord.__slots__)})"),
                {f: getattr(record, f) for f in AuditRecord.__slots__})


def rechain(trail: list[AuditRecord]) -> list[AuditRecord]:
    """What a forger with database access and the algorithm would write: a valid chain."""
    result: list[AuditRecord] = []
    for record in trail:
        result.append(new_record(result[-1] if result else None, at=record.at,
                                 actor=record.actor, action=record.action,
                                 object_type=record.object_type, object_id=record.object_id,
                                 payload=_payload(record)))
    return result


def _payload(record: AuditRecord) -> Any:
    import json

    return json.loads(record.payload)


def test_untouched_book_verifies(book: tuple[Reserve, Checkpoint]) -> None:
    reserve, checkpoint = book
    result = reserve.audit.verify(expected_root=checkpoint.root, expected_size=checkpoint.size)
    assert result.ok, result.problems
    assert result.entries_checked == 4
    assert result.checkpoints_checked == 1
    assert result.records == checkpoint.size + 1  # the checkpoint is itself audited


def test_altered_record_is_named(book: tuple[Reserve, Checkpoint]) -> None:
    reserve, _ = book
    sql(reserve, "UPDATE audit_records SET actor = 'mallory' WHERE seq = 7")
    result = reserve.audit.verify()
    assert not result.ok
    assert result.first_bad_seq == 7
    assert "altered" in result.problems[0].message


def test_altered_payload_is_named(book: tuple[Reserve, Checkpoint]) -> None:
    reserve, _ = book
    sql(reserve, "UPDATE audit_records SET payload = '{}' WHERE seq = 9")
    result = reserve.audit.verify()
    assert result.first_bad_seq == 9
    assert "payload" in result.problems[0].message


def test_deleted_record_is_named(book: tuple[Reserve, Checkpoint]) -> None:
    reserve, _ = book
    sql(reserve, "DELETE FROM audit_records WHERE seq = 5")
    result = reserve.audit.verify()
    assert result.first_bad_seq == 5
    assert "missing" in result.problems[0].message


def test_reordered_records_are_named(book: tuple[Reserve, Checkpoint]) -> None:
    reserve, _ = book
    trail = records(reserve)
    swapped = list(trail)
    # swap the content of records 4 and 6, keeping their positions (seq)
    four, six = trail[3], trail[5]
    swapped[3] = AuditRecord(4, *(getattr(six, f) for f in AuditRecord.__slots__[1:]))
    swapped[5] = AuditRecord(6, *(getattr(four, f) for f in AuditRecord.__slots__[1:]))
    replace_trail(reserve, swapped)
    result = reserve.audit.verify()
    assert result.first_bad_seq == 4


def test_inserted_record_is_named(book: tuple[Reserve, Checkpoint]) -> None:
    reserve, _ = book
    trail = records(reserve)
    forged = new_record(trail[4], at=trail[4].at, actor="mallory", action="entry.posted",
                        object_type="entry", object_id="ghost", payload={"x": 1})
    shifted = [AuditRecord(r.seq + 1, *(getattr(r, f) for f in AuditRecord.__slots__[1:]))
               for r in trail[5:]]
    replace_trail(reserve, [*trail[:5], forged, *shifted])
    result = reserve.audit.verify()
    assert result.first_bad_seq == 7  # the forged record 6 chains; the old record 6 does not
    assert "prev_hash" in result.problems[0].message or "record 7" in result.problems[0].message


def test_altered_posting_in_the_book_is_named(book: tuple[Reserve, Checkpoint]) -> None:
    reserve, _ = book
    seq = sql(reserve, "SELECT seq FROM entries WHERE entry_id = 'b1'")[0][0]
    sql(reserve, "UPDATE postings SET amount = 3 WHERE entry_seq = :s AND leg = 0", s=seq)
    result = reserve.audit.verify()
    assert not result.ok
    assert any("entry b1 was altered after posting" in p.message for p in result.problems)


def test_deleted_entry_is_named(book: tuple[Reserve, Checkpoint]) -> None:
    reserve, _ = book
    seq = sql(reserve, "SELECT seq FROM entries WHERE entry_id = 'b2'")[0][0]
    sql(reserve, "DELETE FROM postings WHERE entry_seq = :s", s=seq)
    sql(reserve, "DELETE FROM entries WHERE seq = :s", s=seq)
    result = reserve.audit.verify()
    assert any("entry b2 is in the audit trail but missing from the book" in p.message
               for p in result.problems)


def test_truncated_tail_is_caught_by_the_checkpoint(book: tuple[Reserve, Checkpoint]) -> None:
    reserve, checkpoint = book
    sql(reserve, "DELETE FROM audit_records WHERE seq >= :s", s=checkpoint.size - 2)
    result = reserve.audit.verify()
    assert not result.ok
    assert any(f"covers {checkpoint.size} records" in p.message for p in result.problems)


def test_consistent_rewrite_is_caught_by_the_published_root(
        book: tuple[Reserve, Checkpoint]) -> None:
    reserve, published = book
    trail = records(reserve)
    altered = [*trail[:1],
               AuditRecord(2, trail[1].at, "mallory", *(getattr(trail[1], f)
                                                      for f in AuditRecord.__slots__[3:])),
               *trail[2:]]
    replace_trail(reserve, rechain(altered))
    sql(reserve, "DELETE FROM audit_checkpoints")  # the forger hides the stored root too
    assert reserve.audit.verify().ok  # the chain alone cannot tell...
    result = reserve.audit.verify(expected_root=published.root, expected_size=published.size)
    assert not result.ok  # ...the root published outside the database can
    assert "published root" in result.problems[0].message
