"""Investment policy versions and their approval (four eyes).

A committee member approves a proposed version; the person who proposed it never can, even
holding the committee role too (the policy service refuses, and the refusal is audited like
the API's). A version that has not taken effect may be vetoed with a written reason.
Proposing stays a file-based step (``qoima policy propose`` or ``POST /api/v1/policies``):
a policy is a reviewed document, not a form. Versions show to readers of their vehicle;
another vehicle's version answers 404, as in the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from qoima.api.access import require_read
from qoima.app.governance_ports import PolicyVersionRecord
from qoima.domain.errors import NotFound
from qoima.domain.roles import Permission
from qoima.web.forms import act_or_show
from qoima.web.render import page
from qoima.web.session import PostedDep, Viewer, ViewerDep
from qoima.web.site import web_router

router = web_router()


@dataclass(frozen=True, slots=True)
class Shown:
    record: PolicyVersionRecord
    may_approve: bool
    may_veto: bool
    proposed_by_viewer: bool


def _pending(record: PolicyVersionRecord, now: datetime) -> bool:
    return record.status == "proposed" or (
        record.status == "approved" and record.takes_effect_at is not None
        and record.takes_effect_at > now)


def shown_versions(viewer: Viewer) -> list[Shown]:
    now = datetime.now(UTC)
    found = [r for r in viewer.reserve.policies.versions(None) if viewer.reads(r.vehicle_code)]
    found.sort(key=lambda r: (r.vehicle_code, -r.version))
    return [Shown(r, r.status == "proposed" and viewer.can(Permission.POLICY_APPROVE,
                                                          r.vehicle_code),
                  _pending(r, now) and viewer.can(Permission.POLICY_VETO, r.vehicle_code),
                  r.proposed_by == viewer.name) for r in found]


def policies_page(request: Request, viewer: Viewer, *, error: str | None = None,
                  status_code: int = 200, values: dict[str, str] | None = None) -> HTMLResponse:
    versions = shown_versions(viewer)
    return page(request, "policies.html.j2", viewer, title="Policies", error=error,
                status_code=status_code, versions=versions, values=values or {},
                waiting=[v for v in versions if v.record.status == "proposed"])


def visible_version(viewer: Viewer, vehicle: str, version: int) -> PolicyVersionRecord:
    missing = f"no policy {vehicle} v{version}"
    require_read(viewer.user, vehicle, missing, "version")
    for record in viewer.reserve.policies.versions(vehicle):
        if record.version == version:
            return record
    raise NotFound(missing, field="version")


@router.get("/policies")
def list_policies(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return policies_page(request, viewer)


@router.post("/policies/{vehicle}/versions/{version}/approval")
async def approve(vehicle: str, version: int, request: Request, form: PostedDep) -> Response:
    viewer = form.viewer
    await run_in_threadpool(visible_version, viewer, vehicle, version)

    def action() -> tuple[str, str]:
        record = viewer.reserve.policies.approve(vehicle, version, actor=viewer.name)
        when = ("in force now" if record.status == "active" else
                f"approved; as it loosens limits it takes effect on "
                f"{record.takes_effect_at:%Y-%m-%d %H:%M UTC}" if record.takes_effect_at
                else record.status)
        return "/policies", (f"Policy {vehicle} v{version} approved by {viewer.name}: "
                             f"{when}.")

    return await act_or_show(request, form, action, lambda message, status: policies_page(
        request, viewer, error=message, status_code=status))


@router.post("/policies/{vehicle}/versions/{version}/veto")
async def veto(vehicle: str, version: int, request: Request, form: PostedDep) -> Response:
    viewer = form.viewer
    await run_in_threadpool(visible_version, viewer, vehicle, version)

    def action() -> tuple[str, str]:
        viewer.reserve.policies.veto(vehicle, version, actor=viewer.name,
                                     reason=form.need("reason", "Reason for the veto"))
        return "/policies", f"Policy {vehicle} v{version} vetoed by {viewer.name}."

    return await act_or_show(request, form, action, lambda message, status: policies_page(
        request, viewer, error=message, status_code=status, values=form.fields))
