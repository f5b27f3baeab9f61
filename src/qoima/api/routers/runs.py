"""Daily runs: start one (a background job), replay one, list them, read their reports.

A daily run covers the whole institution: starting one needs ``risk.run`` and reading one
needs read access on every vehicle."""

from __future__ import annotations

import json
import mimetypes
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import FileResponse
from pydantic import Field

from qoima.adapters.library_versions import versions
from qoima.api.access import require_everywhere
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.job_models import JOB_ACCEPTED, RunFileOut, RunOut, RunRecordOut
from qoima.api.jobs import Progress
from qoima.api.models import Day, Strict
from qoima.api.pagination import Paging, page
from qoima.api.responses import PageOut
from qoima.api.results import plain
from qoima.api.routers.jobs import accepted
from qoima.app.daily_run import RunRequest, RunResult
from qoima.app.run_numbers import Comparison, RunSettings
from qoima.app.run_ports import RunRecord
from qoima.domain.errors import NotFound
from qoima.domain.roles import Permission

router = api_router("daily runs")
RUNS = "/api/v1/runs"
DEFAULTS = RunSettings()


class RunIn(Strict):
    as_of: Day | None = None
    window: Annotated[int, Field(ge=30, le=5000)] = DEFAULTS.window
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = DEFAULTS.seed
    mc_scenarios: Annotated[int, Field(ge=1000, le=1_000_000)] = DEFAULTS.mc_scenarios
    scenarios: Annotated[list[str], Field(max_length=100)] = Field(default_factory=list)
    label: Annotated[str, Field(max_length=200)] = ""

    def request(self) -> RunRequest:
        return RunRequest(self.as_of, RunSettings(self.window, self.seed, self.mc_scenarios,
                                                  tuple(self.scenarios)),
                          versions=versions(), salt_key=secrets.token_bytes(32),
                          label=self.label)


def run_payload(result: RunResult, comparison: Comparison | None = None) -> dict[str, Any]:
    """The summary ``qoima run --json`` prints (tables left out), with links."""
    payload: dict[str, Any] = {k: v for k, v in result.summary.items() if k != "tables"}
    if comparison is not None:
        payload["replay"] = {"identical": comparison.identical,
                             "inputs_changed": list(comparison.inputs_changed),
                             "differences": list(comparison.differences),
                             "numbers_compared": comparison.compared}
    return {**plain(payload), "links": _links(result.run_id)}


def _links(run_id: str) -> dict[str, str]:
    return {"self": f"{RUNS}/{run_id}", "files": f"{RUNS}/{run_id}/files",
            "report": f"{RUNS}/{run_id}/files/report.html"}


def _run_link(result: Any) -> str | None:
    return str(result["links"]["self"]) if isinstance(result, dict) else None


def record_view(record: RunRecord) -> dict[str, Any]:
    return {"run_id": record.run_id, "as_of": plain(record.as_of_date), "status": record.status,
            "replay_of": record.replay_of, "inputs_hash": record.inputs_hash,
            "numbers_hash": record.numbers_hash, "run_by": record.run_by,
            "started_at": plain(record.started_at), "finished_at": plain(record.finished_at),
            "seconds": (record.finished_at - record.started_at).total_seconds(),
            "links": _links(record.run_id)}


@router.post("/runs", status_code=202, responses=JOB_ACCEPTED,
             summary="Start the daily run as a background job")
def start_run(body: RunIn, request: Request, reserve: ReserveDep, user: UserDep) -> Any:
    require_everywhere(user, Permission.RISK_RUN)
    run_request = body.request()

    def work(progress: Progress) -> Any:
        return run_payload(reserve.daily.run(run_request, actor=user.name, progress=progress))
    return accepted(request, "daily-run", user.name, work, _run_link)


@router.post("/runs/{run_id}/replays", status_code=202, responses=JOB_ACCEPTED,
             summary="Run again with the recorded date, settings and seed, and compare")
def start_replay(run_id: str, request: Request, reserve: ReserveDep, user: UserDep) -> Any:
    require_everywhere(user, Permission.RISK_RUN)
    reserve.runs.get(run_id)
    run_request = RunIn().request()

    def work(progress: Progress) -> Any:
        result, comparison = reserve.runs.replay(run_id, run_request, actor=user.name,
                                                 progress=progress)
        return run_payload(result, comparison)
    return accepted(request, "daily-run-replay", user.name, work, _run_link)


@router.get("/runs", summary="Recorded daily runs, newest first")
def list_runs(reserve: ReserveDep, user: UserDep, paging: Paging) -> PageOut[RunRecordOut]:
    require_everywhere(user, Permission.READ)
    return PageOut[RunRecordOut].of(page(reserve.runs.list(None), paging, record_view))


@router.get("/runs/{run_id}", summary="A run: its record and summary (steps, headline, files)")
def get_run(run_id: str, reserve: ReserveDep, user: UserDep) -> RunOut:
    require_everywhere(user, Permission.READ)
    record = reserve.runs.get(run_id)
    summary = {k: v for k, v in json.loads(record.summary_json).items() if k != "tables"}
    return RunOut.of({**record_view(record), "summary": summary})


def _files(reserve_run: RunRecord) -> tuple[Path, list[Path]]:
    folder = Path(reserve_run.folder).resolve()
    listed = json.loads(reserve_run.summary_json).get("files", [])
    return folder, [Path(p).resolve() for p in listed]


@router.get("/runs/{run_id}/files", summary="The run's report files")
def list_files(run_id: str, reserve: ReserveDep, user: UserDep) -> list[RunFileOut]:
    require_everywhere(user, Permission.READ)
    folder, listed = _files(reserve.runs.get(run_id))
    found = []
    for path in listed:
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file() and file.is_relative_to(folder):
                name = file.relative_to(folder).as_posix()
                found.append(RunFileOut(name=name, bytes=file.stat().st_size,
                                        href=f"{RUNS}/{run_id}/files/{name}"))
    return found


@router.get("/runs/{run_id}/files/{name:path}", summary="One report file (HTML, PDF, CSV...)",
            response_class=FileResponse)
def get_file(run_id: str, name: str, reserve: ReserveDep, user: UserDep) -> FileResponse:
    require_everywhere(user, Permission.READ)
    folder, listed = _files(reserve.runs.get(run_id))
    wanted = (folder / name).resolve()
    allowed = wanted.is_file() and wanted.is_relative_to(folder) and any(
        wanted == p or wanted.is_relative_to(p) for p in listed)
    if not allowed:
        raise NotFound(f"run {run_id} has no file {name!r}", field="name")
    media = mimetypes.guess_type(wanted.name)[0] or "application/octet-stream"
    return FileResponse(wanted, media_type=media)
