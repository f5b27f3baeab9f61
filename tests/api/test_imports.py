"""File imports over HTTP (entries, prices, FX, a manager's statement): the CLI's readers
parse the whole file first, so a bad file names its line and field and writes nothing; the
services check the caller's role on every vehicle the file touches."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from qoima.domain.roles import Role, RoleGrant
from tests.api.conftest import PASSWORD, World
from tests.api.test_abuse import Trail, refused

EXAMPLES = Path(__file__).parents[2] / "examples" / "managers"
ENTRIES = "/api/v1/entries/imports"
HEADER = "id,date,code,description,account,amount\n"


def move(entry_id: str, amount: str = "1000") -> str:
    """Dollars from the FX reserves into the sleeve."""
    return (HEADER + f"{entry_id},2026-11-30,transfer,api import,"
            f"holding:fx-reserves/investment:USD@bny,-{amount}\n"
            f"{entry_id},2026-11-30,transfer,api import,holding:da-sleeve/main:USD@bny,"
            f"{amount}\n")


def entry(world: World, entry_id: str) -> object:
    with world.reserve.units(write=False) as uow:
        return uow.journal.find_entry(entry_id)


@pytest.fixture(scope="module")
def ops_sleeve(world: World) -> str:
    """Operations on the sleeve only."""
    world.reserve.users.add("ops-sleeve", "Ops Sleeve",
                            [RoleGrant(Role.OPERATIONS, "da-sleeve")], actor="admin")
    world.auth.set_password("ops-sleeve", PASSWORD, actor="admin")
    return "ops-sleeve"


def test_a_csv_of_entries_is_posted_and_replayed_by_its_key(world: World) -> None:
    ops = world.session("ops")
    body = move("api-imp-1")
    first = ops.post(ENTRIES, key="imp-1", content=body, headers={"Content-Type": "text/csv"})
    assert first.status_code == 201, first.text
    [result] = first.json()["results"]
    assert result["entry_id"] == "api-imp-1" and result["replayed"] is False
    again = ops.post(ENTRIES, key="imp-1", content=body, headers={"Content-Type": "text/csv"})
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = ops.post(ENTRIES, key="imp-1", content=move("api-imp-9"),
                     headers={"Content-Type": "text/csv"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency-key-reused"
    assert entry(world, "api-imp-9") is None
    postings = {p.account: p.amount for p in entry(world, "api-imp-1").draft.postings}
    assert postings["holding:da-sleeve/main:USD@bny"] == Decimal("1000")


def test_a_bad_line_is_named_and_no_entry_of_the_file_is_posted(world: World) -> None:
    text = move("api-imp-2") + move("api-imp-3", amount="ten").removeprefix(HEADER)
    response = world.session("ops").post(ENTRIES, json={"filename": "october.csv",
                                                        "content": text})
    assert response.status_code == 422, response.text
    assert (response.json()["origin"], response.json()["field"]) == ("october.csv:4", "amount")
    assert entry(world, "api-imp-2") is None and entry(world, "api-imp-3") is None


def test_a_file_touching_another_vehicle_is_refused_and_audited(world: World,
                                                                ops_sleeve: str) -> None:
    session = world.session(ops_sleeve)
    trail = Trail(world)
    response = session.post(ENTRIES, json={"filename": "x.csv", "content": move("api-imp-4")})
    assert response.status_code == 403
    refused(trail, ops_sleeve, f"POST {ENTRIES}", "forbidden")
    assert entry(world, "api-imp-4") is None


def test_unknown_fields_and_bad_names_are_refused(world: World) -> None:
    ops = world.session("ops")
    trail = Trail(world)
    extra = ops.post(ENTRIES, json={"filename": "a.csv", "content": move("x"), "actor": "cm1"})
    assert extra.status_code == 422
    refused(trail, "ops", f"POST {ENTRIES}", "unknown-fields")
    named = ops.post(ENTRIES, json={"filename": "../etc/passwd", "content": move("x")})
    assert named.status_code == 422 and "filename" in named.text
    wrong = ops.post(ENTRIES, json={"filename": "a.txt", "content": move("x")})
    assert wrong.status_code == 422 and wrong.json()["field"] == "filename"


def test_prices_and_fx_load_from_csv(world: World) -> None:
    ops = world.session("ops")
    prices = ops.post("/api/v1/market/prices/imports",
                      content="instrument,date,price\nIBIT,2026-10-02,74.5\n",
                      headers={"Content-Type": "text/csv", "X-Filename": "closes.csv"})
    assert prices.status_code == 201, prices.text
    assert prices.json() == {"filename": "closes.csv", "read": 1, "changed": 1}
    fx = ops.post("/api/v1/market/fx/imports",
                  json={"filename": "fx.csv",
                        "content": "base,quote,date,rate\nUSD,KZT,2026-10-02,512.5\n"})
    assert fx.status_code == 201 and fx.json()["read"] == 1
    bad = ops.post("/api/v1/market/prices/imports",
                   json={"filename": "c.csv", "content": "instrument,date,price\nIBIT,x,1\n"})
    assert bad.status_code == 422
    assert (bad.json()["origin"], bad.json()["field"]) == ("c.csv:2", "date")
    auditor = world.session("auditor")
    trail = Trail(world)
    refusal = auditor.post("/api/v1/market/prices/imports",
                           json={"filename": "c.csv",
                                 "content": "instrument,date,price\nIBIT,2026-10-05,1\n"})
    assert refusal.status_code == 403
    refused(trail, "auditor", "POST /api/v1/market/prices/imports", "forbidden")


def test_a_statement_is_imported_once_and_hidden_from_other_vehicles(world: World) -> None:
    mandate = (EXAMPLES / "mandate-hf-a.yaml").read_text()
    pm = world.session("pm")
    trail = Trail(world)
    refusal = pm.post("/api/v1/managers/mandates", content=mandate,
                      headers={"Content-Type": "application/yaml"})
    assert refusal.status_code == 403
    refused(trail, "pm", "POST /api/v1/managers/mandates", "forbidden")
    added = world.session("admin").post("/api/v1/managers/mandates", content=mandate,
                                         headers={"Content-Type": "application/yaml"})
    assert added.status_code == 201, added.text
    assert (added.json()["manager"], added.json()["version"]) == ("hf-a", 1)
    assert added.json()["mandate"]["vehicle_code"] == "state-fund"
    text = (EXAMPLES / "statement-hf-a-2026-09.csv").read_text()
    url = "/api/v1/managers/hf-a/statements"
    trail = Trail(world)
    assert pm.post(url, json={"filename": "s.csv", "content": text}).status_code == 404
    refused(trail, "pm", f"POST {url}", "concealed-forbidden")
    ops = world.session("ops")
    first = ops.post(url, content=text, headers={"Content-Type": "text/csv"})
    assert first.status_code == 201, first.text
    got = first.json()
    assert (got["manager"], got["period_end"], got["replayed"]) == ("hf-a", "2026-09-30",
                                                                    False)
    assert Decimal(got["closing_nav"]) > 0
    again = ops.post(url, json={"filename": "again.csv", "content": text})
    assert again.status_code == 201 and again.json()["replayed"] is True
    assert len(world.reserve.managers.statements("hf-a", None)) == 1


def test_a_refusal_after_parsing_names_the_uploaded_file_not_a_temporary_one(
        world: World) -> None:
    response = world.session("ops").post(
        ENTRIES, content=move("api-imp-5", amount="1000000000000"),
        headers={"Content-Type": "text/csv", "X-Filename": "big.csv"})
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "overdraft"
    assert response.json()["origin"].startswith("big.csv:")
    assert "qoima-upload" not in response.text
    assert entry(world, "api-imp-5") is None


def test_the_imported_statement_feeds_the_statements_and_the_scorecard(world: World) -> None:
    url = "/api/v1/managers/hf-a"
    if not world.reserve.managers.statements("hf-a", None):
        test_a_statement_is_imported_once_and_hidden_from_other_vehicles(world)
    auditor = world.session("auditor")
    [statement] = auditor.get(f"{url}/statements").json()["items"]
    assert (statement["period_end"], statement["imported_by"]) == ("2026-09-30", "ops")
    assert statement["fees"] and statement["exposures"]
    card = auditor.get(f"{url}/scorecard?as_of=2026-10-30")
    assert card.status_code == 200, card.text
    assert card.json()["statements"] == 1
    assert Decimal(card.json()["nav"]) == Decimal(statement["closing_nav"])


def test_managers_compare_side_by_side_for_institution_wide_readers(world: World) -> None:
    if not world.reserve.managers.statements("hf-a", None):
        test_a_statement_is_imported_once_and_hidden_from_other_vehicles(world)
    auditor = world.session("auditor")
    rows = auditor.get("/api/v1/manager-comparison?as_of=2026-10-30")
    assert rows.status_code == 200, rows.text
    [hf_a] = [r for r in rows.json() if r["manager"] == "hf-a"]
    card = auditor.get("/api/v1/managers/hf-a/scorecard?as_of=2026-10-30").json()
    assert Decimal(str(hf_a["nav"])) == Decimal(card["nav"])
    findings = auditor.get("/api/v1/manager-findings?as_of=2026-10-30")
    assert findings.status_code == 200
    assert findings.json() == card["findings"]
    pm = world.session("pm")
    trail = Trail(world)
    assert pm.get("/api/v1/manager-comparison").status_code == 403
    refused(trail, "pm", "GET /api/v1/manager-comparison", "forbidden")


def test_a_series_file_is_checked_whole_then_stored(world: World) -> None:
    ops = world.session("ops")
    url = "/api/v1/market/series/imports"
    text = ("date,close\n2026-10-01,21.5\n2026-10-02,22.0\n2026-10-05,21.75\n")
    bad = text.replace("2026-10-02", "2026-13-02")
    refused_file = ops.post(url, json={"filename": "rate.csv", "content": bad},
                            params={"series": "rate:API-TEST2", "calendar": "weekdays"})
    assert refused_file.status_code == 422, refused_file.text
    assert refused_file.json()["origin"].startswith("rate.csv:")
    assert world.session("auditor").get("/api/v1/market/series/rate:API-TEST2").status_code \
        == 404
    stored = ops.post(url, json={"filename": "rate.csv", "content": text},
                      params={"series": "rate:API-TEST2", "calendar": "weekdays"})
    assert stored.status_code == 201, stored.text
    assert {k: stored.json()[k] for k in ("series_id", "bars", "written", "last_date")} == {
        "series_id": "rate:API-TEST2", "bars": 3, "written": 3, "last_date": "2026-10-05"}
    bars = world.session("auditor").get("/api/v1/market/series/rate:API-TEST2").json()
    assert [Decimal(b["close"]) for b in bars["items"]] == [
        Decimal("21.5"), Decimal("22"), Decimal("21.75")]


def test_the_exported_journal_imports_back_as_replays(world: World) -> None:
    exported = world.session("auditor").get("/api/v1/entry-export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/yaml")
    back = world.session("ops").post(ENTRIES, content=exported.content,
                                     headers={"Content-Type": "application/yaml",
                                              "X-Filename": "entries.yaml"})
    assert back.status_code == 201, back.text
    results = back.json()["results"]
    assert results and all(r["replayed"] for r in results)
    assert "fund-sleeve" in {r["entry_id"] for r in results}
    pm = world.session("pm")
    trail = Trail(world)
    assert pm.get("/api/v1/entry-export").status_code == 403
    refused(trail, "pm", "GET /api/v1/entry-export", "forbidden")


def test_oversized_and_undecodable_files_are_refused_before_parsing(world: World) -> None:
    ops = world.session("ops")
    huge = ops.post(ENTRIES, content=b"x" * (2 * 1024 * 1024),
                    headers={"Content-Type": "text/csv"})
    assert huge.status_code == 413
    latin = ops.post(ENTRIES, content=move("api-imp-8").encode() + b"\xff\xfe",
                     headers={"Content-Type": "text/csv"})
    assert latin.status_code == 422 and latin.json()["field"] == "content"
    assert entry(world, "api-imp-8") is None


def test_the_look_through_totals_the_reported_exposures(world: World) -> None:
    if not world.reserve.managers.statements("hf-a", None):
        test_a_statement_is_imported_once_and_hidden_from_other_vehicles(world)
    got = world.session("auditor").get("/api/v1/manager-look-through?as_of=2026-10-30")
    assert got.status_code == 200, got.text
    assets = [t for t in got.json()["totals"] if t["dimension"] == "asset"]
    assert assets and all(t["managers"] == ["hf-a"] for t in assets)
    expected = world.reserve.managers.look_through(date(2026, 10, 30)).by("asset")
    assert [(t["key"], Decimal(t["value_usd"])) for t in assets] == [
        (t.key, t.value_usd) for t in expected]
    assert Decimal(assets[0]["value_usd"]) > 0
