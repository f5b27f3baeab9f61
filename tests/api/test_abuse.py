"""Abuse of authorization: every attempt is refused, changes nothing, and is audited.

Each test marks the end of the audit trail, makes the attempt, and reads the records added
since: one ``access.refused`` record per refused request, naming who tried what and why.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qoima.api.app import create_app
from qoima.api.settings import ApiSettings
from qoima.app.auth import AuthService
from tests.api.conftest import (
    BASE,
    HASHER,
    SETTINGS,
    Session,
    World,
    auth_repository,
    build_world,
)
from tests.trail import AuditTrail

ORDERS = "/api/v1/orders"


def ibit(quantity: str = "10", **changes: Any) -> dict[str, Any]:
    return {"vehicle": "da-sleeve", "instrument": "IBIT", "side": "buy", "quantity": quantity,
            "estimated_price": "74.32", "tranche": "main", "custodian": "bny", **changes}


class Trail(AuditTrail):
    """The audit records written after this point (in this world's reserve)."""

    def __init__(self, world: World) -> None:
        super().__init__(world.reserve)


def refused(trail: Trail, actor: str, target: str, reason: str) -> dict[str, Any]:
    """The one refusal since the mark, checked; its payload."""
    return trail.refused(actor, target, reason)


def new_order(world: World, maker: str = "pm", *, submit: bool = True,
              quantity: str = "10") -> str:
    session = world.session(maker)
    made = session.post(ORDERS, json=ibit(quantity))
    assert made.status_code == 201, made.text
    order_id: str = made.json()["order_id"]
    if submit:
        assert session.post(f"{ORDERS}/{order_id}/submit").status_code == 200
    return order_id


def order(world: World, order_id: str) -> dict[str, Any]:
    got: dict[str, Any] = world.session("admin").get(f"{ORDERS}/{order_id}").json()
    return got


# -- four eyes and roles ----------------------------------------------------------------
@pytest.mark.parametrize("maker", ["pm", "pm-risk"])  # pm-risk also holds an approver role
def test_maker_may_not_approve_own_order(world: World, maker: str) -> None:
    order_id = new_order(world, maker)
    session = world.session(maker)
    trail = Trail(world)
    own = session.post(f"{ORDERS}/{order_id}/approvals", json={})
    assert own.status_code == 403 and own.json()["code"] == "forbidden"
    payload = refused(trail, maker, f"POST {ORDERS}/{order_id}/approvals", "forbidden")
    assert payload["status"] == 403 and payload["via"] == "session"
    assert payload["detail"] == own.json()["detail"]
    after = order(world, order_id)
    assert after["status"] == "submitted" and after["approvals"] == []


@pytest.mark.parametrize(("method", "url", "body"), [
    ("post", ORDERS, ibit()),
    ("post", "/api/v1/audit/checkpoints", None),
    ("post", "/api/v1/market/quotes", {"source": "abuse", "prices": [
        {"instrument": "IBIT", "date": "2026-10-30", "price": "1"}]}),
])
def test_auditor_may_not_write(world: World, method: str, url: str, body: Any) -> None:
    auditor = world.session("auditor")
    trail = Trail(world)
    response = getattr(auditor, method)(url, json=body)
    assert response.status_code == 403, response.text
    refused(trail, "auditor", f"{method.upper()} {url}", "forbidden")


def test_auditor_may_not_approve(world: World) -> None:
    order_id = new_order(world)
    auditor = world.session("auditor")
    trail = Trail(world)
    response = auditor.post(f"{ORDERS}/{order_id}/approvals", json={})
    assert response.status_code == 403
    refused(trail, "auditor", f"POST {ORDERS}/{order_id}/approvals", "forbidden")
    assert order(world, order_id)["approvals"] == []


# -- vehicles ---------------------------------------------------------------------------
def test_another_vehicles_order_is_hidden_but_the_attempt_is_audited(world: World) -> None:
    order_id = new_order(world)
    liaison = world.session("liaison")  # works on the seized pool only
    trail = Trail(world)
    read = liaison.get(f"{ORDERS}/{order_id}")
    missing = liaison.get(f"{ORDERS}/ord-0000000000000000")
    assert read.status_code == missing.status_code == 404
    assert read.json()["code"] == missing.json()["code"] == "not-found"
    acted = liaison.post(f"{ORDERS}/{order_id}/approvals", json={})
    cancelled = liaison.post(f"{ORDERS}/{order_id}/cancellation")
    assert acted.status_code == cancelled.status_code == 404
    found = trail.only_refusals()
    assert [(a, t, p["reason"], p["status"]) for a, t, p in found] == [
        ("liaison", f"GET {ORDERS}/{order_id}", "concealed-forbidden", 404),
        ("liaison", f"POST {ORDERS}/{order_id}/approvals", "concealed-forbidden", 404),
        ("liaison", f"POST {ORDERS}/{order_id}/cancellation", "concealed-forbidden", 404)]
    assert order(world, order_id)["status"] == "submitted"


def test_a_vehicles_manager_may_not_read_or_trade_another_vehicle(world: World) -> None:
    pm = world.session("pm")  # portfolio manager of the sleeve only
    trail = Trail(world)
    holdings = pm.get("/api/v1/holdings?vehicle=seized-pool")
    assert holdings.status_code == 404
    elsewhere = pm.post(ORDERS, json=ibit(vehicle="fx-reserves", tranche="investment"))
    assert elsewhere.status_code == 403
    found = trail.only_refusals()
    assert [(a, t, p["reason"]) for a, t, p in found] == [
        ("pm", "GET /api/v1/holdings", "concealed-forbidden"),
        ("pm", f"POST {ORDERS}", "forbidden")]
    assert "fx-reserves" in found[1][2]["detail"]


# -- idempotency ------------------------------------------------------------------------
def test_a_used_idempotency_key_with_another_body_is_refused(world: World) -> None:
    pm = world.session("pm")
    key = f"abuse-{uuid.uuid4().hex}"
    first = pm.post(ORDERS, key=key, json=ibit("11"))
    assert first.status_code == 201
    trail = Trail(world)
    other = pm.post(ORDERS, key=key, json=ibit("99999"))
    assert other.status_code == 422 and other.json()["code"] == "idempotency-key-reused"
    payload = refused(trail, "pm", f"POST {ORDERS}", "idempotency-key-reused")
    assert payload["status"] == 422
    again = pm.post(ORDERS, key=key, json=ibit("11"))
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    quantities = {o["terms"]["quantity"] for o in pm.get(f"{ORDERS}?limit=500").json()["items"]
                  if o["order_id"] == first.json()["order_id"]}
    assert quantities == {"11"}


# -- credentials ------------------------------------------------------------------------
class ManualClock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def now(self) -> datetime:
        return self.at


@dataclass
class Clocked:
    """The same reserve behind an auth service whose clock the test moves."""

    clock: ManualClock
    auth: AuthService
    client: TestClient


@pytest.fixture
def clocked(world: World) -> Iterator[Clocked]:
    clock = ManualClock()
    auth = AuthService(world.reserve.units, clock, HASHER, repository=auth_repository)
    app = create_app(world.reserve, SETTINGS, auth_service=auth,
                     idempotency_service=world.keys)
    with TestClient(app, base_url=BASE) as client:
        yield Clocked(clock, auth, client)


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def test_an_expired_token_is_refused_and_audited(world: World, clocked: Clocked) -> None:
    issued = clocked.auth.issue_token("ops", name="short", scopes=["read"],
                                      expires_in=timedelta(hours=1), actor="ops")
    headers = {"Authorization": f"Bearer {issued.secret}"}
    assert clocked.client.get(ORDERS, headers=headers).status_code == 200
    clocked.clock.at += timedelta(hours=2)
    trail = Trail(world)
    expired = clocked.client.get(ORDERS, headers=headers)
    assert expired.status_code == 401 and expired.json()["code"] == "authentication-failed"
    payload = refused(trail, "anonymous", f"GET {ORDERS}", "authentication-failed")
    assert payload["credential"] == f"token:{fingerprint(issued.secret)}"


def test_a_revoked_token_is_refused_and_audited(world: World) -> None:
    ops = world.session("ops")
    issued = ops.post("/api/v1/auth/tokens", json={"name": "gone", "scopes": ["write"]}).json()
    revoked = ops.client.delete(f"/api/v1/auth/tokens/{issued['token_id']}",
                                headers={"X-CSRF-Token": ops.csrf or ""})
    assert revoked.status_code == 204
    trail = Trail(world)
    bearer = world.client(headers={"Authorization": f"Bearer {issued['secret']}"})
    response = bearer.post("/api/v1/audit/checkpoints", headers={"Idempotency-Key": "r1"})
    assert response.status_code == 401
    payload = refused(trail, "anonymous", "POST /api/v1/audit/checkpoints",
                      "authentication-failed")
    assert payload["credential"] == f"token:{fingerprint(issued['secret'])}"


@pytest.mark.parametrize("header", [
    "Bearer qoima_" + "A" * 43,  # the right shape, never issued
    "Bearer " + "x" * 10,
    "Basic YWRtaW46YWRtaW4=",  # not a Bearer token at all
])
def test_a_forged_token_is_refused_and_audited(world: World, header: str) -> None:
    trail = Trail(world)
    response = world.client(headers={"Authorization": header}).get("/api/v1/nav")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    found = trail.only_refusals()
    assert [(a, t, p["status"]) for a, t, p in found] == [("anonymous", "GET /api/v1/nav", 401)]
    assert found[0][2]["credential"].startswith("token:")


def test_a_read_token_may_not_write(world: World) -> None:
    reader = world.bearer("pm", ["read"])
    trail = Trail(world)
    response = reader.post(ORDERS, json=ibit())
    assert response.status_code == 403 and response.json()["code"] == "scope-insufficient"
    assert refused(trail, "pm", f"POST {ORDERS}", "scope-insufficient")["via"] == "token"


def test_no_credentials_is_refused_but_nobody_acted(world: World) -> None:
    trail = Trail(world)
    assert world.client().get(ORDERS).status_code == 401
    assert trail.records() == []


# -- sessions and CSRF ------------------------------------------------------------------
def test_a_planted_session_id_is_never_adopted(world: World) -> None:
    planted = "attacker-chosen-session-id-" + uuid.uuid4().hex
    victim = world.client(cookies={"qoima_session": planted})
    trail = Trail(world)
    assert victim.get("/api/v1/auth/me").status_code == 401
    payload = refused(trail, "anonymous", "GET /api/v1/auth/me", "authentication-failed")
    assert payload["credential"] == f"session:{fingerprint(planted)}"
    login = victim.post("/api/v1/auth/login", json={"user": "cm2",
                                                    "password": "correct horse battery staple"})
    assert login.status_code == 200
    issued = login.cookies.get("qoima_session")
    assert issued and issued != planted
    attacker = world.client(cookies={"qoima_session": planted})
    assert attacker.get("/api/v1/auth/me").status_code == 401
    assert victim.get("/api/v1/auth/me").json()["user"] == "cm2"


def test_a_session_ends_with_logout(world: World) -> None:
    ops = world.session("ops")
    token = ops.client.cookies.get("qoima_session")
    assert ops.client.post("/api/v1/auth/logout",
                           headers={"X-CSRF-Token": ops.csrf or ""}).status_code == 204
    trail = Trail(world)
    replayed = world.client(cookies={"qoima_session": token or ""})
    assert replayed.get("/api/v1/auth/me").status_code == 401
    assert refused(trail, "anonymous", "GET /api/v1/auth/me",
                   "authentication-failed")["credential"].startswith("session:")


@pytest.mark.parametrize("csrf", [None, "", "not-the-token", "other-session"])
def test_a_session_write_without_its_csrf_token_is_refused(world: World,
                                                          csrf: str | None) -> None:
    pm = world.session("pm")
    if csrf == "other-session":
        csrf = world.session("pm").csrf  # the same user's other session: still wrong
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    trail = Trail(world)
    response = pm.client.post(ORDERS, json=ibit(), headers=headers)
    assert response.status_code == 403 and response.json()["code"] == "csrf-failed"
    assert refused(trail, "pm", f"POST {ORDERS}", "csrf-failed")["via"] == "session"


def test_csrf_guards_deletes_too(world: World) -> None:
    pm = world.session("pm")
    token_id = pm.post("/api/v1/auth/tokens", json={"name": "t", "scopes": ["read"]}
                       ).json()["token_id"]
    trail = Trail(world)
    assert pm.client.delete(f"/api/v1/auth/tokens/{token_id}").status_code == 403
    refused(trail, "pm", f"DELETE /api/v1/auth/tokens/{token_id}", "csrf-failed")
    assert token_id in {t["token_id"] for t in pm.get("/api/v1/auth/tokens").json()
                        if t["revoked_at"] is None}


# -- mass assignment --------------------------------------------------------------------
@pytest.mark.parametrize("extra", [
    {"status": "approved"},
    {"maker": "cm1"},
    {"approvals": [{"approver": "cm1", "role": "committee_member"}]},
    {"order_id": "ord-chosen", "status": "settled"},
])
def test_an_order_body_may_not_set_status_maker_or_approvals(world: World,
                                                             extra: dict[str, Any]) -> None:
    pm = world.session("pm")
    before = pm.get(f"{ORDERS}?limit=1").json()["total"]
    trail = Trail(world)
    response = pm.post(ORDERS, json=ibit(**extra))
    assert response.status_code == 422 and response.json()["code"] == "validation-failed"
    payload = refused(trail, "pm", f"POST {ORDERS}", "unknown-fields")
    assert sorted(payload["fields"]) == sorted(f"body.{name}" for name in extra)
    assert pm.get(f"{ORDERS}?limit=1").json()["total"] == before


def test_new_terms_may_not_carry_a_status(world: World) -> None:
    order_id = new_order(world, submit=False)
    pm = world.session("pm")
    trail = Trail(world)
    response = pm.put(f"{ORDERS}/{order_id}/terms", json=ibit("12", status="approved"))
    assert response.status_code == 422
    refused(trail, "pm", f"PUT {ORDERS}/{order_id}/terms", "unknown-fields")
    assert order(world, order_id)["status"] == "draft"


def test_a_token_may_not_be_given_roles_or_another_owner(world: World) -> None:
    pm = world.session("pm")
    trail = Trail(world)
    roles = pm.post("/api/v1/auth/tokens", json={"name": "x", "scopes": ["write"],
                                                 "roles": ["administrator"]})
    assert roles.status_code == 422
    someone_else = pm.post("/api/v1/auth/tokens", json={"name": "x", "scopes": ["write"],
                                                        "user": "admin"})
    assert someone_else.status_code == 403
    password = pm.put("/api/v1/auth/password", json={"user": "admin",
                                                      "password": "pm takes over admin"})
    assert password.status_code == 403
    found = trail.only_refusals()
    assert [(a, t, p["reason"]) for a, t, p in found] == [
        ("pm", "POST /api/v1/auth/tokens", "unknown-fields"),
        ("pm", "POST /api/v1/auth/tokens", "forbidden"),
        ("pm", "PUT /api/v1/auth/password", "forbidden")]
    assert world.session("admin").get("/api/v1/auth/me").status_code == 200


# -- the trail itself -------------------------------------------------------------------
def test_refusal_audits_are_capped_per_address_and_actor(world: World) -> None:
    capped = create_app(world.reserve, ApiSettings(refusal_audits=3), auth_service=world.auth,
                        idempotency_service=world.keys)
    trail = Trail(world)
    with TestClient(capped, base_url=BASE,
                    headers={"Authorization": "Bearer qoima_forged"}) as client:
        assert {client.get("/api/v1/nav").status_code for _ in range(6)} == {401}
    assert len(trail.only_refusals()) == 3


def test_the_trail_with_refusals_still_verifies(world: World) -> None:
    auditor = world.session("auditor")
    Session(auditor.client, auditor.csrf).post(ORDERS, json=ibit())  # one more refusal
    verified = auditor.get("/api/v1/audit/verification").json()
    assert verified["ok"] is True, verified["problems"]


@pytest.mark.postgres
def test_refusals_are_audited_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    pg = build_world(tmp_path / "ws", database_url=pg_url)
    try:
        order_id = new_order(pg)
        pm, auditor = pg.session("pm"), pg.session("auditor")
        trail = Trail(pg)
        assert pm.post(f"{ORDERS}/{order_id}/approvals", json={}).status_code == 403
        assert pm.post(ORDERS, json=ibit(status="approved")).status_code == 422
        assert auditor.post(ORDERS, json=ibit()).status_code == 403
        assert [(a, p["reason"]) for a, _, p in trail.only_refusals()] == [
            ("pm", "forbidden"), ("pm", "unknown-fields"), ("auditor", "forbidden")]
        assert auditor.get("/api/v1/audit/verification").json()["ok"] is True
    finally:
        for client in pg.clients:
            client.__exit__(None, None, None)
        pg.reserve.close()
