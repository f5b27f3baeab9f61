"""Allocation services on the governed demo, on SQLite and PostgreSQL: the mix keeps every
policy limit, the sizing curve and the stability gate match direct computations, tranche
plans draft (never approve) their orders and release the next tranche only after the pause,
and the deployment backtest's figures are recomputed from the stored series."""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import numpy as np
import pytest

from qoima.adapters.policy_files import read_policy
from qoima.allocation.cvar import ru_cvar
from qoima.allocation.deployment import EntryStrategy
from qoima.allocation.optimizers import OptimizationMethod
from qoima.allocation.tranches import TrancheStatus
from qoima.app.allocation import MixRequest
from qoima.app.allocation_inputs import AllocationInputs, AllocationInputsLoader
from qoima.app.demo.build import build_demo, load_demo
from qoima.app.deployment import DeployRequest
from qoima.app.risk import RESERVE_KINDS
from qoima.app.risk_inputs import RiskInputsLoader
from qoima.bootstrap.wiring import Reserve, open_reserve
from qoima.domain.enums import AccountKind, EntryCode, InstrumentKind
from qoima.domain.errors import Forbidden, InsufficientHistory, InvalidInput
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.market.calendars import CalendarName, get_calendar
from qoima.market.series import Series, SeriesId, SeriesKind
from qoima.orders.model import Fill, OrderStatus
from tests.app.governance import PEOPLE, SLEEVE, governed_demo

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "policies" / "fx-sleeve.yaml"
MILLION = Decimal(1_000_000)
EPS = 1e-7


# -- workspaces ------------------------------------------------------------------------------


def permissive_policy(text: str) -> str:
    """The example policy with a gate that only asks BTC volatility <= 200 % (GO on the
    demo), and a second tranche that does not wait for the gate (its release then depends
    only on the pause after the first)."""
    start, end = text.index("  gate:\n"), text.index("  sizing:\n")
    gate = ("  gate:\n    signals:\n      - id: btc-volatility\n"
            "        signal: realized_volatility\n        series: BTC\n"
            "        window_days: 30\n        max_value: 200%\n")
    text = text[:start] + gate + text[end:]
    assert "      - id: t2\n" in text
    return text.replace("      - id: t2\n", "      - id: t2\n        requires_gate: false\n")


def _pg(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True, connect_timeout=5)


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[Callable[[], str]]:
    """Fresh databases on one backend for this module (PostgreSQL: one schema each)."""
    if request.param == "sqlite":
        root = tmp_path_factory.mktemp("allocation")
        count = iter(range(1_000))
        yield lambda: f"sqlite+pysqlite:///{root / f'db{next(count)}.db'}"
        return
    admin = str(request.getfixturevalue("pg_admin_url"))
    schemas: list[str] = []

    def make() -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with _pg(admin) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        schemas.append(schema)
        base = admin.replace("postgresql://", "postgresql+psycopg://", 1)
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}options=-csearch_path%3D{schema}"

    yield make
    with _pg(admin) as conn:
        for schema in schemas:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def wait(new_database: Callable[[], str]) -> Iterator[tuple[Reserve, date]]:
    """The governed demo: the example policy (its gate says WAIT), USD 100M cash."""
    reserve = open_reserve(database_url=new_database(), create=True)
    as_of = governed_demo(reserve)
    yield reserve, as_of
    reserve.close()


@pytest.fixture(scope="module")
def go(new_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
       ) -> Iterator[tuple[Reserve, date]]:
    """The demo under the permissive-gate policy, with USD 300M cash in the sleeve."""
    path = tmp_path_factory.mktemp("policy") / "permissive.yaml"
    path.write_text(permissive_policy(POLICY.read_text()))
    reserve = open_reserve(database_url=new_database(), create=True)
    content = build_demo()
    load_demo(reserve.book, reserve.market_data, content, actor="loader")
    for name, grants in PEOPLE.items():
        reserve.users.add(name, name.title(), grants, actor="admin")
    reserve.policies.propose(read_policy(path), fmt="yaml", actor="pm")
    reserve.policies.approve(SLEEVE, 1, actor="cm1")
    reserve.book.post([EntryDraft("fund-sleeve", EntryCode.TRANSFER, content.as_of_date, (
        PostingDraft("holding:fx-reserves/investment:USD@bny", Decimal("-300000000")),
        PostingDraft(f"holding:{SLEEVE}/main:USD@bny", Decimal("300000000"))))],
        actor="ops")
    yield reserve, content.as_of_date
    reserve.close()


