"""Form fields into domain values, and the one way a form acts or shows why it could not.

Errors name the field as the form labels it, so the page can say what to correct; the
services still validate everything again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from qoima.domain.errors import InvalidInput, QoimaError
from qoima.domain.money import parse_decimal
from qoima.web.refusals import audit_page_refusal
from qoima.web.session import Action, Posted, act_once
from qoima.web.site import status_of

E = TypeVar("E", bound=StrEnum)
#: A service's field name -> the form field that holds it (where the error is shown).
FIELD_NAMES = {"vehicle_code": "vehicle", "instrument_code": "instrument",
               "tranche_code": "tranche", "custodian_code": "custodian"}
Show = Callable[[str, int], Response]  # (the refusal, its HTTP status) -> the page again


def amount(form: Posted, name: str, label: str) -> Decimal:
    """A number as people type it: ``600,000`` or ``600000`` (thousands commas allowed)."""
    text = form.need(name, label).replace(",", "").replace(" ", "")
    try:
        return parse_decimal(text, what=label)
    except QoimaError as error:
        raise InvalidInput(error.message, field=name) from None


def optional_amount(form: Posted, name: str, label: str) -> Decimal | None:
    return amount(form, name, label) if form.get(name) else None


def day(form: Posted, name: str, label: str, default: date | None = None) -> date:
    text = form.get(name)
    if not text and default is not None:
        return default
    try:
        return date.fromisoformat(form.need(name, label))
    except ValueError:
        raise InvalidInput(f"{label}: {text!r} is not a date (YYYY-MM-DD)", field=name) from None


def member(form: Posted, kind: type[E], name: str, label: str) -> E:
    text = form.need(name, label)
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidInput(f"{label}: {text!r} is not one of {allowed}", field=name) from None


async def act_or_show(request: Request, form: Posted, action: Action, show: Show) -> Response:
    """Act once (303 to the result), or render the page again with the refusal and the
    status the API would answer (403 four eyes, 409 wrong state, 422 bad input...)."""
    try:
        return await act_once(request, form, action)
    except QoimaError as error:
        await audit_page_refusal(request, error, error.message)
        request.state.error_field = FIELD_NAMES.get(error.field or "", error.field)
        return await run_in_threadpool(show, error.message, status_of(error))


def options(values: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ")) for v in values]


def enum_options(kind: type[StrEnum]) -> list[tuple[str, str]]:
    return options([m.value for m in kind])


__all__ = ["Show", "act_or_show", "amount", "day", "enum_options", "member",
           "optional_amount", "options"]
