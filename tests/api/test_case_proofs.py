"""Proof of control over HTTP: a challenge for an address the case holds, its signature
verified and recorded (an invalid one is recorded as such); other roles refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import World
from tests.api.test_abuse import Trail, refused
from tests.api.test_case_intake import case_body
from tests.app.test_custody_service import btc_address, key
from tests.cli.test_case_cli import _legacy_signature

CASE = "KZ-API-PRF"


@pytest.fixture(scope="module")
def challenge(world: World) -> dict[str, Any]:
    liaison = world.session("liaison")
    assert liaison.post("/api/v1/cases", json=case_body(CASE)).status_code == 201
    issued = liaison.post(f"/api/v1/cases/{CASE}/challenges",
                          json={"chain": "bitcoin", "address": btc_address(CASE),
                                "on": "2026-03-05"})
    assert issued.status_code == 201, issued.text
    return issued.json()


def test_a_signed_challenge_is_a_valid_recorded_proof(world: World,
                                                      challenge: dict[str, Any]) -> None:
    assert challenge["address"] == btc_address(CASE)
    assert challenge["nonce"] in challenge["message"]
    signature = _legacy_signature(key(CASE), challenge["message"])
    verified = world.session("liaison").post("/api/v1/proof-verifications", json={
        "nonce": challenge["nonce"], "signature": signature})
    assert verified.status_code == 201, verified.text
    assert verified.json()["valid"] is True
    assert verified.json()["proof"]["address"] == btc_address(CASE)
    proofs = world.session("auditor").get(f"/api/v1/cases/{CASE}/proofs").json()
    assert [p["valid"] for p in proofs] == [True]
    again = world.session("liaison").post("/api/v1/proof-verifications", json={
        "nonce": challenge["nonce"], "signature": signature})
    assert again.status_code == 409  # a proven challenge is spent


def test_a_wrong_key_is_recorded_invalid(
        world: World, challenge: dict[str, Any]) -> None:
    liaison = world.session("liaison")
    fresh = liaison.post(f"/api/v1/cases/{CASE}/challenges",
                         json={"chain": "bitcoin", "address": btc_address(CASE)}).json()
    signature = _legacy_signature(key("someone else"), fresh["message"])
    verified = liaison.post("/api/v1/proof-verifications", json={
        "nonce": fresh["nonce"], "signature": signature})
    assert verified.status_code == 201
    assert verified.json()["valid"] is False and verified.json()["reason"]


def test_challenges_need_the_pools_roles_and_an_address_of_the_case(
        world: World, challenge: dict[str, Any]) -> None:
    liaison = world.session("liaison")
    other = liaison.post(f"/api/v1/cases/{CASE}/challenges",
                         json={"chain": "bitcoin", "address": btc_address("elsewhere")})
    assert other.status_code == 404 and other.json()["field"] == "address"
    pm = world.session("pm")
    trail = Trail(world)
    url = f"/api/v1/cases/{CASE}/challenges"
    assert pm.post(url, json={"chain": "bitcoin",
                              "address": btc_address(CASE)}).status_code == 404
    refused(trail, "pm", f"POST {url}", "concealed-forbidden")
    auditor = world.session("auditor")
    trail = Trail(world)
    assert auditor.post(url, json={"chain": "bitcoin",
                                   "address": btc_address(CASE)}).status_code == 403
    refused(trail, "auditor", f"POST {url}", "forbidden")
    assert liaison.post(url, json={"chain": "bitcoin", "address": btc_address(CASE),
                                   "signature": "x"}).status_code == 422


def test_a_fork_is_recorded_once_from_an_address_the_case_holds(
        world: World, challenge: dict[str, Any]) -> None:
    liaison = world.session("liaison")
    url = f"/api/v1/cases/{CASE}/forks"
    fork = {"parent": "BTC", "instrument": "BCH", "quantity": "2.5",
            "fork_date": "2017-08-01", "valuation": "market_price",
            "source_address": btc_address(CASE)}
    recorded = liaison.post(url, json=fork)
    assert recorded.status_code == 201, recorded.text
    assert (recorded.json()["instrument_code"], recorded.json()["quantity"],
            recorded.json()["recorded_by"]) == ("BCH", "2.5", "liaison")
    assert liaison.post(url, json=fork).status_code == 409  # already recorded
    unknown = liaison.post(url, json={**fork, "source_address": btc_address("nowhere")})
    assert unknown.status_code == 404 and unknown.json()["field"] == "source_address"
    assert liaison.post(url, json={**fork, "valuation": "guess"}).status_code == 422
