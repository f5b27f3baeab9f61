"""Response models of background jobs (status, progress, links)."""

from __future__ import annotations

from typing import Any

from qoima.api.responses import Out


class StepOut(Out):
    title: str
    status: str


class ProgressOut(Out):
    current: str | None
    steps_done: int
    steps: list[StepOut]


class JobLinksOut(Out):
    self: str
    progress: str
    result: str
    resource: str | None


class JobOut(Out):
    job_id: str
    kind: str
    status: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    progress: ProgressOut
    error: dict[str, Any] | None  # the problem+json body of a failed job
    links: JobLinksOut


class JobProgressOut(ProgressOut):
    job_id: str
    status: str


#: ``responses=`` of a route that starts a job: the 202 body is the job.
JOB_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": JobOut, "description": "The job started; poll its links.self"}}


class RunLinksOut(Out):
    self: str
    files: str
    report: str


class RunRecordOut(Out):
    run_id: str
    as_of: str
    status: str
    replay_of: str | None
    inputs_hash: str
    numbers_hash: str
    run_by: str
    started_at: str
    finished_at: str
    seconds: float
    links: RunLinksOut


class RunOut(RunRecordOut):
    summary: dict[str, Any]  # what ``qoima run --json`` prints, tables left out


class RunFileOut(Out):
    name: str
    bytes: int
    href: str
