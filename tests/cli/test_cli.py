"""The qoima command end to end: the demo, reads with --json, bad input, the audit trail."""

from __future__ import annotations

import json
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from qoima.app.demo.build import build_demo
from qoima.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo") / "demo-reserve"
    assert main(["demo", "--dir", str(directory), "--size", "small", "--no-run", "--json"]) == 0
    return directory


@pytest.fixture
def demo_dir(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo workspace, so tests can change it."""
    target = tmp_path / "demo-reserve"
    shutil.copytree(demo_template, target)
    return target


def test_demo_prints_nav_holdings_and_files(capsys: pytest.CaptureFixture[str],
                                            demo_dir: Path) -> None:
    code, out, _ = run(capsys, "demo", "--dir", str(demo_dir), "--size", "small", "--no-run")
    assert code == 0
    for text in ("SYNTHETIC", "ILLUSTRATIVE", "TOTAL (whole institution)", "fx-reserves",
                 "da-sleeve", "state-fund", "seized-pool", "alem-fund", "Pending",
                 "50,000,000–300,000,000", str(demo_dir / "entries" / "demo-entries.yaml")):
        assert text in out
    assert "0 entries posted, 83 already present" in out  # the second run changed nothing


def test_demo_stores_its_synthetic_market_series(capsys: pytest.CaptureFixture[str],
                                                demo_dir: Path) -> None:
    listed = run_json(capsys, "--dir", str(demo_dir), "data", "list")
    names = {s["series"] for s in listed}  # type: ignore[union-attr]
    assert {"price:BTC", "price:IBIT", "price:SPX", "price:WTI", "fx:USD/KZT",
            "rate:DGS10", "rate:DFEDTARU"} <= names
    assert all(s["synthetic"] for s in listed)  # type: ignore[union-attr]
    code, _, err = run(capsys, "--dir", str(demo_dir), "data", "check")
    assert code == 0, err
    again = run_json(capsys, "demo", "--dir", str(demo_dir), "--size", "small", "--no-run")
    assert again["loaded"]["series_bars_written"] == 0
    assert again["loaded"]["quotes_changed"] == 0


def test_nav_matches_a_hand_computation(capsys: pytest.CaptureFixture[str],
                                        demo_dir: Path) -> None:
    nav = run_json(capsys, "--dir", str(demo_dir), "nav")
    vehicles = {v["vehicle_code"]: Decimal(v["nav_usd"]) for v in nav["vehicles"]}
    assert sum(vehicles.values()) == Decimal(nav["total_usd"])
    assert nav["synthetic_market"] is True and nav["complete"] is True
    demo = build_demo()
    bnb = sum(p.amount for e in demo.entries for p in e.postings
              if p.account == "holding:alem-fund/main:BNB@bitgo")
    last_bnb = max((q for q in demo.prices if q.instrument_code == "BNB"),
                   key=lambda q: q.price_date)
    spent = sum(-p.amount for e in demo.entries for p in e.postings
                if p.account == "holding:alem-fund/main:USD@bny" and p.amount < 0)
    expected = (bnb * last_bnb.price).quantize(Decimal("0.01")) + Decimal(60_000_000) - spent
    assert vehicles["alem-fund"] == expected
    assert vehicles["da-sleeve"] == 0
    usd_kzt = Decimal(nav["usd_kzt"]["rate"])
    kzt = {v["vehicle_code"]: Decimal(v["nav_kzt"]) for v in nav["vehicles"]}
    assert abs(kzt["state-fund"] - vehicles["state-fund"] * usd_kzt) < Decimal(10)


def test_holdings_as_of_follow_the_seizure_lifecycle(capsys: pytest.CaptureFixture[str],
                                                     demo_dir: Path) -> None:
    def state(as_of: str) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
        data = run_json(capsys, "--dir", str(demo_dir), "holdings", "--as-of", as_of)
        held = {p["account_code"]: Decimal(p["quantity"]) for p in data["positions"]}
        pending = {p["account_code"]: Decimal(p["quantity"]) for p in data["pending"]}
        return held, pending

    seized_btc = "holding:seized-pool/main:BTC@state-wallet"
    fund_btc = "holding:state-fund/liquidity:BTC@bitgo"
    held, pending = state("2026-06-09")  # before the forfeiture of case 0112
    assert seized_btc not in held and pending[seized_btc] == 95 + 12
    held, pending = state("2026-06-10")  # forfeited: now a reserve asset
    assert held[seized_btc] == 12 and pending[seized_btc] == 95
    held, _ = state("2026-08-03")  # moved into the State Fund at cost
    assert seized_btc not in held and held[fund_btc] == 12
    held, pending = state("2026-05-20")  # case 0009 returned to its owner: gone from pending
    assert pending["holding:seized-pool/main:ETH@state-wallet"] == 1200


def test_bad_entry_file_writes_nothing(capsys: pytest.CaptureFixture[str], demo_dir: Path,
                                       tmp_path: Path) -> None:
    before = run_json(capsys, "--dir", str(demo_dir), "holdings")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "entries:\n"
        "  - id: OK-1\n    date: '2026-10-30'\n    code: cash_in\n    postings:\n"
        "      - {account: 'holding:da-sleeve/main:USD@bny', amount: '10'}\n"
        "      - {account: 'capital:da-sleeve:USD', amount: '-10'}\n"
        "  - id: BAD-1\n    date: '2026-10-30'\n    code: fee\n    postings:\n"
        "      - {account: 'holding:da-sleeve/main:USD@bny', amount: '-10.001'}\n"
        "      - {account: 'expense:fx-reserves:USD#custody-fee', amount: '10.001'}\n")
    code, _, err = run(capsys, "--dir", str(demo_dir), "post", str(bad))
    assert code == 1
    assert f"{bad}:12" in err and "amount" in err and "decimal places" in err
    assert run_json(capsys, "--dir", str(demo_dir), "holdings") == before
    code, out, _ = run(capsys, "--dir", str(demo_dir), "audit", "verify")
    assert code == 0


def test_reused_id_with_other_content_is_a_conflict(capsys: pytest.CaptureFixture[str],
                                                    demo_dir: Path, tmp_path: Path) -> None:
    text = (ROOT / "examples" / "sleeve-first-tranche.yaml").read_text()
    first = tmp_path / "first.yaml"
    first.write_text(text)
    assert run(capsys, "--dir", str(demo_dir), "post", str(first))[0] == 0
    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace("60000000", "70000000"))
    code, _, err = run(capsys, "--dir", str(demo_dir), "post", str(changed))
    assert code == 1 and "already used for different content" in err
    assert f"{changed}:5" in err


def test_readme_example_buys_the_first_tranche(capsys: pytest.CaptureFixture[str],
                                               demo_dir: Path) -> None:
    example = str(ROOT / "examples" / "sleeve-first-tranche.yaml")
    code, out, _ = run(capsys, "--dir", str(demo_dir), "post", example)
    assert code == 0 and "2 posted" in out
    code, out, _ = run(capsys, "--dir", str(demo_dir), "post", example)
    assert code == 0 and "0 posted, 2 already recorded" in out
    data = run_json(capsys, "--dir", str(demo_dir), "holdings", "--vehicle", "da-sleeve")
    held = {p["instrument_code"]: p for p in data["positions"]}
    assert Decimal(held["IBIT"]["quantity"]) == 700_000
    assert Decimal(held["IBIT"]["value_usd"]) == Decimal("52024000.00")
    assert Decimal(held["USD"]["quantity"]) == 7_976_000


def test_audit_verify_names_the_tampered_record(capsys: pytest.CaptureFixture[str],
                                                demo_dir: Path) -> None:
    checkpoint = run_json(capsys, "--dir", str(demo_dir), "audit", "checkpoint")
    code, out, _ = run(capsys, "--dir", str(demo_dir), "audit", "verify", "--root",
                       checkpoint["root"], "--size", str(checkpoint["size"]))
    assert code == 0 and "audit trail intact" in out
    with sqlite3.connect(demo_dir / "qoima.db") as db:
        db.execute("UPDATE audit_records SET actor = 'mallory' WHERE seq = 42")
    code, _, err = run(capsys, "--dir", str(demo_dir), "audit", "verify")
    assert code == 1
    assert "audit record 42" in err and "altered" in err


def test_altered_posting_is_caught_by_verify(capsys: pytest.CaptureFixture[str],
                                             demo_dir: Path) -> None:
    with sqlite3.connect(demo_dir / "qoima.db") as db:
        db.execute("UPDATE postings SET amount = '1' WHERE entry_seq = 5 AND leg = 0")
    code, out, err = run(capsys, "--dir", str(demo_dir), "audit", "verify", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    assert any("altered after posting" in p for p in report["problems"])


def test_fresh_workspace_from_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    assert run(capsys, "--dir", ws, "init")[0] == 0
    reference = tmp_path / "reference.yaml"
    reference.write_text(
        "custodians:\n  - {code: bny, name: BNY, kind: global_custodian}\n"
        "vehicles:\n  - code: sleeve\n    name: Sleeve\n    kind: digital_asset_sleeve\n"
        "    tranches: [{code: main, kind: digital_asset}]\n"
        "instruments:\n  - {code: USD, name: US dollar, kind: cash, scale: '2'}\n"
        "  - code: IBIT\n    name: iShares Bitcoin Trust\n    kind: etf\n    scale: '0'\n"
        "    venue: NASDAQ\n    underlying: {asset: BTC, units_per_share: '0.000568'}\n"
        "accounts: ['holding:sleeve/main:USD@bny', 'capital:sleeve:USD']\n")
    code, out, err = run(capsys, "--dir", ws, "reference", "load", str(reference))
    assert code == 0, err
    assert run(capsys, "--dir", ws, "account", "open", "holding:sleeve/main:IBIT@bny")[0] == 0
    entries = tmp_path / "e.csv"
    entries.write_text(
        "id,date,code,account,amount,unit_cost_usd\n"
        "F-1,2026-03-02,cash_in,holding:sleeve/main:USD@bny,1000000,\n"
        "F-1,2026-03-02,cash_in,capital:sleeve:USD,-1000000,\n"
        "B-1,2026-03-02,buy,holding:sleeve/main:IBIT@bny,1000,50\n"
        "B-1,2026-03-02,buy,external:IBIT,-1000,\n"
        "B-1,2026-03-02,buy,holding:sleeve/main:USD@bny,-50000,\n"
        "B-1,2026-03-02,buy,external:USD,50000,\n")
    assert run(capsys, "--dir", ws, "post", str(entries))[0] == 0
    prices = tmp_path / "p.csv"
    prices.write_text("instrument,date,price\nIBIT,2026-03-02,52.5\n")
    fx = tmp_path / "fx.csv"
    fx.write_text("base,quote,date,rate\nUSD,KZT,2026-03-02,500\n")
    assert run(capsys, "--dir", ws, "market", "load-prices", str(prices))[0] == 0
    assert run(capsys, "--dir", ws, "market", "load-fx", str(fx))[0] == 0
    nav = run_json(capsys, "--dir", ws, "nav", "--as-of", "2026-03-02")
    assert Decimal(nav["total_usd"]) == Decimal("1002500.00")  # 950,000 cash + 1,000 x 52.50
    assert Decimal(nav["total_kzt"]) == Decimal("501250000.00")
    assert nav["synthetic_market"] is False
    stale = run_json(capsys, "--dir", ws, "nav", "--as-of", "2026-03-10")
    assert [f["rule"] for f in stale["findings"]] == ["valuation.stale_fx",
                                                      "valuation.stale_price"]


def test_missing_workspace_is_one_clear_line(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    code, _, err = run(capsys, "--dir", str(tmp_path / "nowhere"), "nav")
    assert code == 1
    assert "no qoima workspace" in err and "Traceback" not in err


def test_add_vehicle_and_instrument_commands(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    assert run(capsys, "--dir", ws, "init")[0] == 0
    code, out, _ = run(capsys, "--dir", ws, "--as", "ops-1", "reference", "add-vehicle",
                       "sleeve", "--name", "Sleeve", "--kind", "digital_asset_sleeve",
                       "--tranche", "main:digital_asset")
    assert code == 0
    assert "registered" in out
    code, out, _ = run(capsys, "--dir", ws, "reference", "add-instrument", "IBIT", "--name",
                       "iShares Bitcoin Trust", "--kind", "etf", "--scale", "0", "--venue",
                       "NASDAQ", "--underlying", "BTC:0.000568")
    assert code == 0
    listed = run_json(capsys, "--dir", ws, "reference", "list")
    assert listed["vehicles"][0]["tranches"] == [
        {"code": "main", "kind": "digital_asset", "name": ""}]
    assert listed["instruments"][0]["underlying"] == {"asset": "BTC",
                                                      "units_per_share": "0.000568"}
    accounts = run_json(capsys, "--dir", ws, "account", "list")
    assert [a["code"] for a in accounts] == ["external:IBIT"]
    code, _, err = run(capsys, "--dir", ws, "reference", "add-instrument", "BAD", "--name",
                       "b", "--kind", "etf", "--scale", "30")
    assert code == 1
    assert "scale must be 0..18" in err
    code, _, err = run(capsys, "--dir", ws, "reference", "add-vehicle", "x", "--name", "X",
                       "--kind", "nonsense")
    assert code == 2  # a usage error, reported by Typer
    trail = run_json(capsys, "--dir", ws, "audit", "verify")
    assert trail["ok"] is True
    assert trail["records"] == 3  # vehicle, instrument, its external account
