"""Opening a case over HTTP (JSON or its YAML file), screening and reconciliation: real
values back, the liaison only, refusals audited, bad files named by line, nothing written."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import World
from tests.api.test_abuse import Trail, refused
from tests.app.test_custody_service import btc_address, txid

CASES = "/api/v1/cases"
ROOT = Path(__file__).resolve().parents[2]


def case_body(case_id: str, **asset: Any) -> dict[str, Any]:
    return {"case_id": case_id, "agency": "Financial Monitoring Agency",
            "case_number": case_id[-4:], "court": "Astana City Court",
            "description": "cold wallet", "opened_on": "2026-03-02",
            "documents": [{"kind": "seizure_order", "reference": f"SO-{case_id}",
                           "dated": "2026-03-02", "issued_by": "Astana City Court"}],
            "assets": [{"asset_id": f"{case_id}-A1", "chain": "bitcoin", "instrument": "BTC",
                        "quantity": "2.5", "addresses": [btc_address(case_id)],
                        "tx_ids": [txid(case_id)], "holding": "state_wallet",
                        "holder": "AFM key custody unit", "seized_on": "2026-03-02", **asset}]}


def case_yaml(case_id: str, address: str) -> str:
    return f"""case_id: {case_id}
agency: Financial Monitoring Agency
case_number: "0202"
court: Astana City Court
opened_on: "2026-03-02"
documents:
  - {{kind: seizure_order, reference: SO-{case_id}, dated: "2026-03-02", issued_by: Court}}
assets:
  - asset_id: {case_id}-A1
    chain: bitcoin
    instrument: BTC
    quantity: "1.25"
    addresses: [{address}]
    holding: state_wallet
    holder: AFM key custody unit
    seized_on: "2026-03-02"