# -- independent computations ----------------------------------------------------------------


def _inputs(reserve: Reserve, as_of: date, codes: tuple[str, ...]) -> AllocationInputs:
    """The scenario matrix the services read (same defaults as MixRequest)."""
    request = MixRequest()
    loader = AllocationInputsLoader(RiskInputsLoader(reserve.units, reserve.valuation))
    return loader.load(as_of, SLEEVE, codes, history=request.history, window=request.window)


def _series(reserve: Reserve, code: str, until: date | None = None) -> Series:
    with reserve.units(write=False) as uow:
        found = uow.market.load_series(SeriesId(SeriesKind.PRICE, code), None, until)
    assert found is not None and found.bars
    return found


def _adv_usd(reserve: Reserve, code: str, as_of: date) -> float:
    """20-session mean volume times the last close, from the stored bars."""
    bars = _series(reserve, code, as_of).bars
    volumes = [float(b.volume) for b in bars[-20:] if b.volume is not None]
    return sum(volumes) / len(volumes) * float(bars[-1].close)


def _ru_cvar(losses: np.ndarray, level: float) -> float:
    """Rockafellar-Uryasev CVaR: the mean of the worst (1 - level) T losses, the boundary
    loss counted with its fractional weight."""
    k = (1.0 - level) * losses.size
    ranked = np.sort(losses)[::-1]
    whole = math.floor(k)
    return float((ranked[:whole].sum() + (k - whole) * ranked[whole]) / k)


def _historical_cvar(pnl: np.ndarray, level: float) -> float:
    """The risk engine's historical CVaR (positive loss): minus the mean of the P&L at or
    below numpy's linear (1 - level) quantile, never below the VaR."""
    quantile = float(np.quantile(pnl, 1.0 - level))
    return max(-float(pnl[pnl <= quantile].mean()), -quantile)


def _audit(reserve: Reserve, action: str) -> list[dict[str, object]]:
    with reserve.units(write=False) as uow:
        return [json.loads(r.payload) for r in uow.audit.iter_records() if r.action == action]


# -- composition -------------------------------------------------------------------------------


