"""Bad requests are 4xx problem+json bodies that say what is wrong, and write nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qoima.api.json_body import parse_strict
from qoima.api.problems import ApiProblem
from tests.api.conftest import World
from tests.api.test_orders import ibit

PROBLEM = "application/problem+json"
JSON = {"content-type": "application/json"}


def order_count(world: World) -> int:
    return len(world.reserve.orders.list(actor="auditor"))


def send(world: World, raw: bytes | str, headers: dict[str, str] | None = None) -> Any:
    pm = world.session("pm")
    return pm.post("/api/v1/orders", content=raw, headers=headers or JSON)


@pytest.mark.parametrize(("raw", "says"), [
    ('{"vehicle": "da-sleeve", "quantity": NaN}', "NaN"),
    ('{"vehicle": "da-sleeve", "quantity": Infinity}', "Infinity"),
    ('{"vehicle": "da-sleeve", "quantity": -Infinity}', "-Infinity"),
    ('{"vehicle": "da-sleeve", "vehicle": "state-fund"}', "duplicate key 'vehicle'"),
    ('{"vehicle": "da-sleeve",', "line 1"),
    (b'{"vehicle": "\xff"}', "UTF-8"),
])
def test_malformed_json_is_400_and_writes_nothing(world: World, raw: str | bytes,
                                                  says: str) -> None:
    before = order_count(world)
    response = send(world, raw)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "malformed-json" and says in body["detail"]
    assert body["type"] == "/api/v1/problems/malformed-json"
    assert order_count(world) == before


def test_unknown_field_is_422_naming_it(world: World) -> None:
    response = send(world, json.dumps({**ibit("1"), "approved_by": "me"}))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation-failed"
    assert {"field": "body.approved_by", "message": "Extra inputs are not permitted"} in body[
        "errors"]


@pytest.mark.parametrize("value", ["2026-02-30", "1969-12-31", "2101-01-01", "10/30/2026",
                                   "99999-01-01"])
def test_dates_out_of_range_are_422(world: World, value: str) -> None:
    response = world.session("auditor").get(f"/api/v1/nav?as_of={value}")
    assert response.status_code == 422, value
    assert response.json()["errors"][0]["field"] == "query.as_of"


def test_non_numeric_or_non_finite_amounts_are_422(world: World) -> None:
    for quantity in ("ten", "NaN", "Infinity", "1e"):
        response = send(world, json.dumps(ibit(quantity)))
        assert response.status_code == 422, quantity
        assert response.json()["errors"][0]["field"] == "body.quantity"


def test_wrong_content_type_is_415(world: World) -> None:
    before = order_count(world)
    response = send(world, "vehicle=da-sleeve", {"content-type": "application/x-www-form-"
                                                 "urlencoded"})
    assert response.status_code == 415 and response.json()["code"] == "unsupported-media-type"
    assert send(world, json.dumps(ibit("1")), {"content-type": "text/plain"}).status_code == 415
    assert order_count(world) == before


def test_oversized_body_is_413_before_it_is_read(world: World) -> None:
    before = order_count(world)
    huge = json.dumps({**ibit("1"), "note": "x" * (1024 * 1024)})
    response = send(world, huge)
    assert response.status_code == 413
    assert response.json()["code"] == "body-too-large" and response.json()["limit"] == 1048576
    assert order_count(world) == before
    pm = world.session("pm")
    streamed = pm.post("/api/v1/orders", content=iter([b"[" + b"1," * 400_000] * 2 + [b"1]"]),
                       headers=JSON)  # chunked: no Content-Length to refuse it by
    assert streamed.status_code == 413 and streamed.json()["code"] == "body-too-large"


def test_exact_decimals_survive_json_numbers(world: World) -> None:
    response = send(world, '{"vehicle": "da-sleeve", "instrument": "IBIT", "side": "buy", '
                    '"quantity": 3, "estimated_price": 74.3212345678901234567, '
                    '"tranche": "main", "custodian": "bny"}')
    assert response.status_code == 201, response.text
    assert response.json()["terms"]["estimated_price"] == "74.3212345678901234567"


def test_unknown_route_and_method_are_problems(world: World) -> None:
    client = world.session("auditor")
    assert client.get("/api/v1/nothing-here").headers["content-type"] == PROBLEM
    wrong = client.client.delete("/api/v1/orders")
    assert wrong.status_code == 405 and wrong.headers["content-type"] == PROBLEM


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5)
                    | st.decimals(allow_nan=False, allow_infinity=False, places=4),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=10))
def test_strict_parser_reads_what_json_writes(value: Any) -> None:
    text = json.dumps(value, default=str)
    assert parse_strict(text.encode()) == json.loads(text, parse_float=__import__(
        "decimal").Decimal)


@given(st.text(max_size=40))
def test_strict_parser_never_raises_anything_but_a_problem(text: str) -> None:
    try:
        parse_strict(text.encode())
    except ApiProblem as problem:
        assert problem.status_code == 400
