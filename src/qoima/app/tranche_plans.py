"""Tranche plans: the target split into the policy's steps, each released by the gate.

A plan is recorded once (idempotent on its key) with the mix, the amounts and the execution
schedule; the orders of a released tranche are drafted in the same unit, as drafts only:
they go through submission and four-eyes approval like any order, never approved here.
The status reads the plan's own orders and their fills, and asks the gate again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from qoima.allocation.tranches import (
    Slice,
    Tranche,
    TrancheOrder,
    TranchePlan,
    TrancheState,
    TrancheStatus,
    plan_tranches,
    tranche_status,
)
from qoima.app.allocation import (
    AllocationService,
    Composition,
    ExecutionLimit,
    GateCheck,
    MixRequest,
)
from qoima.app.allocation_ports import PlanStatus, TranchePlanRecord
from qoima.app.order_records import order_from_record
from qoima.app.orders import OrderService
from qoima.app.ports import Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.units import in_write_unit, record_change
from qoima.app.users import require
from qoima.domain.canonical import canonical_json, content_hash
from qoima.domain.enums import AccountKind
from qoima.domain.errors import InvalidInput, NotFound
from qoima.domain.roles import Permission
from qoima.market.calendars import CalendarName, get_calendar
from qoima.orders.model import Order, OrderSide, OrderTerms
from qoima.policy.allocation import TrancheRules
from qoima.risk.provenance import Provenance

MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True, eq=False)
class PlanView:
    """A recorded plan, its tranches' states on ``as_of`` and the gate that decided them."""

    record: TranchePlanRecord
    plan: TranchePlan
    states: tuple[TrancheState, ...]
    gate: GateCheck
    orders: tuple[Order, ...]
    composition: Composition | None = None  # when the plan was made in this call
    created: tuple[Order, ...] = ()  # drafts created by this call


