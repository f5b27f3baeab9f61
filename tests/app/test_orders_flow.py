"""Orders end to end on SQLite and PostgreSQL: policy, four eyes, fills in the ledger, audit."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import Forbidden, IdempotencyConflict, OrderStateError
from qoima.orders.model import Fill, OrderStatus
from tests.app.governance import SLEEVE, governed_demo, ibit


@pytest.fixture
def gov(reserve: Reserve) -> Reserve:
    governed_demo(reserve)
    return reserve


def _fill(quantity: str, price: str = "74.30", fees: str = "1200", fill_id: str = "f1") -> Fill:
    now = datetime.now(UTC)
    return Fill(fill_id, Decimal(quantity), Decimal(price), Decimal(fees), "NASDAQ", "broker-x",
                now, now.date())


def test_large_order_needs_risk_and_committee_then_books_its_fill(gov: Reserve) -> None:
    order = gov.orders.new(ibit("600000"), idempotency_key="t1", actor="pm")
    order = gov.orders.submit(order.order_id, actor="pm")
    assert order.terms.notional_usd == Decimal("44592000.00")
    assert not order.blocking_findings, order.pretrade_findings
    assert gov.orders.approve(order.order_id, actor="risk").status is OrderStatus.SUBMITTED
    assert gov.orders.approve(order.order_id, actor="cm1").status is OrderStatus.APPROVED
    fill = _fill("600000")
    order = gov.orders.execute(order.order_id, fill, actor="ops")
    assert order.status is OrderStatus.EXECUTED
    # replaying the same fill changes nothing
    assert gov.orders.execute(order.order_id, fill, actor="ops") == order
    order = gov.orders.settle(order.order_id, actor="ops")
    assert order.status is OrderStatus.SETTLED
    holdings = {p.account.code: p.quantity for p in gov.valuation.holdings(
        datetime.now(UTC).date(), vehicle=SLEEVE).positions}
    assert holdings[f"holding:{SLEEVE}/main:IBIT@bny"] == Decimal("600000")
    # 100M funded, 600,000 x 74.30 + 1,200 fees paid
    assert holdings[f"holding:{SLEEVE}/main:USD@bny"] == Decimal("100000000") - Decimal(
        "44581200")
    verification = gov.audit.verify()
    assert verification.problems == ()
    with gov.units(write=False) as uow:
        actions = [r.action for r in uow.audit.iter_records() if r.object_id == order.order_id]
    assert actions == ["order.created", "order.submitted", "order.approved", "order.approved",
                       "order.executed", "order.settled"]


def test_four_eyes_and_roles_are_enforced_in_the_application(gov: Reserve) -> None:
    own = gov.orders.new(ibit("1000"), idempotency_key="self", actor="pm-risk")
    gov.orders.submit(own.order_id, actor="pm-risk")
    with pytest.raises(Forbidden, match="never approve"):
        gov.orders.approve(own.order_id, actor="pm-risk")
    with pytest.raises(Forbidden):
        gov.orders.new(ibit("1000"), idempotency_key="aud", actor="auditor")
    with pytest.raises(Forbidden):
        gov.orders.new(ibit("1000", vehicle_code="state-fund", tranche_code="liquidity"),
                       idempotency_key="elsewhere", actor="pm")
    with pytest.raises(Forbidden):
        gov.orders.approve(own.order_id, actor="liaison")
    with pytest.raises(Forbidden):
        gov.orders.execute(own.order_id, _fill("1000"), actor="risk")
    with pytest.raises(Forbidden, match="unknown user"):
        gov.orders.approve(own.order_id, actor="nobody")


def test_edit_after_approval_voids_it(gov: Reserve) -> None:
    order = gov.orders.new(ibit("1000"), idempotency_key="edit", actor="pm")
    gov.orders.submit(order.order_id, actor="pm")
    assert gov.orders.approve(order.order_id, actor="risk").approvals
    with pytest.raises(OrderStateError):
        gov.orders.edit(order.order_id, ibit("2000"), actor="pm")  # approved: too late
    second = gov.orders.new(ibit("1000"), idempotency_key="edit-2", actor="pm")
    gov.orders.submit(second.order_id, actor="pm")
    gov.orders.approve(second.order_id, actor="cm1")  # one of two needed? no: small, approved
    third = gov.orders.new(ibit("400000"), idempotency_key="edit-3", actor="pm")
    gov.orders.submit(third.order_id, actor="pm")
    assert len(gov.orders.approve(third.order_id, actor="risk").approvals) == 1
    edited = gov.orders.edit(third.order_id, ibit("400001"), actor="pm")
    assert edited.status is OrderStatus.DRAFT and edited.approvals == ()
    assert gov.orders.get(third.order_id, actor="auditor").approvals == ()


def test_idempotent_new_and_conflicting_reuse(gov: Reserve) -> None:
    first = gov.orders.new(ibit("1000"), idempotency_key="same", actor="pm")
    assert gov.orders.new(ibit("1000"), idempotency_key="same", actor="pm") == first
    with pytest.raises(IdempotencyConflict):
        gov.orders.new(ibit("1001"), idempotency_key="same", actor="pm")
    assert len(gov.orders.list(actor="auditor")) == 1


def test_blocking_finding_needs_a_committee_override_with_reasons(gov: Reserve) -> None:
    btc = gov.orders.new(ibit("10", price="100000", instrument_code="BTC", custodian_code="bny"),
                         idempotency_key="btc", actor="pm")
    btc = gov.orders.submit(btc.order_id, actor="pm")
    rules = {f.rule for f in btc.blocking_findings}
    assert {"policy.eligible", "policy.instruments"} <= rules
    assert gov.orders.approve(btc.order_id, actor="risk").status is OrderStatus.SUBMITTED
    assert gov.orders.approve(btc.order_id, actor="cm1", override_reason="committee minute 7"
                              ).status is OrderStatus.SUBMITTED
    approved = gov.orders.approve(btc.order_id, actor="cm2", override_reason="minute 7")
    assert approved.status is OrderStatus.APPROVED


def test_policy_check_keeps_the_breach_register(gov: Reserve) -> None:
    as_of = gov.risk.default_as_of()
    (outcome,) = gov.policies.check(as_of, actor="risk", vehicle=SLEEVE)
    assert not outcome.check.blocking
    # the funded sleeve holds only cash at one custodian: that warning is the one breach
    assert [b.rule for b in outcome.opened] == ["policy.per-custodian"]
    assert [b.rule for b in gov.policies.breaches(SLEEVE)] == ["policy.per-custodian"]
    (again,) = gov.policies.check(as_of, actor="risk", vehicle=SLEEVE)
    assert again.opened == () and [b.rule for b in again.still_open] == [
        "policy.per-custodian"]
    # buy beyond the concentration cap, then the daily check opens a breach
    order = gov.orders.new(ibit("1000000"), idempotency_key="big", actor="pm")
    order = gov.orders.submit(order.order_id, actor="pm")
    assert "policy.per-instrument" in {f.rule for f in order.blocking_findings}
    with pytest.raises(Forbidden):
        gov.policies.check(as_of, actor="nobody")


FROZEN = """\
vehicle: alem-fund
version: 1
name: Direct-token fund with a hair trigger
effective_from: "2025-01-01"
change_delay_days: 0
limits:
  - id: freeze
    kind: drawdown_trigger
    drawdown: 0.01%
    action: freeze_buying
