"""The audit trail: verification and published Merkle checkpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from qoima.api.access import require_everywhere
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.reference_models import CheckpointOut, VerificationOut
from qoima.domain.errors import InvalidInput
from qoima.domain.roles import Permission

router = api_router("audit")


@router.get("/audit/verification",
            summary="Re-hash every record and checkpoint; compare the book with the trail")
def verify(reserve: ReserveDep, user: UserDep,
           root: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")] = None,
           size: Annotated[int | None, Query(ge=1)] = None) -> VerificationOut:
    require_everywhere(user, Permission.READ)
    if (root is None) != (size is None):
        raise InvalidInput("give root and size together", field="root")
    result = reserve.audit.verify(expected_root=root, expected_size=size)
    return VerificationOut.of({"ok": result.ok, "records": result.records, "root": result.root,
            "checkpoints_checked": result.checkpoints_checked,
            "entries_checked": result.entries_checked,
            "first_bad_record": result.first_bad_seq,
            "problems": [p.message for p in result.problems]})


@router.get("/audit/checkpoints/latest", summary="The latest published checkpoint")
def latest(reserve: ReserveDep, user: UserDep) -> CheckpointOut | None:
    require_everywhere(user, Permission.READ)
    found = reserve.audit.latest_checkpoint()
    return None if found is None else CheckpointOut.of(found)


@router.post("/audit/checkpoints", status_code=201,
             summary="Record the Merkle root over every record so far, for publication")
def checkpoint(reserve: ReserveDep, user: UserDep) -> CheckpointOut:
    return CheckpointOut.of(reserve.audit.checkpoint(actor=user.name))
