"""Refusals on dashboard pages go into the audit trail exactly as the API's do.

A page catches the services' errors to show them as HTML, so the API's exception handlers
(which audit through :func:`qoima.api.refusals.audit_refusal`) never see them; this module
hands the same error to the same hook, with the page's session as the acting principal.
The API decides what is worth a record (403 of any kind, CSRF, a 404 concealing another
vehicle's object...) and caps the records per address and actor.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from qoima.api.problems import TRANSPORT, ApiProblem, ProblemKind, kind_of
from qoima.api.refusals import audit_refusal
from qoima.domain.errors import QoimaError


def problem_kind(error: Exception) -> ProblemKind:
    """The API's problem kind for ``error`` (what the API would have answered)."""
    if isinstance(error, ApiProblem):
        return error.kind
    if isinstance(error, QoimaError):
        return kind_of(error)
    if isinstance(error, RequestValidationError):
        return TRANSPORT["validation-failed"]
    if isinstance(error, HTTPException):
        return ProblemKind(error.status_code, f"http-{error.status_code}", str(error.detail))
    return TRANSPORT["internal-error"]


async def audit_page_refusal(request: Request, error: Exception, detail: str) -> None:
    """Audit ``error`` if the API would (never raises: the refusal stands either way)."""
    viewer = getattr(request.state, "viewer", None)
    principal = getattr(viewer, "principal", None)
    if principal is not None and getattr(request.state, "caller", None) is None:
        request.state.caller = principal
    await audit_refusal(request, problem_kind(error), detail, error)
