"""Idempotency-Key: same key and body replay byte for byte; other body 422; in flight 409."""

from __future__ import annotations

import json

from tests.api.conftest import World
from tests.api.test_orders import ibit


def test_same_key_same_body_replays_the_first_response_byte_for_byte(world: World) -> None:
    pm = world.session("pm")
    raw = json.dumps(ibit("42")).encode()
    headers = {"content-type": "application/json"}
    first = pm.post("/api/v1/orders", key="replay-1", content=raw, headers=headers)
    again = pm.post("/api/v1/orders", key="replay-1", content=raw, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    orders = [o for o in pm.get("/api/v1/orders?limit=500").json()["items"]
              if o["order_id"] == first.json()["order_id"]]
    assert len(orders) == 1


def test_same_key_other_body_is_422(world: World) -> None:
    pm = world.session("pm")
    assert pm.post("/api/v1/orders", key="reuse-1", json=ibit("1")).status_code == 201
    reused = pm.post("/api/v1/orders", key="reuse-1", json=ibit("2"))
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency-key-reused"
    other_path = pm.post("/api/v1/audit/checkpoints", key="reuse-1")
    assert other_path.status_code == 422


def test_key_in_flight_is_409(world: World) -> None:
    pm = world.session("pm")
    raw = json.dumps(ibit("3")).encode()
    import hashlib

    state = world.keys.begin("flight-1", "pm", "POST /api/v1/orders",
                             hashlib.sha256(raw).hexdigest())
    assert state.is_new
    busy = pm.post("/api/v1/orders", key="flight-1", content=raw,
                   headers={"content-type": "application/json"})
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency-in-flight"
    world.keys.abandon("flight-1", "pm")
    assert pm.post("/api/v1/orders", key="flight-1", content=raw,
                   headers={"content-type": "application/json"}).status_code == 201


def test_every_post_needs_a_key_and_a_failed_request_frees_it(world: World) -> None:
    pm = world.session("pm")
    missing = pm.client.post("/api/v1/orders", json=ibit("1"),
                             headers={"X-CSRF-Token": pm.csrf or ""})
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency-key-missing"
    bad = pm.post("/api/v1/orders", key="has space", json=ibit("1"))
    assert bad.status_code == 400 and bad.json()["code"] == "idempotency-key-invalid"
    refused = pm.post("/api/v1/orders", key="fails-1", json=ibit("1", vehicle="state-fund",
                                                                   tranche=None))
    assert refused.status_code == 403
    # nothing was stored under the key: the same request may be sent again
    assert pm.post("/api/v1/orders", key="fails-1", json=ibit(
        "1", vehicle="state-fund", tranche=None)).status_code == 403


def test_keys_are_per_user(world: World) -> None:
    pm, risk = world.session("pm"), world.session("risk")
    mine = pm.post("/api/v1/orders", key="shared-key", json=ibit("7"))
    assert mine.status_code == 201
    theirs = risk.post("/api/v1/audit/checkpoints", key="shared-key")
    assert theirs.status_code in (201, 403)
    assert "idempotent-replayed" not in theirs.headers
