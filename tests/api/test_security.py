"""Sessions, CSRF, token scopes, rate limits: who may call what."""

from __future__ import annotations

from pathlib import Path

from qoima.api.app import create_app
from qoima.api.settings import ApiSettings
from tests.api.conftest import BASE, PASSWORD, World

PROBLEM = "application/problem+json"


def test_login_sets_a_hardened_session_cookie_and_returns_the_csrf_token(world: World) -> None:
    client = world.client()
    response = client.post("/api/v1/auth/login", json={"user": "pm", "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "qoima_session=" in cookie
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= {
        part.strip() for part in cookie.split(";")}
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["user"] == "pm" and me.json()["via"] == "session"
    assert me.json()["csrf_token"] == response.json()["csrf_token"]


def test_wrong_password_is_401_problem_without_saying_which_part(world: World) -> None:
    response = world.client().post("/api/v1/auth/login",
                                   json={"user": "pm", "password": "wrong password!"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "authentication-failed" and body["status"] == 401
    assert "password" in body["detail"] and "pm" not in body["detail"]


def test_no_credentials_is_401(world: World) -> None:
    response = world.client().get("/api/v1/orders")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "not-authenticated"


def test_post_with_a_session_needs_the_csrf_header(world: World) -> None:
    pm = world.session("pm")
    body = {"vehicle": "da-sleeve", "instrument": "IBIT", "side": "buy", "quantity": "10",
            "estimated_price": "74.32", "tranche": "main", "custodian": "bny"}
    missing = pm.client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "c1"})
    assert missing.status_code == 403 and missing.json()["code"] == "csrf-failed"
    wrong = pm.client.post("/api/v1/orders", json=body,
                           headers={"Idempotency-Key": "c2", "X-CSRF-Token": "nope"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "csrf-failed"
    assert pm.post("/api/v1/orders", json=body).status_code == 201


def test_read_scoped_token_reads_but_may_not_post(world: World) -> None:
    reader = world.bearer("pm", ["read"])
    assert reader.get("/api/v1/orders").status_code == 200
    refused = reader.post("/api/v1/orders", json={
        "vehicle": "da-sleeve", "instrument": "IBIT", "side": "buy", "quantity": "10",
        "estimated_price": "74.32"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "scope-insufficient"
    writer = world.bearer("pm", ["write"])
    made = writer.post("/api/v1/orders", json={
        "vehicle": "da-sleeve", "instrument": "IBIT", "side": "buy", "quantity": "10",
        "estimated_price": "74.32", "tranche": "main", "custodian": "bny"})
    assert made.status_code == 201, made.text


def test_tokens_are_not_minted_by_tokens_and_can_be_revoked(world: World) -> None:
    pm = world.session("pm")
    issued = pm.post("/api/v1/auth/tokens", json={"name": "ci", "scopes": ["read"]}).json()
    bearer = world.client(headers={"Authorization": f"Bearer {issued['secret']}"})
    assert bearer.post("/api/v1/auth/tokens", json={"name": "x", "scopes": ["read"]}
                       ).status_code == 403
    listed = pm.get("/api/v1/auth/tokens").json()
    assert issued["token_id"] in {t["token_id"] for t in listed}
    assert all("secret" not in t for t in listed)
    revoked = pm.client.delete(f"/api/v1/auth/tokens/{issued['token_id']}",
                               headers={"X-CSRF-Token": pm.csrf or ""})
    assert revoked.status_code == 204
    assert bearer.get("/api/v1/orders").status_code == 401


def test_logout_ends_the_session(world: World) -> None:
    ops = world.session("ops")
    assert ops.client.post("/api/v1/auth/logout",
                           headers={"X-CSRF-Token": ops.csrf or ""}).status_code == 204
    assert ops.get("/api/v1/auth/me").status_code == 401


def test_login_is_rate_limited_per_address_and_user(world: World, tmp_path: Path) -> None:
    strict = create_app(world.reserve, ApiSettings(login_attempts=2),
                        auth_service=world.auth, idempotency_service=world.keys)
    from fastapi.testclient import TestClient

    with TestClient(strict, base_url=BASE) as client:
        statuses = [client.post("/api/v1/auth/login", json={
            "user": "cm2", "password": "not it at all"}).status_code for _ in range(3)]
        assert statuses == [401, 401, 429]
        limited = client.post("/api/v1/auth/login", json={"user": "cm2", "password": PASSWORD})
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["code"] == "rate-limited"
        # another user name from the same address is counted apart
        assert client.post("/api/v1/auth/login", json={
            "user": "cm1", "password": PASSWORD}).status_code == 200


def test_production_mode_refuses_weak_settings(world: World) -> None:
    import pytest

    from qoima.domain.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="production"):
        create_app(world.reserve, ApiSettings(mode="production", secret_key=None),
                   auth_service=world.auth, idempotency_service=world.keys)
