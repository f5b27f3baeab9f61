"""No test here may reach the network: every socket connect or name lookup fails loudly."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

PAYLOADS = Path(__file__).parent / "payloads"


class NetworkUsed(AssertionError):
    """A test tried to open a real connection; provider tests must replay payloads."""


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise NetworkUsed(f"provider tests must not touch the network (attempted {args!r})")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()
