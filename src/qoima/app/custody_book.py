"""What the custody use cases share: the seized pool, case lookups, the address book built
from seizures and custody events, the sanctions screen and fair-value prices."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from qoima.app.custody_ports import AssetRecord, CaseRecord, CustodyEventRecord, ScreeningHitRecord
from qoima.app.ports import UnitOfWork
from qoima.app.units import record_change
from qoima.app.users import require
from qoima.custody.chain_of_custody import (
    AddressBalance,
    AddressBook,
    CustodyEvent,
    CustodyEventKind,
    Holding,
    address_key,
    apply_events,
)
from qoima.custody.inventory import HELD_STATUSES
from qoima.custody.legal import Document, LegalStatus
from qoima.domain.canonical import canonical_json
from qoima.domain.enums import VehicleKind
from qoima.domain.errors import Forbidden, NotFound
from qoima.domain.roles import Permission


def documents_json(documents: Sequence[Document]) -> str:
    return canonical_json([{"kind": d.kind.value, "reference": d.reference, "dated": d.dated,
                            "issued_by": d.issued_by} for d in documents])


def usd_price(uow: UnitOfWork, instrument: str, on: date) -> Decimal | None:
    """The latest USD close on or before ``on`` (a fair value for the record), if any."""
    quote = uow.market.latest_prices(on, [instrument]).get(instrument)
    return quote.price if quote is not None and quote.currency == "USD" else None


def seized_pool(uow: UnitOfWork) -> str:
    pools = [v.code for v in uow.reference.list_vehicles()
             if v.kind is VehicleKind.SEIZED_POOL]
    if len(pools) != 1:
        raise NotFound(f"{len(pools)} seized-asset pools: register exactly one vehicle of kind "
                       "seized_pool", field="vehicle")
    return pools[0]


def get_case(uow: UnitOfWork, case_id: str) -> CaseRecord:
    found = uow.custody.find_case(case_id)
    if found is None:
        raise NotFound(f"no case {case_id!r}", field="case")
    return found


def asset_for(uow: UnitOfWork, case_id: str, instrument: str | None) -> AssetRecord:
    assets = [a for a in uow.custody.list_assets(case_id)
              if instrument is None or a.instrument_code == instrument]
    if not assets:
        raise NotFound(f"case {case_id} holds no {instrument or 'asset'}", field="instrument")
    return assets[0]


def require_any(uow: UnitOfWork, actor: str, permissions: Sequence[Permission],
                 vehicle: str) -> None:
    errors: list[Exception] = []
    for permission in permissions:
        try:
            require(uow, actor, permission, [vehicle])
            return
        except Forbidden as error:
            errors.append(error)
    raise errors[0]


def opening_holdings(uow: UnitOfWork, case_id: str | None) -> list[Holding]:
    """Each asset's quantity at its first address (the seizure's custody address)."""
    opening = []
    for asset in uow.custody.list_assets(case_id):
        first = json.loads(asset.addresses_json)[0]
        opening.append(Holding(first, asset.chain, asset.instrument_code, asset.quantity,
                               asset.holder))
    return opening


def event_from_record(record: CustodyEventRecord) -> CustodyEvent:
    return CustodyEvent(record.event_id, record.case_id, CustodyEventKind(record.kind),
                        record.at, record.actor, record.from_holder or "",
                        record.to_holder or "", record.from_address or "",
                        record.to_address or "", record.tx_id or "", record.quantity,
                        record.instrument_code or "", record.note, record.fee,
                        record.chain or "")


def address_book(uow: UnitOfWork, case_id: str | None,
                  extra: CustodyEvent | None = None) -> AddressBook:
    cases = [case_id] if case_id else [c.case_id for c in uow.custody.list_cases()]
    balances: list[AddressBalance] = []
    departed: list[tuple[str, Decimal]] = []
    fees: list[tuple[str, Decimal]] = []
    last: datetime | None = None
    for one in cases:
        events = [event_from_record(r) for r in uow.custody.list_events(one)]
        if extra is not None and extra.case_id == one:
            events.append(extra)
        book = apply_events(opening_holdings(uow, one), events)
        balances += book.balances
        departed += book.departed
        fees += book.fees
        last = max(filter(None, (last, book.last_event_at)), default=None)
    return AddressBook(tuple(balances), tuple(departed), tuple(fees), last)


def held_balances(uow: UnitOfWork) -> list[AddressBalance]:
    """What the book expects on chain: the address book of every case still in the state's
    custody, without the assets already disposed of (they left the seized pool)."""
    disposed = {d.asset_id for d in uow.custody.list_dispositions() if d.status == "executed"}
    expected: list[AddressBalance] = []
    for case in uow.custody.list_cases():
        if LegalStatus(case.legal_status) not in HELD_STATUSES:
            continue
        gone = {(address, a.instrument_code) for a in uow.custody.list_assets(case.case_id)
                if a.asset_id in disposed for address in json.loads(a.addresses_json)}
        expected += [b for b in address_book(uow, case.case_id).balances
                     if (b.address, b.instrument_code) not in gone]
    return expected


def record_hits(uow: UnitOfWork, case_id: str | None, addresses: Sequence[tuple[str, str]],
            context: str, now: datetime, actor: str) -> list[ScreeningHitRecord]:
    """Record a hit for every listed address (one open hit per case, address and list)."""
    keys = {address_key(a): (chain, a) for chain, a in addresses}
    found = uow.custody.find_sanctioned(sorted(keys))
    known = {(h.address, h.list_id) for h in uow.custody.list_hits(case_id)}
    hits = []
    for listed in found:
        chain, address = keys[listed.address_key]
        if (address, listed.list_id) in known:
            continue
        known.add((address, listed.list_id))
        hit = uow.custody.add_hit(ScreeningHitRecord(
            case_id, chain, address, listed.list_id, listed.entity, context, "open", now,
            "[]"))
        record_change(uow, at=now, actor=actor, action="case.sanctions_hit",
                      object_type="screening_hit", object_id=str(hit.id), payload={
                          "case": case_id, "address": address, "entity": listed.entity,
                          "program": listed.program, "context": context})
        hits.append(hit)
    return hits
