"""Token transfers out of custody (``qoima transfer``): whitelist, caps, velocity and the
approval quorum come from the vehicle's policy and are checked by the service on every
step. A transfer of a vehicle the caller may not read answers 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from pydantic import Field

from qoima.api.access import hidden
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.idempotency import HEADER
from qoima.api.models import Amount, Code, Strict
from qoima.api.pagination import Paging, page
from qoima.api.responses import FindingOut, Out, PageOut
from qoima.app.transfer_ports import TransferStatus
from qoima.app.transfers import TokenTransfer
from qoima.bootstrap.wiring import Reserve
from qoima.domain.roles import User

router = api_router("transfers")
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class TransferIn(Strict):
    vehicle: Code
    instrument: Code
    destination: Annotated[str, Field(min_length=1, max_length=200)]
    quantity: Amount
    chain: Code | None = None
    from_account: Code | None = None
    to_account: Code | None = None


class ApprovalIn(Strict):
    override_reason: Reason | None = None


class ExecutionIn(Strict):
    tx_id: Annotated[str, Field(min_length=1, max_length=200)]


class RejectionIn(Strict):
    reason: Reason


class CancellationIn(Strict):
    reason: Reason | None = None


class TransferApprovalOut(Out):
    user: str
    at: str
    roles: list[str]
    override_reason: str | None


class TransferRecordOut(Out):
    transfer_id: str
    vehicle_code: str
    instrument_code: str
    chain: str
    destination: str
    quantity: str
    from_account: str
    to_account: str | None
    status: str
    maker: str
    created_at: str
    updated_at: str
    quorum: int
    value_usd: str | None
    policy_hash: str | None
    entry_id: str | None
    tx_id: str | None
    executed_at: str | None
    reason: str | None
    approvals: list[TransferApprovalOut]


class TransferOut(Out):
    transfer: TransferRecordOut
    findings: list[FindingOut]
    missing: list[str]


_HIDDEN = ("idempotency_key", "findings_json")  # the key is the maker's; findings come parsed


def _view(transfer: TokenTransfer) -> TransferOut:
    r = transfer.record
    record = {name: getattr(r, name) for name in r.__slots__ if name not in _HIDDEN}
    return TransferOut.of({"transfer": record, "findings": transfer.findings,
                           "missing": transfer.missing})


def _get(reserve: Reserve, user: User, transfer_id: str) -> TokenTransfer:
    return hidden(lambda: reserve.transfers.get(transfer_id, actor=user.name),
                  f"no transfer {transfer_id!r}", "transfer_id")


@router.get("/transfers", response_model=PageOut[TransferOut],
            summary="Transfers of the vehicles the caller may read")
def list_transfers(reserve: ReserveDep, user: UserDep, paging: Paging,
                   vehicle: str | None = None,
                   status: Annotated[list[TransferStatus] | None, Query(max_length=5)] = None
                   ) -> PageOut[TransferOut]:
    found = reserve.transfers.list(actor=user.name, vehicle=vehicle,
                                   status=[str(s) for s in status] if status else None)
    return PageOut[TransferOut].model_validate(
        page(found, paging, lambda t: _view(t).model_dump(mode="json")))


@router.get("/transfers/{transfer_id}", response_model=TransferOut)
def get_transfer(transfer_id: str, reserve: ReserveDep, user: UserDep) -> TransferOut:
    return _view(_get(reserve, user, transfer_id))


@router.post("/transfers", status_code=201, response_model=TransferOut,
             summary="Propose a transfer; the custody limits are checked at once")
def propose(body: TransferIn, request: Request, reserve: ReserveDep,
            user: UserDep) -> TransferOut:
    # the service is idempotent on its own key too: the caller's Idempotency-Key, per user
    key = f"{user.name}:{request.headers[HEADER]}"
    return _view(reserve.transfers.propose(
        body.vehicle, body.instrument, body.chain, body.destination, body.quantity,
        idempotency_key=key, actor=user.name, from_account=body.from_account,
        to_account=body.to_account))


@router.post("/transfers/{transfer_id}/approvals", response_model=TransferOut,
             summary="Approve (never the maker; distinct people; limits re-checked)")
def approve(transfer_id: str, body: ApprovalIn, reserve: ReserveDep,
            user: UserDep) -> TransferOut:
    _get(reserve, user, transfer_id)
    return _view(reserve.transfers.approve(transfer_id, actor=user.name,
                                           override_reason=body.override_reason))


@router.post("/transfers/{transfer_id}/execution", response_model=TransferOut,
             summary="Record the sent transaction and post the ledger entry (operations)")
def execute(transfer_id: str, body: ExecutionIn, reserve: ReserveDep,
            user: UserDep) -> TransferOut:
    _get(reserve, user, transfer_id)
    return _view(reserve.transfers.execute(transfer_id, actor=user.name, tx_id=body.tx_id))


@router.post("/transfers/{transfer_id}/rejection", response_model=TransferOut)
def reject(transfer_id: str, body: RejectionIn, reserve: ReserveDep,
           user: UserDep) -> TransferOut:
    _get(reserve, user, transfer_id)
    return _view(reserve.transfers.reject(transfer_id, actor=user.name, reason=body.reason))


@router.post("/transfers/{transfer_id}/cancellation", response_model=TransferOut)
def cancel(transfer_id: str, body: CancellationIn, reserve: ReserveDep,
           user: UserDep) -> TransferOut:
    _get(reserve, user, transfer_id)
    return _view(reserve.transfers.cancel(transfer_id, actor=user.name, reason=body.reason))
