"""Parsing single fields of input files into domain values, with errors that say where."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from qoima.domain.errors import InvalidInput, Origin, QoimaError
from qoima.domain.money import parse_decimal

E = TypeVar("E", bound=StrEnum)


def parse_date(text: str | None, *, origin: Origin, field: str) -> date:
    if not text:
        raise InvalidInput("a date is required (YYYY-MM-DD)", origin=origin, field=field)
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date in YYYY-MM-DD form", origin=origin,
                           field=field) from None


def parse_amount(text: str | None, *, origin: Origin, field: str,
                 required: bool = True) -> Decimal | None:
    if text is None or text == "":
        if required:
            raise InvalidInput("a number is required", origin=origin, field=field)
        return None
    try:
        return parse_decimal(text, what=field)
    except QoimaError as error:
        raise error.with_origin(origin, field) from None


def parse_enum(kind: type[E], text: str | None, *, origin: Origin, field: str,
               default: E | None = None) -> E:
    if not text:
        if default is not None:
            return default
        raise InvalidInput("a value is required", origin=origin, field=field)
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(f"{text!r} is not one of: {allowed}", origin=origin,
                           field=field) from None


def parse_int(text: str | None, *, origin: Origin, field: str) -> int:
    try:
        return int(text or "")
    except ValueError:
        raise InvalidInput(f"{text!r} is not a whole number", origin=origin,
                           field=field) from None
