"""The state fund's policy sees through its managers, on the demo (SQLite and PostgreSQL):
the daily check and the pre-trade check count each manager's reported BTC, custodians and
venues with the fund's own holdings, agreeing with the managers' look-through report, and
flag venture fund G, which reports no exposures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from qoima.adapters.policy_files import parse_policy, read_policy
from qoima.app.orders import OrderService
from qoima.app.policies import PolicyService
from qoima.bootstrap.wiring import SystemClock, open_reserve
from qoima.domain.enums import Severity
from qoima.domain.findings import Finding
from qoima.orders.model import OrderSide, OrderTerms
from qoima.policy.model import Concentration, ConcentrationBasis, InvestmentPolicy
from qoima.policy.rules import check_limit
from qoima.portfolio.snapshot import PortfolioSnapshot
from tests.app.manager_world import AS_OF, FUND, World, build_world

D = Decimal
DEMO_POLICY = (Path(__file__).resolve().parents[2] / "src" / "qoima" / "adapters"
               / "demo_policies" / "state-fund.yaml")
LOOKING = ("per-underlying", "per-custodian", "per-venue")
SHARE_ROUNDING = D("0.000001")


@dataclass
class Seen:
    world: World
    policies: PolicyService
    policy: InvestmentPolicy


def _pg(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True, connect_timeout=5)


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def seen(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Seen]:
    """The demo with its managers, and the state fund's policy in force in a policy service
    that reads the managers' look-through (as the wiring does)."""
    if request.param == "sqlite":
        url = f"sqlite+pysqlite:///{tmp_path_factory.mktemp('look') / 'qoima.db'}"
        schema = admin = None
    else:
        admin = str(request.getfixturevalue("pg_admin_url"))
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with _pg(admin) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        base = admin.replace("postgresql://", "postgresql+psycopg://", 1)
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    reserve = open_reserve(database_url=url, create=True)
    world = build_world(reserve)
    policies = PolicyService(reserve.units, SystemClock(), reserve.valuation, parse_policy,
                             world.service.look_through_shares)
    policy = read_policy(DEMO_POLICY)
    policies.propose(policy, fmt="yaml", actor="pm")
    policies.approve(FUND, 1, actor="cm1")
    yield Seen(world, policies, policy)
    reserve.close()
    if schema is not None and admin is not None:
        with _pg(admin) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _direct(snapshot: PortfolioSnapshot, instrument: str, custodian: str | None = None
            ) -> Decimal:
    return sum((p.value_usd or D(0) for p in snapshot.positions
                if p.vehicle_code == FUND and p.instrument_code == instrument
                and custodian in (None, p.custodian_code)), D(0))


def _reported(seen: Seen, dimension: str, key: str) -> Decimal:
    """The managers' look-through report (money scaled to book value) for one key."""
    totals = seen.world.service.look_through(AS_OF).by(dimension)
    return next((t.value_usd for t in totals if t.key == key), D(0))


def _subjects(findings: tuple[Finding, ...]) -> dict[str, Finding]:
    return {f"{f.rule}|{f.subject}": f for f in findings}


def test_the_daily_check_sees_through_and_flags_vc_g(seen: Seen) -> None:
    (outcome,) = seen.policies.check(AS_OF, actor="admin", vehicle=FUND, record=False)
    findings = outcome.check.findings
    flags = [f for f in findings if f.rule.endswith(".look_through_missing")]
    assert sorted((f.rule, f.subject, f.severity) for f in flags) == sorted(
        (f"policy.{limit_id}.look_through_missing", "VC-G-LP", Severity.WARNING)
        for limit_id in LOOKING)
    assert all("manager vc-g" in f.message for f in flags)
    snapshot = seen.world.reserve.valuation.snapshot(AS_OF)
    nav = snapshot.vehicle(FUND).nav_usd
    found = _subjects(findings)
    # bny: the fund's own cash plus every manager's cash there
    bny = (_direct(snapshot, "USD", "bny") + _reported(seen, "custodian", "bny")) / nav
    measured = D(found["policy.per-custodian|custodian:bny"].measured or "")
    assert abs(measured - bny) <= SHARE_ROUNDING
    assert measured > _direct(snapshot, "USD", "bny") / nav  # demo: 64.8 % vs 35.4 % own
    prime = _reported(seen, "venue", "coinbase-prime") / nav  # hf-a, hf-b, hf-e
    venue = found["policy.per-venue|venue:coinbase-prime"]
    assert abs(D(venue.measured or "") - prime) <= SHARE_ROUNDING
    assert "through fund interests" in venue.message
    # the administrator keeps only vc-g's interest (4 %): no longer a concentration
    assert not any(f.subject in ("custodian:fund-admin", "venue:private") for f in findings)
    assert not outcome.check.blocking


def test_the_btc_share_counts_every_managers_btc(seen: Seen) -> None:
    inputs = seen.policies.load_inputs(AS_OF)
    ctx = seen.policies.context(seen.policy, inputs.snapshot, inputs, AS_OF)
    nav = ctx.nav.nav_usd
    tight = Concentration("btc", ConcentrationBasis.UNDERLYING, D("0.05"))
    found = {f.subject: f for f in check_limit(tight, ctx)}
    own = _direct(inputs.snapshot, "BTC")
    expected = (own + _reported(seen, "asset", "BTC")) / nav
    measured = D(found["underlying:BTC"].measured or "")
    assert abs(measured - expected) <= SHARE_ROUNDING
    assert measured > 5 * own / nav  # demo: 11.4 % seen through, 0.2 % held directly
    # reported_exposures (floats, per USD of each interest) agree
    floats = seen.world.service.reported_exposures(AS_OF)
    values = {p.instrument_code: p.value_usd or D(0) for p in ctx.positions}
    by_floats = own + sum((values[code] * D(repr(shares.get("BTC", 0.0)))
                           for code, shares in floats.items()), D(0))
    assert abs(measured - by_floats / nav) <= SHARE_ROUNDING
    assert "VC-G-LP" in found and "VC-F-LP" not in found
    assert seen.world.service.look_through(AS_OF).flagged == ("vc-g",)


def test_the_pretrade_check_sees_through(seen: Seen) -> None:
    reserve = seen.world.reserve
    snapshot = reserve.valuation.snapshot(AS_OF)
    price = next(p.price for p in snapshot.positions
                 if p.vehicle_code == FUND and p.instrument_code == "BTC")
    assert price is not None
    orders = OrderService(reserve.units, SystemClock(), seen.policies)
    terms = OrderTerms(FUND, "BTC", OrderSide.BUY, D(10), None, price, "liquidity", "bitgo")
    order = orders.new(terms, idempotency_key="look-through-btc", actor="pm")
    order = orders.submit(order.order_id, actor="pm", as_of=AS_OF)
    found = _subjects(order.pretrade_findings)
    assert {f"policy.{i}.look_through_missing|VC-G-LP" for i in LOOKING} <= set(found)
    # the buy pays from the fund's cash at bny: bny falls by 10 BTC, NAV is unchanged
    nav = snapshot.vehicle(FUND).nav_usd
    bny = _direct(snapshot, "USD", "bny") + _reported(seen, "custodian", "bny") - 10 * price
    measured = D(found["policy.per-custodian|custodian:bny"].measured or "")
    assert abs(measured - bny / nav) <= SHARE_ROUNDING
