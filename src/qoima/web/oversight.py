"""Managers and their scorecards, the daily runs' reports, and the audit trail.

Managers show to readers of their vehicle; reports and the audit trail cover the whole
institution, so they need read access on every vehicle (403 otherwise, as in the API).
Report files are opened and downloaded through the API's own file endpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from qoima.api.access import require_everywhere
from qoima.app.run_numbers import RunSettings
from qoima.app.run_ports import RunRecord
from qoima.domain.errors import NotFound
from qoima.domain.reference import Manager
from qoima.domain.roles import Permission
from qoima.web import figures
from qoima.web.forms import act_or_show, options
from qoima.web.overview import book_day
from qoima.web.render import chart, page
from qoima.web.session import PostedDep, Viewer, ViewerDep
from qoima.web.site import web_router

router = web_router()
RUN_FILES = "/api/v1/runs"
SHOWN_RUNS = 30
#: Monte Carlo sizes the daily-run form offers (the API's default among them).
SCENARIOS = tuple(str(n) for n in sorted({2000, 10000, RunSettings().mc_scenarios}))


def _managers(viewer: Viewer) -> dict[str, Manager]:
    with viewer.reserve.units(write=False) as uow:
        found = uow.reference.list_managers()
    return {m.code: m for m in found if viewer.reads(m.vehicle_code)}


@router.get("/managers")
def managers_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    visible = _managers(viewer)
    day = book_day(viewer.reserve)
    cards = [c for c in viewer.reserve.managers.scorecards(day) if c.manager_code in visible]
    drawn = chart(figures.manager_returns(cards, day)) if any(
        c.twr is not None for c in cards) else None
    return page(request, "managers.html.j2", viewer, title="Managers", day=day,
                managers=list(visible.values()), cards=cards, chart=drawn,
                uses_charts=drawn is not None)


@router.get("/managers/{code}")
def manager_page(code: str, request: Request, viewer: ViewerDep) -> HTMLResponse:
    manager = _managers(viewer).get(code)
    if manager is None:
        raise NotFound(f"unknown manager {code!r}", field="manager")
    day = book_day(viewer.reserve)
    card = viewer.reserve.managers.scorecard(code, day)
    statements = viewer.reserve.managers.statements(code, day)
    return page(request, "manager.html.j2", viewer, title=f"Manager {code}", day=day,
                manager=manager, card=card, statements=statements)


@dataclass(frozen=True, slots=True)
class RunFile:
    name: str
    href: str
    bytes: int
    kind: str


def run_files(record: RunRecord) -> list[RunFile]:
    """The files the run lists, as links to the API's file endpoint (same checks)."""
    folder = Path(record.folder).resolve()
    listed = json.loads(record.summary_json).get("files", [])
    found = []
    for raw in listed:
        path = Path(raw).resolve()
        if path.is_dir() or not path.is_file() or not path.is_relative_to(folder):
            continue
        name = path.relative_to(folder).as_posix()
        found.append(RunFile(name, f"{RUN_FILES}/{record.run_id}/files/{name}",
                             path.stat().st_size, path.suffix.lstrip(".").lower()))
    return found


def reports_view(request: Request, viewer: Viewer, *, error: str | None = None,
                 status_code: int = 200, values: dict[str, str] | None = None) -> HTMLResponse:
    """The reports, and the form that starts a daily run (for those who may)."""
    require_everywhere(viewer.user, Permission.READ)
    runs = viewer.reserve.runs.list(SHOWN_RUNS)
    shown: list[dict[str, Any]] = []
    for record in runs:
        summary = json.loads(record.summary_json)
        shown.append({"record": record, "files": run_files(record),
                      "notices": summary.get("notices", []),
                      "headline": summary.get("headline", {})})
    return page(request, "reports.html.j2", viewer, title="Reports", runs=shown, error=error,
                status_code=status_code, values=values or {},
                may_run=viewer.can(Permission.RISK_RUN, None), scenarios=options(SCENARIOS),
                default_scenarios=str(RunSettings().mc_scenarios))


@router.get("/reports")
def reports_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return reports_view(request, viewer)


def audit_page(request: Request, viewer: Viewer, *, error: str | None = None,
               status_code: int = 200) -> HTMLResponse:
    require_everywhere(viewer.user, Permission.READ)
    result = viewer.reserve.audit.verify()
    latest = viewer.reserve.audit.latest_checkpoint()
    return page(request, "audit.html.j2", viewer, title="Audit trail", error=error,
                status_code=status_code, result=result, latest=latest,
                may_checkpoint=viewer.can(Permission.AUDIT_CHECKPOINT, None))


@router.get("/audit")
def show_audit(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return audit_page(request, viewer)


@router.post("/audit/checkpoints")
async def checkpoint(request: Request, form: PostedDep) -> Response:
    viewer = form.viewer

    def action() -> tuple[str, str]:
        made = viewer.reserve.audit.checkpoint(actor=viewer.name)
        return "/audit", (f"Checkpoint {made.checkpoint_id} recorded: root {made.root} over "
                          f"{made.size} records.")

    return await act_or_show(request, form, action, lambda message, status: audit_page(
        request, viewer, error=message, status_code=status))
