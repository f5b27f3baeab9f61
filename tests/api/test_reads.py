"""Reads give the services' numbers, limited to the vehicles the caller may read."""

from __future__ import annotations

from decimal import Decimal

from qoima.risk.scenarios import BUILTIN_SCENARIOS
from tests.api.conftest import World


def test_nav_equals_the_valuation_service(world: World) -> None:
    auditor = world.session("auditor")
    nav = auditor.get("/api/v1/nav").json()
    snapshot = world.reserve.valuation.snapshot(world.reserve.valuation.default_as_of())
    assert nav["as_of"] == snapshot.as_of_date.isoformat()
    assert Decimal(nav["total_usd"]) == snapshot.total_usd
    assert {v["vehicle_code"]: Decimal(v["nav_usd"]) for v in nav["vehicles"]} == {
        v.vehicle_code: v.nav_usd for v in snapshot.vehicles}


def test_a_vehicle_scoped_user_sees_only_its_vehicle(world: World) -> None:
    pm = world.session("pm")
    nav = pm.get("/api/v1/nav").json()
    assert [v["vehicle_code"] for v in nav["vehicles"]] == ["da-sleeve"]
    assert nav["total_usd"] is None  # the institution's total is not the sleeve's to see
    vehicles = pm.get("/api/v1/vehicles").json()["items"]
    assert [v["code"] for v in vehicles] == ["da-sleeve"]
    assert pm.get("/api/v1/vehicles/state-fund").status_code == 404
    assert pm.get("/api/v1/nav?vehicle=state-fund").status_code == 404
    holdings = pm.get("/api/v1/holdings?limit=500").json()
    assert {p["vehicle_code"] for p in holdings["items"]} == {"da-sleeve"}
    assert pm.get("/api/v1/entries").status_code == 403
    entries = pm.get("/api/v1/entries?vehicle=da-sleeve").json()["items"]
    assert "fund-sleeve" in {e["entry_id"] for e in entries}
    assert pm.get("/api/v1/audit/verification").status_code == 403


def test_holdings_page_through_every_position(world: World) -> None:
    auditor = world.session("auditor")
    first = auditor.get("/api/v1/holdings?limit=3").json()
    snapshot = world.reserve.valuation.snapshot(world.reserve.valuation.default_as_of())
    assert first["total"] == len(snapshot.positions) > 3
    assert first["next"] is not None and len(first["items"]) == 3
    entries = auditor.get("/api/v1/entries?limit=2").json()
    assert entries["total"] is None and entries["next"] == "/api/v1/entries?limit=2&offset=2"


def test_policy_breaches_gate_and_audit(world: World) -> None:
    risk = world.session("risk")
    versions = risk.get("/api/v1/policies").json()["items"]
    assert [(v["vehicle_code"], v["version"], v["status"]) for v in versions] == [
        ("da-sleeve", 1, "active")]
    checks = risk.post("/api/v1/policy-checks", json={"vehicle": "da-sleeve"}).json()
    assert checks[0]["vehicle"] == "da-sleeve" and checks[0]["blocking"] is False
    assert "policy.per-custodian" in {b["rule"] for b in
                                      risk.get("/api/v1/breaches").json()["items"]}
    gate = risk.get("/api/v1/gate?vehicle=da-sleeve").json()
    direct = world.reserve.allocation.gate("da-sleeve", world.reserve.allocation.default_as_of())
    assert gate["verdict"] == direct.decision.verdict.value
    assert gate["inputs_hash"] == direct.decision.provenance.inputs_hash
    verified = risk.get("/api/v1/audit/verification").json()
    assert verified["ok"] is True and verified["problems"] == []
    assert verified["records"] == world.reserve.audit.verify().records > 0


def test_stress_and_var_match_the_risk_service(world: World) -> None:
    auditor = world.session("auditor")
    names = [s["name"] for s in auditor.get("/api/v1/risk/stress/scenarios").json()]
    assert names == [s.name for s in BUILTIN_SCENARIOS]
    stress = auditor.get(f"/api/v1/risk/stress?scenario={names[0]}").json()
    grid = world.reserve.risk.stress(world.reserve.risk.default_as_of(), BUILTIN_SCENARIOS[:1])
    assert [s["scenario"] for s in stress["scenarios"]] == [names[0]]
    assert stress["scenarios"][0]["total_pnl_usd"] == round(grid.results[0].total_pnl_usd, 2)
    var = auditor.get("/api/v1/risk/var?scope=total&method=historical&level=0.99&horizon=1"
                      ).json()
    (row,) = [r for r in var["var"] if r["currency"] == "USD"]
    assert row["method"] == "historical" and row["var"] > 0 and row["cvar"] >= row["var"]
    assert auditor.get("/api/v1/risk/var?method=astrology").status_code == 422


def test_market_series_and_cases(world: World) -> None:
    auditor, pm = world.session("auditor"), world.session("pm")
    series = auditor.get("/api/v1/market/series?limit=500").json()["items"]
    assert any(s["id"]["code"] == "BTC" for s in series)
    btc = auditor.get("/api/v1/market/series/price:BTC?limit=5").json()
    assert btc["series"] == "price:BTC" and len(btc["items"]) == 5
    assert auditor.get("/api/v1/market/series/fx:USD/KZT?limit=1").json()["series"] == (
        "fx:USD/KZT")
    assert auditor.get("/api/v1/cases").status_code == 200
    assert pm.get("/api/v1/cases").status_code == 404  # the pool is not the sleeve's
    assert auditor.get("/api/v1/cases/no-such-case").status_code == 404


def test_openapi_and_problem_catalogue_need_no_login(world: World) -> None:
    client = world.client()
    assert client.get("/api/v1/health").json()["status"] == "ok"
    codes = {p["code"] for p in client.get("/api/v1/problems").json()}
    assert {"malformed-json", "idempotency-key-reused", "forbidden", "not-found"} <= codes
    assert client.get("/api/v1/openapi.json").status_code == 200
