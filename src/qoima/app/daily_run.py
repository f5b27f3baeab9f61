"""The daily run: from the book and the market to a decision-ready report, in one call.

Steps run in order; each is timed and a failing step is recorded with its cause while the
steps that do not depend on it still run. The run is *degraded* when any step failed or an
input is broken (a missing price, an unknown scenario, a broken audit trail); the reports
are written regardless, with the problems at the top. Each run is recorded with the hashes
of its inputs, the versions and the seed, so :meth:`DailyRunService.replay` can say whether
every number comes out the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Protocol, TypeVar

from qoima.app.allocation import AllocationService
from qoima.app.audit_trail import AuditService
from qoima.app.committee_report import committee_report
from qoima.app.orders import OrderService
from qoima.app.policies import PolicyService
from qoima.app.ports import Checkpoint, Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.risk import RiskRequest, RiskService
from qoima.app.run_facts import RunFacts, StepLog
from qoima.app.run_numbers import (
    Comparison,
    RunSettings,
    compare_runs,
    load_settings,
    previous_run,
    run_summary,
)
from qoima.app.run_ports import RunRecord
from qoima.app.tranche_plans import TranchePlanService
from qoima.app.units import in_write_unit
from qoima.app.valuation import ValuationService
from qoima.domain.canonical import canonical_json, content_hash
from qoima.domain.enums import VehicleKind
from qoima.domain.errors import Forbidden, NotFound, QoimaError
from qoima.report.document import Notice, NoticeLevel, ReportDocument
from qoima.report.transparency import TransparencyReport, build_transparency
from qoima.risk.assessment import AssessmentSettings
from qoima.risk.scenarios import BUILTIN_SCENARIOS, Scenario

T = TypeVar("T")
PENDING_STATUSES = ("submitted", "approved", "partially_executed")


@dataclass(frozen=True, slots=True)
class RunRequest:
    as_of: date | None = None
    settings: RunSettings = field(default_factory=RunSettings)
    extra_scenarios: Sequence[Scenario] = ()
    input_problems: Sequence[Notice] = ()  # e.g. a stress file that could not be read
    versions: Mapping[str, str] = field(default_factory=dict)
    #: Secret for the holdings commitment's salts (>= 16 random bytes, from the entry point):
    #: without it the public report is not built and the run says why.
    salt_key: bytes = b""
    label: str = ""


@dataclass(frozen=True, slots=True)
class Rendered:
    folder: str
    files: tuple[str, ...]
    pdf_renderer: str
    problems: tuple[str, ...] = ()


class RunOutput(Protocol):
    """Port: where a run's documents go (the run folder adapter implements it)."""

    def write_reports(self, run_id: str, committee: ReportDocument,
                      public: TransparencyReport | None) -> Rendered: ...

    def write_summary(self, folder: str, summary: Mapping[str, Any]) -> str: ...


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: str
    status: str  # ok | degraded
    facts: RunFacts
    committee: ReportDocument
    public: TransparencyReport | None
    summary: Mapping[str, Any]
    record: RunRecord

    @property
    def degraded(self) -> bool:
        return self.status == "degraded"


Progress = Callable[[str, str], None]  # (step title, "start" | "ok" | "failed" | "skipped")


@dataclass
class RunServices:
    valuation: ValuationService
    risk: RiskService
    policies: PolicyService
    allocation: AllocationService
    tranches: TranchePlanService
    orders: OrderService
    audit: AuditService


