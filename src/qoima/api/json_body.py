"""Strict request bodies: JSON only, no NaN/Infinity, no duplicate keys, a size cap.

Python's ``json`` accepts ``NaN``, ``Infinity`` and repeated keys (the last one silently
wins); a book of record must refuse all three. Numbers with a fraction are read as
:class:`~decimal.Decimal`, so an amount in a body is exact before validation sees it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qoima.api.problems import TRANSPORT, ApiProblem, problem_response

JSON_TYPES = ("application/json",)


def is_json(content_type: str | None) -> bool:
    """``application/json`` or ``application/*+json`` (parameters such as charset allowed)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


def _no_constants(name: str) -> Any:
    raise ApiProblem("malformed-json", f"{name} is not a JSON number: send a finite number "
                     "or a decimal string")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ApiProblem("malformed-json", f"duplicate key {key!r} in a JSON object",
                             field=key)
        result[key] = value
    return result


def parse_strict(raw: bytes) -> Any:
    """The JSON value of ``raw``, or :class:`ApiProblem` ``malformed-json`` saying where."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiProblem("malformed-json", f"body is not UTF-8 (byte {error.start})") from None
    try:
        return json.loads(text, parse_constant=_no_constants, parse_float=Decimal,
                          object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise ApiProblem("malformed-json", f"line {error.lineno} column {error.colno}: "
                         f"{error.msg}") from None
    except RecursionError:
        raise ApiProblem("malformed-json", "JSON nested too deeply") from None
    except ValueError as error:  # e.g. an integer with more digits than Python converts
        raise ApiProblem("malformed-json", str(error)) from None


class BodyLimitMiddleware:
    """413 for a body over ``limit`` bytes: at once from Content-Length, else as soon as
    the streamed bytes pass the limit (nothing past it is buffered)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            response = problem_response(TRANSPORT["body-too-large"], f"body of {declared} "
                                        f"bytes; the limit is {self.limit}", scope["path"],
                                        limit=self.limit)
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise ApiProblem("body-too-large", f"body over the limit of {self.limit} "
                                     "bytes", limit=self.limit)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
