"""Seized-asset cases: the case file, its legal timeline, the chain of custody, and the
court steps the enforcement liaison records. Reading needs read access on the seized-asset
pool (404 otherwise, as in the API); a step needs ``case.write``, checked by the service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from qoima.app.custody import CaseView
from qoima.app.custody_book import seized_pool
from qoima.custody.chain_of_custody import CustodyEventKind
from qoima.custody.legal import TRANSITIONS, Document, DocumentKind, LegalStatus, allowed_targets
from qoima.domain.errors import NotFound
from qoima.domain.roles import Permission
from qoima.web.forms import act_or_show, day, enum_options, member, options
from qoima.web.render import page
from qoima.web.session import PostedDep, Viewer, ViewerDep
from qoima.web.site import web_router

router = web_router()
LEDGER_WORDS = {"none": "",
                "post_pending": " The pending intake entry is posted: the coins now count in "
                                "the seized-asset pool's NAV.",
                "void_pending": " The pending intake entry is voided."}


@dataclass(frozen=True, slots=True)
class NextStep:
    target: str
    documents: tuple[str, ...]
    committee: bool


def pool_of(viewer: Viewer, missing: str) -> str:
    """The seized-asset pool, if the viewer reads it; else NotFound(``missing``)."""
    with viewer.reserve.units(write=False) as uow:
        try:
            pool = seized_pool(uow)
        except NotFound:
            raise NotFound(missing) from None
    if not viewer.reads(pool):
        raise NotFound(missing, field="case_id")
    return pool


def visible_case(viewer: Viewer, case_id: str) -> tuple[str, CaseView]:
    pool = pool_of(viewer, f"no case {case_id!r}")
    return pool, viewer.reserve.custody.case(case_id)


def _next_steps(status: str) -> list[NextStep]:
    current = LegalStatus(status)
    return [NextStep(str(t), tuple(str(d) for d in TRANSITIONS[(current, t)].documents),
                     TRANSITIONS[(current, t)].needs_committee)
            for t in allowed_targets(current)]


def case_page(request: Request, viewer: Viewer, case_id: str, *, error: str | None = None,
              status_code: int = 200, values: dict[str, str] | None = None) -> HTMLResponse:
    pool, view = visible_case(viewer, case_id)
    history: list[dict[str, Any]] = [
        {"record": t, "documents": json.loads(t.documents_json)} for t in view.transitions]
    assets = [{"record": a, "addresses": json.loads(a.addresses_json),
               "tx_ids": json.loads(a.tx_ids_json)} for a in view.assets]
    steps = _next_steps(view.case.legal_status)
    return page(request, "case.html.j2", viewer, title=f"Case {case_id}", error=error,
                status_code=status_code, view=view, history=history, assets=assets,
                steps=steps, liaison_options=options([s.target for s in steps
                                                      if not s.committee]),
                may_write=viewer.can(Permission.CASE_WRITE, pool),
                may_record=any(viewer.can(p, pool) for p in (Permission.CASE_WRITE,
                                                             Permission.ENTRY_POST)),
                event_kinds=enum_options(CustodyEventKind), values=values or {},
                next_event=f"{case_id}-EV-{len(view.events) + 1}", chains=sorted(
                    {a.chain for a in view.assets}), instruments=sorted(
                    {a.instrument_code for a in view.assets}),
                document_kinds=enum_options(DocumentKind), today=datetime.now(UTC).date())


@router.get("/cases")
def list_cases(request: Request, viewer: ViewerDep) -> HTMLResponse:
    pool = pool_of(viewer, "no seized-asset pool you may read")
    cases = viewer.reserve.custody.cases()
    return page(request, "cases.html.j2", viewer, title="Seized-asset cases", cases=cases,
                pool=pool, may_write=viewer.can(Permission.CASE_WRITE, pool))


@router.get("/cases/{case_id}")
def show_case(case_id: str, request: Request, viewer: ViewerDep) -> HTMLResponse:
    return case_page(request, viewer, case_id)


@router.post("/cases/{case_id}/transitions")
async def transition(case_id: str, request: Request, form: PostedDep) -> Response:
    viewer = form.viewer
    await run_in_threadpool(visible_case, viewer, case_id)

    def action() -> tuple[str, str]:
        target = member(form, LegalStatus, "to", "Next status")
        document = Document(member(form, DocumentKind, "document_kind", "Document"),
                            form.need("reference", "Document reference"),
                            day(form, "dated", "Document date"),
                            form.need("issued_by", "Issued by"))
        on = day(form, "on", "Effective on", document.dated)
        view = viewer.reserve.custody.transition(case_id, target, [document], on,
                                                 actor=viewer.name)
        effect = view.transitions[-1].ledger_effect if view.transitions else "none"
        told = LEDGER_WORDS.get(effect, f" Ledger: {effect.replace('_', ' ')}.")
        return f"/cases/{case_id}", (f"Case {case_id} is now "
                                     f"{view.case.legal_status.replace('_', ' ')}.{told}")

    return await act_or_show(request, form, action, lambda message, status: case_page(
        request, viewer, case_id, error=message, status_code=status, values=form.fields))
