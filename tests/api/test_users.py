"""User administration over HTTP: only an administrator lists, adds, re-grants and
disables users; a disabled user can no longer act; refusals audited."""

from __future__ import annotations

from datetime import UTC, datetime

from qoima.app.auth import hotp, totp_step
from tests.api.conftest import PASSWORD, World
from tests.api.test_abuse import Trail, refused

USERS = "/api/v1/users"


def test_an_administrator_adds_a_user_who_then_acts_with_those_roles(world: World) -> None:
    admin = world.session("admin")
    made = admin.post(USERS, key="user-1", json={
        "name": "analyst", "display_name": "A. Analyst",
        "grants": [{"role": "auditor", "vehicle": "da-sleeve"}]})
    assert made.status_code == 201, made.text
    assert made.json() == {"name": "analyst", "display_name": "A. Analyst", "active": True,
                           "grants": [{"role": "auditor", "vehicle": "da-sleeve"}]}
    again = admin.post(USERS, key="user-1", json={
        "name": "analyst", "display_name": "A. Analyst",
        "grants": [{"role": "auditor", "vehicle": "da-sleeve"}]})
    assert again.json() == made.json() and again.headers["Idempotent-Replayed"] == "true"
    world.auth.set_password("analyst", PASSWORD, actor="admin")
    analyst = world.session("analyst")
    assert analyst.get("/api/v1/vehicles/da-sleeve").status_code == 200
    assert analyst.get("/api/v1/vehicles/alem-fund").status_code == 404
    names = [u["name"] for u in admin.get(f"{USERS}?limit=500").json()["items"]]
    assert "analyst" in names and "admin" in names


def test_grants_are_replaced_and_a_disabled_user_is_refused(world: World) -> None:
    admin = world.session("admin")
    admin.post(USERS, json={"name": "temp", "grants": [{"role": "auditor"}]})
    world.auth.set_password("temp", PASSWORD, actor="admin")
    temp = world.session("temp")
    regranted = admin.put(f"{USERS}/temp/grants", json={
        "grants": [{"role": "risk_officer", "vehicle": "da-sleeve"}]})
    assert regranted.status_code == 200, regranted.text
    assert regranted.json()["grants"] == [{"role": "risk_officer", "vehicle": "da-sleeve"}]
    assert temp.get("/api/v1/vehicles/alem-fund").status_code == 404
    disabled = admin.put(f"{USERS}/temp/active", json={"active": False})
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert temp.get("/api/v1/vehicles/da-sleeve").status_code == 401  # session closed
    assert admin.get(f"{USERS}/temp").json()["active"] is False


def test_only_an_administrator_manages_users_and_refusals_are_audited(world: World) -> None:
    risk = world.session("risk")
    trail = Trail(world)
    assert risk.get(USERS).status_code == 403
    refused(trail, "risk", f"GET {USERS}", "forbidden")
    trail = Trail(world)
    made = risk.post(USERS, json={"name": "mole", "grants": [{"role": "administrator"}]})
    assert made.status_code == 403
    refused(trail, "risk", f"POST {USERS}", "forbidden")
    trail = Trail(world)
    assert risk.put(f"{USERS}/risk/grants",
                    json={"grants": [{"role": "administrator"}]}).status_code == 403
    refused(trail, "risk", f"PUT {USERS}/risk/grants", "forbidden")
    names = [u.name for u in world.reserve.users.list()]
    assert "mole" not in names
    assert [str(g.role) for g in world.reserve.users.get("risk").grants] == ["risk_officer"]


def test_bad_input_is_refused_and_writes_nothing(world: World) -> None:
    admin = world.session("admin")
    before = len(world.reserve.users.list())
    trail = Trail(world)
    extra = admin.post(USERS, json={"name": "x1", "grants": [{"role": "auditor"}],
                                    "active": False, "password": "p"})
    assert extra.status_code == 422
    payload = refused(trail, "admin", f"POST {USERS}", "unknown-fields")
    assert sorted(payload["fields"]) == ["body.active", "body.password"]
    assert admin.post(USERS, json={"name": "x2", "grants": []}).status_code == 422
    assert admin.post(USERS, json={"name": "x3",
                                   "grants": [{"role": "king"}]}).status_code == 422
    assert admin.post(USERS, json={"name": "admin",
                                   "grants": [{"role": "auditor"}]}).status_code == 409
    assert admin.put(f"{USERS}/nobody/active", json={"active": False}).status_code == 404
    assert len(world.reserve.users.list()) == before


def test_a_user_turns_on_a_second_factor_and_logins_then_need_the_code(world: World) -> None:
    admin = world.session("admin")
    admin.post(USERS, json={"name": "totp-user", "grants": [{"role": "auditor"}]})
    world.auth.set_password("totp-user", PASSWORD, actor="admin")
    own = world.session("totp-user")
    other = own.post("/api/v1/auth/totp", json={"user": "risk"})
    assert other.status_code == 403  # only one's own, unless administrator
    enabled = own.post("/api/v1/auth/totp", json={"user": "totp-user"})
    assert enabled.status_code == 201, enabled.text
    secret = enabled.json()["secret"]
    assert enabled.json()["uri"].startswith("otpauth://totp/") and secret in enabled.json()["uri"]
    login = {"user": "totp-user", "password": PASSWORD}
    client = world.client()
    assert client.post("/api/v1/auth/login", json=login).status_code == 401
    code = hotp(secret, totp_step(datetime.now(UTC)))
    assert client.post("/api/v1/auth/login", json={**login, "totp": code}).status_code == 200
    removed = own.client.delete("/api/v1/auth/totp/totp-user", headers=own.headers())
    assert removed.status_code == 204
    assert world.client().post("/api/v1/auth/login", json=login).status_code == 200
