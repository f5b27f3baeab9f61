"""Proof of control of a seized asset's address (``qoima case prove`` / ``verify-proof``):
a challenge message for the key holder to sign, then its signature verified (BIP-322,
legacy message, EIP-191) and recorded, valid or not. The enforcement liaison's or the
committee's role on the seized-asset pool is checked by the service. Also forked or
airdropped assets arising from a case's coins (``qoima case fork``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field

from qoima.api.case_models import ProofOut
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.models import Amount, Code, Day, Strict
from qoima.api.responses import Out
from qoima.api.routers.cases import pool_readable
from qoima.custody.forks import ForkedAsset, ValuationPolicy

router = api_router("seized assets")
Network = Annotated[str, Field(pattern=r"^(mainnet|testnet|signet|regtest)$")]


class ChallengeIn(Strict):
    chain: Code
    address: Annotated[str, Field(min_length=1, max_length=200)]
    on: Day | None = None
    network: Network = "mainnet"


class VerificationIn(Strict):
    nonce: Annotated[str, Field(min_length=1, max_length=200)]
    signature: Annotated[str, Field(min_length=1, max_length=20_000)]
    network: Network = "mainnet"


class ForkIn(Strict):
    parent: Code
    instrument: Code
    quantity: Amount
    fork_date: Day
    source_address: Annotated[str, Field(min_length=1, max_length=200)]
    valuation: ValuationPolicy = ValuationPolicy.ZERO_UNTIL_LIQUID
    note: Annotated[str, Field(max_length=2000)] = ""


class ForkOut(Out):
    case_id: str
    parent_instrument: str
    instrument_code: str
    quantity: str
    fork_date: str
    source_address: str
    valuation_policy: str
    note: str
    recorded_at: str
    recorded_by: str
    id: int | None


class ChallengeOut(Out):
    nonce: str
    case_id: str
    chain: str
    address: str
    issued_on: str
    message: str  # sign exactly this text with the address's key
    issued_at: str
    issued_by: str


class VerificationOut(Out):
    valid: bool
    scheme: str
    reason: str
    signer: str | None
    proof: ProofOut


@router.post("/cases/{case_id}/challenges", status_code=201, response_model=ChallengeOut,
             summary="Issue a proof-of-control challenge for an address the case holds")
def challenge(case_id: str, body: ChallengeIn, reserve: ReserveDep,
              user: UserDep) -> ChallengeOut:
    pool_readable(reserve, user, f"no case {case_id!r}")
    return ChallengeOut.of(reserve.evidence.challenge(
        case_id, body.chain, body.address, body.on or datetime.now(UTC).date(),
        actor=user.name, network=body.network))


@router.post("/proof-verifications", status_code=201, response_model=VerificationOut,
             summary="Verify the signature of a challenge and record the proof (valid or "
             "not: an invalid proof is a finding, not an error)")
def verify(body: VerificationIn, reserve: ReserveDep, user: UserDep) -> VerificationOut:
    pool_readable(reserve, user, f"no challenge with nonce {body.nonce!r}")
    outcome = reserve.evidence.verify(body.nonce, body.signature, actor=user.name,
                                      network=body.network)
    result = outcome.result
    return VerificationOut.of({"valid": result.valid, "scheme": result.scheme.value,
                               "reason": result.reason, "signer": result.signer,
                               "proof": outcome.record})


@router.post("/cases/{case_id}/forks", status_code=201, response_model=ForkOut,
             summary="Record a forked or airdropped asset arising from the case's coins")
def fork(case_id: str, body: ForkIn, reserve: ReserveDep, user: UserDep) -> ForkOut:
    pool_readable(reserve, user, f"no case {case_id!r}")
    return ForkOut.of(reserve.evidence.record_fork(ForkedAsset(
        case_id, body.parent, body.instrument, body.quantity, body.fork_date,
        body.source_address, body.valuation, body.note), actor=user.name))
