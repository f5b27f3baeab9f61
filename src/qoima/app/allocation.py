"""Allocation use cases: compose the mix, size the sleeve, and ask the stability gate.

Everything reads the policy in force for the vehicle, so the optimizer's caps, the sizing
budgets and the gate's signals are the ones the committee approved; without a policy the
optimizer runs long-only and fully invested, and sizing refuses (it has no budgets).
The mix is composed at the size it is meant for (the policy maximum unless given), because
liquidity caps shrink as the sleeve grows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from qoima.allocation.gate import GateDecision, evaluate_gate
from qoima.allocation.gate_signals import GateSeries, history_needed
from qoima.allocation.lots import LotAllocation, round_to_lots
from qoima.allocation.optimizers import OptimizationMethod, OptimizationResult, optimize
from qoima.allocation.policy_constraints import (
    Candidate,
    Exclusion,
    PolicyConstraints,
    constraints_from_policy,
)
from qoima.allocation.problem import CompositionProblem, Constraints
from qoima.allocation.sizing import (
    BudgetKind,
    SizingInputs,
    SizingResult,
    budgets_from_policy,
    size_sleeve,
)
from qoima.app.allocation_inputs import (
    AllocationInputs,
    AllocationInputsLoader,
    CandidateFacts,
    candidate_codes,
)
from qoima.app.allocation_ports import GateDecisionRecord
from qoima.app.policies import PolicyService
from qoima.app.ports import Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.risk_inputs import HistorySettings, RiskInputsLoader
from qoima.app.units import in_write_unit, record_change
from qoima.app.users import require
from qoima.app.valuation import ValuationService
from qoima.domain.canonical import canonical_json, content_hash
from qoima.domain.enums import InstrumentKind
from qoima.domain.errors import InvalidInput, NotFound
from qoima.domain.roles import Permission
from qoima.market.series import SeriesId, SeriesKind
from qoima.policy.allocation import DEFAULT_GATE, StabilityGate
from qoima.policy.model import InvestmentPolicy, SizeRange, StressLoss
from qoima.risk.scenarios import BUILTIN_SCENARIOS, Scenario, get_scenario

FloatArray = npt.NDArray[np.float64]
#: Size a mix is composed for when neither the request nor a policy range says.
DEFAULT_SIZE_USD = Decimal(100_000_000)


@dataclass(frozen=True, slots=True)
class ExecutionLimit:
    """A tranche of ``tranche_usd`` buys each instrument within ``max_sessions`` at
    ``adv_participation`` of its ADV a day: a weight cap per instrument."""

    max_sessions: int
    adv_participation: float
    tranche_usd: Decimal

    def caps(self, candidates: Sequence[CandidateFacts]) -> dict[str, tuple[float, str]]:
        days, share, size = self.max_sessions, self.adv_participation, float(self.tranche_usd)
        return {c.code: (days * share * (c.adv_usd or 0.0) / size,
                         f"tranches: {c.code} bought within {days} sessions at {share:g} "
                         "of ADV") for c in candidates}


@dataclass(frozen=True, slots=True)
class MixRequest:
    """How to choose the mix: an optimizer method (and its parameters) over the candidates
    (default: the policy's allow list), or fixed ``weights``."""

    method: OptimizationMethod = OptimizationMethod.MIN_CVAR
    level: float = 0.95
    codes: tuple[str, ...] = ()
    weights: Mapping[str, float] | None = None
    size_usd: Decimal | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    window: int = 500
    history: HistorySettings = field(default_factory=HistorySettings)
    #: a tranche's execution time: each instrument must be buyable within it
    execution: ExecutionLimit | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Composition:
    vehicle_code: str
    as_of: date
    size_usd: Decimal
    policy_version: int | None
    policy_hash: str | None
    result: OptimizationResult
    lots: LotAllocation
    candidates: tuple[CandidateFacts, ...]
    excluded: tuple[Exclusion, ...]
    notes: tuple[str, ...]
    window: tuple[date, date, int]
    synthetic: bool


@dataclass(frozen=True, slots=True, eq=False)
class Sizing:
    vehicle_code: str
    as_of: date
    policy_version: int
    result: SizingResult
    composition: Composition
    sleeve_usd: float
    total_reserves_usd: float


@dataclass(frozen=True, slots=True, eq=False)
class GateCheck:
    vehicle_code: str | None
    decision: GateDecision
    policy_version: int | None
    policy_hash: str | None
    gate: StabilityGate
    synthetic: bool


class AllocationService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock, valuation: ValuationService,
                 policies: PolicyService) -> None:
        self._units, self._clock = units, clock
        self._valuation, self._policies = valuation, policies
        self._inputs = AllocationInputsLoader(RiskInputsLoader(units, valuation))

    def default_as_of(self) -> date:
        found = self._valuation.default_as_of()
        if found is None:
            raise NotFound("no market data: import series or run `qoima demo`",
                           field="as_of")
        return found

    def policy(self, vehicle: str, as_of: date) -> InvestmentPolicy:
        """The policy in force; sizing and tranches cannot run without one."""
        policy = self._policies.in_force(vehicle, as_of)
        if policy is None:
            raise NotFound(f"no investment policy in force for {vehicle} on {as_of}: sizing "
                           "and tranches need its range and budgets (`qoima policy propose`)",
                           field="policy")
        return policy

    def sleeve_value(self, vehicle: str, as_of: date) -> Decimal:
        """What the vehicle holds outside cash, in USD: the amount already deployed."""
        snapshot = self._valuation.snapshot(as_of, vehicle=vehicle)
        return sum((p.value_usd for p in snapshot.positions
                    if p.value_usd is not None and p.instrument_kind is not InstrumentKind.CASH),
                   Decimal(0))

    # -- composition -------------------------------------------------------------------
    def compose(self, vehicle: str, as_of: date, request: MixRequest | None = None
                ) -> Composition:
        request = request or MixRequest()
        policy = self._policies.in_force(vehicle, as_of)
        inputs = self._load(vehicle, as_of, policy, request)
        return self._compose(inputs, policy, request, _size(request, policy))

    def _load(self, vehicle: str, as_of: date, policy: InvestmentPolicy | None,
              request: MixRequest) -> AllocationInputs:
        with self._units(write=False) as uow:
            instruments = {i.code: i for i in uow.reference.list_instruments()}
        wanted = list(request.codes) or (list(request.weights) if request.weights else [])
        codes = candidate_codes(policy, instruments, wanted)
        return self._inputs.load(as_of, vehicle, codes, history=request.history,
                                 window=request.window)

    def _compose(self, inputs: AllocationInputs, policy: InvestmentPolicy | None,
                 request: MixRequest, size_usd: Decimal) -> Composition:
        candidates = self._policy_candidates(inputs)
        if policy is not None:
            translated = constraints_from_policy(policy, candidates, size_usd)
        else:
            translated = PolicyConstraints(tuple(candidates), Constraints(), (),
                                           (f"no policy in force for {inputs.vehicle_code}: "
                                            "long-only and fully invested only",))
        unpriced = tuple(Exclusion(code, "data", why) for code, why in inputs.excluded.items())
        index = [inputs.codes.index(code) for code in translated.codes]
        scenarios = inputs.unit_returns[:, index]
        caps = request.execution.caps(inputs.candidates) if request.execution else {}
        constraints = _capped(translated.constraints, translated.codes, caps)
        if request.weights is not None:
            constraints = _pinned(constraints, translated.codes, request.weights)
        problem = CompositionProblem(translated.codes, scenarios, level=request.level,
                                     constraints=constraints)
        if request.weights is not None:
            result = optimize(problem, OptimizationMethod.MIN_CVAR)
        else:
            result = optimize(problem, request.method, **dict(request.params))
        facts = {c.code: c for c in inputs.candidates}
        chosen = [facts[code] for code in translated.codes]
        _, upper = translated.constraints.bounds(len(chosen))
        lots = round_to_lots(translated.codes, [float(w) for w in result.weights],
                             [c.price_usd for c in chosen], [c.lot_size for c in chosen],
                             size_usd, caps=[min(float(u), 1.0) for u in upper])
        return Composition(
            inputs.vehicle_code, inputs.as_of, size_usd,
            policy.version if policy else None, policy.content_hash if policy else None,
            result, lots, tuple(chosen), (*translated.excluded, *unpriced), translated.notes,
            (inputs.dates[0], inputs.dates[-1], len(inputs.dates)), inputs.synthetic)

    def _policy_candidates(self, inputs: AllocationInputs) -> list[Candidate]:
        """Candidates as the policy sees them: the custodian is the vehicle's holding
        account's for that instrument, when there is exactly one."""
        with self._units(write=False) as uow:
            accounts = [a.account for a in uow.reference.list_accounts()]
        custodians: dict[str, set[str]] = {}
        for account in accounts:
            if account.vehicle_code == inputs.vehicle_code and account.custodian_code:
                custodians.setdefault(account.instrument_code, set()).add(
                    account.custodian_code)
        result = []
        for fact in inputs.candidates:
            instrument = fact.instrument
            held = custodians.get(fact.code, set())
            result.append(Candidate(
                fact.code, instrument.kind, instrument.venue,
                next(iter(held)) if len(held) == 1 else None, instrument.issuer,
                instrument.underlying.asset if instrument.underlying else None,
                float(fact.price_usd), fact.lot_size, fact.adv_usd))
        return result

    # -- sizing --------------------------------------------------------------------------
    def size(self, vehicle: str, as_of: date, request: MixRequest | None = None, *,
             scenarios: Sequence[Scenario] = ()) -> Sizing:
        """The largest sleeve inside the policy range that keeps every budget, for the mix
        composed at the range maximum (or the weights given)."""
        request = request or MixRequest()
        policy = self.policy(vehicle, as_of)
        inputs = self._load(vehicle, as_of, policy, request)
        composition = self._compose(inputs, policy, request, _size(request, policy))
        weights = composition.result.weights
        index = [inputs.codes.index(code) for code in composition.result.codes]
        mix_pnl = inputs.unit_returns[:, index] @ weights
        names = _stress_names(policy)
        library = [get_scenario(n, (*BUILTIN_SCENARIOS, *scenarios)) for n in names]
        per_unit, sleeve_losses = inputs.stress_unit_losses(library)
        total = inputs.total_reserves_usd
        budgets = budgets_from_policy(policy, policy.allocation_rules.sizing, total)
        liquidity = next((b for b in budgets.budgets if b.kind is BudgetKind.LIQUIDITY), None)
        sellable = None if liquidity is None else inputs.sleeve_sellable_usd(
            liquidity.within_days, liquidity.adv_participation)
        sized = size_sleeve(SizingInputs(
            mix_unit_pnl=mix_pnl, total_reserves_usd=total,
            weights=dict(zip(composition.result.codes, map(float, weights), strict=True)),
            adv_usd={c.code: c.adv_usd for c in composition.candidates},
            stress_unit_loss={n: float(per_unit[n][index] @ weights) for n in names},
            existing_sleeve_usd=inputs.sleeve_usd, existing_sleeve_pnl=inputs.sleeve_pnl,
            existing_stress_loss_usd=sleeve_losses, existing_sellable_usd=sellable,
            reserve_pnl=inputs.reserve_pnl), budgets)
        return Sizing(vehicle, as_of, policy.version, sized, composition, inputs.sleeve_usd,
                      total)

    # -- the stability gate --------------------------------------------------------------
    def gate(self, vehicle: str | None, as_of: date) -> GateCheck:
        """GO or WAIT on ``as_of`` under the gate of the vehicle's policy in force (the
        default gate when there is none, or no vehicle), reading the stored series the
        signals name."""
        if vehicle is not None:
            with self._units(write=False) as uow:
                if uow.reference.find_vehicle(vehicle) is None:
                    raise NotFound(f"unknown vehicle {vehicle!r}", field="vehicle")
        policy = None if vehicle is None else self._policies.in_force(vehicle, as_of)
        gate = policy.gate if policy is not None else DEFAULT_GATE
        series, synthetic = self.gate_series(gate, as_of)
        decision = evaluate_gate(gate, series, as_of)
        return GateCheck(vehicle, decision, policy.version if policy else None,
                         policy.content_hash if policy else None, gate, synthetic)

    def record_gate(self, vehicle: str, as_of: date, *, actor: str
                    ) -> tuple[GateCheck, GateDecisionRecord, bool]:
        """Evaluate and record the decision with every input's hash in the audit trail;
        recording the same decision again returns the first record (``False``: not new)."""
        check = self.gate(vehicle, as_of)
        payload = gate_payload(check)
        decision = check.decision
        record = GateDecisionRecord(
            content_hash(payload), vehicle, as_of, decision.verdict.value, check.policy_version,
            check.policy_hash, decision.gate_hash, decision.provenance.inputs_hash,
            canonical_json(payload), self._clock.now(), actor)

        def work(uow: UnitOfWork) -> tuple[GateDecisionRecord, bool]:
            require(uow, actor, Permission.RISK_RUN, [vehicle])
            stored = uow.allocation.add_gate_decision(record)
            new = stored.recorded_at == record.recorded_at and stored.recorded_by == actor
            if new:
                record_change(uow, at=record.recorded_at, actor=actor, action="gate.decided",
                              object_type="gate_decision", object_id=f"{vehicle}:{as_of}",
                              payload={"decision_hash": record.decision_hash, **payload})
            return stored, new

        stored, new = in_write_unit(self._units, work)
        return check, stored, new

    def gate_series(self, gate: StabilityGate, until: date, since: date | None = None
                    ) -> tuple[dict[str, GateSeries], bool]:
        """Closes of every series the gate names, far enough back for each signal."""
        needed = max(history_needed(s) for s in gate.signals)
        start = since or until - timedelta(days=int(needed * 1.5) + 30)
        found: dict[str, GateSeries] = {}
        synthetic = False
        with self._units(write=False) as uow:
            stored = {info.id for info in uow.market.list_series()}
            for name in sorted({s.series for s in gate.signals}):
                sid = next((SeriesId(kind, name) for kind in
                            (SeriesKind.PRICE, SeriesKind.FX, SeriesKind.RATE)
                            if SeriesId(kind, name) in stored), None)
                if sid is None:
                    continue
                loaded = uow.market.load_series(sid, start, until)
                if loaded is None or not loaded.bars:
                    continue
                synthetic = synthetic or loaded.is_synthetic
                found[name] = GateSeries(name, tuple(b.day for b in loaded.bars),
                                         np.array([float(b.close) for b in loaded.bars]))
        return found, synthetic


