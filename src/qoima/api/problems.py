"""Errors as problem details (RFC 9457), from ONE table.

Every :class:`~qoima.domain.errors.QoimaError` maps, through the most specific class in its
MRO that :data:`PROBLEMS` names, to a status, a stable ``type`` and a title. Transport
errors (bad JSON, oversized bodies, missing headers) are :class:`ApiProblem` with a code
from the same table of codes, so a client branches on ``code`` and never parses ``detail``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qoima.allocation.problem import Infeasible, SolverFailure
from qoima.app.auth import AccountLocked, AuthenticationFailed
from qoima.app.idempotency import IdempotencyInFlight, IdempotencyKeyReused
from qoima.domain import errors as e
from qoima.market.sources import ProviderError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "/api/v1/problems/"
log = logging.getLogger("qoima.api")


@dataclass(frozen=True, slots=True)
class ProblemKind:
    status: int
    code: str
    title: str


#: QoimaError subclass -> problem. Lookup walks the error's MRO, so the most specific
#: class listed wins (UnknownScenario is a RiskError *and* a NotFound: listed itself).
PROBLEMS: Mapping[type[Exception], ProblemKind] = {
    e.QoimaError: ProblemKind(400, "bad-request", "The request cannot be carried out"),
    e.InvalidInput: ProblemKind(422, "invalid-input", "Invalid input"),
    e.NotFound: ProblemKind(404, "not-found", "Not found"),
    e.Conflict: ProblemKind(409, "conflict", "Conflicts with the recorded state"),
    e.IdempotencyConflict: ProblemKind(409, "idempotency-conflict",
                                       "Identifier already used with other content"),
    e.LedgerError: ProblemKind(422, "ledger-error", "The ledger refuses the entry"),
    e.UnbalancedEntry: ProblemKind(422, "unbalanced-entry", "Entry does not balance"),
    e.ScaleError: ProblemKind(422, "scale-error", "Amount has too many decimal places"),
    e.Overdraft: ProblemKind(409, "overdraft", "A holding would go below zero"),
    e.EntryStateError: ProblemKind(409, "entry-state", "The entry's state forbids this"),
    e.AuditError: ProblemKind(409, "audit-error", "Audit trail problem"),
    e.ConfigurationError: ProblemKind(503, "configuration-error", "Server misconfigured"),
    e.StorageError: ProblemKind(503, "storage-error", "Storage unavailable"),
    e.TransientConflict: ProblemKind(409, "transient-conflict",
                                     "Another writer won a race: retry"),
    e.RiskError: ProblemKind(422, "risk-error", "No meaningful risk figure"),
    e.InsufficientHistory: ProblemKind(422, "insufficient-history", "Too little history"),
    e.DegenerateSeries: ProblemKind(422, "degenerate-series", "Degenerate series"),
    e.UnknownScenario: ProblemKind(404, "unknown-scenario", "Unknown stress scenario"),
    e.Forbidden: ProblemKind(403, "forbidden", "Forbidden"),
    e.OrderStateError: ProblemKind(409, "order-state", "The order's status forbids this"),
    Infeasible: ProblemKind(422, "infeasible", "No allocation satisfies the constraints"),
    SolverFailure: ProblemKind(422, "solver-failure", "The optimizer failed"),
    ProviderError: ProblemKind(502, "provider-error", "Market data provider failed"),
    AuthenticationFailed: ProblemKind(401, "authentication-failed", "Not authenticated"),
    AccountLocked: ProblemKind(423, "account-locked", "Locked after failed logins"),
    IdempotencyKeyReused: ProblemKind(422, "idempotency-key-reused",
                                      "Idempotency-Key reused with another request"),
    IdempotencyInFlight: ProblemKind(409, "idempotency-in-flight",
                                     "A request with this Idempotency-Key is in progress"),
}

#: Problems of the transport itself (no QoimaError behind them), by code.
TRANSPORT: Mapping[str, ProblemKind] = {k.code: k for k in (
    ProblemKind(400, "malformed-json", "Body is not valid strict JSON"),
    ProblemKind(400, "idempotency-key-missing", "Idempotency-Key header required"),
    ProblemKind(400, "idempotency-key-invalid", "Idempotency-Key header malformed"),
    ProblemKind(401, "not-authenticated", "Not authenticated"),
    ProblemKind(403, "csrf-failed", "CSRF token missing or wrong"),
    ProblemKind(403, "scope-insufficient", "The token's scope does not allow this"),
    ProblemKind(404, "route-not-found", "No such resource"),
    ProblemKind(405, "method-not-allowed", "Method not allowed"),
    ProblemKind(413, "body-too-large", "Request body too large"),
    ProblemKind(415, "unsupported-media-type", "Content type not supported"),
    ProblemKind(422, "validation-failed", "Request does not match the schema"),
    ProblemKind(429, "rate-limited", "Too many attempts"),
    ProblemKind(500, "internal-error", "Internal error"),
)}


#: Framework errors (unknown route, wrong method) by status.
_BY_STATUS = {404: "route-not-found", 405: "method-not-allowed", 413: "body-too-large",
              415: "unsupported-media-type", 401: "not-authenticated", 500: "internal-error"}


class ApiProblem(HTTPException):
    """A transport-level problem; a subclass of HTTPException so FastAPI re-raises it
    untouched from inside its body parsing."""

    def __init__(self, code: str, detail: str, *, headers: Mapping[str, str] | None = None,
                 **extra: Any) -> None:
        self.kind = TRANSPORT[code]
        self.extra = extra
        super().__init__(self.kind.status, detail, dict(headers) if headers else None)


def kind_of(error: Exception) -> ProblemKind:
    for cls in type(error).__mro__:
        found = PROBLEMS.get(cls)
        if found is not None:
            return found
    return TRANSPORT["internal-error"]


def problem_body(kind: ProblemKind, detail: str, instance: str,
                 **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": TYPE_BASE + kind.code, "title": kind.title,
                            "status": kind.status, "detail": detail, "instance": instance,
                            "code": kind.code}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(kind: ProblemKind, detail: str, instance: str, *,
                     headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse(problem_body(kind, detail, instance, **extra), status_code=kind.status,
                        media_type=PROBLEM_JSON, headers=dict(headers) if headers else None)


def _scalar_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Structured fields of the error that are plain JSON scalars."""
    return {k: v for k, v in details.items() if isinstance(v, str | int | bool)
            or (isinstance(v, float) and math.isfinite(v))}


