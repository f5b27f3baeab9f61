"""``qoima optimize|size|gate|tranche|backtest deploy`` end to end on demo workspaces built
with the command line (people, the sleeve policy, cash in the sleeve): figures checked
against the stored data, exit codes, JSON, one-line errors, and real history when present."""

from __future__ import annotations

import contextlib
import io
import json
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qoima.adapters.policy_files import read_policy
from qoima.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "policies" / "fx-sleeve.yaml"
MARKET = ROOT.parent / "shared" / "data" / "market"
SLEEVE = "da-sleeve"
USERS = [("admin", "administrator"), ("pm", "portfolio_manager:da-sleeve"),
         ("risk", "risk_officer"), ("cm1", "committee_member"), ("ops", "operations"),
         ("auditor", "auditor")]
FUND = """\
entries:
  - id: fund-sleeve
    code: transfer
    date: 2026-10-30
    postings:
      - account: holding:fx-reserves/investment:USD@bny
        amount: '-{amount}'
      - account: holding:da-sleeve/main:USD@bny
        amount: '{amount}'
"""
EPS = 1e-7


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _refuse(constant: str) -> None:
    raise AssertionError(f"{constant} in JSON output")


def cli_json(*args: str, code: int = 0) -> Any:
    got, out, err = cli(*args, "--json")
    assert got == code, out + err
    return json.loads(out, parse_constant=_refuse)


def ok(*args: str) -> str:
    code, out, err = cli(*args)
    assert code == 0, out + err
    return out


def permissive_policy(text: str) -> str:
    """The example policy with a gate that only asks BTC volatility <= 200 % (GO on the
    demo), and a second tranche that does not wait for the gate."""
    start, end = text.index("  gate:\n"), text.index("  sizing:\n")
    gate = ("  gate:\n    signals:\n      - id: btc-volatility\n"
            "        signal: realized_volatility\n        series: BTC\n"
            "        window_days: 30\n        max_value: 200%\n")
    text = text[:start] + gate + text[end:]
    return text.replace("      - id: t2\n", "      - id: t2\n        requires_gate: false\n")


def cvar_budget(text: str, max_usd: str) -> str:
    old = "    kind: risk_cvar\n    max_usd: 25_000_000\n"
    assert old in text
    return text.replace(old, f"    kind: risk_cvar\n    max_usd: {max_usd}\n")


def governed(directory: Path, policy_text: str, fund_usd: int) -> str:
    """The demo, its people, ``policy_text`` proposed by pm and approved by cm1, and
    ``fund_usd`` moved into the sleeve's cash: all through the command line."""
    code, out, err = cli("demo", "--dir", str(directory), "--size", "small", "--no-run", "--json")
    assert code == 0, out + err
    d = str(directory)
    for name, role in USERS:
        ok("--dir", d, "--as", "admin", "user", "add", name, "--role", role)
    policy = directory / "policy.yaml"
    policy.write_text(policy_text)
    ok("--dir", d, "--as", "pm", "policy", "propose", str(policy))
    ok("--dir", d, "--as", "cm1", "policy", "approve", SLEEVE, "1")
    entries = directory / "fund.yaml"
    entries.write_text(FUND.format(amount=fund_usd))
    ok("--dir", d, "--as", "ops", "post", str(entries))
    return d