"""


def test_a_drawdown_trigger_freezes_buying_but_not_selling(gov: Reserve) -> None:
    from qoima.adapters.policy_files import parse_policy
    from qoima.domain.roles import Role, RoleGrant
    from qoima.orders.model import OrderSide, OrderTerms

    gov.users.add("alem-pm", "Alem PM", [RoleGrant(Role.PORTFOLIO_MANAGER, "alem-fund")],
                  actor="admin")
    gov.policies.propose(parse_policy(FROZEN, fmt="yaml"), fmt="yaml", actor="alem-pm")
    gov.policies.approve("alem-fund", 1, actor="cm1")

    def terms(side: OrderSide) -> OrderTerms:
        return OrderTerms("alem-fund", "BNB", side, Decimal("10"), None, Decimal("900"),
                          "main", "bitgo")
    buy = gov.orders.new(terms(OrderSide.BUY), idempotency_key="bnb-buy", actor="alem-pm")
    buy = gov.orders.submit(buy.order_id, actor="alem-pm")
    assert "policy.engine.buying_frozen" in {f.rule for f in buy.blocking_findings}
    sell = gov.orders.new(terms(OrderSide.SELL), idempotency_key="bnb-sell", actor="alem-pm")
    sell = gov.orders.submit(sell.order_id, actor="alem-pm")
    assert "policy.engine.buying_frozen" not in {f.rule for f in sell.pretrade_findings}


def test_a_stale_price_blocks_the_pre_trade_check(gov: Reserve) -> None:
    from datetime import date

    order = gov.orders.new(ibit("1000"), idempotency_key="stale", actor="pm")
    # the demo's last IBIT close is 2026-10-30: two NYSE sessions later it is stale
    fresh = gov.orders.submit(order.order_id, actor="pm", as_of=date(2026, 10, 30))
    assert "policy.engine.stale_price" not in {f.rule for f in fresh.pretrade_findings}
    late = gov.orders.new(ibit("1000"), idempotency_key="stale-2", actor="pm")
    late = gov.orders.submit(late.order_id, actor="pm", as_of=date(2026, 11, 6))
    stale = [f for f in late.blocking_findings if f.rule == "policy.engine.stale_price"]
    assert stale and "2026-10-30" in stale[0].message
