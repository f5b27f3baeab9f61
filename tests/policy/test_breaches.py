"""The breach register: open on first sight, keep with today's figures, close when gone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.policy.breaches import Breach, is_breach, update_register
from qoima.policy.context import RiskFigures
from qoima.policy.evaluate import VALUATION_INCOMPLETE_RULE, evaluate
from tests.policy.book import SLEEVE, context, sleeve_policy, snapshot

DAY1 = date(2026, 6, 1)
DAY2, DAY3 = DAY1 + timedelta(days=1), DAY1 + timedelta(days=2)


def size(measured: str, day: date = DAY1, severity: Severity = Severity.BLOCKING) -> Finding:
    return Finding("policy.size", severity, SLEEVE, f"worth {measured}", day,
                   measured=measured, limit="<= 300000000")


def test_open_keep_close() -> None:
    first = update_register([], [size("301000000")], DAY1, vehicle_code=SLEEVE)
    [opened] = first.opened
    assert (opened.rule, opened.subject, opened.opened_on, opened.closed_on) == (
        "policy.size", SLEEVE, DAY1, None)
    assert first.still_open == () and first.closed == ()
    second = update_register(first.opened, [size("305000000", DAY2)], DAY2,
                             vehicle_code=SLEEVE)
    [kept] = second.still_open
    assert (kept.opened_on, kept.measured, kept.message) == (DAY1, "305000000",
                                                             "worth 305000000")
    assert second.opened == () and second.closed == ()
    third = update_register(second.still_open, [], DAY3, vehicle_code=SLEEVE)
    [closed] = third.closed
    assert (closed.opened_on, closed.closed_on, closed.measured) == (DAY1, DAY3, "305000000")
    assert not closed.is_open and third.still_open == () and third.opened == ()


def test_a_check_that_could_not_run_keeps_its_breach_open() -> None:
    [breach] = update_register([], [size("1")], DAY1, vehicle_code=SLEEVE).opened
    blind = Finding("policy.size.not_evaluated", Severity.WARNING, SLEEVE, "no data", DAY2)
    update = update_register([breach], [blind], DAY2, vehicle_code=SLEEVE)
    assert update.still_open == (breach,) and update.closed == () and update.opened == ()


def test_other_vehicles_pass_through_and_duplicates_count_once() -> None:
    other = Breach("alem-fund", "policy.custody", "T1", DAY1, None, Severity.BLOCKING, None,
                   None, "x")
    update = update_register([other], [size("1"), size("2")], DAY2, vehicle_code=SLEEVE)
    assert update.still_open == (other,)
    assert [b.measured for b in update.opened] == ["1"]


@pytest.mark.parametrize("rule", ["policy.cvar.not_evaluated", VALUATION_INCOMPLETE_RULE,
                                  "valuation.missing_price"])
def test_what_is_not_a_breach(rule: str) -> None:
    assert not is_breach(Finding(rule, Severity.WARNING, SLEEVE, "m", DAY1))
    assert is_breach(Finding("policy.drawdown-review", Severity.WARNING, SLEEVE, "m", DAY1))
    assert not is_breach(Finding("policy.x", Severity.INFO, SLEEVE, "m", DAY1))


def test_register_refuses_inconsistent_input() -> None:
    [breach] = update_register([], [size("1")], DAY2, vehicle_code=SLEEVE).opened
    with pytest.raises(InvalidInput, match="after"):
        update_register([breach], [], DAY1, vehicle_code=SLEEVE)
    with pytest.raises(InvalidInput, match="already closed"):
        update_register([replace(breach, closed_on=DAY2)], [], DAY3, vehicle_code=SLEEVE)
    with pytest.raises(InvalidInput, match="twice"):
        update_register([breach, breach], [], DAY3, vehicle_code=SLEEVE)


def test_daily_evaluations_feed_the_register() -> None:
    """Post-trade: the morning after, a token in the sleeve opens a breach; sold, it closes."""
    risk = RiskFigures(1.0, {"btc-minus-50": 1.0, "etf-discount-outflows": 1.0,
                             "crypto-equity-contagion": 1.0})
    books = {DAY1: [("IBIT", "1000000"), ("USD", "5000000.00")],
             DAY2: [("IBIT", "1000000"), ("USD", "4000000.00"), ("BTC", "10")],
             DAY3: [("IBIT", "1000000"), ("USD", "5000000.00")]}
    register: tuple[Breach, ...] = ()
    history = []
    for day, book in books.items():
        ctx = context(snapshot(book), risk=risk, drawdown=0.0, liquidity={5: Decimal(1)})
        findings = evaluate(sleeve_policy(), ctx).findings
        update = update_register(register, findings, day, vehicle_code=SLEEVE)
        register = update.opened + update.still_open
        history.append(update)
    assert {(b.rule, b.subject) for b in history[1].opened} == {
        ("policy.eligible", "BTC"), ("policy.instruments", "BTC")}
    assert {(b.rule, b.closed_on) for b in history[2].closed} == {
        ("policy.eligible", DAY3), ("policy.instruments", DAY3)}
    # the concentration breaches of the mostly-IBIT book stay open throughout
    assert {b.rule for b in history[0].opened} == {
        "policy.per-instrument", "policy.per-issuer", "policy.per-underlying",
        "policy.per-custodian"}
    assert {b.rule for b in history[2].still_open} == {b.rule for b in history[0].opened}
