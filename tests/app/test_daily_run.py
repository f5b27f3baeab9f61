"""The daily run end to end on the demo: files, numbers, replay, and degraded runs."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from qoima.adapters.inclusion_files import read_proof_data
from qoima.app.daily_run import RunRequest, RunResult
from qoima.app.run_numbers import RunSettings
from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import Reserve, open_reserve
from qoima.domain.enums import EntryCode
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.report.document import NoticeLevel
from qoima.report.holdings_commitment import verify_proof
from qoima.risk.positions import scenario_pnl
from tests.app.governance import governed_demo

FAST = RunSettings(mc_scenarios=5_000)
KEY = b"k" * 32


def request(**changes: object) -> RunRequest:
    return replace(RunRequest(settings=FAST, versions={"qoima": "test"}, salt_key=KEY,
                              label="TEST"), **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Reserve, RunResult]]:
    reserve = open_reserve(workspace=tmp_path_factory.mktemp("run") / "ws", create=True)
    governed_demo(reserve)
    result = reserve.daily.run(request(), actor="risk")
    yield reserve, result
    reserve.close()


def test_run_writes_every_report_file(demo: tuple[Reserve, RunResult]) -> None:
    _, result = demo
    folder = Path(result.summary["folder"])
    assert folder.parent.name == result.summary["as_of"]
    for name in ("report.html", "report.pdf", "summary.json", "public/transparency.html",
                 "public/transparency.pdf", "public/commitment.json",
                 "proofs/commitment.json"):
        assert (folder / name).stat().st_size > 0, name
    assert (folder / "report.pdf").read_bytes().startswith(b"%PDF")
    tables = {t.id for t in result.committee.tables()}
    assert {"nav_by_vehicle", "allocation_by_class", "var", "cvar_contributions", "stress",
            "liquidity_ladder", "open_breaches", "pending_orders"} <= tables
    for table in result.committee.tables():
        with (folder / "tables" / f"{table.id}.csv").open(newline="", encoding="utf-8") as f:
            assert len(list(csv.reader(f))) == len(table.rows) + 1, table.id
    on_disk = json.loads((folder / "summary.json").read_text())
    assert on_disk["run_id"] == result.run_id
    assert {s["name"] for s in on_disk["steps"]} >= {
        "valuation", "risk", "policy", "gate", "sizing", "orders", "audit", "checkpoint",
        "transparency", "render"}
    assert all(s["seconds"] >= 0 for s in on_disk["steps"])


def test_run_numbers_equal_the_services(demo: tuple[Reserve, RunResult]) -> None:
    reserve, result = demo
    as_of = result.facts.as_of
    snapshot = reserve.valuation.snapshot(as_of)
    headline = result.summary["headline"]
    assert Decimal(headline["total_usd"]) == snapshot.total_usd
    assert {k: Decimal(v) for k, v in headline["nav_usd"].items()} == {
        v.vehicle_code: v.nav_usd for v in snapshot.vehicles}
    rows = {(r[0], r[1], r[2]): r for r in result.summary["tables"]["var"]["rows"]}
    assessment = result.facts.assessment
    assert assessment is not None and assessment.window is not None
    # the report's historical VaR and CVaR equal numpy on the same window's P&L
    _, mapped = reserve.risk.exposures(as_of)
    names = [*mapped.book.factors, "USD/KZT"]
    window = mapped.history.complete_window(names, assessment.window[2])
    total = scenario_pnl(mapped.book, window.names, window.values).sum(axis=1)
    var = -np.quantile(total, 0.01)
    row = rows[("historical", repr(0.99), 1)]
    assert float(row[3]) == pytest.approx(var, abs=0.01)
    assert float(row[4]) == pytest.approx(-total[total <= -var].mean(), abs=0.01)
    vehicle_rows = result.summary["tables"]["nav_by_vehicle"]["rows"]
    assert sum(Decimal(r[2]) for r in vehicle_rows) == snapshot.total_usd
    assert result.summary["headline"]["orders_awaiting_approval"] == 0
    heatmap = next(f for f in result.committee.figures() if f.id == "correlation")
    assert set(heatmap.x) == {"USD (DXY)", "Gold", "Oil (WTI)", "S&P 500"}
    assert {"BTC", "ETH"} <= set(heatmap.y)
    assert result.summary["headline"]["gate"] == {"da-sleeve": "wait"}
    assert np.isfinite([float(r[3]) for r in result.summary["tables"]["stress"]["rows"]
                        if r[3] is not None]).all()


def test_every_holding_proof_verifies_against_the_published_root(
        demo: tuple[Reserve, RunResult]) -> None:
    _, result = demo
    folder = Path(result.summary["folder"])
    root = result.summary["holdings_commitment"]["root"]
    public = json.loads((folder / "public" / "commitment.json").read_text())
    assert public["root"] == root
    proofs = sorted((folder / "proofs").glob("*.json"))
    proofs = [p for p in proofs if p.name != "commitment.json"]
    assert len(proofs) == result.summary["holdings_commitment"]["size"]
    for path in proofs[:25]:
        assert verify_proof(read_proof_data(path), expected_root=root).included, path.name


def test_without_a_salt_key_the_public_report_is_refused_and_said(
        demo: tuple[Reserve, RunResult]) -> None:
    reserve, _ = demo
    result = reserve.daily.run(request(salt_key=b""), actor="risk")
    assert result.degraded and result.public is None
    assert "salt key" in result.facts.failures["transparency"]
    assert (Path(result.summary["folder"]) / "report.html").is_file()
    assert not (Path(result.summary["folder"]) / "proofs").exists()


def test_replay_reproduces_every_number(demo: tuple[Reserve, RunResult]) -> None:
    reserve, result = demo
    again, comparison = reserve.runs.replay(result.run_id, request(), actor="risk")
    assert comparison.identical, comparison
    assert comparison.compared > 200
    assert again.record.replay_of == result.run_id
    assert again.summary["numbers_hash"] == result.summary["numbers_hash"]
    listed = [r.run_id for r in reserve.runs.list()]
    assert listed[0] == again.run_id and result.run_id in listed


def test_replay_names_what_changed_after_a_backdated_entry(tmp_path: Path) -> None:
    reserve = open_reserve(workspace=tmp_path / "ws", create=True)
    try:
        as_of = governed_demo(reserve)
        first = reserve.daily.run(request(), actor="risk")
        reserve.book.post([EntryDraft("late-fee", EntryCode.FEE, as_of - timedelta(days=3), (
            PostingDraft("holding:fx-reserves/investment:USD@bny", Decimal("-1000000")),
            PostingDraft("external:USD", Decimal("1000000"))))], actor="ops")
        _, comparison = reserve.runs.replay(first.run_id, request(), actor="risk")
        assert not comparison.identical
        assert "book" in comparison.inputs_changed
        assert any(d.startswith("nav_by_vehicle row") for d in comparison.differences)
    finally:
        reserve.close()


def test_missing_price_unknown_scenario_and_broken_trail_degrade_but_render(
        tmp_path: Path) -> None:
    from sqlalchemy import text

    reserve = open_reserve(workspace=tmp_path / "ws", create=True)
    try:
        governed_demo(reserve)
        with reserve.engine.begin() as connection:  # the token fund's BNB loses its prices
            connection.execute(text("DELETE FROM prices WHERE instrument_code = 'BNB'"))
            connection.execute(text("UPDATE audit_records SET actor = 'mallory' WHERE seq = 3"))
        result = reserve.daily.run(request(settings=replace(
            FAST, scenarios=("ftx-2022", "no-such-crisis"))), actor="risk")
        assert result.degraded
        texts = [n.text for n in result.facts.notices if n.level is NoticeLevel.PROBLEM]
        assert any("BNB" in t and "price" in t for t in texts), texts
        assert any("no-such-crisis" in t for t in texts), texts
        assert any("audit trail failed" in t.lower() for t in texts), texts
        assert result.facts.checkpoint is None
        assert [r[0] for r in result.summary["tables"]["stress"]["rows"]] == ["ftx-2022"]
        html = (Path(result.summary["folder"]) / "report.html").read_text()
        assert "no-such-crisis" in html and "BNB" in html
        assert (Path(result.summary["folder"]) / "report.pdf").stat().st_size > 0
        assert reserve.runs.get(result.run_id).status == "degraded"
    finally:
        reserve.close()


def test_a_failing_step_is_reported_and_the_rest_still_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reserve = open_reserve(workspace=tmp_path / "ws", create=True)
    try:
        governed_demo(reserve)

        def broken(*_a: object, **_k: object) -> None:
            raise RuntimeError("factor history unreadable")
        monkeypatch.setattr(reserve.risk, "assess", broken)
        result = reserve.daily.run(request(), actor="risk")
        assert result.degraded
        assert result.facts.failures["risk"] == "RuntimeError: factor history unreadable"
        sections = {s.id: s for s in result.committee.sections}
        assert "factor history unreadable" in sections["risk"].failed
        assert not sections["headline"].failed and sections["headline"].blocks
        assert not sections["policy"].failed
        steps = {s["name"]: s["status"] for s in result.summary["steps"]}
        assert steps["risk"] == "failed" and steps["policy"] == "ok" and steps["render"] == "ok"
    finally:
        reserve.close()


def test_second_run_reports_the_change_since_the_first(tmp_path: Path) -> None:
    reserve = open_reserve(workspace=tmp_path / "ws", create=True)
    try:
        as_of = governed_demo(reserve)
        earlier = as_of - timedelta(days=7)
        first = reserve.daily.run(request(as_of=earlier), actor="risk")
        second = reserve.daily.run(request(), actor="risk")
        assert second.facts.previous is not None
        assert second.facts.previous.run_id == first.run_id
        before = reserve.valuation.snapshot(earlier)
        now = reserve.valuation.snapshot(as_of)
        rows = {r[0]: r for r in second.summary["tables"]["nav_by_vehicle"]["rows"]}
        for nav in now.vehicles:
            change = nav.nav_usd - before.vehicle(nav.vehicle_code).nav_usd
            assert Decimal(rows[nav.vehicle_code][4]) == change
    finally:
        reserve.close()


@pytest.mark.postgres
def test_run_is_recorded_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    reserve = open_reserve(database_url=pg_url, create=True,
                           settings=Settings(runs_dir=tmp_path / "runs"))
    try:
        governed_demo(reserve)
        result = reserve.daily.run(request(), actor="risk")
        assert reserve.runs.get(result.run_id).numbers_hash == result.summary["numbers_hash"]
        assert Path(result.summary["folder"]).is_relative_to(tmp_path / "runs")
        _, comparison = reserve.runs.replay(result.run_id, request(), actor="risk")
        assert comparison.identical
    finally:
        reserve.close()
