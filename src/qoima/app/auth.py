"""Who is calling: passwords, TOTP, browser sessions and API tokens.

Authentication only: *what* a user may do stays with the roles and per-vehicle grants of
:mod:`qoima.domain.roles`; a token's scopes can only narrow that. Every secret handed out
(session token, API-token secret) is 32 random bytes, stored as its SHA-256 and compared in
constant time; passwords go through a slow :class:`PasswordHasher`. Failed logins are
counted per name (known or not, so neither the message nor the lock-out tells whether a
user exists); ``max_failures`` in a row lock the name for ``lockout``. Logins, failures,
lock-outs, logouts, password and TOTP changes and token issue/revoke are in the audit trail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

from qoima.app.auth_ports import (
    AuthRepository,
    CredentialRecord,
    LoginAttemptRecord,
    PasswordHasher,
    SessionRecord,
    TokenRecord,
)
from qoima.app.ports import ACCESS_DATA, Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.read_cache import TokenCache, absent_token
from qoima.app.units import in_write_unit, record_change
from qoima.app.users import load_user, to_user
from qoima.domain.errors import Forbidden, InvalidInput, NotFound, QoimaError
from qoima.domain.reference import check_code
from qoima.domain.roles import Permission, User, authorize

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; a cap keeps one request cheap
SCOPES = ("read", "write")  # write implies read
MAX_TOKEN_LIFETIME = timedelta(days=366)
TOTP_STEP_SECONDS, TOTP_DIGITS, TOTP_WINDOW = 30, 6, 1  # RFC 6238 defaults, ±1 step of drift
_GENERIC = "invalid user name, password or one-time code"
_DEFAULT_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev", "development",
                              "qoima", "insecure", "default"})
MIN_SECRET_KEY_LENGTH = 32


class AuthenticationFailed(QoimaError):
    """Credentials not accepted. The message never says which part was wrong."""

    code = "authentication_failed"


class AccountLocked(AuthenticationFailed):
    code = "account_locked"


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    csrf_token: str
    user: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller; ``scopes`` None means all of the user's permissions."""

    user: str
    scopes: frozenset[str] | None
    via: str  # "session" | "token"
    csrf_token: str | None = None
    #: The user's record (roles, grants) read with the credential, in the same transaction.
    account: User | None = field(default=None, compare=False)
    #: The data version tokens (see ``ReferenceRepository.data_tokens``) read in that same
    #: transaction, before anything of this request is computed: what a cache of answers
    #: may key on without another trip to the database.
    data_versions: Mapping[str, str] = field(default_factory=dict, compare=False)

    def allows(self, permission: Permission) -> bool:
        return self.scopes is None or required_scope(permission) in self.scopes


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token_id: str
    secret: str  # shown once, never stored
    expires_at: datetime
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    token_id: str
    user: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None


def required_scope(permission: Permission) -> str:
    """A token with only "read" may read; anything else needs "write"."""
    return "read" if permission is Permission.READ else "write"


def check_scope(principal: Principal, permission: Permission) -> None:
    """Raise Forbidden when a token's scopes do not cover ``permission``."""
    if not principal.allows(permission):
        raise Forbidden(f"this token lacks the {required_scope(permission)!r} scope needed "
                        f"for {permission}", user=principal.user, permission=str(permission))


def check_production_settings(mode: str, secret_key: str | None,
                              cookie_secure: bool) -> list[str]:
    """Problems that must stop a production start (empty list: fine to start)."""
    if mode.strip().lower() not in ("production", "prod"):
        return []
    problems = []
    key = (secret_key or "").strip()
    if key.lower() in _DEFAULT_SECRETS or len(key) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"the secret key is empty, a default or shorter than "
                        f"{MIN_SECRET_KEY_LENGTH} characters: set a long random one")
    if not cookie_secure:
        problems.append("session cookies must be Secure in production (HTTPS only)")
    return problems


# -- TOTP (RFC 6238 over RFC 4226), by hand: 15 lines of stdlib hmac, tested against the RFC
# vectors, instead of a dependency -------------------------------------------------------
def new_totp_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")  # 160 bits, no padding


def hotp(secret_b32: str, counter: int, digits: int = TOTP_DIGITS) -> str:
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp_step(at: datetime) -> int:
    return int(at.timestamp()) // TOTP_STEP_SECONDS


def totp_uri(user: str, secret: str, issuer: str = "qoima") -> str:
    """The otpauth:// URI an authenticator app reads (from a QR code)."""
    label = quote(f"{issuer}:{user}", safe=":@")
    return (f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}"
            f"&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECONDS}")


