"""Generated requests against the OpenAPI document: no 5xx, no response outside the spec.

schemathesis (MIT) builds requests from ``/api/v1/openapi.json`` and sends them to the
ASGI app in process. Every operation gets valid ("positive") and invalid ("negative")
requests, and operations on one object get a third round aimed at objects that exist
(an order, a vehicle, a manager...), so the fuzzing reaches past the 404. The caller is a
user holding every role on every vehicle, with a write-scoped API token; each request gets
a fresh Idempotency-Key. Examples are derandomized (same requests every run) and the number
of requests actually sent is counted and must reach 5,000.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from qoima.domain.roles import Role, RoleGrant
from tests.api.conftest import PASSWORD, World, build_world

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]
MIN_REQUESTS = 5000
EXAMPLES = 38  # per operation and round
#: Operations whose every call is costly (a risk figure over the whole book, a re-hash of
#: the audit trail, a background job) get fewer examples.
FEWER = {
    "GET /api/v1/risk/var": 4, "GET /api/v1/risk/stress": 6, "GET /api/v1/audit/verification": 4,
    "POST /api/v1/audit/checkpoints": 4, "POST /api/v1/runs": 3, "POST /api/v1/risk/reports": 3,
    "POST /api/v1/risk/backtests": 3, "POST /api/v1/backtests/deployment": 3,
    "POST /api/v1/runs/{run_id}/replays": 6, "GET /api/v1/managers/{code}/scorecard": 8,
    "GET /api/v1/holdings": 12, "GET /api/v1/market/checks": 8, "POST /api/v1/auth/login": 10,
}


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    print_blob=False, suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.generate])


@dataclass
class Fuzz:
    world: World
    token: str
    known: dict[str, dict[str, Any]]
    keys: Iterator[int] = field(default_factory=itertools.count)
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)


def _known_objects(world: World, fuzz_user: Any) -> dict[str, dict[str, Any]]:
    """Path parameters of objects that exist, by path template."""
    orders = [fuzz_user.post("/api/v1/orders", json={
        "vehicle": "da-sleeve", "instrument": "IBIT", "side": "buy", "quantity": str(q),
        "estimated_price": "74.32", "tranche": "main", "custodian": "bny"}).json()["order_id"]
        for q in (10, 20)]
    assert fuzz_user.post(f"/api/v1/orders/{orders[1]}/submit").status_code == 200
    by_name = {"vehicle": "da-sleeve", "version": 1, "entry_id": "fund-sleeve",
               "series_id": "fx:USD/KZT"}
    known: dict[str, dict[str, Any]] = {}
    for path in world.app.openapi()["paths"]:
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        values = dict(by_name)
        values["code"] = "hf-a" if "/managers/" in path else "da-sleeve"
        values["order_id"] = orders[len(known) % 2]
        if names and all(n in values for n in names):
            known[path] = {n: values[n] for n in names}
    return known


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    world = build_world(tmp_path_factory.mktemp("fuzz") / "ws")
    world.reserve.users.add("fuzzer", "Fuzzer", [RoleGrant(r) for r in Role], actor="admin")
    world.auth.set_password("fuzzer", PASSWORD, actor="admin")
    session = world.session("fuzzer")
    issued = session.post("/api/v1/auth/tokens", json={"name": "fuzz", "scopes": ["write"]})
    yield Fuzz(world, issued.json()["secret"], _known_objects(world, session))
    world.app.state.qoima.jobs._pool.shutdown(wait=True, cancel_futures=True)
    asgi.shutdown_lifespans()
    for client in world.clients:
        client.__exit__(None, None, None)
    world.reserve.close()


def _exercise(fuzz: Fuzz, operation: Any, mode: GenerationMode,
              path_parameters: dict[str, Any] | None, examples: int) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @_settings(examples)
    @given(case=strategy)
    def run(case: Any) -> None:
        headers = {"Authorization": f"Bearer {fuzz.token}"}
        if case.method.upper() == "POST":
            headers["Idempotency-Key"] = f"fuzz-{next(fuzz.keys)}"
        case.headers = {k: v for k, v in (case.headers or {}).items()
                        if k.lower() not in ("authorization", "idempotency-key", "cookie")}
        response = case.call(headers=headers)
        fuzz.sent += 1
        fuzz.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as failure:  # keep going: report every failing operation at once
            fuzz.failures.setdefault(f"{operation.label} [{mode.value}]", str(failure)[:3000])

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid (no parameters)
        run()


def test_generated_requests_get_no_5xx_and_match_the_spec(fuzz: Fuzz) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz.world.app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 70
    for operation in operations:
        examples = FEWER.get(operation.label, EXAMPLES)
        _exercise(fuzz, operation, GenerationMode.POSITIVE, None, examples)
        _exercise(fuzz, operation, GenerationMode.NEGATIVE, None, examples)
        known = fuzz.known.get(operation.path)
        if known:
            _exercise(fuzz, operation, GenerationMode.POSITIVE, known, examples)
    report = "\n\n".join(f"{label}:\n{text}" for label, text in fuzz.failures.items())
    assert not fuzz.failures, f"{len(fuzz.failures)} operations failed:\n{report}"
    assert fuzz.sent >= MIN_REQUESTS, f"only {fuzz.sent} requests were generated"
    assert not [s for s in fuzz.statuses if s >= 500]
    assert fuzz.statuses[200] + fuzz.statuses[201] > fuzz.sent // 10  # not all refused
    print(f"\nschemathesis {schemathesis.__version__}: {fuzz.sent} requests, "
          f"statuses {dict(sorted(fuzz.statuses.items()))}")


@pytest.mark.parametrize(("status", "content_type", "body", "failure"), [
    (404, "application/json", {"detail": "x"}, "UndefinedContentType"),
    (404, "application/problem+json", {"detail": "no code, no status"}, "JsonSchemaError"),
    (200, "application/json", ["a list, not the documented object"], "JsonSchemaError"),
    (302, "application/json", {}, "UndefinedStatusCode"),
])
def test_the_checks_catch_answers_outside_the_spec(fuzz: Fuzz, status: int, content_type: str,
                                                   body: Any, failure: str) -> None:
    """The harness is not vacuous: the same checks refuse what the server never sends."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz.world.app)
    case = schema["/api/v1/orders"]["GET"].Case()
    request = requests.Request("GET", "http://testserver/api/v1/orders").prepare()
    response = schemathesis.Response(status, {"content-type": [content_type]},
                                     json.dumps(body).encode(), request, 0.01, True)
    with pytest.raises(BaseException) as caught:  # a FailureGroup
        case.validate_response(response, checks=CHECKS)
    found = getattr(caught.value, "exceptions", [caught.value])
    assert failure in {type(f).__name__ for f in found}
