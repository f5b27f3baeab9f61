"""The FastAPI application: ``create_app(reserve, settings)``.

The API is mounted under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``, docs at
``/api/v1/docs``), leaving ``/`` to the dashboard, which :mod:`qoima.web.server` adds (the
API does not import it).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qoima import __version__
from qoima.api import problems, refusals
from qoima.api.context import ApiContext
from qoima.api.idempotency import IdempotencyPort
from qoima.api.jobs import JobManager
from qoima.api.json_body import BodyLimitMiddleware
from qoima.api.openapi_doc import problem_openapi
from qoima.api.read_cache import ResponseCache
from qoima.api.routers import (
    allocation,
    audit,
    auth,
    case_intake,
    case_proofs,
    cases,
    dispositions,
    entries,
    imports,
    jobs,
    managers,
    market,
    meta,
    orders,
    policies,
    reference,
    reference_writes,
    risk,
    runs,
    transfers,
    users,
    valuation,
)
from qoima.api.security import AuthPort, RateLimiter
from qoima.api.settings import ApiSettings
from qoima.api.write_threads import set_write_threads
from qoima.app.auth import check_production_settings
from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import ConfigurationError

PREFIX = "/api/v1"
ROUTERS = (meta, auth, reference, valuation, entries, market, risk, policies, orders,
           allocation, runs, cases, managers, audit, jobs, case_intake, case_proofs, dispositions,
           imports, reference_writes, transfers, users)


class SecurityHeaders:
    """API responses are never cached and never sniffed as another type."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                for name, value in ((b"cache-control", b"no-store"),
                                    (b"x-content-type-options", b"nosniff")):
                    if name not in names:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(reserve: Reserve, settings: ApiSettings | None = None, *,
               auth_service: AuthPort | None = None,
               idempotency_service: IdempotencyPort | None = None,
               on_shutdown: Callable[[], None] | None = None) -> FastAPI:
    """The API over ``reserve``; the auth and idempotency services default to the
    reserve's own (``reserve.auth``, ``reserve.idempotency``)."""
    settings = settings or ApiSettings()
    refused = check_production_settings(settings.mode, settings.secret_key,
                                        settings.cookie_secure)
    if refused:
        raise ConfigurationError("refusing to start in production mode: " + "; ".join(refused))
    found_auth: Any = auth_service or getattr(reserve, "auth", None)
    found_keys: Any = idempotency_service or getattr(reserve, "idempotency", None)
    if found_auth is None or found_keys is None:
        raise ConfigurationError("the reserve has no auth or idempotency service wired")
    job_manager = JobManager(settings.job_workers, settings.jobs_kept)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        set_write_threads(settings.write_threads)
        # Everything alive at start (modules, numpy/pandas, the app) moves out of the
        # collector's sight: otherwise each full collection walks it all again and stalls
        # every request of the worker for a few hundred milliseconds under load.
        gc.collect()
        gc.freeze()
        yield
        gc.unfreeze()
        job_manager.shutdown()
        if on_shutdown is not None:
            on_shutdown()

    app = FastAPI(title="qoima", version=__version__, lifespan=lifespan,
                  summary="Book of record, risk and governance of a sovereign "
                  "digital-asset reserve.",
                  openapi_url=f"{PREFIX}/openapi.json", docs_url=f"{PREFIX}/docs",
                  redoc_url=None)
    app.state.qoima = ApiContext(reserve, settings, found_auth, found_keys, job_manager,
                                 RateLimiter(), ResponseCache())
    problems.install(app, refusals.audit_refusal)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    for module in ROUTERS:
        app.include_router(module.router, prefix=PREFIX)
    app.openapi = problem_openapi(app, PREFIX)  # type: ignore[method-assign]
    return app