def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step (within the drift window) whose code is ``code``, or None."""
    code = code.strip().replace(" ", "")
    now = totp_step(at)
    for step in range(now - TOTP_WINDOW, now + TOTP_WINDOW + 1):
        if hmac.compare_digest(hotp(secret, step), code):
            return step
    return None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def csrf_for(session_token: str) -> str:
    """The CSRF token is bound to its session: derived from it, so nothing more is stored."""
    mac = hmac.new(session_token.encode("utf-8"), b"qoima-csrf", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def _auth_repository(uow: UnitOfWork) -> AuthRepository:
    """``uow.auth`` (tests may pass another repository)."""
    return uow.auth


@dataclass(frozen=True, slots=True)
class _Outcome:
    session: Session | None = None
    error: AuthenticationFailed | None = None


class AuthService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock, hasher: PasswordHasher, *,
                 max_failures: int = 5, lockout: timedelta = timedelta(minutes=15),
                 session_ttl: timedelta = timedelta(hours=8),
                 repository: Callable[[UnitOfWork], AuthRepository] = _auth_repository,
                 ) -> None:
        self._units, self._clock, self._hasher = units, clock, hasher
        self._max_failures, self._lockout, self._session_ttl = max_failures, lockout, session_ttl
        self._repo = repository
        self._dummy_hash: str | None = None
        # Sessions and tokens looked up, kept until the access data changes (a revocation,
        # logout, new grant or deactivation renews the token): one query per request.
        self._known = TokenCache(256)

    # -- credentials ----------------------------------------------------------------------
    def set_password(self, user: str, password: str, *, actor: str) -> None:
        """Set (or reset) a password; every open session of the user is closed."""
        if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
            raise InvalidInput(f"a password needs {MIN_PASSWORD_LENGTH} to "
                               f"{MAX_PASSWORD_LENGTH} characters", field="password")
        if password.strip().lower() == user.strip().lower():
            raise InvalidInput("a password cannot be the user name", field="password")
        password_hash = self._hasher.hash(password)

        def work(uow: UnitOfWork) -> None:
            self._authorize_self_or_admin(uow, user, actor)
            repo, now = self._repo(uow), self._clock.now()
            current = repo.find_credentials(user) or CredentialRecord(user, now)
            repo.save_credentials(CredentialRecord(user, now, password_hash,
                                                   current.totp_secret, current.totp_last_step))
            repo.clear_attempts(user)
            closed = repo.revoke_user_sessions(user, now)
            record_change(uow, at=now, actor=actor, action="auth.password_set",
                          object_type="user", object_id=user, payload={"sessions_closed": closed})
        in_write_unit(self._units, work)

    def enable_totp(self, user: str, *, actor: str) -> str:
        """Require a one-time code at every login from now on; returns the base32 secret."""
        secret = new_totp_secret()

        def work(uow: UnitOfWork) -> None:
            self._authorize_self_or_admin(uow, user, actor)
            repo, now = self._repo(uow), self._clock.now()
            current = repo.find_credentials(user) or CredentialRecord(user, now)
            repo.save_credentials(CredentialRecord(user, now, current.password_hash, secret))
            record_change(uow, at=now, actor=actor, action="auth.totp_enabled",
                          object_type="user", object_id=user, payload={})
        in_write_unit(self._units, work)
        return secret

    def disable_totp(self, user: str, *, actor: str) -> None:
        def work(uow: UnitOfWork) -> None:
            self._authorize_self_or_admin(uow, user, actor)
            repo, now = self._repo(uow), self._clock.now()
            current = repo.find_credentials(user)
            if current is None or current.totp_secret is None:
                return
            repo.save_credentials(CredentialRecord(user, now, current.password_hash))
            record_change(uow, at=now, actor=actor, action="auth.totp_disabled",
                          object_type="user", object_id=user, payload={})
        in_write_unit(self._units, work)

    # -- sessions -------------------------------------------------------------------------
    def login(self, user: str, password: str, totp: str | None, *, ip: str) -> Session:
        """A new session (never a reused token: no fixation) or AuthenticationFailed.

        The argon2 check runs between two units of work so the writer lock is not held
        for it; the write unit re-checks that the lock and the password hash did not change
        in between, then counts the failure or opens the session.
        """
        if not _is_user_name(user) or not password:  # not worth an audit record
            self._burn_time(password)
            raise AuthenticationFailed(_GENERIC)
        with self._units(write=False) as uow:
            credentials = self._repo(uow).find_credentials(user)
        checked_hash = credentials.password_hash if credentials else None
        password_ok = (self._hasher.verify(checked_hash, password) if checked_hash
                       else self._burn_time(password))
        outcome = in_write_unit(self._units, lambda uow: self._settle_login(
            uow, user, password, totp, ip, checked_hash, password_ok))
        if outcome.error is not None:
            raise outcome.error
        assert outcome.session is not None
        return outcome.session

    def _settle_login(self, uow: UnitOfWork, user: str, password: str, totp: str | None,
                      ip: str, checked_hash: str | None, password_ok: bool) -> _Outcome:
        repo, now = self._repo(uow), self._clock.now()
        ip = ip[:64]
        attempts = repo.find_attempts(user)
        if attempts and attempts.locked_until and attempts.locked_until > now:
            self._audit(uow, now, user, "auth.login_refused_locked",
                        {"ip": ip, "locked_until": attempts.locked_until.isoformat()})
            return _Outcome(error=AccountLocked(_locked_message(attempts.locked_until)))
        record = uow.users.find_user(user)
        credentials = repo.find_credentials(user)
        reason = _refusal(record is not None, record is not None and record.active,
                          credentials, checked_hash, password_ok)
        step: int | None = None
        if reason is None and credentials is not None and credentials.totp_secret:
            step = _matching_step(credentials.totp_secret, totp, now) if totp else None
            if not totp:
                reason = "totp_missing"
            elif step is None:
                reason = "totp_invalid"
            elif credentials.totp_last_step is not None and step <= credentials.totp_last_step:
                reason = "totp_replayed"
        if reason is not None:
            return self._fail(uow, repo, now, user, ip, reason, attempts)
        assert credentials is not None
        assert credentials.password_hash is not None
        password_hash = credentials.password_hash
        if self._hasher.needs_rehash(password_hash):
            password_hash = self._hasher.hash(password)
        if step is not None or password_hash != credentials.password_hash:
            repo.save_credentials(CredentialRecord(
                user, now, password_hash, credentials.totp_secret,
                step if step is not None else credentials.totp_last_step))
        repo.clear_attempts(user)
        token = secrets.token_urlsafe(32)
        expires_at = now + self._session_ttl
        repo.add_session(SessionRecord(digest(token), user, now, expires_at, ip))
        self._audit(uow, now, user, "auth.login", {"ip": ip, "expires_at": expires_at.isoformat(),
                                                   "second_factor": step is not None})
        return _Outcome(session=Session(token, csrf_for(token), user, expires_at))

    def _fail(self, uow: UnitOfWork, repo: AuthRepository, now: datetime, name: str, ip: str,
              reason: str, attempts: LoginAttemptRecord | None) -> _Outcome:
        failures = (attempts.failures if attempts else 0) + 1
        self._audit(uow, now, name, "auth.login_failed",
                    {"ip": ip, "reason": reason, "failures": failures})
        if failures < self._max_failures:
            repo.save_attempts(LoginAttemptRecord(name, failures, now))
            return _Outcome(error=AuthenticationFailed(_GENERIC))
        locked_until = now + self._lockout
        repo.save_attempts(LoginAttemptRecord(name, 0, now, locked_until))
        self._audit(uow, now, name, "auth.locked_out",
                    {"ip": ip, "failures": failures, "locked_until": locked_until.isoformat()})
        return _Outcome(error=AccountLocked(_locked_message(locked_until)))

    def session(self, token: str) -> Principal:
        hashed = digest(token)
        with self._units(write=False) as uow:
            versions = uow.reference.data_tokens()
            found, account = self._known.get(
                _access_token(versions), ("session", hashed),
                lambda: _with_account(uow, self._repo(uow).find_session(hashed)))
        if (found is None or not hmac.compare_digest(found.token_hash, hashed)
                or found.revoked_at is not None or found.expires_at <= self._clock.now()
                or account is None or not account.active):
            raise AuthenticationFailed("no valid session: log in again")
        return Principal(found.user, None, "session", csrf_for(token), account, versions)

    def logout(self, token: str) -> None:
        def work(uow: UnitOfWork) -> None:
            repo, now = self._repo(uow), self._clock.now()
            found = repo.find_session(digest(token))
            if found is not None and repo.revoke_session(found.token_hash, now):
                self._audit(uow, now, found.user, "auth.logout", {})
        in_write_unit(self._units, work)

    # -- API tokens -----------------------------------------------------------------------
    def issue_token(self, user: str, *, name: str, scopes: Sequence[str],
                    expires_in: timedelta, actor: str) -> IssuedToken:
        scope_set = set(scopes)
        if not scope_set or not scope_set <= set(SCOPES):
            raise InvalidInput(f"scopes must be some of {', '.join(SCOPES)}", field="scopes")
        normalized = tuple(sorted(scope_set | ({"read"} if "write" in scope_set else set())))
        if not timedelta(0) < expires_in <= MAX_TOKEN_LIFETIME:
            raise InvalidInput(f"a token expires within {MAX_TOKEN_LIFETIME.days} days",
                               field="expires_in")
        if not name.strip() or len(name) > 200:
            raise InvalidInput("a token needs a name of at most 200 characters", field="name")
        token_id, secret = f"tok-{secrets.token_hex(8)}", f"qoima_{secrets.token_urlsafe(32)}"

        def work(uow: UnitOfWork) -> IssuedToken:
            self._authorize_self_or_admin(uow, user, actor)
            if not _active(uow, user):
                raise Forbidden(f"user {user} is inactive: no token", user=user)
            now = self._clock.now()
            record = TokenRecord(token_id, digest(secret), user, name.strip(), normalized, now,
                                 actor, now + expires_in)
            self._repo(uow).add_token(record)
            record_change(uow, at=now, actor=actor, action="auth.token_issued",
                          object_type="api_token", object_id=token_id,
                          payload={"user": user, "name": record.name, "scopes": list(normalized),
                                   "expires_at": record.expires_at.isoformat()})
            return IssuedToken(token_id, secret, record.expires_at, normalized)
        return in_write_unit(self._units, work)

    def revoke_token(self, token_id: str, *, actor: str) -> None:
        def work(uow: UnitOfWork) -> None:
            repo, now = self._repo(uow), self._clock.now()
            found = repo.find_token(token_id)
            if found is None:
                raise NotFound(f"no API token {token_id!r}", token_id=token_id)
            self._authorize_self_or_admin(uow, found.user, actor)
            if repo.revoke_token(token_id, now, actor):
                record_change(uow, at=now, actor=actor, action="auth.token_revoked",
                              object_type="api_token", object_id=token_id,
                              payload={"user": found.user})
        in_write_unit(self._units, work)

    def token(self, secret: str) -> Principal:
        hashed = digest(secret)
        with self._units(write=False) as uow:
            versions = uow.reference.data_tokens()
            found, account = self._known.get(
                _access_token(versions), ("token", hashed),
                lambda: _with_account(uow, self._repo(uow).find_token_by_hash(hashed)))
        if (found is None or not hmac.compare_digest(found.secret_hash, hashed)
                or found.revoked_at is not None or found.expires_at <= self._clock.now()
                or account is None or not account.active):
            raise AuthenticationFailed("API token not valid (unknown, expired or revoked)")
        return Principal(found.user, frozenset(found.scopes), "token", None, account,
                         versions)

    def list_tokens(self, user: str | None, *, actor: str) -> list[TokenInfo]:
        with self._units(write=False) as uow:
            if user is None:
                authorize(load_user(uow, actor), Permission.USER_ADMIN, None)
            else:
                self._authorize_self_or_admin(uow, user, actor)
            return [TokenInfo(r.token_id, r.user, r.name, r.scopes, r.created_at, r.created_by,
                              r.expires_at, r.revoked_at, r.revoked_by)
                    for r in self._repo(uow).list_tokens(user)]

    # -- helpers --------------------------------------------------------------------------
    def _authorize_self_or_admin(self, uow: UnitOfWork, user: str, actor: str) -> None:
        acting = load_user(uow, actor)
        if actor != user or not acting.active:
            authorize(acting, Permission.USER_ADMIN, None)
        if uow.users.find_user(user) is None:
            raise NotFound(f"no user {user!r}", user=user)

    def _burn_time(self, password: str) -> bool:
        """Spend one hash verification anyway, so timing does not reveal unknown users."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        self._hasher.verify(self._dummy_hash, password)
        return False

    @staticmethod
    def _audit(uow: UnitOfWork, at: datetime, user: str, action: str,
               payload: dict[str, Any]) -> None:
        record_change(uow, at=at, actor=user, action=action, object_type="user",
                      object_id=user, payload=payload)


