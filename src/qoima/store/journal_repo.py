"""Journal repository: entries, postings, balances by date, pending resolutions."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, text

from qoima.domain.enums import AccountKind, EntryCode, EntryPhase, PendingOutcome
from qoima.domain.money import MONEY_CONTEXT, ZERO
from qoima.ledger.entries import Entry, EntryDraft, PendingResolution, PostingDraft
from qoima.ledger.ports import AccountInfo, PostingRow
from qoima.store import tables as t
from qoima.store.balance_cache import BalanceCache
from qoima.store.reference_repo import account_info, account_select

# Built once: the idempotency check and the inserts run on every post.
_INSERT_ENTRIES = insert(t.entries)
_INSERT_POSTINGS = insert(t.postings)
_INSERT_RESOLUTIONS = insert(t.pending_resolutions)
_MAX_SEQ = select(func.max(t.entries.c.seq))
_FIND_ENTRY = select(t.entries).where(t.entries.c.entry_id == bindparam("entry_id"))
_FIND_ACCOUNTS = account_select().where(t.accounts.c.code.in_(bindparam("codes", expanding=True)))


class SqlJournalRepository:
    """Reads and writes of one unit of work.

    Writes are held in memory and sent in a few ``executemany`` statements by ``flush``
    (at commit, and before any read that could see them): a file of a hundred entries is a
    handful of statements, not several per entry. Entry numbers are given here, not by the
    database, so a posted entry knows its ``seq`` before the flush; that is safe because
    every writer holds the write lock (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
    PostgreSQL) for its whole unit.
    """

    def __init__(self, connection: Connection) -> None:
        self._c = connection
        self._accounts: dict[str, AccountInfo] = {}  # found in this unit
        self._balances = BalanceCache(connection)
        self._next_seq: int | None = None
        self._new_entries: dict[str, Entry] = {}  # posted in this unit, not yet flushed
        self._entry_rows: list[dict[str, Any]] = []
        self._posting_rows: list[dict[str, Any]] = []
        self._resolution_rows: list[dict[str, Any]] = []

    # -- entries ----------------------------------------------------------------------
    def find_entry(self, entry_id: str) -> Entry | None:
        buffered = self._new_entries.get(entry_id)
        if buffered is not None:
            return buffered
        row = self._c.execute(_FIND_ENTRY, {"entry_id": entry_id}).first()
        if row is None:
            return None
        return self._entries([row])[0]

    def iter_entries(self, batch_size: int = 1000) -> Iterator[Entry]:
        self.flush()
        last = 0
        while True:
            rows = self._c.execute(
                select(t.entries).where(t.entries.c.seq > last).order_by(t.entries.c.seq)
                .limit(batch_size)).all()
            if not rows:
                return
            yield from self._entries(rows)
            last = rows[-1].seq

    def count_entries(self) -> int:
        self.flush()
        return int(self._c.execute(select(func.count()).select_from(t.entries)).scalar_one())

    def list_entries(self, *, limit: int, offset: int = 0, vehicle: str | None = None,
                     since: date | None = None, until: date | None = None) -> list[Entry]:
        self.flush()
        query = select(t.entries)
        if vehicle is not None:
            touching = (select(t.postings.c.entry_seq)
                        .join(t.accounts, t.accounts.c.id == t.postings.c.account_id)
                        .where(t.accounts.c.vehicle_code == vehicle))
            query = query.where(t.entries.c.seq.in_(touching))
        if since is not None:
            query = query.where(t.entries.c.value_date >= since)
        if until is not None:
            query = query.where(t.entries.c.value_date <= until)
        rows = self._c.execute(query.order_by(t.entries.c.value_date, t.entries.c.seq)
                               .limit(limit).offset(offset)).all()
        return self._entries(rows)

    def _entries(self, rows: Sequence[Any]) -> list[Entry]:
        seqs = [r.seq for r in rows]
        legs: dict[int, list[PostingDraft]] = defaultdict(list)
        posting_rows = self._c.execute(
            select(t.postings.c.entry_seq, t.accounts.c.code, t.postings.c.amount,
                   t.postings.c.unit_cost_usd, t.postings.c.unit_price_usd)
            .join(t.accounts, t.accounts.c.id == t.postings.c.account_id)
            .where(t.postings.c.entry_seq.in_(seqs))
            .order_by(t.postings.c.entry_seq, t.postings.c.leg))
        for p in posting_rows:
            legs[p.entry_seq].append(PostingDraft(p.code, p.amount, p.unit_cost_usd,
                                                  p.unit_price_usd))
        result = []
        for row in rows:
            draft = EntryDraft(
                entry_id=row.entry_id, code=EntryCode(row.code), value_date=row.value_date,
                postings=tuple(legs.get(row.seq, ())), description=row.description,
                phase=EntryPhase(row.phase), resolves_entry_id=row.resolves_entry_id,
                reverses_entry_id=row.reverses_entry_id,
                metadata=tuple(sorted(json.loads(row.metadata_json).items())),
            )
            result.append(Entry(row.seq, draft, row.content_hash, row.recorded_at, row.actor))
        return result

    def insert_entry(self, draft: EntryDraft, content_hash: str, recorded_at: datetime,
                     actor: str, accounts: Mapping[str, AccountInfo]) -> int:
        if self._next_seq is None:
            self._next_seq = int(self._c.execute(_MAX_SEQ).scalar() or 0) + 1
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        self._entry_rows.append({
            "seq": seq, "entry_id": draft.entry_id, "code": draft.code.value,
            "phase": draft.phase.value, "value_date": draft.value_date,
            "description": draft.description, "resolves_entry_id": draft.resolves_entry_id,
            "reverses_entry_id": draft.reverses_entry_id,
            "metadata_json": json.dumps(dict(draft.metadata), sort_keys=True),
            "content_hash": content_hash, "recorded_at": recorded_at, "actor": actor,
        })
        self._posting_rows += [
            {"entry_seq": seq, "leg": leg, "account_id": accounts[p.account].account_id,
             "amount": p.amount, "unit_cost_usd": p.unit_cost_usd,
             "unit_price_usd": p.unit_price_usd}
            for leg, p in enumerate(draft.postings)]
        stored = replace(draft, origin=None,
                         postings=tuple(replace(p, origin=None) for p in draft.postings))
        self._new_entries[draft.entry_id] = Entry(seq, stored, content_hash, recorded_at, actor)
        return seq

    # -- accounts ---------------------------------------------------------------------
    def find_accounts(self, codes: Iterable[str]) -> Mapping[str, AccountInfo]:
        wanted = set(codes)
        missing = sorted(wanted - self._accounts.keys())
        if missing:
            rows = self._c.execute(_FIND_ACCOUNTS, {"codes": missing})
            for row in rows:
                info = account_info(row)
                self._accounts[info.code] = info
        return {code: self._accounts[code] for code in wanted if code in self._accounts}

    # -- balances ---------------------------------------------------------------------
    def balances_from(self, account_id: int, from_date: date) -> list[Decimal]:
        return self._balances.end_of_day_from(account_id, from_date)

    def add_to_balance(self, account_id: int, value_date: date, delta: Decimal) -> None:
        self._balances.add(account_id, value_date, delta)

    def prepare_balances(self, account_ids: Iterable[int], from_date: date) -> None:
        self._balances.load_many(account_ids, from_date)

    def flush(self) -> None:
        """Write what this unit holds in memory: before any read that could see it, and at
        commit. Entries go before the postings and resolutions that refer to them."""
        if self._entry_rows:
            self._c.execute(_INSERT_ENTRIES, self._entry_rows)
            if self._c.dialect.name == "postgresql":  # keep the column's sequence in step
                self._c.execute(text("SELECT setval(pg_get_serial_sequence('entries', 'seq'), "
                                     ":seq)"), {"seq": self._entry_rows[-1]["seq"]})
            self._entry_rows = []
        if self._posting_rows:
            self._c.execute(_INSERT_POSTINGS, self._posting_rows)
            self._posting_rows = []
        if self._resolution_rows:
            self._c.execute(_INSERT_RESOLUTIONS, self._resolution_rows)
            self._resolution_rows = []
        self._new_entries.clear()
        self._balances.flush()

    def balances_as_of(self, as_of: date) -> Mapping[str, Decimal]:
        self.flush()
        b = t.account_balances
        latest = (
            select(b.c.balance).where(b.c.account_id == t.accounts.c.id,
                                      b.c.balance_date <= as_of)
            .order_by(b.c.balance_date.desc()).limit(1).scalar_subquery()
        )
        rows = self._c.execute(select(t.accounts.c.code, latest.label("balance")))
        return {r.code: r.balance for r in rows if r.balance is not None}

    def postings_until(self, as_of: date, instruments: Sequence[str] | None = None
                       ) -> list[PostingRow]:
        e, p, a = t.entries, t.postings, t.accounts
        query = (
            select(p.c.entry_seq, e.c.entry_id, e.c.value_date, e.c.code, a.c.code.label("acc"),
                   p.c.amount, p.c.unit_cost_usd, p.c.unit_price_usd)
            .join(e, e.c.seq == p.c.entry_seq).join(a, a.c.id == p.c.account_id)
            .where(e.c.phase == EntryPhase.POSTED.value, e.c.value_date <= as_of)
        )
        if instruments is not None:
            query = query.where(a.c.instrument_code.in_(list(instruments)),
                                a.c.kind == AccountKind.HOLDING.value)
        rows = self._c.execute(query.order_by(e.c.value_date, e.c.seq, p.c.leg))
        return [PostingRow(r.entry_seq, r.entry_id, r.value_date, r.code, r.acc, r.amount,
                           r.unit_cost_usd, r.unit_price_usd) for r in rows]

    def reversal_dates(self) -> Mapping[str, date]:
        self.flush()
        rows = self._c.execute(select(t.entries.c.reverses_entry_id, t.entries.c.value_date)
                               .where(t.entries.c.reverses_entry_id.is_not(None)))
        return {r.reverses_entry_id: r.value_date for r in rows}

    def find_reversal_of(self, entry_id: str) -> str | None:
        self.flush()
        value = self._c.execute(select(t.entries.c.entry_id)
                                .where(t.entries.c.reverses_entry_id == entry_id)).scalar()
        return None if value is None else str(value)

    # -- pending ----------------------------------------------------------------------
    def find_resolution(self, pending_entry_id: str) -> PendingResolution | None:
        self.flush()
        row = self._c.execute(select(t.pending_resolutions).where(
            t.pending_resolutions.c.pending_entry_id == pending_entry_id)).first()
        if row is None:
            return None
        return PendingResolution(row.pending_entry_id, row.resolved_by_entry_id,
                                 PendingOutcome(row.outcome), row.resolved_date)

    def insert_resolution(self, resolution: PendingResolution) -> None:
        self._resolution_rows.append({
            "pending_entry_id": resolution.pending_entry_id,
            "resolved_by_entry_id": resolution.resolved_by_entry_id,
            "outcome": resolution.outcome.value, "resolved_date": resolution.resolved_date})

    def pending_open(self, as_of: date) -> Mapping[str, Decimal]:
        self.flush()
        e, p, a, r = t.entries, t.postings, t.accounts, t.pending_resolutions
        # The open pending entries first, then their postings by key: written as one join,
        # SQLite's planner starts from postings and reads every posting in the book.
        open_pending = (
            select(e.c.seq).outerjoin(r, r.c.pending_entry_id == e.c.entry_id)
            .where(e.c.phase == EntryPhase.PENDING.value, e.c.value_date <= as_of,
                   or_(r.c.pending_entry_id.is_(None), and_(r.c.resolved_date > as_of))))
        rows = self._c.execute(
            select(a.c.code, p.c.amount).join(a, a.c.id == p.c.account_id)
            .where(p.c.entry_seq.in_(open_pending)))
        totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for row in rows:
            totals[row.code] = MONEY_CONTEXT.add(totals[row.code], row.amount)
        return dict(totals)
