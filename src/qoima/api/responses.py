"""Response models shared by the routers: findings, pages, posted entries.

Responses declare their shape so the OpenAPI document says what comes back (and the
schemathesis conformance check compares real responses against it). Amounts stay exact
strings; ``extra="forbid"`` keeps a route from returning fields its model does not name.
"""

from __future__ import annotations

from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict

from qoima.api.results import plain

T = TypeVar("T")


class Out(BaseModel):
    """A response body; built from the plain (JSON-ready) form of a result."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def of(cls, value: Any) -> Self:
        return cls.model_validate(plain(value))


class FindingOut(Out):
    rule: str
    severity: str
    subject: str
    message: str
    as_of_date: str | None = None
    measured: str | None = None
    limit: str | None = None


class PageOut(Out, Generic[T]):
    """One page of a list (see :mod:`qoima.api.pagination`)."""

    items: list[T]
    total: int | None
    limit: int
    offset: int
    next: str | None
    previous: str | None


class PostedOut(Out):
    entry_id: str
    seq: int
    content_hash: str
    replayed: bool


class PostedEntriesOut(Out):
    results: list[PostedOut]
