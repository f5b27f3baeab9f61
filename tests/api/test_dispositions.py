"""Dispositions over HTTP: a forfeited asset's models compared, a proposal into a reserve
vehicle, four-eyes approval executing it into the vehicle; refusals audited, nothing
written on a refusal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from qoima.domain.roles import Role, RoleGrant
from tests.api.conftest import PASSWORD, World
from tests.api.test_abuse import Trail, refused
from tests.api.test_case_intake import case_body

CASE = "KZ-API-DSP"
STEPS = [("frozen", "freeze_order", "2026-03-10"),
         ("under_court_review", "court_filing", "2026-04-01"),
         ("forfeited", "court_order", "2026-05-15")]


def proposal(**changes: Any) -> dict[str, Any]:
    return {"asset_id": f"{CASE}-A1", "model": "transferred_to_reserve",
            "vehicle": "state-fund", "tranche": "liquidity", "custodian": "bitgo",
            "on": "2026-06-01", **changes}


@pytest.fixture(scope="module")
def forfeited(world: World) -> str:
    world.reserve.users.add("pm-fund", "Pm Fund",
                            [RoleGrant(Role.PORTFOLIO_MANAGER, "state-fund")], actor="admin")
    world.auth.set_password("pm-fund", PASSWORD, actor="admin")
    liaison = world.session("liaison")
    assert liaison.post("/api/v1/cases", json=case_body(CASE)).status_code == 201
    for to, kind, on in STEPS:
        step = liaison.post(f"/api/v1/cases/{CASE}/transitions", json={
            "to": to, "on": on, "documents": [{"kind": kind, "reference": f"{kind}-{CASE}",
                                                "dated": on, "issued_by": "Court"}]})
        assert step.status_code == 200, step.text
    return CASE


def test_the_models_are_compared_from_the_forfeiture(world: World, forfeited: str) -> None:
    got = world.session("auditor").get(
        f"/api/v1/cases/{forfeited}/disposition-models?horizon_days=120")
    assert got.status_code == 200, got.text
    by_model = {r["model"]: r for r in got.json()}
    assert set(by_model) == {"auction_on_forfeiture", "staged_liquidation",
                             "hold_in_reserve", "external_manager"}
    assert by_model["auction_on_forfeiture"]["days_to_cash"] == 0
    assert by_model["external_manager"]["proceeds_usd"] < by_model["hold_in_reserve"][
        "proceeds_usd"]


def test_a_proposal_executes_at_the_quorum_into_the_vehicle(world: World,
                                                            forfeited: str) -> None:
    maker = world.session("pm-fund")
    made = maker.post(f"/api/v1/cases/{forfeited}/dispositions", key="dsp-1", json=proposal())
    assert made.status_code == 201, made.text
    record = made.json()
    assert (record["status"], record["maker"], Decimal(record["quantity"])) == (
        "proposed", "pm-fund", Decimal("2.5"))
    again = maker.post(f"/api/v1/cases/{forfeited}/dispositions", key="dsp-1",
                       json=proposal())
    assert again.json() == record and again.headers["Idempotent-Replayed"] == "true"
    url = f"/api/v1/dispositions/{record['disposition_id']}"
    trail = Trail(world)
    assert maker.post(f"{url}/approvals", json={"on": "2026-06-01"}).status_code == 404
    refused(trail, "pm-fund", f"POST {url}/approvals", "concealed-forbidden")
    liaison = world.session("liaison")
    trail = Trail(world)
    assert liaison.post(f"{url}/approvals", json={}).status_code == 403
    refused(trail, "liaison", f"POST {url}/approvals", "forbidden")
    first = world.session("risk").post(f"{url}/approvals", json={"on": "2026-06-01"})
    assert first.status_code == 200 and first.json()["status"] == "proposed"
    done = world.session("cm1").post(f"{url}/approvals", json={"on": "2026-06-01"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "executed" and done.json()["entry_id"]
    case = world.session("auditor").get(f"/api/v1/cases/{forfeited}").json()
    assert case["case"]["legal_status"] == "transferred_to_reserve"


def test_refusals_write_nothing_and_are_audited(world: World, forfeited: str) -> None:
    before = world.reserve.dispositions.dispositions(forfeited)
    liaison = world.session("liaison")
    trail = Trail(world)
    url = f"/api/v1/cases/{forfeited}/dispositions"
    assert liaison.post(url, json=proposal(on="2026-06-02")).status_code == 403
    refused(trail, "liaison", f"POST {url}", "forbidden")
    pm = world.session("pm")
    trail = Trail(world)
    assert pm.post(url, json=proposal(on="2026-06-03")).status_code == 403  # not its fund
    refused(trail, "pm", f"POST {url}", "forbidden")
    maker = world.session("pm-fund")
    assert maker.post(url, json=proposal(model="auction")).status_code == 422
    assert maker.post(url, json=proposal(status="executed")).status_code == 422
    assert world.reserve.dispositions.dispositions(forfeited) == before
