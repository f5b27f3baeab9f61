"""Passwords, TOTP, sessions, lock-out and API tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from qoima.adapters.passwords import Argon2PasswordHasher
from qoima.app.auth import (
    AccountLocked,
    AuthenticationFailed,
    AuthService,
    Principal,
    check_production_settings,
    check_scope,
    hotp,
    totp_step,
    totp_uri,
)
from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import Forbidden, InvalidInput, NotFound
from qoima.domain.roles import Permission, Role, RoleGrant
from qoima.store.auth_repo import SqlAuthRepository

# cheap parameters keep the suite fast; production uses argon2-cffi's defaults
HASHER = Argon2PasswordHasher(time_cost=1, memory_cost_kib=1024, parallelism=1)
PASSWORD = "correct horse battery"
START = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()  # RFC 4226/6238 test key


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def auth_repository(uow: Any) -> Any:
    """``uow.auth`` once wired; until then the repository over the unit's connection."""
    return getattr(uow, "auth", None) or SqlAuthRepository(uow._connection)


@dataclass
class World:
    reserve: Reserve
    clock: FakeClock
    auth: AuthService

    def audit(self, prefix: str = "auth.") -> list[tuple[str, str, dict[str, Any]]]:
        import json

        with self.reserve.units(write=False) as uow:
            return [(r.action, r.object_id, json.loads(r.payload))
                    for r in uow.audit.iter_records() if r.action.startswith(prefix)]


@pytest.fixture
def world(reserve: Reserve) -> World:
    reserve.users.add("admin", "Admin", [RoleGrant(Role.ADMINISTRATOR)], actor="admin")
    reserve.users.add("alice", "Alice", [RoleGrant(Role.PORTFOLIO_MANAGER, "da-sleeve")],
                      actor="admin")
    reserve.users.add("bob", "Bob", [RoleGrant(Role.AUDITOR)], actor="admin")
    clock = FakeClock(START)
    auth = AuthService(reserve.units, clock, HASHER, repository=auth_repository)
    auth.set_password("alice", PASSWORD, actor="admin")
    return World(reserve, clock, auth)


# -- pure parts -----------------------------------------------------------------------------
def test_argon2_hashes_are_salted_and_verify_only_the_right_password() -> None:
    first, second = HASHER.hash(PASSWORD), HASHER.hash(PASSWORD)
    assert first.startswith("$argon2id$") and first != second and PASSWORD not in first
    assert HASHER.verify(first, PASSWORD) and HASHER.verify(second, PASSWORD)
    assert not HASHER.verify(first, PASSWORD + "!")
    assert not HASHER.verify("not-a-hash", PASSWORD)
    assert not HASHER.needs_rehash(first)
    assert Argon2PasswordHasher(time_cost=2, memory_cost_kib=1024,
                                parallelism=1).needs_rehash(first)


def test_hotp_and_totp_match_the_rfc_vectors() -> None:
    # RFC 4226 appendix D, counters 0..9
    assert [hotp(RFC_SECRET, c) for c in range(10)] == [
        "755224", "287082", "359152", "969429", "338314",
        "254676", "287922", "162583", "399871", "520489"]
    # RFC 6238 appendix B (SHA-1 column), 8 digits
    vectors = {59: "94287082", 1111111109: "07081804", 1111111111: "14050471",
               1234567890: "89005924", 2000000000: "69279037", 20000000000: "65353130"}
    for seconds, code in vectors.items():
        at = datetime.fromtimestamp(seconds, UTC)
        assert hotp(RFC_SECRET, totp_step(at), digits=8) == code


def test_totp_uri_is_what_authenticator_apps_read() -> None:
    assert totp_uri("alice", "ABCDEF") == (
        "otpauth://totp/qoima:alice?secret=ABCDEF&issuer=qoima&algorithm=SHA1&digits=6"
        "&period=30")


