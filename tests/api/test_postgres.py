"""The same API on PostgreSQL: login, an order with its idempotent replay, NAV."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import build_world
from tests.api.test_orders import ibit


@pytest.mark.postgres
def test_api_smoke_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    world = build_world(tmp_path / "ws", database_url=pg_url)
    try:
        pm = world.session("pm")
        first = pm.post("/api/v1/orders", key="pg-1", json=ibit("10"))
        again = pm.post("/api/v1/orders", key="pg-1", json=ibit("10"))
        assert first.status_code == again.status_code == 201
        assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
        assert pm.post("/api/v1/orders", key="pg-1", json=ibit("11")).status_code == 422
        assert pm.get("/api/v1/nav").json()["vehicles"][0]["vehicle_code"] == "da-sleeve"
        assert world.session("auditor").get("/api/v1/audit/verification").json()["ok"] is True
    finally:
        for client in world.clients:
            client.__exit__(None, None, None)
        world.reserve.close()
