"""Background jobs: status, progress and result of the caller's own jobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from qoima.api.context import context
from qoima.api.deps import api_router
from qoima.api.job_models import JobOut, JobProgressOut
from qoima.api.jobs import Job, Work
from qoima.api.pagination import Paging, page
from qoima.api.problems import PROBLEM_JSON
from qoima.api.responses import PageOut
from qoima.api.security import Caller
from qoima.domain.errors import Conflict

router = api_router("jobs")


def accepted(request: Request, kind: str, owner: str, work: Work,
             link: Callable[[Any], str | None] = lambda _: None) -> JSONResponse:
    """Start ``work`` as a job: 202 with the job and ``Location`` of its status."""
    job = context(request).jobs.submit(kind, owner, work, link)
    view = job.view()
    return JSONResponse(view, status_code=202, headers={"Location": view["links"]["self"]})


def _job(request: Request, job_id: str, owner: str) -> Job:
    return context(request).jobs.get(job_id, owner)


@router.get("/jobs", summary="The caller's jobs, newest first")
def list_jobs(request: Request, principal: Caller, paging: Paging) -> PageOut[JobOut]:
    jobs = context(request).jobs.list(principal.user)
    return PageOut[JobOut].of(page(jobs, paging, Job.view))


@router.get("/jobs/{job_id}", summary="A job's status, progress and links")
def get_job(job_id: str, request: Request, principal: Caller) -> JobOut:
    return JobOut.of(_job(request, job_id, principal.user).view())


@router.get("/jobs/{job_id}/progress", summary="Steps done so far and the running one")
def get_progress(job_id: str, request: Request, principal: Caller) -> JobProgressOut:
    job = _job(request, job_id, principal.user)
    return JobProgressOut.of({"job_id": job.job_id, "status": job.status, **job.progress()})


@router.get("/jobs/{job_id}/result", summary="The result of a finished job")
def get_result(job_id: str, request: Request, principal: Caller) -> Any:
    job = _job(request, job_id, principal.user)
    if not job.finished:
        raise Conflict(f"job {job_id} is {job.status}: poll its status until it finishes",
                       field="job_id")
    if job.error is not None:
        return JSONResponse(job.error, status_code=int(job.error["status"]),
                            media_type=PROBLEM_JSON)
    return job.result
