"""Dispositions of forfeited assets (``qoima case dispose``): the models compared on the
stored history, a proposal into a reserve vehicle or a sale, and four-eyes approval (the
maker never approves; at the quorum it executes and posts the ledger entries). The
services check every role; reading or approving needs read access on the pool (404
otherwise), proposing needs ``order.create`` on the receiving vehicle."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import Query, Request
from pydantic import Field

from qoima.api.case_models import DispositionOut
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.idempotency import HEADER
from qoima.api.models import Amount, Code, Day, Strict
from qoima.api.responses import Out
from qoima.api.routers.cases import pool_readable
from qoima.app.custody_ports import DispositionRecord
from qoima.bootstrap.wiring import Reserve
from qoima.custody.disposition_inputs import DispositionParams
from qoima.custody.legal import LegalStatus
from qoima.domain.errors import NotFound
from qoima.domain.roles import User

router = api_router("seized assets")
Fee = Annotated[float, Query(ge=0, le=1)]


class DispositionIn(Strict):
    asset_id: Code
    model: Literal["transferred_to_reserve", "liquidated"]
    vehicle: Code | None = None
    tranche: Code | None = None
    custodian: Code | None = None
    cash_account: Code | None = None
    price_usd: Amount | None = None  # default: the latest USD close on ``on``
    on: Day | None = None


class ApprovalIn(Strict):
    on: Day | None = None


class RejectionIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class ModelPathOut(Out):
    instrument: str
    model: str
    proceeds_usd: float | None
    volatility: float | None
    worst_drawdown: float | None
    days_to_cash: int | None


def _today(day: date | None) -> date:
    return day or datetime.now(UTC).date()


def _disposition(reserve: Reserve, user: User, disposition_id: str) -> DispositionRecord:
    missing = f"no disposition {disposition_id!r}"
    pool_readable(reserve, user, missing)
    for record in reserve.dispositions.dispositions():
        if record.disposition_id == disposition_id:
            return record
    raise NotFound(missing, field="disposition_id")


@router.get("/cases/{case_id}/disposition-models", response_model=list[ModelPathOut],
            summary="Each disposition model (auction, staged sale, hold, external manager) "
            "on the stored history from the forfeiture date")
def compare(case_id: str, reserve: ReserveDep, user: UserDep,
            horizon_days: Annotated[int, Query(ge=1, le=3650)] = 365,
            forfeited_on: Day | None = None, management_fee: Fee = 0.02,
            performance_fee: Fee = 0.2) -> list[ModelPathOut]:
    pool_readable(reserve, user, f"no case {case_id!r}")
    comparisons = reserve.dispositions.compare(
        case_id, horizon_days=horizon_days, forfeited_on=forfeited_on,
        params=DispositionParams(management_fee=management_fee,
                                 performance_fee=performance_fee))
    return [ModelPathOut.of({"instrument": c.batch.instrument_code, "model": p.model.value,
                             "proceeds_usd": p.proceeds_usd_at_horizon,
                             "volatility": p.volatility, "worst_drawdown": p.worst_drawdown,
                             "days_to_cash": p.days_to_cash})
            for c in comparisons for p in c.paths.values()]


@router.post("/cases/{case_id}/dispositions", status_code=201, response_model=DispositionOut,
             summary="Propose moving a forfeited asset into a vehicle, or selling it")
def propose(case_id: str, body: DispositionIn, request: Request, reserve: ReserveDep,
            user: UserDep) -> DispositionOut:
    # the receiving vehicle's portfolio manager proposes (order.create there, checked by
    # the service), though the pool itself is not theirs to read
    return DispositionOut.of(reserve.dispositions.propose(
        case_id, body.asset_id, LegalStatus(body.model), actor=user.name,
        on=_today(body.on), vehicle=body.vehicle, tranche=body.tranche,
        custodian=body.custodian, cash_account=body.cash_account, price_usd=body.price_usd,
        key=f"api:{user.name}:{request.headers[HEADER]}"))


@router.post("/dispositions/{disposition_id}/approvals", response_model=DispositionOut,
             summary="Approve (never the maker); at the quorum the disposition executes")
def approve(disposition_id: str, body: ApprovalIn, reserve: ReserveDep,
            user: UserDep) -> DispositionOut:
    _disposition(reserve, user, disposition_id)
    return DispositionOut.of(reserve.dispositions.approve(disposition_id, actor=user.name,
                                                          on=_today(body.on)))


@router.post("/dispositions/{disposition_id}/rejection", response_model=DispositionOut)
def reject(disposition_id: str, body: RejectionIn, reserve: ReserveDep,
           user: UserDep) -> DispositionOut:
    _disposition(reserve, user, disposition_id)
    return DispositionOut.of(reserve.dispositions.reject(disposition_id, actor=user.name,
                                                         reason=body.reason))
