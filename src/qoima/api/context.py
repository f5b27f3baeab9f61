"""What every request handler reaches: the reserve, the settings and the API's own parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

from qoima.bootstrap.wiring import Reserve

if TYPE_CHECKING:
    from qoima.api.idempotency import IdempotencyPort
    from qoima.api.jobs import JobManager
    from qoima.api.read_cache import ResponseCache
    from qoima.api.security import AuthPort, RateLimiter
    from qoima.api.settings import ApiSettings


@dataclass
class ApiContext:
    reserve: Reserve
    settings: ApiSettings
    auth: AuthPort
    idempotency: IdempotencyPort
    jobs: JobManager
    limiter: RateLimiter
    responses: ResponseCache


def context(request: Request) -> ApiContext:
    found = request.app.state.qoima
    assert isinstance(found, ApiContext)
    return found
