"""Log in and out, the caller, API tokens, passwords. Rate limited; never idempotency-
stored (a replay must not hand a session or token secret out again)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from qoima.api.access import acting_user
from qoima.api.context import context
from qoima.api.governance_models import IssuedTokenOut, LoginOut, MeOut, TokenOut
from qoima.api.models import Strict
from qoima.api.problems import ApiProblem
from qoima.api.responses import Out
from qoima.api.results import plain
from qoima.api.routing import StrictRoute
from qoima.api.security import SESSION_COOKIE, Caller, client_ip, limit
from qoima.app.auth import totp_uri
from qoima.domain.errors import Forbidden

router = APIRouter(prefix="/auth", tags=["auth"], route_class=StrictRoute)


class LoginIn(Strict):
    user: Annotated[str, Field(min_length=1, max_length=128)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    totp: Annotated[str | None, Field(max_length=16)] = None


class TokenIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    scopes: Annotated[list[Literal["read", "write"]], Field(min_length=1, max_length=2)]
    expires_in_days: Annotated[int, Field(ge=1, le=366)] = 90
    user: str | None = None  # an administrator may issue for someone else


class TotpIn(Strict):
    user: Annotated[str, Field(min_length=1, max_length=128)]


class TotpOut(Out):
    user: str
    secret: str  # base32, for an authenticator app; shown once
    uri: str  # otpauth:// URI (a QR code of it sets up the app)


class PasswordIn(Strict):
    user: Annotated[str, Field(min_length=1, max_length=128)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


@router.post("/login", summary="Open a browser session (cookie) and get its CSRF token")
async def login(body: LoginIn, request: Request, response: Response) -> LoginOut:
    api = context(request)
    limit(request, "login", body.user, api.settings.login_attempts)
    session = await run_in_threadpool(lambda: api.auth.login(
        body.user, body.password, body.totp, ip=client_ip(request)))
    max_age = max(int((session.expires_at - datetime.now(UTC)).total_seconds()), 0)
    response.set_cookie(SESSION_COOKIE, session.token, max_age=max_age, path="/",
                        secure=api.settings.cookie_secure, httponly=True, samesite="strict")
    return LoginOut(user=session.user, csrf_token=session.csrf_token,
                    expires_at=session.expires_at.isoformat())


@router.post("/logout", status_code=204, summary="Close this browser session")
async def logout(request: Request, response: Response, principal: Caller) -> None:
    api = context(request)
    token = request.cookies.get(SESSION_COOKIE)
    if principal.via == "session" and token:
        await run_in_threadpool(api.auth.logout, token)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=api.settings.cookie_secure,
                           httponly=True, samesite="strict")


@router.get("/me", summary="The caller: user, roles per vehicle, how authenticated")
def me(request: Request, principal: Caller) -> MeOut:
    user = acting_user(context(request).reserve, principal)
    return MeOut.of({"user": user.name, "display_name": user.display_name, "via": principal.via,
            "scopes": sorted(principal.scopes) if principal.scopes is not None else None,
            "csrf_token": principal.csrf_token, "grants": plain(user.grants)})


@router.post("/tokens", status_code=201, summary="Issue an API token (secret shown once)")
def issue_token(body: TokenIn, request: Request, principal: Caller) -> IssuedTokenOut:
    api = context(request)
    limit(request, "token", principal.user, api.settings.token_attempts)
    if principal.via != "session":
        raise Forbidden("API tokens are issued from a logged-in session, not by a token",
                        user=principal.user)
    issued = api.auth.issue_token(body.user or principal.user, name=body.name,
                                  scopes=list(body.scopes),
                                  expires_in=timedelta(days=body.expires_in_days),
                                  actor=principal.user)
    return IssuedTokenOut(token_id=issued.token_id, secret=issued.secret,
                          expires_at=issued.expires_at.isoformat(), scopes=list(issued.scopes))


@router.get("/tokens", summary="The caller's API tokens (never their secrets)")
def list_tokens(request: Request, principal: Caller) -> list[TokenOut]:
    tokens = context(request).auth.list_tokens(principal.user, actor=principal.user)
    return [TokenOut.of(t) for t in tokens]


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke an API token")
def revoke_token(token_id: str, request: Request, principal: Caller) -> None:
    api = context(request)
    limit(request, "token", principal.user, api.settings.token_attempts)
    api.auth.revoke_token(token_id, actor=principal.user)


@router.put("/password", status_code=204, summary="Set a password (own, or any as admin)")
def set_password(body: PasswordIn, request: Request, principal: Caller) -> None:
    if principal.via != "session":
        raise ApiProblem("scope-insufficient", "passwords are changed from a logged-in "
                         "session", scope="session")
    context(request).auth.set_password(body.user, body.password, actor=principal.user)


@router.post("/totp", status_code=201, response_model=TotpOut,
             summary="Require a one-time code at every login (own, or any as admin); the "
             "secret is shown once")
def enable_totp(body: TotpIn, request: Request, principal: Caller) -> TotpOut:
    api = context(request)
    limit(request, "token", principal.user, api.settings.token_attempts)
    _session_only(principal.via, "a second factor is set up")
    secret = api.auth.enable_totp(body.user, actor=principal.user)
    return TotpOut(user=body.user, secret=secret, uri=totp_uri(body.user, secret))


@router.delete("/totp/{user}", status_code=204,
               summary="Stop requiring a one-time code (own, or any as admin)")
def disable_totp(user: str, request: Request, principal: Caller) -> None:
    _session_only(principal.via, "a second factor is removed")
    context(request).auth.disable_totp(user, actor=principal.user)


def _session_only(via: str, what: str) -> None:
    if via != "session":
        raise ApiProblem("scope-insufficient", f"{what} from a logged-in session",
                         scope="session")