def test_the_mix_keeps_every_policy_limit_and_its_cvar_is_the_scenario_cvar(
        wait: tuple[Reserve, date]) -> None:
    reserve, as_of = wait
    composition = reserve.allocation.compose(SLEEVE, as_of)
    result, size = composition.result, float(composition.size_usd)
    assert composition.size_usd == Decimal(300_000_000)  # the policy maximum
    assert composition.policy_version == 1 and composition.synthetic
    # the policy's allow list, every one priced
    assert set(result.codes) == {"IBIT", "FBTC", "ETHA", "AIX-BTC", "COIN"}
    w = {c: float(x) for c, x in zip(result.codes, result.weights, strict=True)}
    assert sum(w.values()) == pytest.approx(1.0, abs=1e-9)
    assert min(w.values()) >= -EPS
    facts = {c.code: c for c in composition.candidates}
    instruments = {c: facts[c].instrument for c in w}
    assert max(w.values()) <= 0.6 + EPS  # per-instrument
    by_underlying: dict[str, float] = {}
    by_issuer: dict[str, float] = {}
    for code, weight in w.items():
        inst = instruments[code]
        if inst.underlying is not None:
            by_underlying[inst.underlying.asset] = by_underlying.get(
                inst.underlying.asset, 0.0) + weight
        if inst.issuer is not None:
            by_issuer[inst.issuer] = by_issuer.get(inst.issuer, 0.0) + weight
    assert by_underlying["ETH"] <= 0.3 + EPS and by_underlying["BTC"] <= 0.9 + EPS
    assert max(by_issuer.values()) <= 0.7 + EPS
    # liquidity: sellable within 5 days at 20 % of ADV, at least 80 % of the sleeve
    for code in w:
        assert facts[code].adv_usd == pytest.approx(_adv_usd(reserve, code, as_of), rel=1e-9)
    sellable = sum(min(w[c], 5 * 0.2 * _adv_usd(reserve, c, as_of) / size) for c in w)
    assert sellable >= 0.8 - EPS
    assert _adv_usd(reserve, "AIX-BTC", as_of) * 5 * 0.2 / size < 0.05  # a cut that binds
    # lots: floor(w * size / price), never above the size
    lines = {line.code: line for line in composition.lots.lines}
    spent = Decimal(0)
    for code, weight in w.items():
        line, price = lines[code], facts[code].price_usd
        assert line.price_usd == price
        assert abs(line.quantity - math.floor(weight * size / float(price))) <= 1
        assert line.amount_usd == line.quantity * price
        spent += line.amount_usd
    assert spent <= composition.size_usd
    assert composition.lots.cash_usd == composition.size_usd - spent
    assert composition.lots.cash_usd < sum(facts[c].price_usd for c in w)
    # CVaR of the scenarios at these weights, computed directly
    inputs = _inputs(reserve, as_of, ("IBIT", "FBTC", "ETHA", "AIX-BTC", "COIN"))
    assert (inputs.dates[0], inputs.dates[-1], len(inputs.dates)) == composition.window
    columns = [inputs.codes.index(c) for c in result.codes]
    losses = -(inputs.unit_returns[:, columns] @ result.weights)
    assert result.level == 0.95
    assert result.cvar == pytest.approx(_ru_cvar(losses, 0.95), rel=1e-9)
    assert result.cvar == pytest.approx(ru_cvar(losses, 0.95)[1], rel=1e-9)
    assert float(result.risk_contributions.sum()) == pytest.approx(result.cvar, rel=1e-9)
    # no equal-weight mix (feasible or not) of the candidates does better
    equal = np.full(len(columns), 1.0 / len(columns))
    assert _ru_cvar(-(inputs.unit_returns[:, columns] @ equal), 0.95) >= result.cvar - 1e-12


def test_denied_instruments_are_excluded_and_conflicts_name_the_limit(
        wait: tuple[Reserve, date]) -> None:
    reserve, as_of = wait
    composition = reserve.allocation.compose(
        SLEEVE, as_of, MixRequest(codes=("BTC", "IBIT", "FBTC", "ETHA")))
    assert "BTC" not in composition.result.codes
    reasons = {e.limit_id: e.reason for e in composition.excluded if e.code == "BTC"}
    assert "instruments" in reasons and "eligible" in reasons
    with pytest.raises(InvalidInput, match=re.escape("per-underlying: underlying BTC at most 0.9")):
        reserve.allocation.compose(SLEEVE, as_of, MixRequest(
            method=OptimizationMethod.MIN_VARIANCE, codes=("IBIT", "FBTC")))
    # fixed weights: kept exactly when they keep the limits, refused naming the cap if not
    pinned = reserve.allocation.compose(
        SLEEVE, as_of, MixRequest(weights={"IBIT": 0.5, "FBTC": 0.3, "ETHA": 0.2}))
    got = dict(zip(pinned.result.codes, map(float, pinned.result.weights), strict=True))
    assert got == pytest.approx({"IBIT": 0.5, "FBTC": 0.3, "ETHA": 0.2}, abs=1e-9)
    with pytest.raises(InvalidInput, match="per-underlying"):
        reserve.allocation.compose(SLEEVE, as_of,
                                   MixRequest(weights={"IBIT": 0.6, "FBTC": 0.4}))


# -- sizing ------------------------------------------------------------------------------------