def qoima_error_response(request: Request, error: e.QoimaError) -> JSONResponse:
    kind = kind_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if kind.status == 401 else None
    return problem_response(kind, error.message, request.url.path, headers=headers,
                            field=error.field, qoima_code=error.code,
                            origin=str(error.origin) if error.origin else None,
                            details=_scalar_details(error.details) or None)


def validation_errors(raw: list[Any]) -> list[dict[str, str]]:
    """Pydantic's errors as ``{"field": "body.terms.quantity", "message": ...}``."""
    return [{"field": ".".join(str(p) for p in err.get("loc", ())),
             "message": str(err.get("msg", "invalid"))} for err in raw]


#: Called with every problem answered by a handler (e.g. to audit refusals).
ProblemHook = Callable[[Request, ProblemKind, str, Exception], Awaitable[None]]


def install(app: FastAPI, on_problem_answered: ProblemHook | None = None) -> None:
    """Register the handlers: every error leaves as ``application/problem+json``."""

    async def answered(request: Request, kind: ProblemKind, detail: str,
                       error: Exception) -> None:
        if on_problem_answered is not None:
            await on_problem_answered(request, kind, detail, error)

    async def on_qoima(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, e.QoimaError)
        await answered(request, kind_of(error), error.message, error)
        return qoima_error_response(request, error)

    async def on_problem(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiProblem)
        await answered(request, error.kind, str(error.detail), error)
        return problem_response(error.kind, str(error.detail), request.url.path,
                                headers=error.headers, **error.extra)

    async def on_validation(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        found = validation_errors(list(error.errors()))
        summary = "; ".join(f"{x['field']}: {x['message']}" for x in found[:5])
        await answered(request, TRANSPORT["validation-failed"], summary, error)
        return problem_response(TRANSPORT["validation-failed"], summary, request.url.path,
                                errors=found)

    async def on_http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        code = _BY_STATUS.get(error.status_code)
        kind = TRANSPORT[code] if code else ProblemKind(
            error.status_code, f"http-{error.status_code}", str(error.detail))
        return problem_response(kind, str(error.detail), request.url.path,
                                headers=error.headers)

    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(TRANSPORT["internal-error"], "an internal error occurred; it "
                                "was logged", request.url.path)

    app.add_exception_handler(e.QoimaError, on_qoima)
    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def catalogue() -> list[dict[str, Any]]:
    """Every problem type the API can return (served at ``/api/v1/problems``)."""
    kinds = {k.code: k for k in (*PROBLEMS.values(), *TRANSPORT.values())}
    return [{"type": TYPE_BASE + k.code, "code": k.code, "status": k.status, "title": k.title}
            for k in sorted(kinds.values(), key=lambda k: (k.status, k.code))]