class DailyRunService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock, services: RunServices,
                 output: RunOutput) -> None:
        self._units, self._clock, self._s, self._output = units, clock, services, output

    def run(self, request: RunRequest, *, actor: str, progress: Progress | None = None,
            replay_of: RunRecord | None = None) -> RunResult:
        started = self._clock.now()
        as_of = request.as_of or self._s.valuation.default_as_of()
        if as_of is None:
            raise NotFound("the book holds no prices: nothing to value (load market data)",
                           field="as_of")
        notify = progress or (lambda _title, _state: None)
        replaying = replay_of is not None
        facts = RunFacts(as_of, request.label)
        facts.notices.extend(request.input_problems)
        with self._units(write=False) as uow:
            vehicles = uow.reference.list_vehicles()
            instruments = {i.code: i for i in uow.reference.list_instruments()}
            prev = previous_run(uow.runs, as_of, replay_of.started_at if replay_of else None)
        facts.previous = prev
        step = _Stepper(self._clock, facts, notify)
        s = self._s

        facts.snapshot = step("valuation", "Valuing every vehicle",
                              lambda: s.valuation.snapshot(as_of))
        if facts.snapshot is not None:
            _valuation_notices(facts)
        scenarios = _scenarios(request, facts)
        settings = request.settings
        facts.assessment = step("risk", "Risk, stress library and liquidity", lambda: s.risk.assess(
            as_of, RiskRequest(settings=AssessmentSettings(
                window=settings.window, seed=settings.seed,
                mc_scenarios=settings.mc_scenarios), scenarios=scenarios)))
        facts.scenarios_run = tuple(sc.name for sc in scenarios)
        outcomes = step("policy", "Checking every policy (breach register)",
                        lambda: tuple(s.policies.check(as_of, actor=actor,
                                                       record=not replaying)))
        if outcomes is not None:
            facts.policy = outcomes
            facts.open_breaches = tuple(s.policies.breaches())
            if any(o.check.blocking for o in outcomes):
                facts.notices.append(Notice(NoticeLevel.WARNING, "policy",
                                            "A policy has a blocking finding: see the "
                                            "compliance section."))
        sleeves = [v.code for v in vehicles if v.kind is VehicleKind.DIGITAL_ASSET_SLEEVE]
        facts.gates = step("gate", "Stability gate", lambda: tuple(
            self._gate(v, as_of, actor, record=not replaying) for v in sleeves))
        facts.plans = step("tranches", "Tranche plans", lambda: tuple(
            s.tranches.status(p.plan_id, as_of) for p in s.tranches.plans()
            if p.status == "active"))
        facts.sizings = step("sizing", "Sizing the sleeve", lambda: self._sizings(
            sleeves, as_of, scenarios, facts))
        facts.pending_orders = step("orders", "Orders awaiting approval", lambda: tuple(
            s.orders.list(actor=actor, status=PENDING_STATUSES)))
        facts.audit = step("audit", "Verifying the audit trail", s.audit.verify)
        if facts.audit is not None and not facts.audit.ok:
            facts.failures["audit"] = "; ".join(p.message for p in facts.audit.problems)
            facts.notices.append(Notice(
                NoticeLevel.PROBLEM, "audit", "The audit trail failed verification "
                f"(first bad record: {facts.audit.first_bad_seq}); no checkpoint is published "
                "until it is repaired."))
        elif facts.audit is not None and not replaying:
            facts.checkpoint = step("checkpoint", "Publishing an audit checkpoint",
                                    lambda: self._checkpoint(actor, facts))
        public = step("transparency", "Public transparency report",
                      lambda: self._public(facts, request, vehicles, instruments))
        inputs = _inputs(facts, request)
        run_id = f"run-{as_of:%Y%m%d}-{started:%H%M%S%f}"[:-3] + f"-{inputs['hash'][:6]}"
        committee = committee_report(facts, instruments=instruments, meta=(
            ("run_id", run_id), ("inputs_hash", inputs["hash"]),
            ("seed", str(settings.seed)), ("qoima", request.versions.get("qoima", "")),
            *((("replay_of", replay_of.run_id),) if replay_of else ())))
        rendered = step("render", "Writing HTML, PDF, CSV and proofs",
                        lambda: self._output.write_reports(run_id, committee, public))
        if rendered is not None:
            for text in rendered.problems:
                facts.notices.append(Notice(NoticeLevel.WARNING, "render", text))
        status = "degraded" if facts.failures or any(
            n.level is NoticeLevel.PROBLEM for n in facts.notices) else "ok"
        finished = self._clock.now()
        summary = run_summary(run_id, status, facts, committee, public, inputs, settings,
                              request.versions, rendered, started, finished,
                              replay_of.run_id if replay_of else None)
        folder = rendered.folder if rendered else ""
        if rendered is not None:
            summary = {**summary, "files": [*summary["files"], self._output.write_summary(
                folder, summary)]}
        record = RunRecord(
            run_id, as_of, status, inputs["hash"], canonical_json(inputs),
            canonical_json(settings), canonical_json(dict(request.versions)), settings.seed,
            summary["numbers_hash"], json.dumps(summary, sort_keys=True, default=str), folder,
            started, finished,
            actor, replay_of.run_id if replay_of else None)

        def save(uow: UnitOfWork) -> None:
            uow.runs.add_run(record)
        in_write_unit(self._units, save)
        return RunResult(run_id, status, facts, committee, public, summary, record)

    # -- steps ---------------------------------------------------------------------------
    def _gate(self, vehicle: str, as_of: date, actor: str, *, record: bool) -> Any:
        if record:
            try:
                return self._s.allocation.record_gate(vehicle, as_of, actor=actor)[0]
            except QoimaError:  # not allowed to record: evaluate only
                pass
        return self._s.allocation.gate(vehicle, as_of)

    def _checkpoint(self, actor: str, facts: RunFacts) -> Checkpoint | None:
        """A new checkpoint when the actor may publish one; otherwise the run goes on with
        the latest published checkpoint and says so (not a failure of the run)."""
        try:
            return self._s.audit.checkpoint(actor=actor)
        except Forbidden as error:
            latest = self._s.audit.latest_checkpoint()
            facts.notices.append(Notice(
                NoticeLevel.INFO, "checkpoint", f"No new audit checkpoint: {error}. " + (
                    f"The latest published one (#{latest.checkpoint_id}, {latest.size} "
                    "records) is shown." if latest else "None has been published yet.")))
            return latest

    def _sizings(self, sleeves: Sequence[str], as_of: date, scenarios: Sequence[Scenario],
                 facts: RunFacts) -> tuple[Any, ...]:
        results = []
        for vehicle in sleeves:
            if self._s.policies.in_force(vehicle, as_of) is None:
                facts.notices.append(Notice(
                    NoticeLevel.INFO, "sizing", f"{vehicle}: no policy in force, so no range "
                    "and budgets to size against."))
                continue
            extra = [sc for sc in scenarios if sc not in BUILTIN_SCENARIOS]
            results.append(self._s.allocation.size(vehicle, as_of, scenarios=extra))
        return tuple(results)

    def _public(self, facts: RunFacts, request: RunRequest, vehicles: Sequence[Any],
                instruments: Mapping[str, Any]) -> TransparencyReport:
        if facts.snapshot is None:
            raise ValueError("no valuation")
        cp = facts.checkpoint
        risk: list[tuple[str, str]] = []
        a = facts.assessment
        if a is not None and (row := a.var_row("total", "historical", 0.99)) is not None:
            risk.append(("1-day 99 % VaR (historical)", f"USD {row.var:,.0f} "
                         f"({row.var / row.value:.2%} of reserves)" if row.value else ""))
            risk.append(("1-day 99 % CVaR (historical)", f"USD {row.cvar:,.0f}"))
        if a is not None and a.stress is not None and a.stress.results:
            worst = min(a.stress.results, key=lambda r: r.total_pnl_usd)
            risk.append(("Worst stress scenario", f"{worst.scenario}: USD "
                         f"{worst.total_pnl_usd:,.0f}"))
        policy = [(o.check.vehicle_code, f"policy version {o.check.version}: "
                   f"{len(o.check.findings)} findings") for o in facts.policy or ()]
        if facts.open_breaches is not None:
            policy.append(("Open breaches", str(len(facts.open_breaches))))
        return build_transparency(
            facts.snapshot, policy_summary=policy, risk_summary=risk,
            checkpoint=None if cp is None else (cp.root, cp.size, cp.created_at.isoformat()),
            salt_key=request.salt_key, label=request.label, synthetic=facts.synthetic,
            published_on=facts.as_of, vehicles={v.code: v for v in vehicles},
            instruments=instruments)


