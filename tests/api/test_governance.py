"""Policy versions through the API: propose as text, the committee approves, never the
proposer; a veto needs a reason. Gate decisions and checkpoints are recorded by role."""

from __future__ import annotations

from tests.api.conftest import World
from tests.app.governance import ROOT

POLICY = (ROOT / "examples" / "policies" / "fx-sleeve.yaml").read_text(encoding="utf-8")


def test_policy_is_proposed_as_text_and_approved_by_someone_else(world: World) -> None:
    pm, cm1, liaison = world.session("pm"), world.session("cm1"), world.session("liaison")
    proposed = pm.post("/api/v1/policies", json={"document": POLICY, "reason": "annual"})
    assert proposed.status_code == 201, proposed.text
    version = proposed.json()
    assert (version["vehicle_code"], version["version"], version["status"]) == (
        "da-sleeve", 2, "proposed")
    url = version["links"]["self"]
    assert pm.get(url).json()["source_text"] == POLICY
    assert liaison.get(url).status_code == 404
    assert pm.post(f"{url}/approval").status_code == 403  # pm may not approve at all
    approved = cm1.post(f"{url}/approval")
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    statuses = {v["version"]: v["status"] for v in
                cm1.get("/api/v1/policies?vehicle=da-sleeve").json()["items"]}
    assert statuses == {1: "superseded", 2: "active"}


def test_a_broken_policy_document_is_422_naming_the_field(world: World) -> None:
    pm = world.session("pm")
    response = pm.post("/api/v1/policies", json={"document": "vehicle: [", "format": "yaml"})
    assert response.status_code == 422
    assert response.json()["origin"].startswith("request body")


def test_veto_needs_a_reason_and_the_committee(world: World) -> None:
    pm, cm2 = world.session("pm"), world.session("cm2")
    url = pm.post("/api/v1/policies", json={"document": POLICY}).json()["links"]["self"]
    assert cm2.post(f"{url}/veto", json={}).status_code == 422
    vetoed = cm2.post(f"{url}/veto", json={"reason": "not now"})
    assert vetoed.status_code == 200 and vetoed.json()["status"] == "vetoed"


def test_checkpoint_is_for_operations_and_verifies(world: World) -> None:
    ops, pm = world.session("ops"), world.session("pm")
    assert pm.post("/api/v1/audit/checkpoints").status_code == 403
    made = ops.post("/api/v1/audit/checkpoints")
    assert made.status_code == 201
    latest = ops.get("/api/v1/audit/checkpoints/latest").json()
    assert latest["checkpoint_id"] == made.json()["checkpoint_id"]
    verified = ops.get(f"/api/v1/audit/verification?root={latest['root']}&size="
                       f"{latest['size']}").json()
    assert verified["ok"] is True
    wrong = ops.get(f"/api/v1/audit/verification?root={'0' * 64}&size={latest['size']}").json()
    assert wrong["ok"] is False and wrong["problems"]


def test_gate_decision_is_recorded_once_per_inputs(world: World) -> None:
    risk = world.session("risk")
    first = risk.post("/api/v1/gate/decisions", json={"vehicle": "da-sleeve"})
    assert first.status_code == 201, first.text
    second = risk.post("/api/v1/gate/decisions", json={"vehicle": "da-sleeve"})
    assert second.json()["recorded"]["id"] == first.json()["recorded"]["id"]
    assert second.json()["recorded"]["new"] is False
