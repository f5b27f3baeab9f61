"""GET answers kept per worker while the data behind them is unchanged; ETags on them.

A read route names the data its answer depends on (valuation, orders); the caller's access
(users, grants, credentials) always counts too, since who may see what shapes the answer.
The database renews a token on every write to such data (0009). The tokens are read
*before* the answer is rendered, and the answer is kept under (path, query, user, tokens):
a write in between can only make a kept answer unreachable, never serve it stale, whatever
program wrote.

Every answer carries a strong ``ETag`` (a hash of its bytes): a client that sends it back
in ``If-None-Match`` gets ``304 Not Modified`` and no body while the answer is the same, so
a dashboard polling the NAV costs a token read, not a valuation.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from fastapi import Request, Response
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from qoima.api.context import context
from qoima.api.security import authenticate
from qoima.app.ports import ACCESS_DATA

#: Answers kept per worker (each is one page of JSON, a few kB to a few hundred kB).
KEPT = 256
#: What a route answered by :func:`cached_read` adds to its OpenAPI description.
CONDITIONAL: dict[int | str, dict[str, Any]] = {
    200: {"headers": {"ETag": {
        "description": "Identifies this answer: send it in If-None-Match to get 304 while "
                       "it is unchanged.", "schema": {"type": "string"}}}},
    304: {"description": "Not Modified: the answer is the one whose ETag was sent in "
                         "If-None-Match (no body)."},
}


class ResponseCache:
    """The last ``size`` answers rendered, each under its key; least recently used go."""

    def __init__(self, size: int = KEPT) -> None:
        self._size = size
        self._kept: OrderedDict[Hashable, tuple[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[str, bytes] | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: Hashable, etag: str, body: bytes) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._kept[key] = (etag, body)
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


async def cached_read(request: Request, data: Sequence[str], render: Callable[[], Any],
                      model: Any, vary: tuple[Hashable, ...] = ()) -> Response:
    """The JSON answer ``render()`` gives, validated as ``model`` (the route's declared
    response model), kept while ``data`` and the caller's access are unchanged. ``vary``
    names anything else the answer depends on (today's date where it is the default).

    The tokens are the ones read with the caller's credential (same transaction, before
    this request computed anything), so a kept answer costs no further database trip."""
    found = context(request)
    principal = await authenticate(request)  # done already by the route's dependency
    names = (ACCESS_DATA, *data)
    tokens = tuple(principal.data_versions.get(name) for name in names)
    if None in tokens:  # a version row is gone, or a caller made without them: read now
        tokens = await run_in_threadpool(found.reserve.data_versions.current, names)
    key = (request.url.path, request.url.query, principal.user, tokens, *vary)
    kept = found.responses.get(key)
    if kept is None:  # rendering, validating and hashing are CPU work: off the event loop
        kept = await run_in_threadpool(_rendered, render, model)
        found.responses.put(key, *kept)
    etag, body = kept
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})


@functools.cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def _rendered(render: Callable[[], Any], model: Any) -> tuple[str, bytes]:
    """The answer's ETag and body: what FastAPI's response_model gives (validated by the
    model, then serialised), and a strong tag from its bytes."""
    adapter = _adapter(model)
    body = adapter.dump_json(adapter.validate_python(render()))
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"', body


def _matches(header: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: ``*`` or a list of tags; weak comparison (W/ ignored)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))