def test_production_refuses_default_secrets_and_insecure_cookies() -> None:
    strong = "k" * 48
    assert check_production_settings("development", None, False) == []
    assert check_production_settings("production", strong, True) == []
    for weak in (None, "", "change-me", "short-secret"):
        (problem,) = check_production_settings("production", weak, True)
        assert "secret key" in problem
    (problem,) = check_production_settings("PRODUCTION", strong, False)
    assert "Secure" in problem


# -- login, sessions, lock-out ------------------------------------------------------------
def test_login_always_opens_a_new_session_and_logout_closes_it(world: World) -> None:
    first = world.auth.login("alice", PASSWORD, None, ip="10.0.0.1")
    second = world.auth.login("alice", PASSWORD, None, ip="10.0.0.1")
    assert first.token != second.token and first.csrf_token != second.csrf_token
    assert first.expires_at == START + timedelta(hours=8)
    principal = world.auth.session(first.token)
    assert principal == Principal("alice", None, "session", first.csrf_token)
    world.auth.logout(first.token)
    with pytest.raises(AuthenticationFailed):
        world.auth.session(first.token)
    assert world.auth.session(second.token).user == "alice"
    with world.reserve.units(write=False) as uow:  # only the SHA-256 of a token is stored
        repo = auth_repository(uow)
        stored = repo.find_session(hashlib.sha256(second.token.encode()).hexdigest())
        assert stored is not None and stored.user == "alice"
        assert repo.find_session(second.token) is None
    actions = [a for a, _, _ in world.audit()]
    assert actions == ["auth.password_set", "auth.login", "auth.login", "auth.logout"]
    assert all(PASSWORD not in str(p) for _, _, p in world.audit())


def test_session_expires_after_its_lifetime(world: World) -> None:
    session = world.auth.login("alice", PASSWORD, None, ip="10.0.0.1")
    world.clock.advance(hours=8)
    with pytest.raises(AuthenticationFailed):
        world.auth.session(session.token)
    with pytest.raises(AuthenticationFailed):
        world.auth.session("forged-" + session.token)


def test_wrong_password_and_unknown_user_get_the_same_answer(world: World) -> None:
    errors = []
    for user, password in (("alice", "wrong password!"), ("mallory", PASSWORD),
                           ("bob", PASSWORD)):  # bob has no password yet
        with pytest.raises(AuthenticationFailed) as caught:
            world.auth.login(user, password, None, ip="10.0.0.9")
        assert not isinstance(caught.value, AccountLocked)
        errors.append(str(caught.value))
    for garbage in ("", "alice\x00", "x" * 65, "<script>"):  # never a name: no record
        with pytest.raises(AuthenticationFailed) as caught:
            world.auth.login(garbage, PASSWORD, None, ip="10.0.0.9")
        errors.append(str(caught.value))
    assert len(set(errors)) == 1
    failures = [(who, p["reason"]) for a, who, p in world.audit() if a == "auth.login_failed"]
    assert failures == [("alice", "bad_password"), ("mallory", "unknown_user"),
                        ("bob", "no_password")]


def test_five_failures_lock_the_account_until_the_period_ends(world: World) -> None:
    for _ in range(4):
        with pytest.raises(AuthenticationFailed) as caught:
            world.auth.login("alice", "wrong password!", None, ip="10.0.0.9")
        assert not isinstance(caught.value, AccountLocked)
    with pytest.raises(AccountLocked):
        world.auth.login("alice", "wrong password!", None, ip="10.0.0.9")
    world.clock.advance(minutes=14, seconds=59)
    with pytest.raises(AccountLocked):  # even the right password, while locked
        world.auth.login("alice", PASSWORD, None, ip="10.0.0.1")
    world.clock.advance(seconds=1)
    assert world.auth.login("alice", PASSWORD, None, ip="10.0.0.1").user == "alice"
    actions = [a for a, who, _ in world.audit() if who == "alice"]
    assert actions == (["auth.password_set"] + ["auth.login_failed"] * 5
                       + ["auth.locked_out", "auth.login_refused_locked", "auth.login"])
    locked = next(p for a, _, p in world.audit() if a == "auth.locked_out")
    assert locked == {"ip": "10.0.0.9", "failures": 5,
                      "locked_until": (START + timedelta(minutes=15)).isoformat()}


