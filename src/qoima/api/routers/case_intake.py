"""Opening a seized-asset case (as JSON or as the YAML file ``qoima case open`` reads),
sanctions screening and on-chain reconciliation of the seized-asset pool. The services
check the enforcement liaison's ``case.write`` on the pool; a refusal is audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path as PathParam
from pydantic import Field

from qoima.adapters.case_files import read_case
from qoima.adapters.chain_snapshot_files import read_snapshot
from qoima.adapters.sanctions_files import read_sanctions
from qoima.api.case_models import CaseIn, CaseOut, ReconciliationOut, ScreeningHitOut
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.models import Day, Strict
from qoima.api.responses import Out
from qoima.api.routers.cases import case_view
from qoima.api.uploads import CSV, YAML, FileIn, parse_file, upload_post
from qoima.app.custody import CaseView
from qoima.app.custody_ports import ScreeningHitRecord
from qoima.bootstrap.wiring import Reserve
from qoima.domain.roles import User

router = api_router("seized assets")
SANCTIONS_FILES = {"application/xml": ".xml", "text/xml": ".xml", **CSV}


class SanctionsListOut(Out):
    list_id: int | None
    source: str
    list_date: str | None
    entries: int
    content_hash: str
    imported_at: str
    imported_by: str
    new: bool


class OverrideIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


def _open(reserve: Reserve, user: User, upload: FileIn, *, lines: bool) -> CaseView:
    case, intakes, documents = parse_file(upload, (".yaml", ".yml"), read_case, lines=lines)
    return reserve.custody.open_case(case, intakes, documents, actor=user.name)


@router.post("/cases", status_code=201, response_model=CaseOut,
             summary="Open a case: addresses checked, a pending entry per asset, screening")
def open_case(body: CaseIn, reserve: ReserveDep, user: UserDep) -> CaseOut:
    # JSON is YAML: the case goes through the very reader the CLI uses
    upload = FileIn(filename="case.yaml", content=json.dumps(body.model_dump(mode="json")))
    return CaseOut.of(case_view(_open(reserve, user, upload, lines=False)))


@upload_post(router, "/case-files", YAML, status_code=201, response_model=CaseOut,
             summary="Open a case from its YAML file (as `qoima case open` reads it)")
def open_case_file(body: FileIn, reserve: ReserveDep, user: UserDep) -> CaseOut:
    return CaseOut.of(case_view(_open(reserve, user, body, lines=True)))


@upload_post(router, "/sanctions-lists", SANCTIONS_FILES, status_code=201,
             response_model=SanctionsListOut,
             summary="Import an OFAC SDN list (sdn.xml, or sdn.csv with list_date) and "
             "re-screen every held address (then POST /screenings lists the open hits)")
def import_sanctions(body: FileIn, reserve: ReserveDep, user: UserDep,
                     list_date: Day | None = None) -> SanctionsListOut:
    listed = parse_file(body, (".xml", ".csv"),
                        lambda path: read_sanctions(path, list_date=list_date))
    stored, new = reserve.evidence.import_sanctions(listed, actor=user.name)
    return SanctionsListOut.of({**{name: getattr(stored, name) for name in stored.__slots__},
                                "new": new})


@router.post("/screenings", response_model=list[ScreeningHitOut],
             summary="Screen every held address against the stored sanctions lists; the "
             "open hits")
def screen(reserve: ReserveDep, user: UserDep) -> list[ScreeningHitOut]:
    hits = reserve.evidence.screen(actor=user.name)
    return [ScreeningHitOut.of(_hit(h)) for h in hits]


@router.post("/screening-hits/{hit_id}/overrides", response_model=ScreeningHitOut,
             summary="A committee member's written override (clears at two distinct ones)")
def override_hit(hit_id: Annotated[int, PathParam(ge=1, le=2**62)], body: OverrideIn,
                 reserve: ReserveDep, user: UserDep) -> ScreeningHitOut:
    return ScreeningHitOut.of(_hit(reserve.custody.override_hit(hit_id, body.reason,
                                                                actor=user.name)))


@upload_post(router, "/reconciliations", CSV, status_code=201,
             response_model=ReconciliationOut,
             summary="Compare observed on-chain balances (CSV: chain,address,asset,"
             "quantity,unit,observed_at,source) with the book")
def reconcile(body: FileIn, reserve: ReserveDep, user: UserDep,
              as_of: Day | None = None) -> ReconciliationOut:
    observed = parse_file(body, (".csv",), read_snapshot)
    outcome = reserve.evidence.reconcile(observed, source=body.filename,
                                         as_of=as_of or datetime.now(UTC).date(),
                                         actor=user.name)
    r = outcome.result
    return ReconciliationOut.of({
        "as_of": outcome.record.as_of_date, "source": outcome.record.source,
        "status": outcome.record.status, "new": outcome.new,
        "content_hash": outcome.record.content_hash,
        "rows": [{"address": row.address, "instrument": row.instrument_code, "book": row.book,
                  "observed": row.observed, "difference": row.difference,
                  "status": row.status.value} for row in r.rows],
        "findings": list(r.findings)})


def _hit(record: ScreeningHitRecord) -> dict[str, object]:
    fields = {name: getattr(record, name) for name in record.__slots__
              if name != "overrides_json"}
    return {**fields, "overrides": json.loads(record.overrides_json)}
