"""Token transfers over HTTP: propose, four-eyes approvals up to the policy's quorum,
execution, rejection; another vehicle's transfer is invisible; refusals audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qoima.adapters.policy_files import read_policy
from qoima.domain.roles import Role, RoleGrant
from tests.api.conftest import PASSWORD, World
from tests.api.test_abuse import Trail, refused

ROOT = Path(__file__).resolve().parents[2]
WALLET = "0x00000000000000000000000000000000000a1e01"
TRANSFERS = "/api/v1/transfers"


def bnb(quantity: str = "250", **changes: Any) -> dict[str, Any]:
    return {"vehicle": "alem-fund", "instrument": "BNB", "destination": WALLET,
            "quantity": quantity, **changes}


@pytest.fixture(scope="module")
def alem(world: World) -> str:
    """The token fund's policy in force and its portfolio manager."""
    world.reserve.users.add("pm-alem", "Pm Alem",
                            [RoleGrant(Role.PORTFOLIO_MANAGER, "alem-fund")], actor="admin")
    world.auth.set_password("pm-alem", PASSWORD, actor="admin")
    policy = read_policy(ROOT / "examples" / "policies" / "alem-fund.yaml")
    world.reserve.policies.propose(policy, fmt="yaml", actor="pm-alem")
    world.reserve.policies.approve("alem-fund", 1, actor="cm1")
    return "pm-alem"


def test_a_transfer_is_proposed_approved_by_a_quorum_and_executed(world: World,
                                                                  alem: str) -> None:
    maker = world.session(alem)
    made = maker.post(TRANSFERS, key="trf-1", json=bnb())
    assert made.status_code == 201, made.text
    transfer = made.json()["transfer"]
    assert (transfer["status"], transfer["quantity"], transfer["maker"]) == (
        "proposed", "250", "pm-alem")
    assert transfer["quorum"] == 3 and made.json()["missing"]
    again = maker.post(TRANSFERS, key="trf-1", json=bnb())
    assert again.json() == made.json() and again.headers["Idempotent-Replayed"] == "true"
    url = f"{TRANSFERS}/{transfer['transfer_id']}"
    trail = Trail(world)
    assert maker.post(f"{url}/approvals", json={}).status_code == 403
    refused(trail, alem, f"POST {url}/approvals", "forbidden")
    for approver in ("risk", "cm1", "cm2"):
        approved = world.session(approver).post(f"{url}/approvals", json={})
        assert approved.status_code == 200, approved.text
    assert approved.json()["transfer"]["status"] == "approved"
    assert [a["user"] for a in approved.json()["transfer"]["approvals"]] == [
        "risk", "cm1", "cm2"]
    done = world.session("ops").post(f"{url}/execution", json={"tx_id": "0xfeed"})
    assert done.status_code == 200, done.text
    assert done.json()["transfer"]["status"] == "executed"
    assert done.json()["transfer"]["entry_id"]
    listed = world.session("auditor").get(f"{TRANSFERS}?vehicle=alem-fund&status=executed")
    assert [t["transfer"]["transfer_id"] for t in listed.json()["items"]] == [
        transfer["transfer_id"]]


def test_another_vehicles_transfer_is_invisible_and_the_attempt_audited(
        world: World, alem: str) -> None:
    made = world.session(alem).post(TRANSFERS, json=bnb("10"))
    assert made.status_code == 201, made.text
    url = f"{TRANSFERS}/{made.json()['transfer']['transfer_id']}"
    pm = world.session("pm")  # the sleeve's manager
    trail = Trail(world)
    assert pm.get(url).status_code == 404
    assert pm.post(f"{url}/rejection", json={"reason": "no"}).status_code == 404
    assert [p["reason"] for _, _, p in trail.refusals()] == ["concealed-forbidden"] * 2
    assert pm.get(TRANSFERS).json()["items"] == []
    assert world.session("auditor").get(url).json()["transfer"]["status"] == "proposed"


def test_rejection_needs_a_reason_and_closes_the_transfer(world: World, alem: str) -> None:
    made = world.session(alem).post(TRANSFERS, json=bnb("5"))
    url = f"{TRANSFERS}/{made.json()['transfer']['transfer_id']}"
    risk = world.session("risk")
    assert risk.post(f"{url}/rejection", json={"reason": ""}).status_code == 422
    rejected = risk.post(f"{url}/rejection", json={"reason": "wrong wallet"})
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["transfer"]["status"], rejected.json()["transfer"]["reason"]) == (
        "rejected", "wrong wallet")


def test_bad_input_writes_nothing(world: World, alem: str) -> None:
    maker = world.session(alem)
    before = len(world.reserve.transfers.list(actor="auditor"))
    trail = Trail(world)
    extra = maker.post(TRANSFERS, json=bnb(status="approved", maker="cm1"))
    assert extra.status_code == 422
    payload = refused(trail, alem, f"POST {TRANSFERS}", "unknown-fields")
    assert sorted(payload["fields"]) == ["body.maker", "body.status"]
    assert maker.post(TRANSFERS, json=bnb("-3")).status_code == 422
    assert maker.post(TRANSFERS, json=bnb("NaN")).status_code == 422
    assert len(world.reserve.transfers.list(actor="auditor")) == before