def _refusal(known: bool, active: bool, credentials: CredentialRecord | None,
             checked_hash: str | None, password_ok: bool) -> str | None:
    """Why a password login is refused (for the audit trail only), or None."""
    if not known:
        return "unknown_user"
    if credentials is None or credentials.password_hash is None:
        return "no_password"
    if credentials.password_hash != checked_hash:
        return "password_changed"  # changed between the check and this unit: try again
    if not password_ok:
        return "bad_password"
    return None if active else "inactive"


def _is_user_name(name: str) -> bool:
    try:
        check_code(name, what="user")  # what UserService.add accepts
    except InvalidInput:
        return False
    return True


R = TypeVar("R", SessionRecord, TokenRecord)


def _access_token(versions: Mapping[str, str]) -> str:
    """The access data's token; a fresh random one (nothing reused) if its row is gone."""
    return versions.get(ACCESS_DATA) or absent_token()


def _with_account(uow: UnitOfWork, found: R | None) -> tuple[R | None, User | None]:
    """A session or token record and its user (None when either is unknown)."""
    record = None if found is None else uow.users.find_user(found.user)
    return found, None if record is None else to_user(record)


def _active(uow: UnitOfWork, user: str) -> bool:
    record = uow.users.find_user(user)
    return record is not None and record.active


def _locked_message(until: datetime) -> str:
    return (f"too many failed logins: locked until {until.isoformat(timespec='seconds')}; "
            "an administrator can reset the password to unlock")