class _Stepper:
    """Runs one step: times it, records success or the cause of failure, never raises."""

    def __init__(self, clock: Clock, facts: RunFacts, notify: Progress) -> None:
        self._clock, self._facts, self._notify = clock, facts, notify

    def __call__(self, name: str, title: str, work: Callable[[], T]) -> T | None:
        self._notify(title, "start")
        start = self._clock.now()
        try:
            result = work()
        except Exception as error:  # a failing step degrades the run, never stops it
            seconds = (self._clock.now() - start).total_seconds()
            message = str(error) if isinstance(error, QoimaError) else (
                f"{type(error).__name__}: {error}")
            self._facts.failures[name] = message
            self._facts.notices.append(Notice(NoticeLevel.PROBLEM, name,
                                              f"{title} failed: {message}"))
            self._facts.steps.append(StepLog(name, title, "failed", seconds, message))
            self._notify(title, "failed")
            return None
        seconds = (self._clock.now() - start).total_seconds()
        self._facts.steps.append(StepLog(name, title, "ok", seconds))
        self._notify(title, "ok")
        return result


def _valuation_notices(facts: RunFacts) -> None:
    snapshot = facts.snapshot
    assert snapshot is not None
    for nav in snapshot.vehicles:
        if nav.unvalued_positions:
            missing = [p.instrument_code for p in snapshot.positions
                       if p.vehicle_code == nav.vehicle_code and p.value_usd is None]
            facts.notices.append(Notice(
                NoticeLevel.PROBLEM, "valuation",
                f"{nav.vehicle_code}: no usable price for {', '.join(sorted(set(missing)))} on "
                f"or before {snapshot.as_of_date}; {nav.unvalued_positions} position(s) are "
                "left out of its NAV and of the risk figures."))
    if snapshot.synthetic_market:
        facts.notices.append(Notice(NoticeLevel.WARNING, "valuation",
                                    "The market data is SYNTHETIC: these are not real prices."))