class TranchePlanService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock, allocation: AllocationService,
                 orders: OrderService) -> None:
        self._units, self._clock = units, clock
        self._allocation, self._orders = allocation, orders
        self._calendar = get_calendar(CalendarName.XNYS.value)

    def plan(self, vehicle: str, as_of: date, *, actor: str, target_usd: Decimal | None = None,
             request: MixRequest | None = None, idempotency_key: str | None = None
             ) -> PlanView:
        """Record a plan for ``target_usd`` (default: the sizing recommendation, rounded
        down to USD 1M) and draft the orders of the tranche the gate releases today."""
        request = request or MixRequest()
        policy = self._allocation.policy(vehicle, as_of)
        rules = policy.allocation_rules.tranches
        if rules is None:
            raise InvalidInput(f"the policy of {vehicle} (version {policy.version}) declares "
                               "no tranches (allocation.tranches)", field="tranches")
        if target_usd is None:
            sizing = self._allocation.size(vehicle, as_of, request)
            if sizing.result.recommended_usd is None:
                raise InvalidInput(f"no size keeps every budget: {sizing.result.message}",
                                   field="target")
            target_usd = (Decimal(repr(sizing.result.recommended_usd)) / MILLION).quantize(
                Decimal(1), ROUND_DOWN) * MILLION
        composition = self._allocation.compose(vehicle, as_of, replace(
            request, size_usd=target_usd, execution=_execution(rules, target_usd)))
        result = composition.result
        weights = {c: float(w) for c, w in zip(result.codes, result.weights, strict=True)
                   if w > 1e-9}
        scale = sum(weights.values())
        weights = {c: w / scale for c, w in weights.items()}
        facts = {c.code: c for c in composition.candidates if c.code in weights}
        deployed = self._allocation.sleeve_value(vehicle, as_of)
        plan = plan_tranches(
            rules, target_usd=target_usd, deployed_usd=deployed, weights=weights,
            prices_usd={c: f.price_usd for c, f in facts.items()},
            lot_sizes={c: f.lot_size for c, f in facts.items()},
            adv_usd={c: f.adv_usd for c, f in facts.items()},
            start=as_of + timedelta(days=1), sessions=self._calendar.is_session)
        gate = self._allocation.gate(vehicle, as_of)
        states = tranche_status(plan, executed_usd_by_tranche={}, gate_go=gate.decision.go,
                                as_of=as_of, last_execution_dates={})
        plan_json = plan_to_json(plan, composition)
        key = idempotency_key or f"{vehicle}:{as_of}:{content_hash(json.loads(plan_json))}"
        plan_id = "plan-" + content_hash(key)[:12]

        def work(uow: UnitOfWork) -> tuple[TranchePlanRecord, tuple[Order, ...]]:
            require(uow, actor, Permission.ORDER_CREATE, [vehicle])
            record = TranchePlanRecord(
                plan_id, key, vehicle, as_of, target_usd, PlanStatus.ACTIVE.value,
                policy.version, policy.content_hash, plan_json, self._clock.now(), actor)
            stored = uow.allocation.add_plan(record)
            if stored != record:  # add_plan returned the plan an earlier call recorded
                return stored, ()  # a replay: the first call did the work
            record_change(uow, at=self._clock.now(), actor=actor, action="tranche_plan.created",
                          object_type="tranche_plan", object_id=plan_id, payload={
                              "vehicle": vehicle, "target_usd": target_usd,
                              "plan_hash": content_hash(json.loads(plan_json)),
                              "gate": gate.decision.verdict.value,
                              "gate_inputs_hash": gate.decision.provenance.inputs_hash})
            created = self._draft(uow, stored, plan, states, actor)
            return uow.allocation.find_plan(plan_id) or stored, created

        record, created = in_write_unit(self._units, work)
        view = self.status(record.plan_id, as_of)
        return replace(view, composition=composition, created=created)

    def status(self, plan_id: str, as_of: date) -> PlanView:
        with self._units(write=False) as uow:
            record = uow.allocation.find_plan(plan_id)
            if record is None:
                raise NotFound(f"no tranche plan {plan_id!r}", field="plan")
            orders = tuple(order_from_record(found) for _, order_id in record.orders
                           if (found := uow.orders.find_order(order_id)) is not None)
        plan = plan_from_json(record.plan_json)
        tranche_of = {order_id: tranche for tranche, order_id in record.orders}
        executed: dict[str, Decimal] = {}
        last: dict[str, date] = {}
        for order in orders:
            tranche = tranche_of[order.order_id]
            for fill in order.fills:
                executed[tranche] = executed.get(tranche, Decimal(0)) + fill.quantity * fill.price
                day = fill.executed_at.date()
                last[tranche] = max(last.get(tranche, day), day)
        gate = self._allocation.gate(record.vehicle_code, as_of)
        states = tranche_status(plan, executed_usd_by_tranche=executed,
                                gate_go=gate.decision.go, as_of=as_of,
                                last_execution_dates=last)
        return PlanView(record, plan, states, gate, orders)

    def release(self, plan_id: str, as_of: date, *, actor: str) -> PlanView:
        """Draft the orders of every tranche released on ``as_of`` that has none yet."""
        view = self.status(plan_id, as_of)

        def work(uow: UnitOfWork) -> tuple[Order, ...]:
            require(uow, actor, Permission.ORDER_CREATE, [view.record.vehicle_code])
            return self._draft(uow, view.record, view.plan, view.states, actor)

        created = in_write_unit(self._units, work)
        return replace(self.status(plan_id, as_of), created=created)

    def plans(self, vehicle: str | None = None) -> list[TranchePlanRecord]:
        with self._units(write=False) as uow:
            return uow.allocation.list_plans(vehicle)

    def _draft(self, uow: UnitOfWork, record: TranchePlanRecord, plan: TranchePlan,
               states: tuple[TrancheState, ...], actor: str) -> tuple[Order, ...]:
        drafted = {tranche for tranche, _ in record.orders}
        created = []
        for state in states:
            if state.status is not TrancheStatus.RELEASED or state.tranche_id in drafted:
                continue
            tranche = plan.find_tranche(state.tranche_id)
            assert tranche is not None
            for line in tranche.orders:
                if line.quantity <= 0:
                    continue
                terms = self._terms(uow, record, tranche, line)
                order = self._orders.new_in(
                    uow, terms, idempotency_key=f"{record.plan_id}:{tranche.id}:{line.instrument}",
                    actor=actor)
                uow.allocation.add_plan_order(record.plan_id, tranche.id, order.order_id)
                created.append(order)
        return tuple(created)

    @staticmethod
    def _terms(uow: UnitOfWork, record: TranchePlanRecord, tranche: Tranche,
               line: TrancheOrder) -> OrderTerms:
        """A buy into the vehicle's holding account for the instrument (there must be one:
        the account says which tranche of the book and which custodian)."""
        holdings = [a.account for a in uow.reference.list_accounts()
                    if a.account.kind is AccountKind.HOLDING
                    and a.account.vehicle_code == record.vehicle_code
                    and a.account.instrument_code == line.instrument]
        if len(holdings) != 1:
            raise InvalidInput(
                f"{record.vehicle_code} has {len(holdings)} holding accounts for "
                f"{line.instrument}; open exactly one (qoima account open) so the order "
                "knows its tranche and custodian", field="instrument")
        account = holdings[0]
        return OrderTerms(record.vehicle_code, line.instrument, OrderSide.BUY, line.quantity,
                          None, line.price_usd, account.tranche_code, account.custodian_code,
                          f"{record.plan_id} tranche {tranche.id}: {line.days} session(s) at "
                          "most the policy's share of ADV a day")


