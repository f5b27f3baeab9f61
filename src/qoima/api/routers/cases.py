"""Seized-asset cases: the case file, court steps, custody events, proofs, dispositions,
and the pool's inventory. Every case sits in the seized-asset pool: reading one needs read
access on that vehicle, writing one the enforcement liaison's ``case.write``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field

from qoima.api.access import require_read
from qoima.api.case_models import (
    CaseOut,
    CaseRecordOut,
    CustodyEventOut,
    DispositionOut,
    InventoryOut,
    ProofOut,
)
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.models import Amount, Code, Day, Strict
from qoima.api.pagination import Paging, page
from qoima.api.responses import PageOut
from qoima.api.results import plain
from qoima.app.custody import CaseView
from qoima.app.custody_book import seized_pool
from qoima.bootstrap.wiring import Reserve
from qoima.custody.chain_of_custody import CustodyEvent, CustodyEventKind
from qoima.custody.legal import Document, DocumentKind, LegalStatus
from qoima.domain.errors import NotFound
from qoima.domain.roles import User

router = api_router("seized assets")


class DocumentIn(Strict):
    kind: DocumentKind
    reference: Code
    dated: Day
    issued_by: Code


class TransitionIn(Strict):
    to: LegalStatus
    documents: Annotated[list[DocumentIn], Field(max_length=50)] = Field(default_factory=list)
    on: Day | None = None


class CustodyEventIn(Strict):
    event_id: Code
    kind: CustodyEventKind
    at: datetime
    chain: str = ""
    instrument: str = ""
    from_address: str = ""
    to_address: str = ""
    from_holder: str = ""
    to_holder: str = ""
    tx: str = ""
    quantity: Amount | None = None
    fee: Amount | None = None
    note: Annotated[str, Field(max_length=2000)] = ""
    network: str = "mainnet"


def pool_readable(reserve: Reserve, user: User, missing: str) -> None:
    with reserve.units(write=False) as uow:
        try:
            pool = seized_pool(uow)
        except NotFound:
            raise NotFound(missing) from None
    require_read(user, pool, missing, "case_id")


def case_view(view: CaseView) -> dict[str, Any]:
    """The same shape as ``qoima case show --json``."""
    def fields_of(record: Any) -> dict[str, Any]:
        return {name: plain(getattr(record, name)) for name in record.__slots__
                if not name.endswith("_json")}
    return {
        "case": plain(view.case),
        "assets": [{**fields_of(a), "addresses": json.loads(a.addresses_json),
                    "tx_ids": json.loads(a.tx_ids_json)} for a in view.assets],
        "legal_history": [{**fields_of(t), "documents": json.loads(t.documents_json)}
                          for t in view.transitions],
        "custody_events": plain(view.events),
        "screening_hits": [{**fields_of(h), "overrides": json.loads(h.overrides_json)}
                           for h in view.hits],
        "links": {"self": f"/api/v1/cases/{view.case.case_id}"}}


def _case(reserve: Reserve, user: User, case_id: str) -> CaseView:
    missing = f"no case {case_id!r}"
    pool_readable(reserve, user, missing)
    return reserve.custody.case(case_id)


@router.get("/cases", summary="Every case and its legal status")
def list_cases(reserve: ReserveDep, user: UserDep, paging: Paging) -> PageOut[CaseRecordOut]:
    pool_readable(reserve, user, "no seized-asset pool")
    return PageOut[CaseRecordOut].of(page(reserve.custody.cases(), paging))


@router.get("/cases/{case_id}", summary="A case: assets, legal history, custody, screening")
def get_case(case_id: str, reserve: ReserveDep, user: UserDep) -> CaseOut:
    return CaseOut.of(case_view(_case(reserve, user, case_id)))


@router.post("/cases/{case_id}/transitions",
             summary="A court step (freeze, review, forfeiture, return...) and its ledger effect")
def transition(case_id: str, body: TransitionIn, reserve: ReserveDep,
               user: UserDep) -> CaseOut:
    _case(reserve, user, case_id)
    documents = [Document(d.kind, d.reference, d.dated, d.issued_by) for d in body.documents]
    view = reserve.custody.transition(case_id, body.to, documents,
                                      body.on or datetime.now(UTC).date(), actor=user.name)
    return CaseOut.of(case_view(view))


@router.post("/cases/{case_id}/custody-events", status_code=201,
             summary="Record a custody event (checked against every earlier one)")
def custody_event(case_id: str, body: CustodyEventIn, reserve: ReserveDep,
                  user: UserDep) -> CustodyEventOut:
    _case(reserve, user, case_id)
    at = body.at.replace(tzinfo=UTC) if body.at.tzinfo is None else body.at.astimezone(UTC)
    event = CustodyEvent(body.event_id, case_id, body.kind, at, user.name, body.from_holder,
                         body.to_holder, body.from_address, body.to_address, body.tx,
                         body.quantity, body.instrument, body.note, body.fee, body.chain)
    return CustodyEventOut.of(reserve.custody.record_event(event, actor=user.name,
                                                           network=body.network))


@router.get("/cases/{case_id}/proofs", summary="Proofs of control issued for a case")
def proofs(case_id: str, reserve: ReserveDep, user: UserDep) -> list[ProofOut]:
    _case(reserve, user, case_id)
    return [ProofOut.of(p) for p in reserve.evidence.proofs(case_id)]


@router.get("/cases/{case_id}/dispositions", summary="Proposed and decided dispositions")
def dispositions(case_id: str, reserve: ReserveDep, user: UserDep) -> list[DispositionOut]:
    _case(reserve, user, case_id)
    return [DispositionOut.of(d) for d in reserve.dispositions.dispositions(case_id)]


@router.get("/seized/inventory", summary="The seized-asset pool's inventory on a date")
def inventory(reserve: ReserveDep, user: UserDep, as_of: Day | None = None) -> InventoryOut:
    pool_readable(reserve, user, "no seized-asset pool")
    return InventoryOut.of(reserve.evidence.inventory(as_of or datetime.now(UTC).date()))
