"""Who is looking, and how a form acts: the session cookie, CSRF, idempotency, messages.

Pages use the API's browser session (cookie ``qoima_session``). A form POST carries the
session's CSRF token in the hidden field ``csrf_token`` (the API reads the same token from
the ``X-CSRF-Token`` header) and a per-render ``idempotency_key``: the first submit acts and
its outcome (where to go next) is stored with :class:`~qoima.app.idempotency.IdempotencyService`;
a second submit of the same form only shows that outcome again.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl, quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from qoima.api.access import acting_user, can_read
from qoima.api.context import context
from qoima.api.problems import ApiProblem
from qoima.api.security import SESSION_COOKIE
from qoima.app.auth import AuthenticationFailed, Principal
from qoima.app.custody_book import seized_pool
from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import InvalidInput, NotFound, QoimaError
from qoima.domain.roles import Permission, User
from qoima.web.render import FLASH_COOKIE

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 200


class LoginRequired(Exception):
    """No valid session: the page sends the browser to the login form."""


class FormRefused(QoimaError):
    """A form without its CSRF token or idempotency key (a forged or stale page)."""

    code = "form_refused"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The logged-in person and what they may see (reads only: writes are the services')."""

    principal: Principal
    user: User
    reserve: Reserve

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def csrf(self) -> str:
        return self.principal.csrf_token or ""

    @property
    def reads_everything(self) -> bool:
        return can_read(self.user, None)

    def reads(self, vehicle: str | None) -> bool:
        return can_read(self.user, vehicle)

    def can(self, permission: Permission, vehicle: str | None) -> bool:
        return self.user.can(permission, vehicle)

    @property
    def reads_cases(self) -> bool:
        try:
            with self.reserve.units(write=False) as uow:
                pool = seized_pool(uow)
        except NotFound:
            return False
        return self.reads(pool)

    @property
    def roles(self) -> str:
        parts = [f"{g.role.value.replace('_', ' ')}"
                 + (f" ({g.vehicle_code})" if g.vehicle_code else "") for g in self.user.grants]
        return ", ".join(parts) or "no role"


def current_viewer(request: Request) -> Viewer:
    """The session's viewer (kept on the request); LoginRequired without a valid one."""
    found = getattr(request.state, "viewer", None)
    if isinstance(found, Viewer):
        return found
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired
    api = context(request)
    try:
        principal = api.auth.session(token)
        user = acting_user(api.reserve, principal)
    except (AuthenticationFailed, NotFound):
        raise LoginRequired from None
    viewer = Viewer(principal, user, api.reserve)
    request.state.viewer = viewer
    return viewer


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


@dataclass(frozen=True, slots=True)
class Posted:
    """A checked form: who sent it, its fields, and its raw body (hashed for replays)."""

    viewer: Viewer
    fields: dict[str, str]
    raw: bytes

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default).strip()

    def need(self, name: str, label: str | None = None) -> str:
        value = self.get(name)
        if not value:
            raise InvalidInput(f"{label or name.replace('_', ' ')} is required", field=name)
        return value


async def read_form(request: Request) -> tuple[dict[str, str], bytes]:
    media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media != FORM_TYPE:
        raise FormRefused(f"forms are sent as {FORM_TYPE}, not {media or 'nothing'}")
    raw = await request.body()
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                          max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as error:
        raise FormRefused(f"the form could not be read: {error}") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise FormRefused(f"the form sent {name!r} twice")
        fields[name] = value
    return fields, raw


async def posted_form(request: Request) -> Posted:
    """The viewer and the form, after the CSRF check (the token must match the session)."""
    viewer = await run_in_threadpool(current_viewer, request)
    fields, raw = await read_form(request)
    sent = fields.get("csrf_token", "")
    if not viewer.csrf or not hmac.compare_digest(sent.encode(), viewer.csrf.encode()):
        raise ApiProblem("csrf-failed", "this form is not from your current session (CSRF "
                         "token missing or wrong): reload the page and try again")
    return Posted(viewer, fields, raw)


PostedDep = Annotated[Posted, Depends(posted_form)]


def redirect(location: str, message: str | None = None, tone: str = "ok") -> RedirectResponse:
    """303 to ``location``, leaving ``message`` for the next page."""
    response = RedirectResponse(location, status_code=303)
    if message:
        response.set_cookie(FLASH_COOKIE, quote(f"{tone}:{message}"[:600]), max_age=120,
                            path="/", httponly=True, samesite="strict")
    return response


Action = Callable[[], tuple[str, str]]  # -> (where to go next, what happened)


async def act_once(request: Request, form: Posted, action: Action) -> RedirectResponse:
    """Run ``action`` once per form key; a replay goes where the first submit went.

    A failed action frees the key (the services wrote nothing), so correcting and
    re-sending the same form works; the error propagates to the page that renders it.
    """
    key = form.get("idempotency_key")
    if not key:
        raise FormRefused("this form has no idempotency key: reload the page and try again")
    user = form.viewer.name
    service = context(request).idempotency
    stored_key = f"web:{key}"
    body_hash = hashlib.sha256(form.raw).hexdigest()
    state = await run_in_threadpool(service.begin, stored_key, user,
                                    f"WEB POST {request.url.path}", body_hash)
    if not state.is_new:
        location = (state.body or b"/").decode("utf-8", "replace")
        return redirect(location, "This form was already sent; it acted once. Here is the "
                        "result.")
    try:
        location, message = await run_in_threadpool(action)
    except BaseException:
        await run_in_threadpool(service.abandon, stored_key, user)
        raise
    await run_in_threadpool(service.complete, stored_key, user, 303,
                            location.encode("utf-8"), "text/plain")
    return redirect(location, message)
