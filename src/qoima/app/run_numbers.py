"""A run's settings, its summary (every table's numbers) and the comparison a replay makes.

The numbers a replay must reproduce are the committee report's tables, except those that
describe the state of the workspace at run time rather than a computation on the as-of
data (orders awaiting approval, the breach register, tranche states, the audit checkpoint).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from qoima.app.run_facts import PreviousRun, RunFacts
from qoima.app.run_ports import RunRecord, RunRepository
from qoima.domain.canonical import content_hash
from qoima.domain.errors import InvalidInput
from qoima.report.document import ReportDocument
from qoima.report.transparency import TransparencyReport

if TYPE_CHECKING:
    from qoima.app.daily_run import Rendered

#: Tables that describe the workspace's state when the run happened (not reproducible).
STATE_TABLES = frozenset({"pending_orders", "open_breaches", "tranches", "audit_checkpoint"})


@dataclass(frozen=True, slots=True)
class RunSettings:
    """Every choice of a run; recorded, and read back by a replay."""

    window: int = 500
    seed: int = 20_260_101
    mc_scenarios: int = 50_000
    scenarios: tuple[str, ...] = ()  # stress scenarios by name; empty: the whole library

    @classmethod
    def from_json(cls, text: str) -> RunSettings:
        data = json.loads(text)
        return cls(int(data["window"]), int(data["seed"]), int(data["mc_scenarios"]),
                   tuple(data["scenarios"]))


def previous_run(runs: RunRepository, as_of: date, before: datetime | None
                 ) -> PreviousRun | None:
    record = runs.previous_run(as_of, before=before)
    if record is None:
        return None
    summary = json.loads(record.summary_json)
    navs = summary.get("headline", {}).get("nav_usd", {})
    total = summary.get("headline", {}).get("total_usd")
    if total is None:
        return None
    return PreviousRun(record.run_id, record.as_of_date,
                       {k: Decimal(v) for k, v in navs.items()}, Decimal(total))


def table_numbers(doc: ReportDocument) -> dict[str, Any]:
    return {t.id: {"columns": [c.key for c in t.columns], "rows": [list(r) for r in t.rows]}
            for t in doc.tables()}


def reproducible(tables: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in tables.items() if k not in STATE_TABLES}


def run_summary(run_id: str, status: str, facts: RunFacts, committee: ReportDocument,
                public: TransparencyReport | None, inputs: Mapping[str, Any],
                settings: RunSettings, versions: Mapping[str, str], rendered: Rendered | None,
                started: datetime, finished: datetime, replay_of: str | None
                ) -> dict[str, Any]:
    """summary.json: status, steps with their times, notices, headline, every table."""
    tables = table_numbers(committee)
    snapshot = facts.snapshot
    headline: dict[str, Any] = {}
    if snapshot is not None:
        headline = {
            "total_usd": str(snapshot.total_usd),
            "total_kzt": None if snapshot.total_kzt is None else str(snapshot.total_kzt),
            "nav_usd": {v.vehicle_code: str(v.nav_usd) for v in snapshot.vehicles},
            "nav_kzt": {v.vehicle_code: None if v.nav_kzt is None else str(v.nav_kzt)
                        for v in snapshot.vehicles},
            "positions": len(snapshot.positions),
        }
    if facts.previous is not None:
        headline["previous_run"] = facts.previous.run_id
    headline["gate"] = {g.vehicle_code: g.decision.verdict.value for g in facts.gates or ()}
    headline["open_breaches"] = None if facts.open_breaches is None else len(
        facts.open_breaches)
    headline["orders_awaiting_approval"] = None if facts.pending_orders is None else len(
        facts.pending_orders)
    if facts.checkpoint is not None:
        headline["audit_checkpoint"] = {"root": facts.checkpoint.root,
                                        "size": facts.checkpoint.size}
    return {
        "run_id": run_id, "as_of": facts.as_of.isoformat(), "status": status,
        "replay_of": replay_of, "synthetic_market": facts.synthetic, "label": facts.label,
        "started_at": started.isoformat(), "finished_at": finished.isoformat(),
        "seconds": (finished - started).total_seconds(),
        "steps": [asdict(s) for s in facts.steps],
        "notices": [{"level": n.level.value, "step": n.step, "text": n.text}
                    for n in facts.notices],
        "headline": headline,
        "inputs": dict(inputs), "settings": asdict(settings), "versions": dict(versions),
        "seed": settings.seed,
        "stress_scenarios": list(facts.scenarios_run),
        "holdings_commitment": None if public is None else {
            "root": public.commitment.root, "size": public.commitment.size,
            "scheme": public.commitment.scheme},
        "pdf_renderer": rendered.pdf_renderer if rendered else None,
        "folder": rendered.folder if rendered else None,
        "files": list(rendered.files) if rendered else [],
        "numbers_hash": content_hash(_plain(reproducible(tables))),
        "tables": _plain(tables),
    }


def _plain(value: Any) -> Any:
    """Floats as their repr (exact round trip), so the hash sees every bit."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Comparison:
    inputs_changed: tuple[str, ...]  # parts of the inputs whose hash differs
    differences: tuple[str, ...]  # "table row/column: was -> now", at most 50
    compared: int  # numbers (cells) compared

    @property
    def identical(self) -> bool:
        return not self.inputs_changed and not self.differences


def compare_runs(original: RunRecord, summary: Mapping[str, Any]) -> Comparison:
    before = json.loads(original.summary_json)
    was_inputs, now_inputs = before["inputs"], summary["inputs"]
    changed = tuple(k for k in sorted(set(was_inputs) | set(now_inputs))
                    if k != "hash" and was_inputs.get(k) != now_inputs.get(k))
    was, now = reproducible(before["tables"]), reproducible(summary["tables"])
    differences: list[str] = []
    compared = 0
    for table in sorted(set(was) | set(now)):
        if table not in was or table not in now:
            where = "replay" if table in now else "original"
            differences.append(f"table {table}: only in the {where}")
            continue
        a, b = was[table], now[table]
        if a["columns"] != b["columns"] or len(a["rows"]) != len(b["rows"]):
            differences.append(f"table {table}: {len(a['rows'])} rows before, "
                               f"{len(b['rows'])} now")
            continue
        for i, (ra, rb) in enumerate(zip(a["rows"], b["rows"], strict=True)):
            for col, x, y in zip(a["columns"], ra, rb, strict=True):
                compared += 1
                if x != y:
                    differences.append(f"{table} row {i + 1} {col}: {x} -> {y}")
    return Comparison(changed, tuple(differences[:50]), compared)


def load_settings(record: RunRecord) -> RunSettings:
    try:
        return RunSettings.from_json(record.settings_json)
    except (KeyError, ValueError) as error:
        raise InvalidInput(f"run {record.run_id}: recorded settings unreadable ({error})",
                           field="settings_json") from error
