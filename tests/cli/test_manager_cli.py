"""``qoima manager`` end to end on a demo workspace: reference data and a mandate from YAML,
statements from CSV and XLSX (with a column map), replays that change nothing, every read
with --json agreeing with the service, oversight's exit code, and bad files refused in one
line naming file, row and column with nothing written."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from qoima.adapters.mandate_files import parse_mandate
from qoima.bootstrap.wiring import open_reserve
from qoima.cli import main as cli_main
from qoima.cli.manager_cmds import manager_app
from qoima.managers.model import Flow, FlowKind, Statement
from qoima.store.manager_repo import manager_repository
from tests.app.manager_world import (
    JAN_FEB,
    build_world,
    month,
    row_counts,
    write,
)

if not any(group.name == "manager" for group in cli_main.app.registered_groups):
    cli_main.app.add_typer(manager_app, name="manager")  # until main registers it

D = Decimal
REFERENCE = """\
managers:
  - {code: hf-q, name: Manager Q (test), kind: hedge_fund, vehicle: state-fund,
     strategy: relative value}
instruments:
  - {code: HF-Q-LP, name: Manager Q interest, kind: hedge_fund_interest, scale: 6,
     venue: PRIVATE, manager: hf-q}
accounts:
  - holding:state-fund/managers:HF-Q-LP@fund-admin
