"""What routers share: the reserve, the acting user, and the router factory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from qoima.api.access import acting_user
from qoima.api.context import context
from qoima.api.routing import ApiRoute
from qoima.api.security import Caller
from qoima.bootstrap.wiring import Reserve
from qoima.domain.roles import User


async def reserve_of(request: Request) -> Reserve:
    """Async (no I/O), so FastAPI does not hop to a worker thread for it."""
    return context(request).reserve


ReserveDep = Annotated[Reserve, Depends(reserve_of)]


async def user_of(request: Request, principal: Caller) -> User:
    """The caller's user record (roles and per-vehicle grants): usually read with the
    credential already, so no second trip to a worker thread."""
    if principal.account is not None:
        return principal.account
    return await run_in_threadpool(acting_user, context(request).reserve, principal)


UserDep = Annotated[User, Depends(user_of)]


def api_router(tag: str) -> APIRouter:
    return APIRouter(tags=[tag], route_class=ApiRoute)
