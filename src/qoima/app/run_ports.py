"""Storage port for daily runs: what each run read, computed and wrote, for replay.

A record carries primitives only; ``summary_json`` is the run's summary.json (every table
of the report, the steps and their timings) and ``numbers_hash`` the hash of the part a
replay must reproduce exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    as_of_date: date
    status: str  # ok | degraded
    inputs_hash: str
    inputs_json: str  # {"book": hash, "market": hash, "policies": {...}, "settings": hash}
    settings_json: str
    versions_json: str
    seed: int
    numbers_hash: str
    summary_json: str
    folder: str
    started_at: datetime
    finished_at: datetime
    run_by: str
    replay_of: str | None = None


class RunRepository(Protocol):
    def add_run(self, record: RunRecord) -> None: ...
    def find_run(self, run_id: str) -> RunRecord | None: ...
    def list_runs(self, limit: int | None = None) -> list[RunRecord]: ...
    def previous_run(self, as_of: date, *, before: datetime | None = None
                     ) -> RunRecord | None: ...
