"""Route classes: strict JSON bodies for every route, Idempotency-Key on API POSTs."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute

from qoima.api import idempotency
from qoima.api.json_body import is_json, parse_strict
from qoima.api.problems import ApiProblem
from qoima.api.write_threads import on_write_threads

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_UNSET = object()


class StrictRequest(Request):
    """A request whose ``json()`` is :func:`parse_strict` (FastAPI reads bodies through it)."""

    _strict_json: Any = _UNSET

    async def json(self) -> Any:
        if self._strict_json is _UNSET:
            self._strict_json = parse_strict(await self.body())
        return self._strict_json


class StrictRoute(APIRoute):
    """Bodies must be JSON (415 otherwise) and strictly valid (400) before anything runs."""

    idempotent_posts = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            strict = StrictRequest(request.scope, request.receive)
            if strict.method in UNSAFE:
                raw = await strict.body()
                if raw:
                    if not is_json(strict.headers.get("content-type")):
                        raise ApiProblem("unsupported-media-type", "send the body as "
                                         "application/json (got "
                                         f"{strict.headers.get('content-type') or 'none'})")
                    await strict.json()
            if self.idempotent_posts and strict.method == "POST":
                return await idempotency.once(strict, original)
            return await original(strict)

        return handler


async def idempotency_key(key: Annotated[str, Header(
        alias=idempotency.HEADER, min_length=1, max_length=200,
        description="A new unique string (e.g. a UUID) per operation; send the same one "
        "on a retry to get the first response back.")]) -> str:
    """Documents the header; :func:`qoima.api.idempotency.once` enforces it first."""
    return key


class ApiRoute(StrictRoute):
    """Every API route: strict JSON, POST only with an Idempotency-Key, and writes on the
    write threads (:mod:`qoima.api.write_threads`)."""

    idempotent_posts = True

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = set(kwargs.get("methods") or ())
        if "POST" in methods:
            kwargs["dependencies"] = [*(kwargs.get("dependencies") or ()),
                                      Depends(idempotency_key)]
        if methods & UNSAFE:
            endpoint = on_write_threads(endpoint)
        super().__init__(path, endpoint, **kwargs)


class OneUnitPostRoute(ApiRoute):
    """A POST whose endpoint keeps its Idempotency-Key itself, in the use case's own unit
    of work (:func:`qoima.api.idempotency.once_in_one_unit`); documented like the others."""

    idempotent_posts = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        checked = super().get_route_handler()

        async def handler(request: Request) -> Response:
            idempotency.request_key(request)  # 400 before the body is validated, as in once()
            return await checked(request)
        return handler
