"""Reference data over HTTP: a reference YAML file registered all or nothing, accounts
opened and listed per vehicle; only a reference writer may change them."""

from __future__ import annotations

from tests.api.conftest import World
from tests.api.test_abuse import Trail, refused

REFERENCE = """custodians:
  - {code: api-cust, name: API Custodian, kind: crypto_custodian, jurisdiction: KZ}
instruments:
  - {code: API-TOK, name: API token, kind: token, scale: 8, chain: ethereum}
"""


def codes(world: World) -> set[str]:
    with world.reserve.units(write=False) as uow:
        return {c.code for c in uow.reference.list_custodians()}


def test_a_reference_file_is_registered_once(world: World) -> None:
    admin = world.session("admin")
    first = admin.post("/api/v1/reference/files", content=REFERENCE,
                       headers={"Content-Type": "application/yaml"})
    assert first.status_code == 201, first.text
    assert first.json() == {"created": 2, "unchanged": 0}
    again = admin.post("/api/v1/reference/files", content=REFERENCE,
                       headers={"Content-Type": "application/yaml"})
    assert again.json() == {"created": 0, "unchanged": 2}
    assert "api-cust" in codes(world)


def test_a_bad_file_names_its_line_and_registers_nothing(world: World) -> None:
    bad = REFERENCE.replace("api-cust", "api-cust-2") + "  - {code: BAD, kind: token}\n"
    response = world.session("admin").post(
        "/api/v1/reference/files", json={"filename": "ref.yaml", "content": bad})
    assert response.status_code == 422, response.text
    assert response.json()["origin"] == "ref.yaml:5"
    assert "api-cust-2" not in codes(world)


def test_accounts_open_and_list_per_vehicle(world: World) -> None:
    admin = world.session("admin")
    code = "holding:da-sleeve/main:ETHA@bny"
    opened = admin.post("/api/v1/accounts", json={"code": code})
    assert opened.status_code == 201, opened.text
    again = admin.post("/api/v1/accounts", json={"code": code})
    assert again.json() == {"code": code, "opened": False}
    pm = world.session("pm")
    listed = pm.get("/api/v1/accounts?limit=500").json()["items"]
    assert code in [a["code"] for a in listed]
    assert {a["vehicle"] for a in listed} == {"da-sleeve"}
    assert admin.post("/api/v1/accounts", json={"code": "nonsense"}).status_code == 422


def test_only_a_reference_writer_changes_reference_data(world: World) -> None:
    pm = world.session("pm")
    trail = Trail(world)
    refusal = pm.post("/api/v1/reference/files",
                      content=REFERENCE.replace("api-cust", "api-cust-3"),
                      headers={"Content-Type": "application/yaml"})
    assert refusal.status_code == 403
    refused(trail, "pm", "POST /api/v1/reference/files", "forbidden")
    trail = Trail(world)
    assert pm.post("/api/v1/accounts",
                   json={"code": "holding:da-sleeve/main:COIN@bny"}).status_code == 403
    refused(trail, "pm", "POST /api/v1/accounts", "forbidden")
    assert "api-cust-3" not in codes(world)