"""


def cases(world: World) -> list[str]:
    return [c.case_id for c in world.reserve.custody.cases()]


@pytest.fixture(scope="module")
def opened(world: World) -> dict[str, Any]:
    response = world.session("liaison").post(CASES, json=case_body("KZ-API-0001"))
    assert response.status_code == 201, response.text
    return response.json()


def test_a_case_opened_as_json_has_its_asset_entry_and_legal_status(
        world: World, opened: dict[str, Any]) -> None:
    assert opened["case"]["case_id"] == "KZ-API-0001"
    assert opened["case"]["legal_status"] == "seized"
    assert opened["case"]["created_by"] == "liaison"
    [asset] = opened["assets"]
    assert asset["quantity"] == "2.5"
    assert asset["addresses"] == [btc_address("KZ-API-0001")]
    assert asset["intake_entry_id"]
    assert opened["links"]["self"] == "/api/v1/cases/KZ-API-0001"
    shown = world.session("auditor").get(f"{CASES}/KZ-API-0001")
    assert shown.status_code == 200
    assert shown.json()["assets"] == opened["assets"]


def test_the_yaml_file_opens_a_case_and_a_replay_returns_the_first_response(
        world: World) -> None:
    liaison = world.session("liaison")
    text = case_yaml("KZ-API-0002", btc_address("KZ-API-0002"))
    first = liaison.post("/api/v1/case-files", key="case-file-1", content=text,
                         headers={"Content-Type": "application/yaml"})
    assert first.status_code == 201, first.text
    assert first.json()["assets"][0]["quantity"] == "1.25"
    again = liaison.post("/api/v1/case-files", key="case-file-1", content=text,
                         headers={"Content-Type": "application/yaml"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert cases(world).count("KZ-API-0002") == 1


def test_a_bad_address_in_the_file_names_line_and_field_and_opens_nothing(
        world: World) -> None:
    before = cases(world)
    text = case_yaml("KZ-API-0003", "bc1qnotanaddress")
    response = world.session("liaison").post(
        "/api/v1/case-files", content=text,
        headers={"Content-Type": "application/yaml", "X-Filename": "seizure.yaml"})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["origin"].startswith("seizure.yaml:")
    assert int(problem["origin"].split(":")[1]) == 13  # the addresses line
    assert problem["field"] == "addresses"
    assert cases(world) == before


def test_unknown_fields_are_refused_audited_and_open_nothing(world: World) -> None:
    liaison = world.session("liaison")
    trail = Trail(world)
    before = cases(world)
    body = case_body("KZ-API-0004")
    body["legal_status"] = "forfeited"
    body["assets"][0]["owner"] = "x"
    response = liaison.post(CASES, json=body)
    assert response.status_code == 422
    payload = refused(trail, "liaison", "POST /api/v1/cases", "unknown-fields")
    assert sorted(payload["fields"]) == ["body.assets.0.owner", "body.legal_status"]
    assert cases(world) == before


def test_other_roles_may_not_open_cases_and_the_refusal_is_audited(world: World) -> None:
    pm = world.session("pm")
    trail = Trail(world)
    before = cases(world)
    response = pm.post(CASES, json=case_body("KZ-API-0005"))
    assert response.status_code == 403
    refused(trail, "pm", "POST /api/v1/cases", "forbidden")
    assert cases(world) == before


def test_screening_returns_open_hits_and_needs_the_liaison(world: World,
                                                          opened: dict[str, Any]) -> None:
    screened = world.session("liaison").post("/api/v1/screenings")
    assert screened.status_code == 200, screened.text
    # no sanctions list names this case's address
    assert [h for h in screened.json() if h["case_id"] == "KZ-API-0001"] == []
    auditor = world.session("auditor")
    trail = Trail(world)
    assert auditor.post("/api/v1/screenings").status_code == 403
    refused(trail, "auditor", "POST /api/v1/screenings", "forbidden")


def test_reconciliation_compares_the_csv_with_the_book(world: World,
                                                       opened: dict[str, Any]) -> None:
    address = btc_address("KZ-API-0001")
    short = ("chain,address,asset,quantity,unit,observed_at,source\n"
             f"bitcoin,{address},BTC,249999000,sat,2026-03-05T00:00:00Z,explorer\n")
    response = world.session("liaison").post(
        "/api/v1/reconciliations?as_of=2026-03-05", content=short,
        headers={"Content-Type": "text/csv", "X-Filename": "snap.csv"})
    assert response.status_code == 201, response.text
    got = response.json()
    assert got["source"] == "snap.csv"
    assert got["status"] == "differences"
    row = next(r for r in got["rows"] if r["address"] == address)
    assert [Decimal(row[k]) for k in ("book", "observed", "difference")] == [
        Decimal("2.5"), Decimal("2.49999"), Decimal("-0.00001")]
    assert got["findings"]


def test_a_bad_snapshot_line_is_named_and_nothing_is_recorded(world: World) -> None:
    liaison = world.session("liaison")
    trail = Trail(world)
    bad = ("chain,address,asset,quantity,unit,observed_at,source\n"
           f"bitcoin,{btc_address('KZ-API-0001')},BTC,lots,sat,2026-03-05T00:00:00Z,x\n")
    response = liaison.post("/api/v1/reconciliations",
                            json={"filename": "snap.csv", "content": bad})
    assert response.status_code == 422
    assert response.json()["origin"] == "snap.csv:2"
    assert response.json()["field"] == "quantity"
    assert trail.records() == []


def test_a_file_of_another_type_is_refused(world: World) -> None:
    response = world.session("liaison").post(
        "/api/v1/reconciliations", content=b"x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_a_sanctioned_address_is_hit_and_cleared_by_two_committee_overrides(
        world: World) -> None:
    liaison = world.session("liaison")
    sdn = (ROOT / "tests" / "custody" / "data" / "sdn_sample.xml").read_text()
    imported = liaison.post("/api/v1/sanctions-lists", content=sdn,
                            headers={"Content-Type": "application/xml",
                                     "X-Filename": "sdn.xml"})
    assert imported.status_code == 201, imported.text
    assert imported.json()["new"] is True and imported.json()["entries"] >= 2
    listed = "149w62rY42aZBox8fGcmqNsXUzSStKeq8C"
    opened = liaison.post(CASES, json=case_body("KZ-API-0006", addresses=[listed],
                                                tx_ids=[]))
    assert opened.status_code == 201, opened.text
    hits = liaison.post("/api/v1/screenings").json()
    [hit] = [h for h in hits if h["case_id"] == "KZ-API-0006"]
    assert (hit["address"], hit["status"]) == (listed, "open")
    url = f"/api/v1/screening-hits/{hit['id']}/overrides"
    assert liaison.post(url, json={"reason": "mine"}).status_code == 403
    first = world.session("cm1").post(url, json={"reason": "court order names the wallet"})
    assert first.status_code == 200 and first.json()["status"] == "open"
    second = world.session("cm2").post(url, json={"reason": "agreed"})
    assert second.json()["status"] == "overridden"
    assert [o["user"] for o in second.json()["overrides"]] == ["cm1", "cm2"]


def test_the_pool_inventory_lists_the_opened_case(world: World,
                                                  opened: dict[str, Any]) -> None:
    got = world.session("auditor").get("/api/v1/seized/inventory?as_of=2026-03-05")
    assert got.status_code == 200, got.text
    [case] = [c for c in got.json()["cases"] if c["case_id"] == "KZ-API-0001"]
    assert [(a["asset_id"], Decimal(a["quantity"]), a["legal_status"]) for a in case["assets"]
            ] == [("KZ-API-0001-A1", Decimal("2.5"), "seized")]
    assert world.session("pm").get("/api/v1/seized/inventory").status_code == 404
    assert world.session("auditor").get(f"{CASES}/KZ-API-0001/proofs").json() == []
