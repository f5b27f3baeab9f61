"""Idempotency-Key on every POST: the same key and body get the first response back.

The key is reserved (per user) before the request runs, so a retry racing the first call
gets 409 and a retry with another body or path gets 422. Only a 2xx response is stored and
replayed byte for byte (``Idempotent-Replayed: true``); a failed request wrote nothing
(every use case is one unit of work), so its key is freed and the client may retry.
Responses carrying credentials (login, API tokens) are never stored: the auth endpoints
are outside this scheme.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Protocol

from fastapi import Request, Response

from qoima.api.context import context
from qoima.api.problems import ApiProblem
from qoima.api.security import authenticate
from qoima.api.write_threads import run_write
from qoima.app.idempotency import IdempotencyState
from qoima.app.ports import UnitOfWork

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEY_FORMAT = re.compile(r"[\x21-\x7e]{1,200}")
log = logging.getLogger("qoima.api")


class IdempotencyPort(Protocol):
    """What the API uses of :class:`qoima.app.idempotency.IdempotencyService`."""

    def begin(self, key: str, principal_user: str, method_path: str,
              body_hash: str) -> IdempotencyState: ...
    def complete(self, key: str, principal_user: str, status: int, body: bytes,
                 content_type: str) -> None: ...
    def abandon(self, key: str, principal_user: str) -> None: ...
    def run_once(self, key: str, principal_user: str, method_path: str, body_hash: str,
                 work: Callable[[UnitOfWork], tuple[int, bytes, str]]
                 ) -> IdempotencyState: ...


Handler = Callable[[Request], Awaitable[Response]]


def request_key(request: Request) -> str:
    key = request.headers.get(HEADER)
    if key is None:
        raise ApiProblem("idempotency-key-missing", f"every POST needs an {HEADER} header: "
                         "a new unique string (e.g. a UUID) per operation, the same one on "
                         "a retry", field=HEADER)
    if not KEY_FORMAT.fullmatch(key):
        raise ApiProblem("idempotency-key-invalid", f"{HEADER} is 1 to 200 visible ASCII "
                         "characters", field=HEADER)
    return key


async def once(request: Request, handler: Handler) -> Response:
    """Run ``handler`` at most once per (user, key); replay the stored response."""
    key = request_key(request)
    principal = await authenticate(request)
    body_hash = hashlib.sha256(await request.body()).hexdigest()
    service = context(request).idempotency
    state = await run_write(service.begin, key, principal.user,
                                    f"POST {_target(request)}", body_hash)
    if not state.is_new:
        headers = dict(state.headers)
        return Response(state.body or b"", status_code=state.status or 200,
                        media_type=headers.get("content-type"), headers={REPLAYED: "true"})
    try:
        response = await handler(request)
    except BaseException:
        await _abandon(service, key, principal.user)
        raise
    body = getattr(response, "body", None)
    if 200 <= response.status_code < 300 and isinstance(body, bytes):
        content_type = response.headers.get("content-type", "application/json")
        await run_write(service.complete, key, principal.user, response.status_code,
                                body, content_type)
    else:
        await _abandon(service, key, principal.user)
    return response


async def once_in_one_unit(request: Request,
                           work: Callable[[UnitOfWork], tuple[int, bytes, str]]) -> Response:
    """:func:`once` for a use case that runs in the key's own write unit (see
    ``IdempotencyService.run_once``): reservation, use case and stored response commit
    together. ``work`` returns the response's status, body and content type."""
    key = request_key(request)
    principal = await authenticate(request)
    body_hash = hashlib.sha256(await request.body()).hexdigest()
    state = await run_write(context(request).idempotency.run_once, key,
                                    principal.user, f"POST {_target(request)}", body_hash,
                                    work)
    headers = dict(state.headers)
    return Response(state.body or b"", status_code=state.status or 200,
                    media_type=headers.get("content-type"),
                    headers={} if state.is_new else {REPLAYED: "true"})


def _target(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def _abandon(service: IdempotencyPort, key: str, user: str) -> None:
    try:
        await run_write(service.abandon, key, user)
    except Exception:  # the key then expires by itself; the original error matters more
        log.exception("could not free Idempotency-Key %r of %s", key, user)