def _execution(rules: TrancheRules, target_usd: Decimal) -> ExecutionLimit | None:
    """The largest tranche must buy every instrument within ``max_sessions``."""
    if rules.max_sessions is None:
        return None
    reached, largest = Decimal(0), Decimal(0)
    for step in rules.steps:
        top = min(step.up_to_usd, target_usd)
        largest, reached = max(largest, top - reached), max(reached, top)
    return ExecutionLimit(rules.max_sessions, float(rules.adv_participation), largest)


# -- the plan as stored JSON -----------------------------------------------------------------


def plan_to_json(plan: TranchePlan, composition: Composition) -> str:
    data = {
        "target_usd": plan.target_usd, "deployed_usd": plan.deployed_usd,
        "adv_participation": plan.adv_participation, "min_days_between": plan.min_days_between,
        "tranches": [{
            "id": t.id, "cumulative_target_usd": t.cumulative_target_usd,
            "amount_usd": t.amount_usd, "requires_gate": t.requires_gate,
            "earliest_start": t.earliest_start, "earliest_end": t.earliest_end, "days": t.days,
            "orders": [{
                "instrument": o.instrument, "weight": repr(o.weight), "price_usd": o.price_usd,
                "lot_size": o.lot_size, "amount_usd": o.amount_usd, "quantity": o.quantity,
                "cost_usd": o.cost_usd, "daily_max_quantity": o.daily_max_quantity,
                "slices": [[s.day, s.date, s.quantity] for s in o.slices]}
                for o in t.orders]} for t in plan.tranches],
        "provenance": {"method": plan.provenance.method,
                       "inputs_hash": plan.provenance.inputs_hash},
        "mix": {"method": composition.result.method.value,
                "inputs_hash": composition.result.provenance.inputs_hash,
                "policy_version": composition.policy_version,
                "window": [composition.window[0], composition.window[1],
                           composition.window[2]]},
    }
    return canonical_json(data)


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def _order(o: Mapping[str, Any]) -> TrancheOrder:
    daily = o["daily_max_quantity"]
    return TrancheOrder(
        o["instrument"], float(o["weight"]), _d(o["price_usd"]), _d(o["lot_size"]),
        _d(o["amount_usd"]), _d(o["quantity"]), _d(o["cost_usd"]),
        None if daily is None else _d(daily),
        tuple(Slice(int(day), date.fromisoformat(when), _d(q)) for day, when, q in o["slices"]))


def plan_from_json(text: str) -> TranchePlan:
    data = json.loads(text)
    tranches = tuple(Tranche(
        t["id"], _d(t["cumulative_target_usd"]), _d(t["amount_usd"]), bool(t["requires_gate"]),
        tuple(_order(o) for o in t["orders"]), date.fromisoformat(t["earliest_start"]),
        date.fromisoformat(t["earliest_end"]), int(t["days"])) for t in data["tranches"])
    provenance = Provenance(data["provenance"]["method"], data["provenance"]["inputs_hash"])
    return TranchePlan(_d(data["target_usd"]), _d(data["deployed_usd"]),
                       _d(data["adv_participation"]), int(data["min_days_between"]), tranches,
                       provenance)