def test_the_sizing_curve_is_the_historical_cvar_of_the_mix(wait: tuple[Reserve, date]
                                                            ) -> None:
    reserve, as_of = wait
    sizing = reserve.allocation.size(SLEEVE, as_of)
    result = sizing.result
    # the sleeve's USD 100M is cash: money to invest, not deployed exposure
    snapshot = reserve.valuation.snapshot(as_of, vehicle=SLEEVE)
    cash = sum((p.value_usd or Decimal(0)) for p in snapshot.positions
               if p.instrument_kind is InstrumentKind.CASH)
    assert cash == Decimal(100_000_000)
    assert sizing.sleeve_usd == 0.0
    assert reserve.allocation.sleeve_value(SLEEVE, as_of) == Decimal(0)
    total = float(sum((v.nav_usd for v in reserve.valuation.snapshot(as_of).vehicles
                       if v.kind in RESERVE_KINDS), Decimal(0)))
    assert sizing.total_reserves_usd == pytest.approx(total, rel=1e-12)
    assert [row.size_usd for row in result.curve] == [
        50e6 + 10e6 * k for k in range(26)]
    codes = sizing.composition.result.codes
    inputs = _inputs(reserve, as_of, ("IBIT", "FBTC", "ETHA", "AIX-BTC", "COIN"))
    mix = inputs.unit_returns[:, [inputs.codes.index(c) for c in codes]] \
        @ sizing.composition.result.weights
    cap = min(25e6, 0.005 * total)
    stress_per_usd = None
    for row in result.curve:
        uses = {u.name: u for u in row.uses}
        expected = _historical_cvar(row.size_usd * mix, 0.99)
        assert uses["cvar"].cap == pytest.approx(cap)
        assert uses["cvar"].value == pytest.approx(expected, rel=1e-9)
        assert uses["cvar"].use == pytest.approx(expected / cap, rel=1e-9)
        assert uses["reserves-share"].use == pytest.approx(row.size_usd / (0.08 * total))
        # stress losses scale with the amount invested (nothing deployed yet)
        per_usd = uses["stress"].value / row.size_usd
        stress_per_usd = stress_per_usd or per_usd
        assert per_usd == pytest.approx(stress_per_usd, rel=1e-9)
        assert row.feasible == all(u.use <= 1 + 1e-12 for u in row.uses)
    assert result.status.value == "sized"
    assert result.recommended_usd == 300e6 and result.binding == ("range maximum",)


# -- the stability gate --------------------------------------------------------------------------


def test_the_gate_waits_for_a_year_of_btc_and_is_recorded_once(
        wait: tuple[Reserve, date]) -> None:
    reserve, as_of = wait
    observations = len(_series(reserve, "BTC", as_of).bars)
    assert observations < 365  # the demo's synthetic year
    check = reserve.allocation.gate(SLEEVE, as_of)
    decision = check.decision
    assert decision.verdict.value == "wait" and not decision.go
    assert {r.id for r in decision.readings if r.blocks} == {"btc-drawdown"}
    (reason,) = decision.reasons
    assert f"{observations} observations" in reason and "drawdown" in reason and "365" in reason
    policy = read_policy(POLICY)
    ids = [s.id for s in policy.gate.signals]
    assert [r.id for r in decision.readings] == ids

    before = len(_audit(reserve, "gate.decided"))
    _, stored, new = reserve.allocation.record_gate(SLEEVE, as_of, actor="risk")
    assert new and stored.id is not None
    assert (stored.verdict, stored.recorded_by, stored.as_of_date) == ("wait", "risk", as_of)
    assert stored.inputs_hash == decision.provenance.inputs_hash
    assert stored.policy_version == 1 and stored.gate_hash == decision.gate_hash
    recorded = json.loads(stored.decision_json)
    assert [s["id"] for s in recorded["signals"]] == ids
    (payload,) = _audit(reserve, "gate.decided")[before:]
    assert payload["decision_hash"] == stored.decision_hash
    assert payload["inputs_hash"] == decision.provenance.inputs_hash
    assert payload["verdict"] == "wait"
    assert [s["id"] for s in payload["signals"]] == ids  # type: ignore[attr-defined]
    # again: the same record, nothing new in the trail
    _, again, new = reserve.allocation.record_gate(SLEEVE, as_of, actor="risk")
    assert not new and again.id == stored.id and again.decision_hash == stored.decision_hash
    assert len(_audit(reserve, "gate.decided")) == before + 1
    with reserve.units(write=False) as uow:
        assert [d.id for d in uow.allocation.list_gate_decisions(SLEEVE)] == [stored.id]
    with pytest.raises(Forbidden):
        reserve.allocation.record_gate(SLEEVE, as_of, actor="auditor")
    assert reserve.audit.verify().problems == ()