def test_unknown_names_lock_too_and_success_resets_the_count(world: World) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed) as caught:
            world.auth.login("mallory", "whatever password", None, ip="10.0.0.9")
    assert isinstance(caught.value, AccountLocked)  # no hint that mallory does not exist
    for _ in range(2):
        for _ in range(4):
            with pytest.raises(AuthenticationFailed):
                world.auth.login("alice", "wrong password!", None, ip="10.0.0.9")
        world.auth.login("alice", PASSWORD, None, ip="10.0.0.1")  # never reaches 5 in a row


def test_admin_reset_unlocks_and_closes_open_sessions(world: World) -> None:
    session = world.auth.login("alice", PASSWORD, None, ip="10.0.0.1")
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            world.auth.login("alice", "wrong password!", None, ip="10.0.0.9")
    world.auth.set_password("alice", "a brand new passphrase", actor="admin")
    with pytest.raises(AuthenticationFailed):
        world.auth.session(session.token)
    assert world.auth.login("alice", "a brand new passphrase", None, ip="1.2.3.4").user == "alice"


def test_password_policy_and_who_may_set_a_password(world: World) -> None:
    with pytest.raises(InvalidInput):
        world.auth.set_password("alice", "too short", actor="alice")
    with pytest.raises(Forbidden):
        world.auth.set_password("alice", "bob wants alice's account", actor="bob")
    with pytest.raises(NotFound):
        world.auth.set_password("nobody", "a long enough passphrase", actor="admin")
    world.auth.set_password("alice", "alice chose this herself", actor="alice")
    world.auth.login("alice", "alice chose this herself", None, ip="10.0.0.1")


def test_inactive_users_lose_sessions_tokens_and_logins(world: World) -> None:
    session = world.auth.login("alice", PASSWORD, None, ip="10.0.0.1")
    token = world.auth.issue_token("alice", name="ci", scopes=["read"],
                                   expires_in=timedelta(days=1), actor="alice")
    world.reserve.users.set_active("alice", False, actor="admin")
    with pytest.raises(AuthenticationFailed):
        world.auth.session(session.token)
    with pytest.raises(AuthenticationFailed):
        world.auth.token(token.secret)
    with pytest.raises(AuthenticationFailed) as caught:
        world.auth.login("alice", PASSWORD, None, ip="10.0.0.1")
    assert not isinstance(caught.value, AccountLocked)


# -- TOTP -----------------------------------------------------------------------------------
def test_totp_is_required_once_enabled_and_a_code_works_once(world: World) -> None:
    secret = world.auth.enable_totp("alice", actor="alice")
    assert len(secret) == 32 and secret == secret.upper()

    def code(offset_steps: int = 0) -> str:
        return hotp(secret, totp_step(world.clock.now()) + offset_steps)

    for wrong in (None, "", "000000" if code() != "000000" else "111111"):
        with pytest.raises(AuthenticationFailed):
            world.auth.login("alice", PASSWORD, wrong, ip="10.0.0.1")
    with pytest.raises(AuthenticationFailed):  # right code, wrong password
        world.auth.login("alice", "wrong password!", code(), ip="10.0.0.1")
    assert world.auth.login("alice", PASSWORD, code(), ip="10.0.0.1").user == "alice"
    with pytest.raises(AuthenticationFailed):  # the same code again: a replay
        world.auth.login("alice", PASSWORD, code(), ip="10.0.0.1")
    world.clock.advance(seconds=30)
    with pytest.raises(AuthenticationFailed):  # an older step than the one used: refused
        world.auth.login("alice", PASSWORD, code(-1), ip="10.0.0.1")
    assert world.auth.login("alice", PASSWORD, code(), ip="10.0.0.1").user == "alice"
    world.clock.advance(seconds=30)
    world.auth.login("alice", PASSWORD, code(+1), ip="10.0.0.1")  # a clock 30 s ahead is fine
    reasons = [p["reason"] for a, _, p in world.audit() if a == "auth.login_failed"]
    assert reasons == ["totp_missing", "totp_missing", "totp_invalid", "bad_password",
                       "totp_replayed", "totp_replayed"]
    with pytest.raises(Forbidden):
        world.auth.enable_totp("alice", actor="bob")
    world.auth.disable_totp("alice", actor="admin")
    world.auth.login("alice", PASSWORD, None, ip="10.0.0.1")


