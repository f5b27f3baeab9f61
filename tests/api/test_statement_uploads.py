"""A manager's statement over HTTP as the CLI takes it: CSV or XLSX (raw body or base64 in
JSON), with a sheet, a column map and the day it arrived; the import is keyed by the file's
bytes, so the same workbook sent either way is one import."""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from qoima.adapters.statement_files import read_statement
from tests.api.conftest import World

EXAMPLES = Path(__file__).parents[2] / "examples" / "managers"
WORKBOOK = EXAMPLES / "statement-hf-a-2026-09.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
URL = "/api/v1/managers/hf-a/statements"


@pytest.fixture(scope="module")
def hf_a(world: World) -> World:
    added = world.session("admin").post(
        "/api/v1/managers/mandates", content=(EXAMPLES / "mandate-hf-a.yaml").read_text(),
        headers={"Content-Type": "application/yaml"})
    assert added.status_code == 201, added.text
    return world


def stored(world: World) -> int:
    return len(world.reserve.managers.statements("hf-a", None))


def test_refused_workbooks_write_nothing(hf_a: World) -> None:
    ops = hf_a.session("ops")
    damaged = ops.post(URL, content=b"PK\x03\x04 not a workbook",
                       headers={"Content-Type": XLSX, "X-Filename": "sept.xlsx"})
    assert damaged.status_code == 422, damaged.text
    assert damaged.json()["origin"] == "sept.xlsx"
    assert "not a readable XLSX workbook" in damaged.json()["detail"]
    assert "qoima-upload" not in damaged.text
    no_sheet = ops.post(URL, params={"sheet": "Oct"}, content=WORKBOOK.read_bytes(),
                        headers={"Content-Type": XLSX})
    assert no_sheet.status_code == 422, no_sheet.text
    assert no_sheet.json()["field"] == "sheet" and "'Oct'" in no_sheet.json()["detail"]
    for junk in ("***", "æÏh´", "QUJD"[:3]):  # not base64, not ASCII, cut short
        not_base64 = ops.post(URL, json={"filename": "s.xlsx", "content": junk,
                                         "encoding": "base64"})
        assert not_base64.status_code == 422, not_base64.text
        assert not_base64.json()["field"] == "content"
    bad_map = ops.post(URL, params={"columns": "amount"}, content=WORKBOOK.read_bytes(),
                       headers={"Content-Type": XLSX})
    assert bad_map.status_code == 422 and bad_map.json()["field"] == "columns"
    unknown_field = ops.post(URL, params={"columns": "nav=Value"},
                             content=WORKBOOK.read_bytes(), headers={"Content-Type": XLSX})
    assert unknown_field.status_code == 422 and "nav" in unknown_field.json()["detail"]
    # their headers, mapped: a bad amount is reported under their column's name
    csv = (EXAMPLES / "statement-hf-a-2026-09.csv").read_text()
    theirs = csv.replace(",amount,", ",Value (USD),", 1).replace(",1120000,", ",1.12m,", 1)
    unmapped = ops.post(URL, content=theirs, headers={"Content-Type": "text/csv"})
    assert unmapped.status_code == 422 and "amount" in unmapped.json()["detail"]
    mapped = ops.post(URL, params={"columns": "amount=Value (USD)"}, content=theirs,
                      headers={"Content-Type": "text/csv"})
    assert mapped.status_code == 422, mapped.text
    assert (mapped.json()["field"], mapped.json()["origin"]) == ("Value (USD)", "upload.csv:3")
    assert stored(hf_a) == 0


def test_a_workbook_is_imported_as_the_cli_reads_it_and_once(hf_a: World) -> None:
    ops = hf_a.session("ops")
    data = WORKBOOK.read_bytes()
    first = ops.post(URL, params={"received": "2026-10-12"}, content=data,
                     headers={"Content-Type": XLSX, "X-Filename": "hf-a-sept.xlsx"})
    assert first.status_code == 201, first.text
    got = first.json()
    expected = read_statement(WORKBOOK, manager_code="hf-a", known_assets=None)  # type: ignore[arg-type]
    assert (got["period_start"], got["period_end"]) == ("2026-09-01", "2026-09-30")
    assert Decimal(got["closing_nav"]) == expected.closing_nav
    assert got["file_hash"] == hashlib.sha256(data).hexdigest()  # what the CLI records
    assert got["replayed"] is False
    [record] = hf_a.reserve.managers.statements("hf-a", None)
    assert record.received_on == date(2026, 10, 12)
    # the same bytes as base64 in JSON, under another name: the same import
    again = ops.post(URL, json={"filename": "copy.xlsx", "encoding": "base64",
                                "content": base64.b64encode(data).decode()})
    assert again.status_code == 201, again.text
    assert again.json()["replayed"] is True and again.json()["file_hash"] == got["file_hash"]
    assert stored(hf_a) == 1
    # another file for the period already imported is refused, whatever its format, and
    # the refusal names the uploaded file (never the server's temporary copy)
    csv = (EXAMPLES / "statement-hf-a-2026-09.csv").read_text()
    other = ops.post(URL, content=csv, headers={"Content-Type": "text/csv",
                                                "X-Filename": "sept.csv"})
    assert other.status_code == 422, other.text
    problem = other.json()
    assert (problem["field"], problem["origin"]) == ("period_start", "sept.csv:2")
    assert problem["details"]["file"] == "sept.csv" and "qoima-upload" not in other.text
    assert stored(hf_a) == 1


def test_a_text_file_sent_as_base64_must_be_utf8(hf_a: World) -> None:
    mandate = (EXAMPLES / "mandate-hf-a.yaml").read_bytes()
    admin = hf_a.session("admin")
    latin1 = admin.post("/api/v1/managers/mandates", json={
        "filename": "m.yaml", "encoding": "base64",
        "content": base64.b64encode(b"# caf\xe9\n" + mandate).decode()})
    assert latin1.status_code == 422, latin1.text
    assert latin1.json()["field"] == "content" and "UTF-8" in latin1.json()["detail"]
    same = admin.post("/api/v1/managers/mandates", json={
        "filename": "m.yaml", "encoding": "base64",
        "content": base64.b64encode(mandate).decode()})
    assert same.status_code == 201, same.text
    assert same.json()["version"] == 1  # the mandate the fixture set, not a new version

