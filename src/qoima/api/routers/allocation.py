"""The stability gate, sizing, tranche plans, and deployment backtests (a job)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Request
from pydantic import Field

from qoima.allocation.optimizers import OptimizationMethod
from qoima.api.access import can_read, require_read
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.idempotency import HEADER
from qoima.api.job_models import JOB_ACCEPTED
from qoima.api.jobs import Progress
from qoima.api.models import Amount, Code, Day, Strict
from qoima.api.pagination import Paging, page
from qoima.api.responses import PageOut
from qoima.api.results import deployment_summary, gate_summary, plan_summary, sizing_summary
from qoima.api.risk_models import GateOut, PlanListItemOut, PlanOut, SizingOut
from qoima.api.routers.jobs import accepted
from qoima.app.allocation import MixRequest
from qoima.app.deployment import DeployRequest
from qoima.app.tranche_plans import PlanView
from qoima.bootstrap.engines import compute_engine
from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import Reserve
from qoima.domain.roles import User

router = api_router("allocation")


class MixIn(Strict):
    method: OptimizationMethod = OptimizationMethod.MIN_CVAR
    instruments: Annotated[list[Code], Field(max_length=100)] = Field(default_factory=list)
    level: Annotated[float, Field(gt=0.5, lt=1)] = 0.95
    window: Annotated[int, Field(ge=30, le=5000)] = 500

    def request(self) -> MixRequest:
        return MixRequest(method=self.method, level=self.level, codes=tuple(self.instruments),
                          window=self.window)


class PlanIn(MixIn):
    vehicle: Code
    as_of: Day | None = None
    target_usd: Amount | None = None


class ReleaseIn(Strict):
    as_of: Day | None = None


class GateDecisionIn(Strict):
    vehicle: Code
    as_of: Day | None = None


class DeployIn(Strict):
    series: Code = "BTC"
    vehicle: Code | None = None
    start: Day | None = None
    end: Day | None = None
    horizon_days: Annotated[int, Field(ge=7, le=3650)] = 365
    tranches: Annotated[list[Annotated[int, Field(ge=1, le=120)]],
                        Field(min_length=1, max_length=20)] = Field(
                            default_factory=lambda: [2, 3, 4, 6, 12])
    spacings: Annotated[list[Annotated[int, Field(ge=1, le=365)]],
                        Field(min_length=1, max_length=20)] = Field(default_factory=lambda: [7, 30])
    volatility_max: Annotated[list[Amount], Field(max_length=10)] = Field(default_factory=list)
    drawdown_max: Annotated[list[Amount], Field(max_length=10)] = Field(default_factory=list)


def _day(reserve: Reserve, given: date | None) -> date:
    return given or reserve.allocation.default_as_of()


def _vehicle(user: User, code: str) -> str:
    require_read(user, code, f"unknown vehicle {code!r}", "vehicle")
    return code


def _plan(reserve: Reserve, user: User, plan_id: str, day: date) -> PlanView:
    missing = f"no tranche plan {plan_id!r}"
    view = reserve.tranches.status(plan_id, day)
    require_read(user, view.record.vehicle_code, missing, "plan")
    return view


@router.get("/gate", summary="The stability gate: GO or WAIT, with every signal")
def gate(reserve: ReserveDep, user: UserDep, vehicle: str | None = None,
         as_of: Day | None = None) -> GateOut:
    name = _vehicle(user, vehicle) if vehicle is not None else None
    return GateOut.of(gate_summary(reserve.allocation.gate(name, _day(reserve, as_of))))


@router.post("/gate/decisions", status_code=201,
             summary="Record the gate's decision and its inputs in the audit trail")
def record_gate(body: GateDecisionIn, reserve: ReserveDep, user: UserDep) -> GateOut:
    _vehicle(user, body.vehicle)
    check, stored, new = reserve.allocation.record_gate(body.vehicle, _day(reserve, body.as_of),
                                                        actor=user.name)
    return GateOut.of(gate_summary(check, {"id": stored.id, "decision_hash": stored.decision_hash,
                                "new": new, "recorded_by": stored.recorded_by,
                                "recorded_at": stored.recorded_at.isoformat()}))


@router.get("/sizing", summary="The largest sleeve inside the policy range and budgets")
def sizing(reserve: ReserveDep, user: UserDep, vehicle: str, as_of: Day | None = None,
           method: OptimizationMethod = OptimizationMethod.MIN_CVAR) -> SizingOut:
    _vehicle(user, vehicle)
    return SizingOut.of(sizing_summary(reserve.allocation.size(vehicle, _day(reserve, as_of),
                                                               MixRequest(method=method))))


@router.get("/tranche-plans", summary="Recorded tranche plans")
def list_plans(reserve: ReserveDep, user: UserDep, paging: Paging,
               vehicle: str | None = None) -> PageOut[PlanListItemOut]:
    records = reserve.tranches.plans(vehicle)
    items = [{"plan_id": r.plan_id, "vehicle": r.vehicle_code, "as_of": r.as_of_date,
              "target_usd": r.target_usd, "status": r.status, "orders": len(r.orders),
              "created_by": r.created_by,
              "links": {"self": f"/api/v1/tranche-plans/{r.plan_id}"}}
             for r in records if can_read(user, r.vehicle_code)]
    return PageOut[PlanListItemOut].of(page(items, paging))


@router.get("/tranche-plans/{plan_id}", summary="Each tranche's state on a date")
def plan_status(plan_id: str, reserve: ReserveDep, user: UserDep,
                as_of: Day | None = None) -> PlanOut:
    return PlanOut.of(plan_summary(_plan(reserve, user, plan_id, _day(reserve, as_of))))


@router.post("/tranche-plans", status_code=201,
             summary="Plan the tranches; draft the orders of the tranche the gate releases")
def create_plan(body: PlanIn, request: Request, reserve: ReserveDep,
                user: UserDep) -> PlanOut:
    _vehicle(user, body.vehicle)
    view = reserve.tranches.plan(body.vehicle, _day(reserve, body.as_of), actor=user.name,
                                 target_usd=body.target_usd, request=body.request(),
                                 idempotency_key=f"api:{user.name}:{request.headers[HEADER]}")
    return PlanOut.of(plan_summary(view))


@router.post("/tranche-plans/{plan_id}/releases",
             summary="Draft the orders of every tranche released on a date")
def release(plan_id: str, body: ReleaseIn, reserve: ReserveDep,
            user: UserDep) -> PlanOut:
    day = _day(reserve, body.as_of)
    _plan(reserve, user, plan_id, day)
    return PlanOut.of(plan_summary(reserve.tranches.release(plan_id, day, actor=user.name)))


@router.post("/backtests/deployment", status_code=202, responses=JOB_ACCEPTED,
             summary="Start a backtest of entry strategies (lump sum, tranches, gated) as a job")
def start_deployment(body: DeployIn, request: Request, reserve: ReserveDep,
                     user: UserDep) -> Any:
    if body.vehicle is not None:
        _vehicle(user, body.vehicle)
    deploy = DeployRequest(body.series, body.start, body.end, body.horizon_days,
                           tuple(body.tranches), tuple(body.spacings),
                           tuple(Decimal(v) for v in body.volatility_max),
                           tuple(Decimal(v) for v in body.drawdown_max))

    def work(progress: Progress) -> Any:
        progress("backtesting entry strategies")
        with compute_engine(None, None, Settings()) as engine:
            outcome = reserve.deployment.run(body.vehicle, deploy, engine=engine)
        progress("backtesting entry strategies", "ok")
        return deployment_summary(outcome)
    return accepted(request, "deployment-backtest", user.name, work)
