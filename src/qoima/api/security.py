"""Who is calling: a Bearer token or the session cookie, with CSRF and token scopes.

* ``Authorization: Bearer <secret>``: an API token; scope "read" allows safe methods only,
  "write" everything (the user's roles still decide what the services allow).
* Cookie ``qoima_session`` (HttpOnly, SameSite=Strict, Secure unless configured off for
  local HTTP): a browser session; every unsafe method must echo the session's CSRF token
  in ``X-CSRF-Token`` (the login response and ``GET /auth/me`` give it).

Login and token endpoints are rate limited per client address and user name with an
in-memory sliding window (one process; the service's own lock-out after repeated failures
holds across processes).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from qoima.api.context import context
from qoima.api.problems import ApiProblem
from qoima.app.auth import IssuedToken, Principal, Session, TokenInfo

SESSION_COOKIE = "qoima_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer_scheme = HTTPBearer(auto_error=False, description="An API token: `qoima_...`")
cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                             description="Browser session (unsafe methods also need the "
                             f"{CSRF_HEADER} header)")


class AuthPort(Protocol):
    """What the API uses of :class:`qoima.app.auth.AuthService`."""

    def login(self, user: str, password: str, totp: str | None, *, ip: str) -> Session: ...
    def session(self, token: str) -> Principal: ...
    def logout(self, token: str) -> None: ...
    def issue_token(self, user: str, *, name: str, scopes: Sequence[str],
                    expires_in: timedelta, actor: str) -> IssuedToken: ...
    def revoke_token(self, token_id: str, *, actor: str) -> None: ...
    def token(self, secret: str) -> Principal: ...
    def list_tokens(self, user: str | None, *, actor: str) -> list[TokenInfo]: ...
    def set_password(self, user: str, password: str, *, actor: str) -> None: ...
    def enable_totp(self, user: str, *, actor: str) -> str: ...
    def disable_totp(self, user: str, *, actor: str) -> None: ...


class RateLimiter:
    """At most ``limit`` hits per key in any ``window_s`` seconds (sliding window)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._hits: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def hit(self, key: tuple[str, ...], limit: int, window_s: float) -> float | None:
        """Count one hit; None when allowed, else the seconds until one is allowed again."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window_s:
                hits.popleft()
            if len(hits) >= limit:
                return max(hits[0] + window_s - now, 0.001)
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle keys so memory stays bounded
                for stale in [k for k, v in self._hits.items() if not v or v[-1] <= now
                              - window_s]:
                    del self._hits[stale]
            return None


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limit(request: Request, what: str, user: str, allowed: int) -> None:
    """429 with Retry-After once ``what`` was tried ``allowed`` times from this address
    under this user name within the window."""
    api = context(request)
    wait = api.limiter.hit((what, client_ip(request), user.lower()), allowed,
                           api.settings.rate_window_s)
    if wait is not None:
        seconds = int(wait) + 1
        raise ApiProblem("rate-limited", f"too many {what} attempts: retry in {seconds} s",
                         headers={"Retry-After": str(seconds)}, retry_after=seconds)


def fingerprint(secret: str) -> str:
    """The start of the secret's SHA-256 (what the store keeps of it): enough to match a
    refused credential to its token or session record, useless to log in with."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:16]


def _credentials(request: Request) -> Principal:
    """The caller from the Bearer token, else the session cookie (service calls: sync)."""
    auth = context(request).auth
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        request.state.credential = ("token", fingerprint(secret.strip()))  # for the audit
        if scheme.lower() != "bearer" or not secret.strip():
            raise ApiProblem("not-authenticated", "Authorization must be 'Bearer <token>'",
                             headers={"WWW-Authenticate": "Bearer"})
        return auth.token(secret.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        request.state.credential = ("session", fingerprint(cookie))
        return auth.session(cookie)
    raise ApiProblem("not-authenticated", "log in (session cookie) or send an API token "
                     "(Authorization: Bearer)", headers={"WWW-Authenticate": "Bearer"})


def check_request(principal: Principal, request: Request) -> None:
    """CSRF for cookie sessions and scope for tokens, on this request's method."""
    safe = request.method in SAFE_METHODS
    if principal.via == "session" and not safe:
        sent = request.headers.get(CSRF_HEADER, "")
        if not principal.csrf_token or not hmac.compare_digest(sent, principal.csrf_token):
            raise ApiProblem("csrf-failed", f"{request.method} with a session cookie needs "
                             f"the session's CSRF token in {CSRF_HEADER}")
    if principal.scopes is not None:
        needed = "read" if safe else "write"
        if needed not in principal.scopes:
            raise ApiProblem("scope-insufficient", f"this token has scopes "
                             f"{', '.join(sorted(principal.scopes)) or 'none'}; "
                             f"{request.method} needs {needed!r}", scope=needed)


async def authenticate(request: Request) -> Principal:
    """The checked caller of this request (computed once, kept on the request)."""
    found = getattr(request.state, "principal", None)
    if isinstance(found, Principal):
        return found
    principal = await run_in_threadpool(_credentials, request)
    request.state.caller = principal  # known even when the check below refuses the request
    check_request(principal, request)
    request.state.principal = principal
    return principal


async def current_principal(
        request: Request,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
        _cookie: Annotated[str | None, Depends(cookie_scheme)]) -> Principal:
    """Dependency of every protected endpoint (the two schemes document it in OpenAPI)."""
    return await authenticate(request)


Caller = Annotated[Principal, Depends(current_principal)]