def gate_payload(check: GateCheck) -> dict[str, Any]:
    """The decision as plain data (floats as their shortest text): what is recorded,
    hashed and printed by ``--json``."""
    decision = check.decision
    return {
        "vehicle": check.vehicle_code, "as_of": decision.as_of.isoformat(),
        "verdict": decision.verdict.value, "reasons": list(decision.reasons),
        "confirm_days": decision.confirm_days, "passing_streak": decision.passing_streak,
        "gate_hash": decision.gate_hash, "inputs_hash": decision.provenance.inputs_hash,
        "policy_version": check.policy_version, "policy_hash": check.policy_hash,
        "synthetic": check.synthetic,
        "signals": [{
            "id": r.id, "signal": r.signal.value, "series": r.series,
            "value": repr(r.value) if isinstance(r.value, float) else r.value,
            "threshold": r.threshold, "passed": r.passed, "required": r.required,
            "blocks": r.blocks, "reason": r.reason,
            "data_as_of": r.data_as_of.isoformat() if r.data_as_of else None}
            for r in decision.readings],
    }


def _size(request: MixRequest, policy: InvestmentPolicy | None) -> Decimal:
    if request.size_usd is not None:
        if request.size_usd <= 0:
            raise InvalidInput(f"size must be positive, got {request.size_usd}", field="size")
        return request.size_usd
    if policy is not None:
        caps = [limit.max_usd for limit in policy.limits
                if isinstance(limit, SizeRange) and limit.max_usd is not None]
        if caps:
            return min(caps)
    return DEFAULT_SIZE_USD