def test_the_permissive_gate_says_go(go: tuple[Reserve, date]) -> None:
    reserve, as_of = go
    check = reserve.allocation.gate(SLEEVE, as_of)
    assert check.decision.go and check.decision.reasons == ()
    (reading,) = check.decision.readings
    closes = np.array([float(b.close) for b in _series(reserve, "BTC", as_of).bars[-31:]])
    volatility = np.std(closes[1:] / closes[:-1] - 1.0, ddof=1) * math.sqrt(365)
    assert reading.value == pytest.approx(volatility, rel=1e-6)
    # past the stored market data the gate waits, and says why
    later = reserve.allocation.gate(SLEEVE, as_of + timedelta(days=26))
    assert not later.decision.go
    assert "no data within 7 days" in later.decision.reasons[0]
    assert str(as_of) in later.decision.reasons[0]


# -- tranche plans ------------------------------------------------------------------------------


def test_a_plan_under_wait_blocks_its_first_tranche_and_drafts_nothing(
        wait: tuple[Reserve, date]) -> None:
    reserve, as_of = wait
    view = reserve.tranches.plan(SLEEVE, as_of, actor="pm")
    assert view.record.target_usd == Decimal(300_000_000)  # sizing: the range maximum
    assert view.plan.deployed_usd == Decimal(0)
    states = {s.tranche_id: s for s in view.states}
    assert states["t1"].status is TrancheStatus.BLOCKED
    assert "waiting for the gate" in states["t1"].reason
    assert states["t2"].status is TrancheStatus.PLANNED
    assert [t.amount_usd for t in view.plan.tranches] == [Decimal(250_000_000),
                                                          Decimal(50_000_000)]
    assert view.created == () and view.orders == () and view.record.orders == ()
    replay = reserve.tranches.plan(SLEEVE, as_of, actor="pm")
    assert replay.record.plan_id == view.record.plan_id and replay.created == ()
    assert [p.plan_id for p in reserve.tranches.plans(SLEEVE)] == [view.record.plan_id]
    assert len(_audit(reserve, "tranche_plan.created")) == 1
    assert reserve.orders.list(actor="auditor", vehicle=SLEEVE) == []


def _fill(order_id: str, quantity: Decimal, price: Decimal) -> Fill:
    now = datetime.now(UTC)
    return Fill(f"fill-{order_id}", quantity, price, Decimal(0), "NASDAQ", "broker-x", now,
                now.date())


def _approve(reserve: Reserve, order_id: str) -> None:
    reserve.orders.submit(order_id, actor="pm")
    for person in ("risk", "cm1"):
        if reserve.orders.approve(order_id, actor=person).status is OrderStatus.APPROVED:
            return
    raise AssertionError(f"{order_id} not approved by risk and cm1")


