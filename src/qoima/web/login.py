"""Log in and out with the API's sessions (same cookie, rate limit and lock-out).

The login form has no session yet, so its CSRF defence is a double-submit cookie: a random
value set with the form must come back in the form's hidden field.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from qoima.api.context import context
from qoima.api.problems import ApiProblem
from qoima.api.security import SESSION_COOKIE, client_ip, limit
from qoima.app.auth import AuthenticationFailed
from qoima.web.render import page
from qoima.web.session import LoginRequired, PostedDep, current_viewer, read_form, redirect
from qoima.web.site import web_router

router = web_router()
LOGIN_CSRF = "qoima_login_csrf"


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a full URL) may follow a login."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target)):
        return "/"  # browsers drop tabs and newlines: "/\t/evil" would become "//evil"
    return target


def _login_page(request: Request, *, next_path: str, user: str = "", error: str | None = None,
                status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html.j2", None, title="Log in", next_path=next_path,
                    user=user, login_token=token, error=error, status_code=status_code)
    response.set_cookie(LOGIN_CSRF, token, max_age=1800, path="/login", httponly=True,
                        samesite="strict", secure=context(request).settings.cookie_secure)
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    try:
        current_viewer(request)
    except LoginRequired:
        return _login_page(request, next_path=safe_next(next))
    return redirect(safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    fields, _ = await read_form(request)
    api = context(request)
    user, password = fields.get("user", "").strip(), fields.get("password", "")
    totp = fields.get("totp", "").strip() or None
    next_path = safe_next(fields.get("next"))
    expected = request.cookies.get(LOGIN_CSRF, "")
    sent = fields.get("login_token", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_page(request, next_path=next_path, user=user, status_code=403,
                           error="The login form expired: please try again.")
    if not user or not password:
        return _login_page(request, next_path=next_path, user=user, status_code=422,
                           error="Enter your user name and password.")
    try:
        limit(request, "login", user, api.settings.login_attempts)
        session = await run_in_threadpool(lambda: api.auth.login(
            user, password, totp, ip=client_ip(request)))
    except ApiProblem as problem:
        return _login_page(request, next_path=next_path, user=user,
                           status_code=problem.status_code, error=str(problem.detail))
    except AuthenticationFailed as failed:
        status = 423 if failed.code == "account_locked" else 401
        return _login_page(request, next_path=next_path, user=user, status_code=status,
                           error=failed.message)
    response = redirect(next_path)
    max_age = max(int((session.expires_at - datetime.now(UTC)).total_seconds()), 0)
    response.set_cookie(SESSION_COOKIE, session.token, max_age=max_age, path="/",
                        secure=api.settings.cookie_secure, httponly=True, samesite="strict")
    response.delete_cookie(LOGIN_CSRF, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, form: PostedDep) -> Response:
    api = context(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(api.auth.logout, token)
    response = redirect("/login", "You are logged out.")
    response.delete_cookie(SESSION_COOKIE, path="/", secure=api.settings.cookie_secure,
                           httponly=True, samesite="strict")
    return response
