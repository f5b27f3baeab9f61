"""A minimal HTTP/1.1 keep-alive client on asyncio streams, for the load benchmark.

Why not httpx: on this 2-core machine the load generator shares the CPU with the server,
and httpx's async client spends more CPU per request (1.99 ms, sequential GET /nav) than
a cached API read costs the server (1.63 ms), and the client's own cost would be measured
as the server's latency; this client spends 0.53 ms. It writes the request bytes and
reads the status line, headers and a Content-Length or chunked body; nothing else (no TLS,
no redirects, no cookies, no compression). A kept-alive connection the server closed while
idle is retried once on a new one, as browsers do.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class RawHttpError(Exception):
    """The connection broke or the answer was not HTTP/1.1 this client understands."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()


class RawClient:
    """Keep-alive connections to one host, opened on demand and reused when idle."""

    def __init__(self, host: str, port: int, timeout_s: float = 30.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        # First in, first out: every open connection carries its share of the requests. A
        # stack would send nearly all of them down the few most recently used connections,
        # all of which may belong to the same server worker process.
        self._idle: deque[_Connection] = deque()
        self._open = 0

    async def open(self, count: int) -> None:
        """Open ``count`` connections up front (the server's workers accept them in turn)."""
        for connection in await asyncio.gather(*(self._connect() for _ in range(count))):
            self._idle.append(connection)

    async def request(self, method: str, path: str, headers: dict[str, str],
                      body: bytes = b"") -> Reply:
        reused = bool(self._idle)
        connection = self._idle.popleft() if reused else await self._connect()
        try:
            reply, keep = await asyncio.wait_for(
                self._exchange(connection, method, path, headers, body), self.timeout_s)
        except asyncio.IncompleteReadError as error:
            connection.close()
            self._open -= 1
            if reused and not error.partial:  # the server had closed the idle connection
                return await self.request(method, path, headers, body)
            raise RawHttpError(f"IncompleteReadError: {error}") from error
        except (OSError, asyncio.LimitOverrunError, ValueError, IndexError,
                TimeoutError) as error:
            connection.close()
            self._open -= 1
            raise RawHttpError(f"{type(error).__name__}: {error}") from error
        except BaseException:  # cancelled mid-exchange: the connection's state is unknown
            connection.close()
            self._open -= 1
            raise
        if keep:
            self._idle.append(connection)
        else:
            connection.close()
            self._open -= 1
        return reply

    async def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self._open += 1
        return _Connection(reader, writer)

    async def _exchange(self, connection: _Connection, method: str, path: str,
                        headers: dict[str, str], body: bytes) -> tuple[Reply, bool]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 *(f"{name}: {value}" for name, value in headers.items())]
        if body or method not in ("GET", "HEAD"):
            lines.append(f"Content-Length: {len(body)}")
        connection.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await connection.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        found = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                found[name.strip().lower()] = value.strip()
        if "content-length" in found:
            payload = await connection.reader.readexactly(int(found["content-length"]))
        elif found.get("transfer-encoding", "").lower() == "chunked":
            payload = await _chunked(connection.reader)
        else:
            raise ValueError("an answer without Content-Length or chunked encoding")
        return Reply(status, payload), found.get("connection", "").lower() != "close"


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