def _stress_names(policy: InvestmentPolicy) -> list[str]:
    names: list[str] = []
    for limit in policy.limits:
        if isinstance(limit, StressLoss):
            names += limit.scenarios or [s.name for s in BUILTIN_SCENARIOS]
    return list(dict.fromkeys(names))


def _capped(constraints: Constraints, codes: tuple[str, ...],
            caps: Mapping[str, tuple[float, str]]) -> Constraints:
    if not caps:
        return constraints
    _, upper = constraints.bounds(len(codes))
    names = list(constraints.upper_names or [f"upper bound of {c}" for c in codes])
    bounds = [float(u) for u in upper]
    for i, code in enumerate(codes):
        if code in caps and caps[code][0] < bounds[i]:
            bounds[i], names[i] = caps[code]
    return replace(constraints, upper=tuple(bounds), upper_names=tuple(names))


def _pinned(constraints: Constraints, codes: tuple[str, ...],
            weights: Mapping[str, float]) -> Constraints:
    """Fixed weights as lower bounds that sum to the budget: the only feasible mix, and a
    weight above a policy cap makes the problem infeasible, naming the cap."""
    missing = sorted(set(weights) - set(codes))
    if missing:
        raise InvalidInput(f"weights name {', '.join(missing)}, which the policy does not "
                           "allow or which has no data", field="weights")
    if any(w < 0 for w in weights.values()):
        raise InvalidInput("weights must not be negative", field="weights")
    total = sum(weights.values())
    if abs(total - 1.0) > 1e-6:
        raise InvalidInput(f"weights sum to {total:.6f}, not 1", field="weights")
    return replace(constraints, lower=tuple(float(weights.get(c, 0.0)) for c in codes),
                   lower_names=tuple(f"the weight given for {c}" for c in codes))


__all__ = ["AllocationService", "Composition", "ExecutionLimit", "GateCheck", "MixRequest",
           "Sizing",
           "gate_payload"]