def test_a_released_tranche_is_drafted_executed_and_the_next_waits_the_pause(
        go: tuple[Reserve, date]) -> None:
    reserve, as_of = go
    view = reserve.tranches.plan(SLEEVE, as_of, actor="pm")
    states = {s.tranche_id: s for s in view.states}
    assert states["t1"].status is TrancheStatus.RELEASED
    assert states["t2"].status is TrancheStatus.PLANNED
    t1, t2 = view.plan.tranches
    assert t1.amount_usd == Decimal(250_000_000) and not t2.requires_gate
    sessions = get_calendar(CalendarName.XNYS.value)
    adv = {o.instrument: _adv_usd(reserve, o.instrument, as_of) for o in t1.orders}
    assert math.fsum(o.weight for o in t1.orders) == pytest.approx(1.0, abs=1e-9)
    for tranche in view.plan.tranches:
        assert 1 <= tranche.days <= 20  # max_sessions
        for line in tranche.orders:
            # at most 10 % of ADV a session, every slice on an exchange session
            assert line.daily_max_quantity is not None
            assert float(line.daily_max_quantity * line.price_usd) <= 0.1 * adv[line.instrument]
            assert sum(s.quantity for s in line.slices) == line.quantity
            assert all(s.quantity <= line.daily_max_quantity for s in line.slices)
            assert all(sessions.is_session(s.date) and s.date > as_of for s in line.slices)
            assert line.days <= 20
    # the first tranche: lots within one lot of each allotment, never above it
    cost = Decimal(0)
    for line in t1.orders:
        share = (t1.amount_usd * Decimal(repr(line.weight))).quantize(Decimal("0.01"),
                                                                      ROUND_DOWN)
        assert line.cost_usd == line.quantity * line.price_usd
        assert Decimal(0) <= share - line.cost_usd < line.price_usd * line.lot_size + Decimal(
            "0.01")
        cost += line.cost_usd
    assert cost <= t1.amount_usd
    # drafts for every instrument of t1, made by pm, never approved by the plan
    with reserve.units(write=False) as uow:
        holding = {a.account.instrument_code: a.account for a in uow.reference.list_accounts()
                   if a.account.kind is AccountKind.HOLDING
                   and a.account.vehicle_code == SLEEVE}
    lines = {o.instrument: o for o in t1.orders if o.quantity > 0}
    assert {o.terms.instrument_code for o in view.created} == set(lines)
    assert len(view.created) == len(lines) == len(view.orders)
    for order in view.created:
        line = lines[order.terms.instrument_code]
        account = holding[order.terms.instrument_code]
        assert order.status is OrderStatus.DRAFT and order.approvals == ()
        assert order.maker == "pm"
        assert order.terms.quantity == line.quantity
        assert order.terms.estimated_price == line.price_usd
        assert (order.terms.tranche_code, order.terms.custodian_code) == (
            "main", account.custodian_code)
    assert {o.terms.custodian_code for o in view.created} >= {"bny", "bitgo"}
    assert [t for t, _ in view.record.orders] == ["t1"] * len(lines)
    # replaying the plan drafts nothing more
    replay = reserve.tranches.plan(SLEEVE, as_of, actor="pm")
    assert replay.record.plan_id == view.record.plan_id and replay.created == ()
    assert len(replay.orders) == len(view.created)

    # four eyes, then fills at a slightly better price than planned
    plan_id, executed = view.record.plan_id, Decimal(0)
    orders = sorted(view.created, key=lambda o: o.terms.quantity * o.terms.estimated_price)
    for order in orders:
        _approve(reserve, order.order_id)
    for order in orders[:-1]:
        price = (order.terms.estimated_price * Decimal("0.999")).quantize(Decimal("0.01"))
        reserve.orders.execute(order.order_id, _fill(order.order_id, order.terms.quantity,
                                                     price), actor="ops")
        executed += order.terms.quantity * price
    today = datetime.now(UTC).date()
    partly = {s.tranche_id: s for s in reserve.tranches.status(plan_id, as_of).states}
    assert partly["t1"].status is TrancheStatus.IN_PROGRESS
    assert partly["t1"].executed_usd == executed
    assert partly["t2"].status is TrancheStatus.BLOCKED
    last = orders[-1]
    price = (last.terms.estimated_price * Decimal("0.999")).quantize(Decimal("0.01"))
    reserve.orders.execute(last.order_id, _fill(last.order_id, last.terms.quantity, price),
                           actor="ops")
    executed += last.terms.quantity * price
    # t2 waits 20 days after t1's last fill, whatever the gate (it does not require it)
    early = reserve.tranches.release(plan_id, today + timedelta(days=19), actor="pm")
    states = {s.tranche_id: s for s in early.states}
    assert states["t1"].status is TrancheStatus.EXECUTED
    assert states["t1"].executed_usd == executed
    assert states["t2"].status is TrancheStatus.BLOCKED
    assert states["t2"].reason == (f"20 days must pass after tranche t1 (last executed "
                                   f"{today}): not before {today + timedelta(days=20)}")
    assert states["t2"].earliest_release == today + timedelta(days=20)
    assert early.created == ()
    assert not early.gate.decision.go  # past the stored data: the gate waits
    released = reserve.tranches.release(plan_id, today + timedelta(days=20), actor="pm")
    assert {s.tranche_id: s.status for s in released.states}["t2"] is TrancheStatus.RELEASED
    t2_lines = {o.instrument: o.quantity for o in t2.orders if o.quantity > 0}
    assert {o.terms.instrument_code: o.terms.quantity for o in released.created} == t2_lines
    assert all(o.status is OrderStatus.DRAFT for o in released.created)
    assert sorted(t for t, _ in released.record.orders) == ["t1"] * len(lines) + [
        "t2"] * len(t2_lines)
    again = reserve.tranches.release(plan_id, today + timedelta(days=21), actor="pm")
    assert again.created == ()
    with pytest.raises(Forbidden):
        reserve.tranches.release(plan_id, today + timedelta(days=21), actor="auditor")
    assert reserve.audit.verify().problems == ()


