"""Concurrent approvals in separate processes cannot together breach a limit.

Six orders of about USD 18M of IBIT each wait for one approval in a sleeve of USD 100M whose
policy caps one instrument at 60 %: any three fit (54 %), a fourth would not (72 %). Six
processes approve them at once; the approving unit re-checks the policy with every approved
order applied, and writers are serialized, so exactly three end approved.
"""

from __future__ import annotations

import multiprocessing

import pytest

from qoima.bootstrap.wiring import Reserve, open_reserve
from qoima.orders.model import OrderStatus
from tests.app.governance import governed_demo, ibit

N_ORDERS = 6
QUANTITY = "242000"  # x 74.32 = USD 17.99M each


def _approve(args: tuple[str, str]) -> str:
    url, order_id = args
    reserve = open_reserve(database_url=url)
    try:
        return str(reserve.orders.approve(order_id, actor="risk").status)
    finally:
        reserve.close()


@pytest.mark.slow
def test_racing_approvals_respect_the_concentration_limit(reserve: Reserve,
                                                          database_url: str) -> None:
    governed_demo(reserve)
    ids = []
    for k in range(N_ORDERS):
        order = reserve.orders.new(ibit(QUANTITY), idempotency_key=f"race-{k}", actor="pm")
        order = reserve.orders.submit(order.order_id, actor="pm")
        assert not order.blocking_findings, order.pretrade_findings
        ids.append(order.order_id)
    context = multiprocessing.get_context("spawn")
    with context.Pool(N_ORDERS) as pool:
        statuses = pool.map(_approve, [(database_url, order_id) for order_id in ids])
    assert sorted(statuses) == ["approved"] * 3 + ["submitted"] * 3
    final = {o.order_id: o for o in reserve.orders.list(actor="auditor")}
    approved = [o for o in final.values() if o.status is OrderStatus.APPROVED]
    assert len(approved) == 3
    for order in final.values():
        if order.status is OrderStatus.SUBMITTED:
            assert "policy.per-instrument" in {f.rule for f in order.blocking_findings}