@pytest.fixture(scope="module")
def wait_ws(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The example policy (its gate says WAIT on the demo), USD 100M in the sleeve."""
    return governed(tmp_path_factory.mktemp("alloc") / "wait", POLICY.read_text(), 100_000_000)


@pytest.fixture(scope="module")
def go_ws(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The permissive-gate policy, USD 300M in the sleeve."""
    return governed(tmp_path_factory.mktemp("alloc") / "go",
                    permissive_policy(POLICY.read_text()), 300_000_000)


def _bars(d: str, code: str) -> list[dict[str, Any]]:
    shown = cli_json("--dir", d, "data", "show", f"price:{code}")
    return shown["bars"]  # type: ignore[no-any-return]


def _adv_usd(d: str, code: str) -> float:
    """20-session mean volume times the last close, from ``data show``."""
    bars = _bars(d, code)
    volumes = [float(b["volume"]) for b in bars[-20:] if b["volume"] is not None]
    return sum(volumes) / len(volumes) * float(bars[-1]["close"])


# -- optimize ----------------------------------------------------------------------------------


def test_optimize_keeps_the_policy_and_buys_whole_lots(wait_ws: str) -> None:
    mix = cli_json("--dir", wait_ws, "optimize")
    assert (mix["vehicle"], mix["as_of"], mix["method"]) == (SLEEVE, "2026-10-30", "min_cvar")
    assert mix["synthetic_market"] is True and mix["policy_version"] == 1
    size = float(mix["size_usd"])
    assert size == 300e6  # the policy maximum
    w = {row["code"]: row["weight"] for row in mix["weights"]}
    assert set(w) == {"IBIT", "FBTC", "ETHA", "AIX-BTC", "COIN"}  # the allow list
    assert math.fsum(w.values()) == pytest.approx(1.0, abs=1e-9)
    assert min(w.values()) >= -EPS and max(w.values()) <= 0.6 + EPS
    reference = {i["code"]: i for i in cli_json("--dir", wait_ws, "reference", "list")[
        "instruments"]}
    groups: dict[tuple[str, str], float] = {}
    for code, weight in w.items():
        underlying = reference[code]["underlying"]
        if underlying:
            key = ("underlying", underlying["asset"])
            groups[key] = groups.get(key, 0.0) + weight
        key = ("issuer", reference[code]["issuer"])
        groups[key] = groups.get(key, 0.0) + weight
    assert groups[("underlying", "ETH")] <= 0.3 + EPS
    assert groups[("underlying", "BTC")] <= 0.9 + EPS
    assert max(v for (kind, _), v in groups.items() if kind == "issuer") <= 0.7 + EPS
    # 80 % sellable within 5 days at 20 % of ADV: sum of min(w, c) with c from the data
    capacity = {c: 5 * 0.2 * _adv_usd(wait_ws, c) / size for c in w}
    assert math.fsum(min(w[c], capacity[c]) for c in w) >= 0.8 - EPS
    assert capacity["AIX-BTC"] < 0.01 and w["AIX-BTC"] > capacity["AIX-BTC"]  # cut binds
    spent = Decimal(0)
    for row in mix["weights"]:
        price, quantity = Decimal(row["price_usd"]), Decimal(row["quantity"])
        assert abs(quantity - math.floor(row["weight"] * size / float(price))) <= 1
        assert Decimal(row["amount_usd"]) == quantity * price
        spent += quantity * price
    assert spent + Decimal(mix["cash_left_usd"]) == Decimal(mix["size_usd"])
    assert Decimal(mix["cash_left_usd"]) >= 0
    assert mix["cvar"] >= mix["var"] > 0
    assert math.fsum(row["risk_contribution"] for row in mix["weights"]) == pytest.approx(
        mix["cvar"], rel=1e-9)
    assert "highspy" in mix["provenance"]["versions"]


def test_a_denied_instrument_is_excluded_with_the_limit(wait_ws: str) -> None:
    mix = cli_json("--dir", wait_ws, "optimize", "-i", "BTC", "-i", "IBIT", "-i", "FBTC",
                   "-i", "ETHA")
    assert "BTC" not in {row["code"] for row in mix["weights"]}
    limits = {e["limit"] for e in mix["excluded"] if e["code"] == "BTC"}
    assert {"instruments", "eligible"} <= limits
    code, out, err = cli("--dir", wait_ws, "optimize", "-i", "BTC", "-i", "IBIT", "-i", "FBTC",
                         "-i", "ETHA")
    assert code == 0 and "excluded BTC (instruments)" in out


@pytest.mark.parametrize(("args", "code", "message"), [
    (("optimize", "--method", "min_variance", "-i", "IBIT", "-i", "FBTC"), 1,
     "per-underlying: underlying BTC at most 0.9 of the sleeve"),
    (("size", "--weights", "IBIT=0.6,FBTC=0.4"), 1, "per-underlying"),
    (("size", "--weights", "IBIT=0.7,FBTC=0.4"), 1, "weights sum to 1.1"),
    (("size", "--weights", "IBIT=lots"), 2, "--weights"),
    (("size", "--weights", "IBIT=0.5,BTC=0.5"), 1, "BTC"),
    (("optimize", "--method", "magic"), 2, "--method"),
    (("optimize", "--size", "-5"), 2, "--size"),
    (("optimize", "-i", "NOPE"), 1, "unknown instrument"),
    (("gate", "--vehicle", "nowhere"), 1, "unknown vehicle 'nowhere'"),
    (("--as", "risk", "gate", "--vehicle", "nowhere", "--record"), 1,
     "unknown vehicle 'nowhere'"),
    (("gate", "--as-of", "2026-02-30"), 2, "--as-of"),
    (("tranche", "status", "plan-missing"), 1, "no tranche plan 'plan-missing'"),
    (("--as", "pm", "tranche", "plan", "--target", "400M"), 1, "above the last tranche"),
    (("--as", "pm", "tranche", "plan", "--target", "30M"), 1, "below its floor"),
    (("backtest", "deploy", "--horizon", "1000"), 1, "1000-day horizon"),
    (("backtest", "deploy", "--horizon", "60"), 1, "too short for start dates"),
    (("backtest", "deploy", "--tranches", "0", "--horizon", "60", "--from", "2025-12-01"), 1,
     "tranche counts must be at least 1"),
    (("backtest", "deploy", "--series", "DOGE"), 1, "no stored price series 'DOGE'"),
])
def test_bad_requests_are_one_clear_line(wait_ws: str, args: tuple[str, ...], code: int,
                                         message: str) -> None:
    got, out, err = cli("--dir", wait_ws, *args)
    assert got == code, out + err
    assert message in out + err
    assert "Traceback" not in out + err
    if code == 1:
        lines = [line for line in (out + err).splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), lines


# -- size ----------------------------------------------------------------------------------------


def test_size_with_fixed_weights_gives_the_curve_from_50m_to_300m(wait_ws: str) -> None:
    sizing = cli_json("--dir", wait_ws, "size", "--weights", "IBIT=0.5,FBTC=30%,ETHA=0.2")
    assert sizing["mix"] == pytest.approx({"IBIT": 0.5, "FBTC": 0.3, "ETHA": 0.2}, abs=1e-9)
    assert sizing["sleeve_usd"] == 0.0  # the USD 100M in the sleeve is cash, not exposure
    assert sizing["range_usd"] == [50e6, 300e6] and sizing["level"] == 0.99
    curve = sizing["curve"]
    assert [row["size_usd"] for row in curve] == [50e6 + 10e6 * k for k in range(26)]
    # nothing deployed yet: CVaR and the stress loss are proportional to the size
    unit_cvar = curve[0]["uses"]["cvar"]["value"] / curve[0]["size_usd"]
    unit_stress = curve[0]["uses"]["stress"]["value"] / curve[0]["size_usd"]
    for row in curve:
        cvar = row["uses"]["cvar"]
        assert cvar["value"] == pytest.approx(unit_cvar * row["size_usd"], rel=1e-9)
        assert cvar["use"] == pytest.approx(cvar["value"] / cvar["cap"], rel=1e-12)
        assert cvar["cap"] == 25e6  # min(USD 25M, 0.5 % of reserves)
        assert row["uses"]["stress"]["value"] == pytest.approx(unit_stress * row["size_usd"],
                                                               rel=1e-9)
        assert row["feasible"] == all(u["use"] is not None and u["use"] <= 1 + 1e-12
                                      for u in row["uses"].values())
    assert 0.005 * sizing["total_reserves_usd"] > 25e6
    assert sizing["status"] == "sized" and sizing["recommended_usd"] == 300e6
    assert sizing["binding"] == ["range maximum"]


@pytest.fixture(scope="module")
def tight_ws(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The example policy with a USD 5M CVaR budget."""
    return governed(tmp_path_factory.mktemp("alloc") / "tight",
                    cvar_budget(POLICY.read_text(), "5_000_000"), 100_000_000)


def test_a_tight_cvar_budget_binds_and_a_tighter_one_is_infeasible(
        tight_ws: str, tmp_path: Path) -> None:
    sizing = cli_json("--dir", tight_ws, "size")
    assert sizing["status"] == "sized" and sizing["binding"] == ["cvar"]
    recommended = sizing["recommended_usd"]
    assert 50e6 < recommended < 300e6
    row = sizing["curve"][0]
    unit = row["uses"]["cvar"]["value"] / row["size_usd"]  # CVaR per USD of the mix
    assert row["uses"]["cvar"]["cap"] == 5e6
    assert recommended * unit <= 5e6 * (1 + 1e-9)
    assert (recommended + 1e6) * unit > 5e6  # the next USD 1M breaches
    assert recommended == pytest.approx(5e6 / unit, abs=0.01)
    assert {b["budget"]: b["max_size_usd"] for b in sizing["boundaries"]}["cvar"] == \
        pytest.approx(recommended, abs=0.01)
    # a tighter budget (in force at once) leaves no size: a result, not a failure
    tighter = tmp_path / "tighter.yaml"
    tighter.write_text(cvar_budget(POLICY.read_text(), "1_000_000").replace(
        "version: 1\n", "version: 2\n", 1))
    ok("--dir", tight_ws, "--as", "pm", "policy", "propose", str(tighter))
    ok("--dir", tight_ws, "--as", "cm1", "policy", "approve", SLEEVE, "2")
    none = cli_json("--dir", tight_ws, "size")
    assert none["policy_version"] == 2
    assert none["status"] == "infeasible" and none["recommended_usd"] is None
    assert none["breached_at_minimum"] == ["cvar"] and none["binding"] == ["cvar"]
    assert "USD 50M" in none["message"] and "limit cvar" in none["message"]
    code, out, err = cli("--dir", tight_ws, "size")
    assert code == 0, out + err
    assert "NO SIZE" in out and "limit cvar" in out
    # and a tranche plan cannot default its target to a size that does not exist
    code, out, err = cli("--dir", tight_ws, "--as", "pm", "tranche", "plan")
    assert code == 1 and "no size keeps every budget" in err and "Traceback" not in err


# -- gate ----------------------------------------------------------------------------------------


def test_gate_waits_on_the_demo_and_is_recorded_once(wait_ws: str) -> None:
    ids = [s.id for s in read_policy(POLICY).gate.signals]
    shown = cli_json("--dir", wait_ws, "gate", code=3)  # 3: WAIT, for scripts
    assert shown["verdict"] == "wait" and shown["policy_version"] == 1
    assert [s["id"] for s in shown["signals"]] == ids
    blocking = [s["id"] for s in shown["signals"] if s["blocks"]]
    assert blocking == ["btc-drawdown"]
    (reason,) = shown["reasons"]
    assert "drawdown" in reason and "needs 365" in reason
    code, out, _ = cli("--dir", wait_ws, "gate")
    assert code == 3 and "WAIT because:" in out and "btc-drawdown" in out

    before = cli_json("--dir", wait_ws, "audit", "verify")["records"]
    first = cli_json("--dir", wait_ws, "--as", "risk", "gate", "--record", code=3)
    recorded = first["recorded"]
    assert recorded["new"] is True and recorded["recorded_by"] == "risk"
    trail = cli_json("--dir", wait_ws, "audit", "verify")
    assert trail["ok"] is True and trail["records"] == before + 1
    again = cli_json("--dir", wait_ws, "--as", "risk", "gate", "--record", code=3)
    assert again["recorded"]["new"] is False
    assert again["recorded"]["id"] == recorded["id"]
    assert again["recorded"]["decision_hash"] == recorded["decision_hash"]
    assert cli_json("--dir", wait_ws, "audit", "verify")["records"] == before + 1
    code, out, _ = cli("--dir", wait_ws, "--as", "risk", "gate", "--record")
    assert code == 3 and "already recorded" in out
    code, out, err = cli("--dir", wait_ws, "--as", "auditor", "gate", "--record")
    assert code == 1 and "auditor" in err and "Traceback" not in err
    assert cli_json("--dir", wait_ws, "audit", "verify")["records"] == before + 1
    # the trail's record carries every signal and the inputs hash
    from qoima.bootstrap.wiring import open_reserve

    reserve = open_reserve(workspace=Path(wait_ws))
    try:
        with reserve.units(write=False) as uow:
            records = [r for r in uow.audit.iter_records() if r.action == "gate.decided"]
            decisions = uow.allocation.list_gate_decisions(SLEEVE)
    finally:
        reserve.close()
    (record,) = records
    payload = json.loads(record.payload)
    assert record.actor == "risk" and record.object_id == f"{SLEEVE}:2026-10-30"
    assert payload["decision_hash"] == recorded["decision_hash"]
    assert payload["inputs_hash"] == shown["inputs_hash"]
    assert [s["id"] for s in payload["signals"]] == ids
    assert [d.decision_hash for d in decisions] == [recorded["decision_hash"]]


def test_a_permissive_gate_says_go(go_ws: str) -> None:
    shown = cli_json("--dir", go_ws, "gate")  # exit 0
    assert shown["verdict"] == "go" and shown["reasons"] == []
    assert [s["id"] for s in shown["signals"]] == ["btc-volatility"]
    closes = np.array([float(b["close"]) for b in _bars(go_ws, "BTC")[-31:]])
    volatility = np.std(closes[1:] / closes[:-1] - 1, ddof=1) * math.sqrt(365)
    assert shown["signals"][0]["value"] == pytest.approx(volatility, rel=1e-6)
    code, out, _ = cli("--dir", go_ws, "gate")
    assert code == 0 and out.startswith("GO da-sleeve on 2026-10-30")


# -- tranche plans ------------------------------------------------------------------------------


def test_a_plan_under_wait_blocks_the_first_tranche(wait_ws: str) -> None:
    plan = cli_json("--dir", wait_ws, "--as", "pm", "tranche", "plan")
    assert plan["gate"] == "wait" and plan["target_usd"] == "300000000"
    t1, t2 = plan["tranches"]
    assert (t1["id"], t1["status"], t2["id"], t2["status"]) == ("t1", "blocked", "t2", "planned")
    assert "waiting for the gate" in t1["reason"]
    assert (Decimal(t1["amount_usd"]), Decimal(t2["amount_usd"])) == (Decimal(250_000_000),
                                                                      Decimal(50_000_000))
    assert plan["orders"] == [] and plan["created_orders"] == []
    replay = cli_json("--dir", wait_ws, "--as", "pm", "tranche", "plan")
    assert replay["plan_id"] == plan["plan_id"] and replay["created_orders"] == []
    listed = cli_json("--dir", wait_ws, "tranche", "list")
    assert [(p["plan_id"], p["orders"], p["created_by"]) for p in listed] == [
        (plan["plan_id"], 0, "pm")]
    assert cli_json("--dir", wait_ws, "--as", "auditor", "order", "list") == []
    status = cli_json("--dir", wait_ws, "tranche", "status", plan["plan_id"])
    assert [t["status"] for t in status["tranches"]] == ["blocked", "planned"]
    code, out, err = cli("--dir", wait_ws, "--as", "auditor", "tranche", "plan", "--target",
                         "100M")
    assert code == 1 and "auditor" in err


def _order(d: str, order_id: str) -> dict[str, Any]:
    (found,) = [o for o in cli_json("--dir", d, "--as", "auditor", "order", "list")
                if o["order_id"] == order_id]
    return found  # type: ignore[no-any-return]


def test_tranches_from_plan_to_fills_to_the_next_release(go_ws: str) -> None:
    plan = cli_json("--dir", go_ws, "--as", "pm", "tranche", "plan")
    plan_id = plan["plan_id"]
    t1, t2 = plan["tranches"]
    assert plan["gate"] == "go" and (t1["status"], t2["status"]) == ("released", "planned")
    amount = Decimal(t1["amount_usd"])
    accounts = {a["instrument"]: a for a in cli_json("--dir", go_ws, "account", "list")
                if a["vehicle"] == SLEEVE and a["kind"] == "holding"}
    bought = {line["instrument"]: line for line in t1["lines"]
              if Decimal(line["quantity"]) > 0}
    assert sorted(plan["created_orders"]) == sorted(o["order_id"] for o in plan["orders"])
    assert {o["instrument"] for o in plan["orders"]} == set(bought)
    assert {o["tranche"] for o in plan["orders"]} == {"t1"}
    cost = Decimal(0)
    for listed in plan["orders"]:
        order = _order(go_ws, listed["order_id"])
        line, terms = bought[listed["instrument"]], order["terms"]
        price = Decimal(terms["estimated_price"])
        assert order["status"] == "draft" and order["approvals"] == []
        assert order["maker"] == "pm"
        assert terms["quantity"] == line["quantity"]
        assert terms["tranche_code"] == "main"
        assert terms["custodian_code"] == accounts[listed["instrument"]]["custodian"]
        assert Decimal(line["cost_usd"]) == Decimal(line["quantity"]) * price
        allotment = amount * Decimal(repr(line["weight"]))
        assert -Decimal("0.01") <= allotment - Decimal(line["cost_usd"]) < price + Decimal(
            "0.01")
        # at most 10 % of ADV a session, within the 20 sessions the policy allows
        assert float(Decimal(line["daily_max_quantity"]) * price) <= 0.1 * _adv_usd(
            go_ws, line["instrument"])
        assert line["sessions"] <= 20
        cost += Decimal(line["cost_usd"])
    assert cost <= amount
    assert t1["sessions"] <= 20 and t2["sessions"] <= 20
    replay = cli_json("--dir", go_ws, "--as", "pm", "tranche", "plan")
    assert replay["plan_id"] == plan_id and replay["created_orders"] == []

    # submit, four eyes, fill
    executed = Decimal(0)
    today = datetime.now(UTC).date()
    for number, listed in enumerate(plan["orders"]):
        order_id = listed["order_id"]
        ok("--dir", go_ws, "--as", "pm", "order", "submit", order_id)
        for person in ("risk", "cm1"):
            approved = cli_json("--dir", go_ws, "--as", person, "order", "approve", order_id)
            if approved["order"]["status"] == "approved":
                break
        assert approved["order"]["status"] == "approved", approved
        quantity = Decimal(listed["quantity"])
        price = Decimal(_order(go_ws, order_id)["terms"]["estimated_price"])
        ok("--dir", go_ws, "--as", "ops", "order", "execute", order_id, "--fill-id",
           f"f{number}", "--quantity", str(quantity), "--price", str(price),
           "--venue", "NASDAQ", "--counterparty", "broker-x")
        executed += quantity * price
    status = cli_json("--dir", go_ws, "tranche", "status", plan_id)
    assert status["tranches"][0]["status"] == "executed"
    assert Decimal(status["tranches"][0]["executed_usd"]) == executed
    assert {o["status"] for o in status["orders"]} == {"executed"}
    # t2 does not wait for the gate, only 20 days after t1's last fill
    early = cli_json("--dir", go_ws, "--as", "pm", "tranche", "release", plan_id,
                     "--as-of", str(today + timedelta(days=19)))
    assert early["created_orders"] == []
    assert early["tranches"][1]["status"] == "blocked"
    assert f"not before {today + timedelta(days=20)}" in early["tranches"][1]["reason"]
    assert early["gate"] == "wait"  # past the stored data the gate has nothing to read
    released = cli_json("--dir", go_ws, "--as", "pm", "tranche", "release", plan_id,
                        "--as-of", str(today + timedelta(days=20)))
    assert released["tranches"][1]["status"] == "released"
    second = {line["instrument"]: line["quantity"] for line in t2["lines"]
              if Decimal(line["quantity"]) > 0}
    created = [o for o in released["orders"] if o["order_id"] in released["created_orders"]]
    assert {o["instrument"]: o["quantity"] for o in created} == second
    assert {o["tranche"] for o in created} == {"t2"}
    assert {o["status"] for o in created} == {"draft"}
    listed = cli_json("--dir", go_ws, "tranche", "list")
    assert [p["orders"] for p in listed] == [len(bought) + len(second)]
    again = cli_json("--dir", go_ws, "--as", "pm", "tranche", "release", plan_id,
                     "--as-of", str(today + timedelta(days=21)))
    assert again["created_orders"] == []
    assert cli_json("--dir", go_ws, "audit", "verify")["ok"] is True


# -- deployment backtests ------------------------------------------------------------------------


def test_backtest_deploy_on_the_synthetic_year(wait_ws: str) -> None:
    result = cli_json("--dir", wait_ws, "backtest", "deploy", "--horizon", "60", "--from",
                      "2025-12-01", "--tranches", "2,3", "--spacing", "7")
    assert result["synthetic_market"] is True and result["benchmark"] == "vwap"
    assert result["from"] == "2025-12-01" and result["to"] == "2026-08-31"
    strategies = {row["strategy"] for row in result["strategies"]}
    assert strategies == {"lump_sum", "equal_tranches", "gated_tranches", "wait_for_stability"}
    # lump sum, 2 and 3 equal tranches, wait, 2 and 3 gated tranches
    assert result["parameter_sets"] == 6
    assert result["runs"] == 6 * result["start_dates"]
    bars = _bars(wait_ws, "BTC")
    days = [date.fromisoformat(b["day"]) for b in bars]
    closes = np.array([float(b["close"]) for b in bars])
    volumes = np.array([float(b["volume"]) for b in bars])
    starts = [d for d in days if date(2025, 12, 1) <= d <= date(2026, 8, 31)]
    assert len(starts) == result["start_dates"]
    gaps = []
    for start in starts:
        inside = np.array([start <= d <= start + timedelta(days=60) for d in days])
        vwap = (closes[inside] * volumes[inside]).sum() / volumes[inside].sum()
        gaps.append(closes[days.index(start)] / vwap - 1)
    (lump,) = [row for row in result["strategies"] if row["strategy"] == "lump_sum"]
    assert lump["entry_vs_vwap_mean"] == pytest.approx(np.mean(gaps), rel=1e-9)
    assert lump["entry_vs_vwap_median"] == pytest.approx(np.median(gaps), rel=1e-9)
    assert lump["completion_rate"] == 1.0 and lump["days_to_full_median"] == 0.0
    assert all(row["regret_mean"] >= 0 and row["regret_p95"] >= 0
               for row in result["strategies"])
    means = [row["regret_mean"] for row in result["strategies"]]
    assert means == sorted(means)
    # the policy gate needs a year of BTC: on one year it never says GO
    (wait,) = [row for row in result["strategies"] if row["strategy"] == "wait_for_stability"]
    assert wait["completion_rate"] == 0.0 and wait["days_to_full_median"] is None
    variants = cli_json("--dir", wait_ws, "backtest", "deploy", "--horizon", "60", "--from",
                        "2025-12-01", "--tranches", "2", "--spacing", "7", "--vol-max",
                        "60%,0.8")
    assert variants["parameter_sets"] == 1 + 1 + 2 * 2
    assert {row["gate"] for row in variants["strategies"]} == {None, "vol <= 60%",
                                                               "vol <= 80%"}


# -- real history --------------------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.skipif(not MARKET.is_dir(), reason="../shared/data/market is absent")
def test_real_history_waits_after_ftx_and_backtests_six_years(tmp_path: Path) -> None:
    d = str(tmp_path / "real")
    ok("--dir", d, "init")
    ok("--dir", d, "data", "import", str(MARKET / "BTC-USD.csv"), str(MARKET / "DXY.csv"))
    ok("--dir", d, "data", "import", str(MARKET / "VIX.csv"), "--lenient-ohlc")
    names = {s["series"] for s in cli_json("--dir", d, "data", "list")}
    assert {"price:BTC", "price:VIX", "price:DXY"} <= names
    # no sleeve and no policy: the default gate reads the market
    shown = cli_json("--dir", d, "gate", "--as-of", "2022-11-09", code=3)
    assert shown["verdict"] == "wait" and shown["policy_version"] is None
    assert shown["synthetic"] is False
    assert {s["id"] for s in shown["signals"] if s["blocks"]} == {"btc-drawdown", "btc-new-low"}
    assert len(shown["reasons"]) == 2
    assert any("drawdown" in r for r in shown["reasons"])
    assert any("90-day low 0 days" in r for r in shown["reasons"])
    readings = {s["id"]: s for s in shown["signals"]}
    assert readings["vix"]["passed"] is True and readings["dollar-spike"]["passed"] is True
    result = cli_json("--dir", d, "backtest", "deploy", "--from", "2018-01-01", "--to",
                      "2023-12-31")
    assert result["synthetic_market"] is False
    assert (result["from"], result["to"]) == ("2018-01-01", "2023-12-31")
    assert result["start_dates"] == (date(2023, 12, 31) - date(2018, 1, 1)).days + 1
    assert result["runs"] == result["parameter_sets"] * result["start_dates"]
    assert result["parameter_sets"] == 1 + 5 * 2 + 1 + 5 * 2
    assert all(row["regret_mean"] >= 0 for row in result["strategies"])
