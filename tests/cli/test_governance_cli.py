"""``qoima user|policy|order`` end to end on the demo workspace, bad input included."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from qoima.bootstrap.wiring import open_reserve
from qoima.cli.main import main
from qoima.market.calendars import CalendarName, get_calendar

ROOT = Path(__file__).resolve().parents[2]
STRICT_ALEM = """\
vehicle: alem-fund
version: 1
name: Stricter direct-token fund
effective_from: "2025-01-01"
change_delay_days: 14
limits:
  - id: per-instrument
    kind: concentration
    basis: instrument
    max_share: 75%
"""


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


def cli_json(*args: str) -> Any:
    code, out = cli(*args, "--json")
    assert code == 0, out
    return json.loads(out)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("gov") / "demo-reserve"
    assert main(["demo", "--dir", str(directory), "--size", "small", "--no-run", "--json"]) == 0
    for name, role in [("admin", "administrator"), ("pm", "portfolio_manager:da-sleeve"),
                       ("risk", "risk_officer"), ("cm1", "committee_member"),
                       ("auditor", "auditor"),
                       ("chair", "committee_member"), ("chair", "risk_officer")]:
        if name == "chair" and role == "risk_officer":
            code, out = cli("--dir", str(directory), "--as", "admin", "user", "grant", name,
                            "--role", "committee_member", "--role", role)
        else:
            code, out = cli("--dir", str(directory), "--as", "admin", "user", "add", name,
                            "--role", role)
        assert code == 0, out
    return directory


def test_policy_lifecycle_and_daily_check(demo: Path) -> None:
    d = str(demo)
    proposed = cli_json("--dir", d, "--as", "chair", "policy", "propose",
                        str(ROOT / "examples" / "policies" / "fx-sleeve.yaml"))
    assert proposed["status"] == "proposed"
    code, out = cli("--dir", d, "--as", "chair", "policy", "approve", "da-sleeve",
                    str(proposed["version"]))
    assert code == 1 and "proposed policy" in out  # the proposer cannot approve
    approved = cli_json("--dir", d, "--as", "cm1", "policy", "approve", "da-sleeve",
                        str(proposed["version"]))
    assert approved["status"] == "active"
    checks = cli_json("--dir", d, "--as", "risk", "policy", "check", "--vehicle", "da-sleeve")
    (check,) = checks
    assert {f["rule"] for f in check["findings"]} == {"policy.size"}  # empty sleeve < 50M
    assert [b["rule"] for b in check["opened"]] == ["policy.size"]
    register = cli_json("--dir", d, "policy", "breaches", "--vehicle", "da-sleeve")
    assert [b["rule"] for b in register] == ["policy.size"]
    again = cli_json("--dir", d, "--as", "risk", "policy", "check", "--vehicle", "da-sleeve")
    assert again[0]["opened"] == []  # still open, not opened twice
    code, out = cli("--dir", d, "--as", "auditor", "policy", "check")
    assert code == 1 and "auditor" in out  # recording a check is a write


def test_a_bad_policy_file_names_line_and_key_and_changes_nothing(demo: Path,
                                                                  tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(STRICT_ALEM.replace("max_share: 75%", "max_share: 175%"))
    before = cli_json("--dir", str(demo), "policy", "show")
    code, out = cli("--dir", str(demo), "--as", "pm", "policy", "propose", str(bad))
    assert code == 1
    assert "bad.yaml:10: field 'max_share'" in out
    assert cli_json("--dir", str(demo), "policy", "show") == before


def test_dry_run_reports_the_days_a_stricter_policy_flags(demo: Path, tmp_path: Path) -> None:
    strict = tmp_path / "strict.yaml"
    strict.write_text(STRICT_ALEM)
    result = cli_json("--dir", str(demo), "policy", "dry-run", "--policy", str(strict),
                      "--from", "2026-10-01", "--to", "2026-10-30")
    flagged = set(result["days_flagged"])
    # the same question asked directly of the valued book, day by day
    reserve = open_reserve(workspace=demo)
    try:
        days = get_calendar(CalendarName.KZ_VALUATION).sessions(date(2026, 10, 1),
                                                               date(2026, 10, 30))
        expected = set()
        for day in days:
            snapshot = reserve.valuation.snapshot(day, vehicle="alem-fund")
            nav = snapshot.vehicle("alem-fund").nav_usd
            top = max((p.value_usd or Decimal(0) for p in snapshot.positions
                       if p.instrument_code != "USD"), default=Decimal(0))
            if nav and top / nav > Decimal("0.75"):
                expected.add(day.isoformat())
    finally:
        reserve.close()
    assert result["days"] == len(days)
    assert flagged == expected
    # BNB outgrows 75 % of the fund in the second half of October
    assert 0 < len(flagged) < len(days)
    assert min(flagged) > "2026-10-15"


def test_orders_from_the_command_line(demo: Path) -> None:
    d = str(demo)
    order = cli_json("--dir", d, "--as", "pm", "order", "new", "--vehicle", "da-sleeve",
                     "--instrument", "IBIT", "--side", "buy", "--quantity", "1000",
                     "--price", "74.32", "--tranche", "main", "--custodian", "bny",
                     "--key", "cli-1")["order"]
    submitted = cli_json("--dir", d, "--as", "pm", "order", "submit", order["order_id"])
    # the sleeve holds no cash in the demo: buying would overdraw it
    rules = {f["rule"] for f in submitted["order"]["pretrade_findings"]}
    assert "policy.engine.negative_holding" in rules
    listed = cli_json("--dir", d, "--as", "auditor", "order", "list")
    assert [o["order_id"] for o in listed] == [order["order_id"]]


@pytest.mark.parametrize(("args", "message"), [
    (("order", "new", "--vehicle", "nowhere", "--instrument", "IBIT", "--side", "buy",
      "--quantity", "1", "--price", "1", "--key", "x"), "unknown vehicle"),
    (("order", "new", "--vehicle", "da-sleeve", "--instrument", "IBIT", "--side", "buy",
      "--quantity", "-5", "--price", "1", "--key", "y"), "quantity"),
    (("order", "new", "--vehicle", "da-sleeve", "--instrument", "IBIT", "--side", "hold",
      "--quantity", "5", "--price", "1", "--key", "z"), "buy or sell"),
    (("order", "approve", "ord-missing"), "no order"),
    (("user", "add", "mallory", "--role", "administrator"), "may not"),
])
def test_bad_order_input_is_one_clear_line(demo: Path, args: tuple[str, ...],
                                           message: str) -> None:
    code, out = cli("--dir", str(demo), "--as", "pm", *args)
    assert code in (1, 2)
    assert message in out
    assert "Traceback" not in out


def test_once_users_exist_every_write_needs_a_permitted_user(demo: Path, tmp_path: Path
                                                            ) -> None:
    entries = tmp_path / "entries.yaml"
    entries.write_text(
        "entries:\n"
        "  - id: move-cash\n"
        "    code: transfer\n"
        "    date: 2026-10-30\n"
        "    postings:\n"
        "      - account: holding:fx-reserves/investment:USD@bny\n"
        "        amount: '-10'\n"
        "      - account: holding:da-sleeve/main:USD@bny\n"
        "        amount: '10'\n")
    code, out = cli("--dir", str(demo), "--as", "auditor", "post", str(entries))
    assert code == 1 and "auditor" in out and "entry.post" in out
    code, out = cli("--dir", str(demo), "--as", "auditor", "audit", "checkpoint")
    assert code == 1 and "audit.checkpoint" in out
    code, out = cli("--dir", str(demo), "--as", "stranger", "post", str(entries))
    assert code == 1 and "unknown user" in out
    assert main(["--dir", str(demo), "--as", "admin", "user", "add", "ops",
                 "--role", "operations"]) == 0
    code, out = cli("--dir", str(demo), "--as", "ops", "post", str(entries))
    assert code == 0, out