# -- API tokens -----------------------------------------------------------------------------
def test_tokens_are_scoped_expire_and_can_be_revoked(world: World) -> None:
    writer = world.auth.issue_token("alice", name="orders bot", scopes=["write"],
                                    expires_in=timedelta(days=30), actor="alice")
    reader = world.auth.issue_token("alice", name="dashboard", scopes=["read"],
                                    expires_in=timedelta(hours=1), actor="admin")
    assert writer.scopes == ("read", "write") and reader.scopes == ("read",)
    assert writer.expires_at == START + timedelta(days=30)
    principal = world.auth.token(writer.secret)
    assert principal == Principal("alice", frozenset({"read", "write"}), "token", None)
    assert principal.allows(Permission.ORDER_CREATE)
    read_only = world.auth.token(reader.secret)
    assert read_only.allows(Permission.READ) and not read_only.allows(Permission.ORDER_CREATE)
    with pytest.raises(Forbidden):
        check_scope(read_only, Permission.ORDER_CREATE)
    check_scope(Principal("alice", None, "session"), Permission.ORDER_CREATE)
    for forged in (writer.secret[:-1] + ("A" if writer.secret[-1] != "A" else "B"),
                   "qoima_" + "x" * 43, writer.token_id, ""):
        with pytest.raises(AuthenticationFailed):
            world.auth.token(forged)
    world.clock.advance(hours=1)
    with pytest.raises(AuthenticationFailed):  # expired
        world.auth.token(reader.secret)
    world.auth.revoke_token(writer.token_id, actor="alice")
    with pytest.raises(AuthenticationFailed):
        world.auth.token(writer.secret)
    world.auth.revoke_token(writer.token_id, actor="alice")  # again: nothing more happens
    listed = world.auth.list_tokens("alice", actor="alice")
    assert {t.name: t.revoked_by for t in listed} == {"orders bot": "alice", "dashboard": None}
    assert world.auth.list_tokens(None, actor="admin") == listed
    with world.reserve.units(write=False) as uow:  # the secret itself is nowhere
        stored = auth_repository(uow).find_token(writer.token_id)
        assert stored.secret_hash == hashlib.sha256(writer.secret.encode()).hexdigest()
    actions = [(a, p.get("scopes")) for a, _, p in world.audit() if "token" in a]
    assert actions == [("auth.token_issued", ["read", "write"]),
                       ("auth.token_issued", ["read"]), ("auth.token_revoked", None)]


def test_token_rules_and_rights(world: World) -> None:
    issue = world.auth.issue_token
    with pytest.raises(InvalidInput):
        issue("alice", name="x", scopes=["admin"], expires_in=timedelta(days=1), actor="alice")
    with pytest.raises(InvalidInput):
        issue("alice", name="x", scopes=[], expires_in=timedelta(days=1), actor="alice")
    with pytest.raises(InvalidInput):
        issue("alice", name="x", scopes=["read"], expires_in=timedelta(days=367),
              actor="alice")
    with pytest.raises(InvalidInput):
        issue("alice", name="x", scopes=["read"], expires_in=timedelta(0), actor="alice")
    with pytest.raises(Forbidden):
        issue("alice", name="x", scopes=["read"], expires_in=timedelta(days=1), actor="bob")
    token = issue("alice", name="x", scopes=["read"], expires_in=timedelta(days=1),
                  actor="alice")
    with pytest.raises(Forbidden):
        world.auth.revoke_token(token.token_id, actor="bob")
    with pytest.raises(Forbidden):
        world.auth.list_tokens("alice", actor="bob")
    with pytest.raises(Forbidden):
        world.auth.list_tokens(None, actor="alice")
    with pytest.raises(NotFound):
        world.auth.revoke_token("tok-missing", actor="admin")