"""
MANDATE = """\
manager: hf-q
vehicle: state-fund
kind: hedge_fund
strategy: relative value
inception: "2026-01-01"
allocation: 8_000_000
statements: {frequency: monthly, lag_days: 20}
fees: {management_rate: 2%}
guidelines: {max_leverage: 2, max_single_asset_share: 60%}
"""


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main.main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("manager-cli")
    reserve = open_reserve(workspace=directory, create=True)
    build_world(reserve)
    reserve.close()
    return directory


def run(workspace: Path, actor: str, *args: str) -> tuple[int, Any]:
    code, out, err = cli("--dir", str(workspace), "--as", actor, "manager", *args)
    if code == 0 and "--json" in args:
        return code, json.loads(out)
    return code, out + err


def counts(workspace: Path) -> dict[str, int]:
    reserve = open_reserve(workspace=workspace)
    try:
        return row_counts(reserve)
    finally:
        reserve.close()


def test_reads_of_the_demo_managers(workspace: Path) -> None:
    code, listed = run(workspace, "auditor", "list", "--json")
    assert code == 0
    assert [(m["manager"], m["last_period_end"]) for m in listed] == [
        ("hf-a", "2026-09-30"), ("hf-b", "2026-09-30"), ("hf-c", "2026-09-30"),
        ("hf-d", "2026-09-30"), ("hf-e", "2026-09-30"), ("vc-f", "2026-07-31"),
        ("vc-g", "2026-07-31")]
    code, shown = run(workspace, "auditor", "show", "hf-c", "--json")
    assert code == 0 and len(shown["statements"]) == 10
    assert D(shown["mandate"]["fees"]["performance_rate"]) == D("0.2")
    code, performance = run(workspace, "auditor", "performance", "hf-c", "--benchmark",
                            "BTC", "--json")
    assert code == 0 and performance["benchmark"] == "BTC"
    returns = [r["value"] for r in performance["returns"]]
    twr = 1.0
    for r in returns:
        twr *= 1 + r
    assert performance["scorecard"]["twr"] == pytest.approx(twr - 1, rel=1e-12)
    code, compared = run(workspace, "auditor", "compare", "--as-of", "2026-10-30", "--json")
    assert code == 0
    assert {r["manager"]: r["errors"] for r in compared}["hf-e"] == 1
    code, looked = run(workspace, "auditor", "look-through", "--as-of", "2026-10-30", "--json")
    assert code == 0 and looked["flagged"] == ["vc-g"]
    assert sum(D(v["value_usd"]) for v in looked["venue"]) == pytest.approx(
        sum(D(v["value_usd"]) for v in looked["custodian"]), abs=D("0.5"))
    code, cards = run(workspace, "auditor", "scorecard", "hf-d", "--as-of", "2026-10-30",
                      "--json")
    assert code == 0 and [f["rule"] for f in cards[0]["findings"]] == [
        "manager.late_statement"]
    code, text = run(workspace, "auditor", "oversight", "--as-of", "2026-10-30")
    assert code == 3 and "manager.fee_mismatch" in text  # hf-e's overcharge is an error
    code, text = run(workspace, "auditor", "compare", "--as-of", "2026-10-30")
    assert code == 0 and "hf-e" in text


def _statements(manager: str = "hf-q") -> tuple[Statement, Statement]:
    mandate = replace(parse_mandate(MANDATE), manager_code=manager)
    (j0, j1), (f0, f1) = JAN_FEB
    jan = month(mandate, j0, j1, D(0), pnl=D(80_000),
                flows=[Flow(j0, FlowKind.SUBSCRIPTION, D(8_000_000))])
    feb = month(mandate, f0, f1, jan.closing_nav, pnl=D(-20_000), earlier=[jan])
    return jan, feb


def test_a_new_manager_from_files_to_the_book(workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "reference.yaml").write_text(REFERENCE)
    code, out, err = cli("--dir", str(workspace), "--as", "admin", "reference", "load",
                         str(tmp_path / "reference.yaml"))
    assert code == 0, err
    (tmp_path / "mandate.yaml").write_text(MANDATE)
    code, text = run(workspace, "ops", "add", str(tmp_path / "mandate.yaml"))
    assert code == 1 and "may not" in text  # operations does not sign mandates
    code, added = run(workspace, "cm1", "add", str(tmp_path / "mandate.yaml"), "--json")
    assert code == 0 and added["version"] == 1
    jan, feb = _statements()
    jan_file = write(jan, tmp_path / "hf-q-jan.csv")
    code, imported = run(workspace, "ops", "import-statement", str(jan_file), "--manager",
                         "hf-q", "--received", "2026-02-10", "--json")
    assert code == 0 and not imported["replayed"]
    assert imported["posted"] == ["MGR-hf-q-2026-01-01-subscription"]
    before = counts(workspace)
    code, again = run(workspace, "ops", "import-statement", str(jan_file), "--manager",
                      "hf-q", "--json")
    assert code == 0 and again["replayed"] and again["posted"] == imported["posted"]
    assert counts(workspace) == before

    # February in XLSX with the sheet and the headers renamed, read through a column map
    import openpyxl

    renamed = {"amount": "Value (USD)", "line": "Type"}
    path = write(feb, tmp_path / "hf-q-feb.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["statement"]
    sheet.title = "Feb"
    for cell in sheet[1]:
        cell.value = renamed.get(str(cell.value), cell.value)
    book.save(path)
    mapping = ",".join(f"{k}={v}" for k, v in renamed.items())
    code, text = run(workspace, "ops", "import-statement", str(path), "--manager", "hf-q",
                     "--sheet", "Feb")
    assert code == 1 and f"{path}[Feb]:1: field 'line': missing column 'line'" in text
    assert counts(workspace) == before
    code, imported = run(workspace, "ops", "import-statement", str(path), "--manager", "hf-q",
                         "--sheet", "Feb", "--map", mapping, "--json")
    assert code == 0 and imported["posted"] == [] and imported["findings"] == []
    code, shown = run(workspace, "auditor", "show", "hf-q", "--json")
    assert [s["period_end"] for s in shown["statements"]] == ["2026-01-31", "2026-02-28"]
    assert shown["statements"][1]["sheet"] == "Feb"
    assert shown["statements"][0]["received_on"] == "2026-02-10"


def test_a_bad_file_is_one_line_naming_row_and_column(workspace: Path, tmp_path: Path
                                                      ) -> None:
    october = month(replace(parse_mandate(MANDATE), manager_code="hf-b"), date(2026, 10, 1),
                    date(2026, 10, 31), D(1_000_000))
    path = write(october, tmp_path / "bad.csv")
    lines = path.read_text().splitlines()
    row = next(i for i, line in enumerate(lines, 1) if ",BTC," in line)
    lines[row - 1] = lines[row - 1].replace(",BTC,", ",DOGE,")
    path.write_text("\n".join(lines) + "\n")
    before = counts(workspace)
    code, out, err = cli("--dir", str(workspace), "--as", "ops", "manager", "import-statement",
                         str(path), "--manager", "hf-b")
    assert code == 1 and out == ""
    message = " ".join(err.split())
    assert f"{path}:{row}: field 'asset'" in message and "unknown asset 'DOGE'" in message
    assert len(err.strip().splitlines()) <= 2  # one line (wrapped at most once)
    assert counts(workspace) == before
    code, text = run(workspace, "ops", "import-statement", str(tmp_path / "none.csv"),
                     "--manager", "hf-b")
    assert code == 1 and "file not found" in text
    code, text = run(workspace, "auditor", "performance", "no-such-manager")
    assert code == 1 and "no mandate for manager no-such-manager" in text


def test_the_cli_reads_what_the_service_stores(workspace: Path) -> None:
    reserve = open_reserve(workspace=workspace)
    try:
        with reserve.units(write=False) as uow:
            stored = manager_repository(uow).find_statement("hf-a", date(2026, 9, 30))
    finally:
        reserve.close()
    assert stored is not None
    code, shown = run(workspace, "auditor", "show", "hf-a", "--json")
    last = shown["statements"][-1]
    assert (last["period_end"], D(last["closing_nav"])) == ("2026-09-30", stored.closing_nav)