def test_a_target_outside_the_steps_is_refused(go: tuple[Reserve, date]) -> None:
    reserve, as_of = go
    with pytest.raises(InvalidInput, match="above the last tranche's cap"):
        reserve.tranches.plan(SLEEVE, as_of, actor="pm", target_usd=Decimal(400) * MILLION)
    with pytest.raises(InvalidInput, match="below its floor"):
        reserve.tranches.plan(SLEEVE, as_of, actor="pm", target_usd=Decimal(30) * MILLION)


# -- deployment backtests --------------------------------------------------------------------


def test_deployment_backtest_figures_match_the_stored_series(wait: tuple[Reserve, date]
                                                             ) -> None:
    reserve, _ = wait
    request = DeployRequest(start=date(2025, 12, 1), horizon_days=60, tranches=(2, 3),
                            spacings=(7,))
    outcome = reserve.deployment.run(None, request)
    result = outcome.result
    strategies = {p.strategy for p in result.params}
    assert strategies == set(EntryStrategy)
    bars = _series(reserve, "BTC").bars
    days = [b.day for b in bars]
    closes = np.array([float(b.close) for b in bars])
    volumes = np.array([float(b.volume) for b in bars])  # type: ignore[arg-type]
    assert result.benchmark == "vwap"
    assert result.start_dates[0] == date(2025, 12, 1)
    assert result.start_dates[-1] == days[-1] - timedelta(days=60)
    lump = next(i for i, p in enumerate(result.params) if p.strategy is EntryStrategy.LUMP_SUM)
    for j in (0, 37, len(result.start_dates) - 1):
        start = result.start_dates[j]
        window = [i for i, d in enumerate(days) if start <= d <= start + timedelta(days=60)]
        vwap = float((closes[window] * volumes[window]).sum() / volumes[window].sum())
        entry = closes[days.index(start)]
        assert result.vwap[j] == pytest.approx(vwap, rel=1e-12)
        assert result.entry_price[lump, j] == pytest.approx(entry, rel=1e-12)
        assert result.entry_vs_vwap[lump, j] == pytest.approx(entry / vwap - 1, rel=1e-9,
                                                              abs=1e-12)
    assert (result.regret >= 0).all()
    columns = np.arange(len(result.start_dates))
    assert (result.regret[result.best, columns] == 0).all()
    assert (result.entry_price[result.best, columns] == result.entry_price.min(axis=0)).all()
    assert result.regret == pytest.approx(result.entry_price / result.entry_price.min(axis=0)
                                          - 1)
    # a gate that never says GO on one year of data: waiting never completes
    wait_row = next(i for i, p in enumerate(result.params)
                    if p.strategy is EntryStrategy.WAIT_FOR_STABILITY)
    assert not result.completed[wait_row].any()
    assert result.completed[lump].all()
    with pytest.raises(InsufficientHistory, match="1000-day horizon"):
        reserve.deployment.run(None, replace(request, start=None, horizon_days=1000))
