from __future__ import annotations

import socket

import pytest

from tests.adapters.providers.conftest import NetworkUsed


def test_guard_blocks_real_connections() -> None:
    with pytest.raises(NetworkUsed):
        socket.create_connection(("example.com", 443), timeout=1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(NetworkUsed):
        sock.connect(("127.0.0.1", 9))
    with pytest.raises(NetworkUsed):
        socket.getaddrinfo("example.com", 443)
