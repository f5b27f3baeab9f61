"""Seized-asset cases: assets, addresses, legal history, custody events, reconciliations,
proofs of control, sanctions lists and hits, forks and dispositions. Never commits.

Writers hold the write lock for their whole unit (see ``uow``), so looking up a key, a
content hash or an idempotency key before inserting cannot race with another writer.

Records map to rows by field name. Adding a record under a primary key already taken is a
no-op when the stored record is the same, and a :class:`Conflict` when it differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Table, and_, insert, select, update

from qoima.app.custody_ports import (
    AddressRecord,
    AssetRecord,
    CaseRecord,
    ChallengeRecord,
    CustodyEventRecord,
    DispositionRecord,
    ForkRecord,
    ProofRecord,
    ReconciliationRecord,
    SanctionedAddressRecord,
    SanctionsListRecord,
    ScreeningHitRecord,
    TransitionRecord,
)
from qoima.domain.errors import Conflict, NotFound
from qoima.store import custody_tables as ct

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    _R = TypeVar("_R", bound=DataclassInstance)
else:
    _R = TypeVar("_R")

_BATCH = 500  # keys per IN (...) query
_INSERT_BATCH = 1000  # rows per executemany


class SqlCustodyRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    # cases

    def add_case(self, record: CaseRecord) -> None:
        self._add_keyed(ct.cases, record, ct.cases.c.case_id == record.case_id,
                        f"case {record.case_id!r}")

    def find_case(self, case_id: str) -> CaseRecord | None:
        return self._one(CaseRecord, ct.cases, ct.cases.c.case_id == case_id)

    def list_cases(self) -> list[CaseRecord]:
        return self._all(CaseRecord, select(ct.cases).order_by(ct.cases.c.opened_on,
                                                               ct.cases.c.case_id))

    def set_case_status(self, case_id: str, status: str, changed_on: date) -> None:
        done = self._c.execute(update(ct.cases).where(ct.cases.c.case_id == case_id).values(
            legal_status=status, status_changed_on=changed_on))
        if done.rowcount == 0:
            raise NotFound(f"no case {case_id!r}", field="case")

    # seized assets

    def add_asset(self, record: AssetRecord) -> None:
        self._add_keyed(ct.seized_assets, record,
                        ct.seized_assets.c.asset_id == record.asset_id,
                        f"asset {record.asset_id!r}")

    def find_asset(self, asset_id: str) -> AssetRecord | None:
        return self._one(AssetRecord, ct.seized_assets,
                         ct.seized_assets.c.asset_id == asset_id)

    def list_assets(self, case_id: str | None = None) -> list[AssetRecord]:
        t = ct.seized_assets
        query = select(t).order_by(t.c.case_id, t.c.asset_id)
        if case_id is not None:
            query = query.where(t.c.case_id == case_id)
        return self._all(AssetRecord, query)

    # addresses

    def add_address(self, record: AddressRecord) -> None:
        t = ct.custody_addresses
        self._add_keyed(t, record, and_(t.c.chain == record.chain,
                                        t.c.address == record.address),
                        f"address {record.address!r} on {record.chain!r}")

    def find_address(self, chain: str, address: str) -> AddressRecord | None:
        t = ct.custody_addresses
        return self._one(AddressRecord, t, and_(t.c.chain == chain, t.c.address == address))

    def list_addresses(self, case_id: str | None = None) -> list[AddressRecord]:
        t = ct.custody_addresses
        query = select(t).order_by(t.c.case_id, t.c.chain, t.c.address)
        if case_id is not None:
            query = query.where(t.c.case_id == case_id)
        return self._all(AddressRecord, query)

    # legal history

    def add_transition(self, record: TransitionRecord) -> None:
        self._c.execute(insert(ct.legal_transitions).values(_values(record, "id")))

    def list_transitions(self, case_id: str) -> list[TransitionRecord]:
        t = ct.legal_transitions
        return self._all(TransitionRecord,
                         select(t).where(t.c.case_id == case_id).order_by(t.c.id))

    # custody events

    def add_event(self, record: CustodyEventRecord) -> None:
        self._add_keyed(ct.custody_events, record,
                        ct.custody_events.c.event_id == record.event_id,
                        f"custody event {record.event_id!r}")

    def find_event(self, event_id: str) -> CustodyEventRecord | None:
        return self._one(CustodyEventRecord, ct.custody_events,
                         ct.custody_events.c.event_id == event_id)

    def list_events(self, case_id: str | None = None) -> list[CustodyEventRecord]:
        t = ct.custody_events
        query = select(t).order_by(t.c.at, t.c.event_id)
        if case_id is not None:
            query = query.where(t.c.case_id == case_id)
        return self._all(CustodyEventRecord, query)

    # reconciliations

    def add_reconciliation(self, record: ReconciliationRecord) -> ReconciliationRecord:
        t = ct.reconciliations
        stored = self._one(ReconciliationRecord, t, t.c.content_hash == record.content_hash)
        if stored is not None:
            return stored
        return replace(record, id=self._insert_id(t, _values(record, "id")))

    def list_reconciliations(self) -> list[ReconciliationRecord]:
        t = ct.reconciliations
        return self._all(ReconciliationRecord, select(t).order_by(t.c.id))

    # proofs of control

    def add_challenge(self, record: ChallengeRecord) -> None:
        self._add_keyed(ct.challenges, record, ct.challenges.c.nonce == record.nonce,
                        f"challenge {record.nonce!r}")

    def find_challenge(self, nonce: str) -> ChallengeRecord | None:
        return self._one(ChallengeRecord, ct.challenges, ct.challenges.c.nonce == nonce)

    def add_proof(self, record: ProofRecord) -> ProofRecord:
        return replace(record, id=self._insert_id(ct.control_proofs, _values(record, "id")))

    def list_proofs(self, case_id: str | None = None) -> list[ProofRecord]:
        t = ct.control_proofs
        query = select(t).order_by(t.c.id)
        if case_id is not None:
            query = query.where(t.c.case_id == case_id)
        return self._all(ProofRecord, query)

    # sanctions

    def add_sanctions_list(self, record: SanctionsListRecord,
                           addresses: Sequence[SanctionedAddressRecord]) -> SanctionsListRecord:
        t = ct.sanctions_lists
        stored = self._one(SanctionsListRecord, t, t.c.content_hash == record.content_hash)
        if stored is not None:
            return stored
        list_id = self._insert_id(t, _values(record, "list_id"))
        assert list_id is not None
        rows = [_values(replace(address, list_id=list_id)) for address in addresses]
        for start in range(0, len(rows), _INSERT_BATCH):
            self._c.execute(insert(ct.sanctioned_addresses), rows[start:start + _INSERT_BATCH])
        return replace(record, list_id=list_id)

    def list_sanctions_lists(self) -> list[SanctionsListRecord]:
        t = ct.sanctions_lists
        return self._all(SanctionsListRecord, select(t).order_by(t.c.list_id))

    def find_sanctioned(self, address_keys: Sequence[str]) -> list[SanctionedAddressRecord]:
        """Every listed address whose key is among ``address_keys``, in insertion order."""
        t = ct.sanctioned_addresses
        keys = sorted(set(address_keys))
        found: list[tuple[int, SanctionedAddressRecord]] = []
        for start in range(0, len(keys), _BATCH):
            rows = self._c.execute(select(t).where(
                t.c.address_key.in_(keys[start:start + _BATCH]))).all()
            found.extend((row.id, _record(SanctionedAddressRecord, row)) for row in rows)
        return [record for _, record in sorted(found, key=lambda pair: pair[0])]

    # screening hits

    def add_hit(self, record: ScreeningHitRecord) -> ScreeningHitRecord:
        return replace(record, id=self._insert_id(ct.screening_hits, _values(record, "id")))

    def update_hit(self, record: ScreeningHitRecord) -> None:
        t = ct.screening_hits
        done = None
        if record.id is not None:
            done = self._c.execute(update(t).where(t.c.id == record.id).values(
                _values(record, "id")))
        if done is None or done.rowcount == 0:
            raise NotFound(f"no screening hit {record.id!r}", field="hit")

    def find_hit(self, hit_id: int) -> ScreeningHitRecord | None:
        return self._one(ScreeningHitRecord, ct.screening_hits, ct.screening_hits.c.id == hit_id)

    def list_hits(self, case_id: str | None = None,
                  status: str | None = None) -> list[ScreeningHitRecord]:
        t = ct.screening_hits
        query = select(t).order_by(t.c.id)
        if case_id is not None:
            query = query.where(t.c.case_id == case_id)
        if status is not None:
            query = query.where(t.c.status == status)
        return self._all(ScreeningHitRecord, query)

    # forked assets

    def add_fork(self, record: ForkRecord) -> ForkRecord:
        return replace(record, id=self._insert_id(ct.forked_assets, _values(record, "id")))

    def list_forks(self, case_id: str | None = None) -> list[ForkRecord]:
        t = ct.forked_assets
        query = select(t).order_by(t.c.id)
        if case_id is not None:
            query = query.where(t.c.case_id == case_id)
        return self._all(ForkRecord, query)

    # dispositions

    def add_disposition(self, record: DispositionRecord) -> DispositionRecord:
        t = ct.dispositions
        stored = self._one(DispositionRecord, t, t.c.idempotency_key == record.idempotency_key)
        if stored is not None:
            return stored
        if self.find_disposition(record.disposition_id) is not None:
            raise Conflict(f"disposition id {record.disposition_id!r} is taken by another "
                           "idempotency key", disposition_id=record.disposition_id)
        self._c.execute(insert(t).values(_values(record)))
        return record

    def update_disposition(self, record: DispositionRecord) -> None:
        """Everything but the id and the idempotency key, which never change."""
        t = ct.dispositions
        done = self._c.execute(update(t).where(t.c.disposition_id == record.disposition_id)
                               .values(_values(record, "disposition_id", "idempotency_key")))
        if done.rowcount == 0:
            raise NotFound(f"no disposition {record.disposition_id!r}", field="disposition")

    def find_disposition(self, disposition_id: str) -> DispositionRecord | None:
        return self._one(DispositionRecord, ct.dispositions,
                         ct.dispositions.c.disposition_id == disposition_id)

    def list_dispositions(self, case_id: str | None = None) -> list[DispositionRecord]:
        t = ct.dispositions
        query = select(t).order_by(t.c.created_at, t.c.disposition_id)
        if case_id is not None:
            query = query.where(t.c.case_id == case_id)
        return self._all(DispositionRecord, query)

    # helpers

    def _add_keyed(self, table: Table, record: DataclassInstance,
                   key: ColumnElement[bool], what: str) -> None:
        """Insert under a natural key; the same record again is a no-op, another a Conflict."""
        stored = self._one(type(record), table, key)
        if stored is None:
            self._c.execute(insert(table).values(_values(record)))
        elif stored != record:
            raise Conflict(f"{what} is already recorded with other content")

    def _insert_id(self, table: Table, values: dict[str, Any]) -> int | None:
        new_id = self._c.execute(insert(table).values(values)).inserted_primary_key
        return int(new_id[0]) if new_id else None

    def _one(self, cls: type[_R], table: Table, where: ColumnElement[bool]) -> _R | None:
        row = self._c.execute(select(table).where(where)).first()
        return None if row is None else _record(cls, row)

    def _all(self, cls: type[_R], query: Any) -> list[_R]:
        return [_record(cls, row) for row in self._c.execute(query).all()]


def _values(record: DataclassInstance, *leave_out: str) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record) if f.name not in leave_out}


def _record(cls: type[_R], row: Any) -> _R:
    mapping = row._mapping
    return cls(**{f.name: mapping[f.name] for f in fields(cls)})
