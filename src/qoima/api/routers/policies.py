"""Investment policies as versioned documents, their approval, checks and breaches."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from qoima.adapters.policy_files import parse_policy
from qoima.api.access import can_read, require_read
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.governance_models import BreachRecordOut, PolicyCheckOut, PolicyVersionOut
from qoima.api.models import Code, Day, Strict
from qoima.api.pagination import Paging, page
from qoima.api.responses import FindingOut, Out, PageOut
from qoima.api.results import plain
from qoima.api.security import Caller
from qoima.app.governance_ports import PolicyVersionRecord
from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import InvalidInput, NotFound
from qoima.domain.roles import User

router = api_router("policy")
MAX_POLICY_CHARS = 256 * 1024
MAX_DRY_RUN_DAYS = 366


class ProposalIn(Strict):
    document: Annotated[str, Field(min_length=1, max_length=MAX_POLICY_CHARS)]
    format: Literal["yaml", "toml"] = "yaml"
    reason: Annotated[str | None, Field(max_length=2000)] = None


class DryRunIn(Strict):
    document: Annotated[str, Field(min_length=1, max_length=MAX_POLICY_CHARS)]
    format: Literal["yaml", "toml"] = "yaml"
    start: Day = Field(alias="from")
    end: Day = Field(alias="to")


class DryRunOut(Out):
    policy_hash: str
    vehicle: str
    days: int
    days_flagged: list[str]
    findings: dict[str, list[FindingOut]]  # by day


class VetoIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class CheckIn(Strict):
    as_of: Day | None = None
    vehicle: Code | None = None
    record: bool = True


def version_view(record: PolicyVersionRecord) -> dict[str, Any]:
    """The version as JSON, with its link (also what the dashboard reads)."""
    base = f"/api/v1/policies/{record.vehicle_code}/versions/{record.version}"
    return {**plain(record), "links": {"self": base}}


def _version(reserve: Reserve, user: User, vehicle: str, version: int) -> PolicyVersionRecord:
    missing = f"no policy {vehicle} v{version}"
    require_read(user, vehicle, missing, "version")
    for record in reserve.policies.versions(vehicle):
        if record.version == version:
            return record
    raise NotFound(missing, field="version")


@router.get("/policies", summary="Every policy version the caller may read")
def list_versions(reserve: ReserveDep, user: UserDep, paging: Paging,
                  vehicle: str | None = None) -> PageOut[PolicyVersionOut]:
    records = reserve.policies.versions(vehicle)
    return PageOut[PolicyVersionOut].of(page(
        [r for r in records if can_read(user, r.vehicle_code)], paging, version_view))


@router.get("/policies/{vehicle}/versions/{version}",
            summary="One version with its source text and approval state")
def get_version(vehicle: str, version: int, reserve: ReserveDep,
                user: UserDep) -> PolicyVersionOut:
    return PolicyVersionOut.of(version_view(_version(reserve, user, vehicle, version)))


@router.post("/policies", status_code=201,
             summary="Propose a policy document as the vehicle's next version")
def propose(body: ProposalIn, reserve: ReserveDep, principal: Caller) -> PolicyVersionOut:
    policy = parse_policy(body.document, fmt=body.format, source="request body")
    return PolicyVersionOut.of(version_view(reserve.policies.propose(
        policy, fmt=body.format, actor=principal.user, reason=body.reason)))


@router.post("/policies/{vehicle}/versions/{version}/approval",
             summary="Approve a proposed version (committee; never its proposer)")
def approve(vehicle: str, version: int, reserve: ReserveDep,
            user: UserDep) -> PolicyVersionOut:
    _version(reserve, user, vehicle, version)
    return PolicyVersionOut.of(version_view(reserve.policies.approve(vehicle, version,
                                                                     actor=user.name)))


@router.post("/policies/{vehicle}/versions/{version}/veto",
             summary="Stop a version that has not taken effect (committee)")
def veto(vehicle: str, version: int, body: VetoIn, reserve: ReserveDep,
         user: UserDep) -> PolicyVersionOut:
    _version(reserve, user, vehicle, version)
    reserve.policies.veto(vehicle, version, actor=user.name, reason=body.reason)
    return PolicyVersionOut.of(version_view(_version(reserve, user, vehicle, version)))


@router.post("/policy-checks", summary="Evaluate the policies in force (breach register)")
def check(body: CheckIn, reserve: ReserveDep, user: UserDep) -> list[PolicyCheckOut]:
    if body.vehicle is not None:
        require_read(user, body.vehicle, f"unknown vehicle {body.vehicle!r}", "vehicle")
    day = body.as_of or reserve.risk.default_as_of()
    outcomes = reserve.policies.check(day, actor=user.name, vehicle=body.vehicle,
                                      record=body.record)
    return [PolicyCheckOut.of({"vehicle": o.check.vehicle_code, "version": o.check.version,
             "policy_hash": o.check.policy_hash, "as_of": plain(o.check.as_of),
             "blocking": o.check.blocking, "actions": list(o.check.actions),
             "findings": plain(o.check.findings), "opened": plain(o.opened),
             "closed": plain(o.closed), "still_open": plain(o.still_open)})
            for o in outcomes]


@router.get("/breaches", summary="The breach register (open ones, or all)")
def breaches(reserve: ReserveDep, user: UserDep, paging: Paging, vehicle: str | None = None,
             all: bool = False) -> PageOut[BreachRecordOut]:
    records = reserve.policies.breaches(vehicle, open_only=not all)
    return PageOut[BreachRecordOut].of(
        page([r for r in records if can_read(user, r.vehicle_code)], paging))


@router.post("/policy-dry-runs", response_model=DryRunOut,
             summary="What a candidate policy would have flagged on each valuation day of a "
             "past period (at most a year; nothing is written)")
def dry_run(body: DryRunIn, reserve: ReserveDep, user: UserDep) -> DryRunOut:
    policy = parse_policy(body.document, fmt=body.format, source="request body")
    require_read(user, policy.vehicle_code, f"unknown vehicle {policy.vehicle_code!r}",
                 "document")
    if (body.end - body.start).days > MAX_DRY_RUN_DAYS:
        raise InvalidInput(f"a dry run covers at most {MAX_DRY_RUN_DAYS} days", field="to")
    results = reserve.policies.dry_run(policy, body.start, body.end)
    flagged = [r for r in results if r.findings]
    return DryRunOut.of({"policy_hash": policy.content_hash, "vehicle": policy.vehicle_code,
                         "days": len(results), "days_flagged": [r.as_of for r in flagged],
                         "findings": {r.as_of.isoformat(): list(r.findings) for r in flagged}})
