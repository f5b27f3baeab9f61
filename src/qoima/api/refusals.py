"""Refused requests go into the audit trail, not only the log.

A refused use case rolls its unit of work back, so nothing of the attempt would remain; an
auditor must still see who tried what. Audited: every 403 (role, CSRF, token scope), every
401 for a credential that was presented (expired, revoked or forged token, stale or planted
session cookie), a 404 that conceals a Forbidden (another vehicle's object), an
Idempotency-Key replayed with another request, and a body naming fields the endpoint does
not take (mass assignment of status, maker, roles...). A request without any credential is
not audited: nobody is acting. Audit writes are capped per address and actor
(``ApiSettings.refusal_audits`` per window) so a flood of refusals cannot flood the trail;
past the cap they are logged.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from qoima.api.access import Concealed
from qoima.api.context import context
from qoima.api.problems import ProblemKind
from qoima.api.security import client_ip
from qoima.app.auth import Principal

log = logging.getLogger("qoima.api")
ANONYMOUS = "anonymous"
_ALWAYS = frozenset({"forbidden", "csrf-failed", "scope-insufficient",
                     "idempotency-key-reused"})
_WITH_CREDENTIAL = frozenset({"not-authenticated", "authentication-failed"})


def _unknown_fields(error: Exception) -> list[str]:
    if not isinstance(error, RequestValidationError):
        return []
    return [".".join(str(p) for p in err.get("loc", ())) for err in error.errors()
            if err.get("type") == "extra_forbidden"]


def refusal_details(request: Request, kind: ProblemKind,
                    error: Exception) -> dict[str, Any] | None:
    """What to audit about this problem, or None when it is no refusal worth a record."""
    credential = getattr(request.state, "credential", None)
    details: dict[str, Any] = {"status": kind.status, "code": kind.code}
    if isinstance(error, Concealed):
        details["code"] = "concealed-forbidden"
    elif kind.code in _WITH_CREDENTIAL:
        if credential is None:
            return None
        details["credential"] = f"{credential[0]}:{credential[1]}"
    elif kind.code not in _ALWAYS:
        fields = _unknown_fields(error)
        if not fields:
            return None
        details.update(code="unknown-fields", fields=fields[:20])
    return details


async def audit_refusal(request: Request, kind: ProblemKind, detail: str,
                        error: Exception) -> None:
    """The ``problems.install`` hook: one audit record per refused request (capped)."""
    details = refusal_details(request, kind, error)
    if details is None:
        return
    principal = getattr(request.state, "principal", None) or getattr(
        request.state, "caller", None)
    actor = principal.user if isinstance(principal, Principal) else ANONYMOUS
    if isinstance(principal, Principal):
        details["via"] = principal.via
    api = context(request)
    ip = client_ip(request)
    target = f"{request.method} {request.url.path}"
    if api.limiter.hit(("refusal-audit", ip, actor), api.settings.refusal_audits,
                       api.settings.rate_window_s) is not None:
        log.warning("refusal not audited (cap reached): %s by %s from %s: %s", target, actor,
                    ip, details["code"])
        return
    reason = str(details.pop("code"))
    details.update(ip=ip[:64], detail=detail[:500])
    try:
        await run_in_threadpool(lambda: api.reserve.audit.record_refusal(
            actor=actor, target=target, reason=reason, details=details))
    except Exception:  # the refusal stands; a failed audit write must not turn it into a 500
        log.exception("could not audit the refusal of %s by %s", target, actor)
