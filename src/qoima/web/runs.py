"""Start the daily run from the reports page and follow it to its report.

The run goes to the API's background jobs (:class:`~qoima.api.jobs.JobManager`), the same
work ``POST /api/v1/runs`` queues, so the job is also visible at ``/api/v1/jobs`` to the
person who started it. Starting needs ``risk.run`` on every vehicle (the service refuses
otherwise, audited); the job page shows each step as the run reports it and, once done,
links to the committee report. Only the person who started a job sees its page (404
otherwise, as in the API).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from qoima.api.access import require_everywhere
from qoima.api.context import context
from qoima.api.jobs import Job, Progress
from qoima.api.routers.runs import DEFAULTS, RunIn, run_payload
from qoima.domain.errors import InvalidInput
from qoima.domain.roles import Permission
from qoima.web.forms import act_or_show, day
from qoima.web.oversight import SCENARIOS, reports_view
from qoima.web.render import page
from qoima.web.session import Posted, PostedDep, Viewer, ViewerDep
from qoima.web.site import web_router

router = web_router()
REFRESH_S = 2
RUN_FILES = "/api/v1/runs"


def run_request(form: Posted) -> RunIn:
    """The API's own run body (same defaults and bounds), from the form."""
    as_of: date | None = day(form, "as_of", "As of") if form.get("as_of") else None
    scenarios = form.get("mc_scenarios") or str(DEFAULTS.mc_scenarios)
    if scenarios not in SCENARIOS:
        raise InvalidInput(f"Monte Carlo scenarios: choose one of {', '.join(SCENARIOS)}",
                           field="mc_scenarios")
    try:
        return RunIn(as_of=as_of, mc_scenarios=int(scenarios), label=form.get("label"))
    except ValidationError as error:
        found = error.errors()[0]
        field = str(found["loc"][0]) if found.get("loc") else None
        raise InvalidInput(f"{(field or 'run').replace('_', ' ')}: {found['msg']}",
                           field=field) from None


def _run_link(result: Any) -> str | None:
    return str(result["links"]["self"]) if isinstance(result, dict) else None


@router.post("/runs")
async def start_run(request: Request, form: PostedDep) -> Response:
    viewer = form.viewer
    jobs = context(request).jobs

    def action() -> tuple[str, str]:
        require_everywhere(viewer.user, Permission.RISK_RUN)
        body = run_request(form)
        run = body.request()
        reserve, actor = viewer.reserve, viewer.name

        def work(progress: Progress) -> Any:
            return run_payload(reserve.daily.run(run, actor=actor, progress=progress))

        job = jobs.submit("daily-run", actor, work, _run_link)
        return f"/runs/jobs/{job.job_id}", "Daily run started: its steps show below as " \
            "they finish."

    return await act_or_show(request, form, action, lambda message, status: reports_view(
        request, viewer, error=message, status_code=status, values=form.fields))


def job_page(request: Request, viewer: Viewer, job: Job) -> HTMLResponse:
    view = job.view()
    run_id = job.result_link.rsplit("/", 1)[-1] if job.result_link else None
    return page(request, "job.html.j2", viewer, title="Daily run in progress"
                if not job.finished else "Daily run finished", job=job, view=view,
                run_id=run_id, report=f"{RUN_FILES}/{run_id}/files/report.html"
                if run_id else None, refresh_s=None if job.finished else REFRESH_S)


@router.get("/runs/jobs/{job_id}")
def show_job(job_id: str, request: Request, viewer: ViewerDep) -> HTMLResponse:
    job = context(request).jobs.get(job_id, viewer.name)
    return job_page(request, viewer, job)