def _scenarios(request: RunRequest, facts: RunFacts) -> list[Scenario]:
    library = {s.name: s for s in (*BUILTIN_SCENARIOS, *request.extra_scenarios)}
    wanted = request.settings.scenarios or tuple(library)
    unknown = [n for n in wanted if n not in library]
    if unknown:
        facts.notices.append(Notice(
            NoticeLevel.PROBLEM, "risk", f"Unknown stress scenario(s) {', '.join(unknown)}: "
            f"not run. Known: {', '.join(sorted(library))}."))
    return [library[n] for n in wanted if n in library]


def _inputs(facts: RunFacts, request: RunRequest) -> dict[str, Any]:
    """What the numbers depend on, hashed part by part (so a replay can say what changed)."""
    parts: dict[str, Any] = {
        "book": facts.snapshot.inputs_hash if facts.snapshot else None,
        "market": facts.assessment.provenance.inputs_hash if facts.assessment else None,
        "gate": {g.vehicle_code: g.decision.provenance.inputs_hash for g in facts.gates or ()},
        "policies": {o.check.vehicle_code: o.check.policy_hash for o in facts.policy or ()},
        "scenarios": content_hash([canonical_json(s) for s in request.extra_scenarios])
        if request.extra_scenarios else None,
        "settings": content_hash(request.settings),
    }
    return {**parts, "hash": content_hash(parts)}


class RunHistory:
    """Recorded runs, and their replay."""

    def __init__(self, units: UnitOfWorkFactory, runner: DailyRunService) -> None:
        self._units, self._runner = units, runner

    def list(self, limit: int | None = 20) -> list[RunRecord]:
        with self._units(write=False) as uow:
            return uow.runs.list_runs(limit)

    def get(self, run_id: str) -> RunRecord:
        with self._units(write=False) as uow:
            record = uow.runs.find_run(run_id)
        if record is None:
            raise NotFound(f"no run {run_id!r} is recorded (`qoima run list`)", field="run_id")
        return record

    def replay(self, run_id: str, request: RunRequest, *, actor: str,
               progress: Progress | None = None) -> tuple[RunResult, Comparison]:
        """Run again on the recorded date with the recorded settings and seed, without
        changing the workspace (no breach register update, no gate record, no checkpoint),
        and compare every reproducible number with the original."""
        original = self.get(run_id)
        again = replace(request, as_of=original.as_of_date, settings=load_settings(original))
        result = self._runner.run(again, actor=actor, progress=progress, replay_of=original)
        return result, compare_runs(original, result.summary)
