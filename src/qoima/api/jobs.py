"""Background jobs for long computations: daily runs, Monte Carlo risk reports, backtests.

Jobs run in a small thread pool of this process and live in memory: status, step-by-step
progress and the result are kept for ``jobs_kept`` finished jobs (a restart forgets them;
a daily run's own record and reports stay in the workspace). Only the user who started a
job sees it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qoima.api.problems import TRANSPORT, kind_of, problem_body
from qoima.domain.errors import NotFound, QoimaError

log = logging.getLogger("qoima.api")
JOBS = "/api/v1/jobs"


@dataclass
class Job:
    job_id: str
    kind: str
    owner: str
    created_at: datetime
    status: str = "queued"  # queued | running | succeeded | failed
    started_at: datetime | None = None
    finished_at: datetime | None = None
    current: str | None = None
    steps: list[dict[str, str]] = field(default_factory=list)
    result: Any = None
    error: dict[str, Any] | None = None
    result_link: str | None = None  # a resource the job made (a daily run), once done

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed")

    def view(self) -> dict[str, Any]:
        href = f"{JOBS}/{self.job_id}"
        return {
            "job_id": self.job_id, "kind": self.kind, "status": self.status,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "progress": self.progress(), "error": self.error,
            "links": {"self": href, "progress": f"{href}/progress",
                      "result": f"{href}/result", "resource": self.result_link}}

    def progress(self) -> dict[str, Any]:
        done = sum(1 for s in self.steps if s["status"] != "start")
        return {"current": self.current, "steps_done": done,
                "steps": [dict(s) for s in self.steps]}


class Progress:
    """Handed to the work: ``(title, status)`` as the daily run reports, or ``(title)``
    alone as the risk report's ``step`` callback does."""

    def __init__(self, job: Job, lock: threading.Lock) -> None:
        self._job, self._lock = job, lock

    def __call__(self, title: str, status: str = "start") -> None:
        with self._lock:
            job = self._job
            if status == "start":
                for step in job.steps:  # a bare step callback never says a step ended
                    if step["status"] == "start":
                        step["status"] = "ok"
                job.steps.append({"title": title, "status": "start"})
                job.current = title
                return
            for step in reversed(job.steps):
                if step["title"] == title:
                    step["status"] = status
                    break
            else:
                job.steps.append({"title": title, "status": status})
            job.current = None


Work = Callable[[Progress], Any]


class JobManager:
    def __init__(self, workers: int, kept: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qoima-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._kept = kept

    def submit(self, kind: str, owner: str, work: Work,
               link: Callable[[Any], str | None] = lambda _: None) -> Job:
        job = Job(uuid.uuid4().hex, kind, owner, datetime.now(UTC))
        with self._lock:
            self._jobs[job.job_id] = job
            self._forget_old()
        self._pool.submit(self._run, job, work, link)
        return job

    def get(self, job_id: str, owner: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.owner != owner:
            raise NotFound(f"no job {job_id!r}", field="job_id")
        return job

    def list(self, owner: str) -> list[Job]:
        with self._lock:
            mine = [j for j in self._jobs.values() if j.owner == owner]
        return sorted(mine, key=lambda j: j.created_at, reverse=True)

    def wait(self, job_id: str, timeout_s: float) -> bool:
        """For tests and shutdown: True once the job finished."""
        done = threading.Event()
        deadline = datetime.now(UTC).timestamp() + timeout_s
        while datetime.now(UTC).timestamp() < deadline:
            with self._lock:
                job = self._jobs.get(job_id)
                if job is None or job.finished:
                    return True
            done.wait(0.05)
        return False

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: Job, work: Work, link: Callable[[Any], str | None]) -> None:
        with self._lock:
            job.status, job.started_at = "running", datetime.now(UTC)
        try:
            result = work(Progress(job, self._lock))
        except QoimaError as error:
            kind = kind_of(error)
            outcome: dict[str, Any] = {"status": "failed", "error": problem_body(
                kind, error.message, f"{JOBS}/{job.job_id}", field=error.field)}
        except Exception:
            log.exception("job %s (%s) failed", job.job_id, job.kind)
            outcome = {"status": "failed", "error": problem_body(
                TRANSPORT["internal-error"], "the job failed with an internal error; it was "
                "logged", f"{JOBS}/{job.job_id}")}
        else:
            outcome = {"status": "succeeded", "result": result, "result_link": link(result)}
        with self._lock:
            for name, value in outcome.items():
                setattr(job, name, value)
            job.finished_at, job.current = datetime.now(UTC), None

    def _forget_old(self) -> None:
        finished = sorted((j for j in self._jobs.values() if j.finished),
                          key=lambda j: j.finished_at or j.created_at)
        for job in finished[:max(len(finished) - self._kept, 0)]:
            del self._jobs[job.job_id]
