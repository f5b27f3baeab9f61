"""Orders through the API: four eyes, quorum by size, hidden vehicles, fills in the book."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.api.conftest import World


def ibit(quantity: str, **changes: Any) -> dict[str, Any]:
    return {"vehicle": "da-sleeve", "instrument": "IBIT", "side": "buy", "quantity": quantity,
            "estimated_price": "74.32", "tranche": "main", "custodian": "bny", **changes}


def test_large_order_runs_maker_risk_committee_execution_settlement(world: World) -> None:
    pm, risk, cm1, ops = (world.session(u) for u in ("pm", "risk", "cm1", "ops"))
    created = pm.post("/api/v1/orders", json=ibit("600000"))
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["status"] == "draft" and order["maker"] == "pm"
    assert order["notional_usd"] == "44592000.00"  # 600,000 x 74.32, an exact string
    order_id = order["order_id"]
    submitted = pm.post(f"/api/v1/orders/{order_id}/submit").json()
    assert submitted["status"] == "submitted"
    own = pm.post(f"/api/v1/orders/{order_id}/approvals", json={})
    assert own.status_code == 403 and own.json()["code"] == "forbidden"
    after_risk = risk.post(f"/api/v1/orders/{order_id}/approvals", json={}).json()
    assert after_risk["status"] == "submitted" and after_risk["still_needed"]
    approved = cm1.post(f"/api/v1/orders/{order_id}/approvals", json={}).json()
    assert approved["status"] == "approved" and approved["still_needed"] == []
    executed = ops.post(f"/api/v1/orders/{order_id}/fills", json={
        "fill_id": "f1", "quantity": "600000", "price": "74.30", "venue": "NASDAQ",
        "counterparty": "broker-x", "fees_usd": "1200"})
    assert executed.status_code == 200, executed.text
    assert executed.json()["status"] == "executed"
    settled = ops.post(f"/api/v1/orders/{order_id}/settlement").json()
    assert settled["status"] == "settled"
    entry = ops.get(f"/api/v1/entries/{order_id}-f1").json()
    amounts = {p["account"]: Decimal(p["amount"]) for p in entry["postings"]}
    assert amounts["holding:da-sleeve/main:IBIT@bny"] == Decimal("600000")
    assert amounts["holding:da-sleeve/main:USD@bny"] == Decimal("-44581200.00")


def test_maker_and_approver_roles_are_the_services_decision(world: World) -> None:
    auditor = world.session("auditor")
    refused = auditor.post("/api/v1/orders", json=ibit("10"))
    assert refused.status_code == 403
    assert "auditor" in refused.json()["detail"]


def test_another_vehicles_order_is_not_found_not_forbidden(world: World) -> None:
    pm, liaison = world.session("pm"), world.session("liaison")
    order_id = pm.post("/api/v1/orders", json=ibit("100")).json()["order_id"]
    hidden = liaison.get(f"/api/v1/orders/{order_id}")
    missing = liaison.get("/api/v1/orders/ord-doesnotexist000")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == f"no order {order_id!r}"
    assert {k: v for k, v in hidden.json().items() if k not in ("detail", "instance")} == {
        k: v for k, v in missing.json().items() if k not in ("detail", "instance")}
    acted = liaison.post(f"/api/v1/orders/{order_id}/approvals", json={})
    assert acted.status_code == 404
    assert order_id not in {o["order_id"] for o in liaison.get("/api/v1/orders").json()["items"]}


def test_order_list_is_paginated_with_links(world: World) -> None:
    pm = world.session("pm")
    for _ in range(3):
        assert pm.post("/api/v1/orders", json=ibit("5")).status_code == 201
    total = pm.get("/api/v1/orders").json()["total"]
    first = pm.get("/api/v1/orders?limit=2").json()
    assert len(first["items"]) == 2 and first["previous"] is None
    assert first["next"] == "/api/v1/orders?limit=2&offset=2"
    seen = [o["order_id"] for o in first["items"]]
    link = first["next"]
    while link:
        chunk = pm.get(link).json()
        seen += [o["order_id"] for o in chunk["items"]]
        link = chunk["next"]
    assert len(seen) == len(set(seen)) == total >= 3
    assert pm.get("/api/v1/orders?limit=501").status_code == 422
