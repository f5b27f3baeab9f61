"""evaluate: the example policies on demo-shaped books, engine checks, the check's summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.policy.context import PolicyContext, RiskFigures
from qoima.policy.evaluate import (
    NEGATIVE_HOLDING_RULE,
    VALUATION_INCOMPLETE_RULE,
    evaluate,
)
from qoima.policy.model import TriggerAction
from tests.policy.book import (
    SLEEVE,
    TOKENS,
    Holding,
    context,
    sleeve_policy,
    snapshot,
    token_policy,
    transfer,
)

D = Decimal
SCENARIOS = {"btc-minus-50": 50e6, "etf-discount-outflows": 25e6,
             "crypto-equity-contagion": 35e6}
# 100M sleeve: IBIT 50M, FBTC 20M, ETHA 10M, COIN 10M, AIX-BTC 5M (bitgo), cash 5M
COMPLIANT: list[Holding] = [
    ("IBIT", "1000000"), ("FBTC", "250000"), ("ETHA", "400000"), ("COIN", "40000"),
    ("AIX-BTC", "500000"), ("USD", "5000000.00")]
ADV = {"IBIT": D(2_000_000_000), "FBTC": D(500_000_000), "ETHA": D(300_000_000),
       "COIN": D(1_000_000_000), "AIX-BTC": D(5_000_000)}


def full_context(holdings: Sequence[Holding] = COMPLIANT, **kw: Any) -> PolicyContext:
    kw.setdefault("risk", RiskFigures(8_000_000.0, SCENARIOS))
    kw.setdefault("drawdown", 0.05)
    kw.setdefault("adv", ADV)
    return context(snapshot(holdings), **kw)


def test_compliant_sleeve_has_no_findings() -> None:
    policy = sleeve_policy()
    check = evaluate(policy, full_context())
    assert check.findings == ()
    assert not check.blocking and check.actions == () and not check.buying_frozen
    assert (check.policy_hash, check.version, check.vehicle_code) == (
        policy.content_hash, 1, SLEEVE)


def test_missing_inputs_warn_but_do_not_block() -> None:
    check = evaluate(sleeve_policy(), context(snapshot(COMPLIANT)))
    assert not check.blocking
    assert {f.rule for f in check.findings} == {
        "policy.liquidity.not_evaluated", "policy.cvar.not_evaluated",
        "policy.stress.not_evaluated", "policy.drawdown-review.not_evaluated",
        "policy.drawdown-freeze.not_evaluated", "policy.drawdown-derisk.not_evaluated"}
    assert all(f.severity is Severity.WARNING for f in check.findings)


def test_a_token_and_a_large_loss_block() -> None:
    check = evaluate(sleeve_policy(), full_context(
        [*COMPLIANT, ("BTC", "10")], risk=RiskFigures(30e6, SCENARIOS)))
    assert check.blocking
    assert {(f.rule, f.subject) for f in check.blocking_findings} == {
        ("policy.eligible", "BTC"), ("policy.instruments", "BTC"), ("policy.cvar", SLEEVE)}


def test_drawdown_actions_strongest_first() -> None:
    check = evaluate(sleeve_policy(), full_context(drawdown=0.30))
    assert check.actions == (TriggerAction.FREEZE_BUYING, TriggerAction.REVIEW)
    assert check.buying_frozen and not check.blocking
    assert [f.rule for f in check.findings] == ["policy.drawdown-review",
                                                "policy.drawdown-freeze"]


def test_findings_follow_the_policy_order() -> None:
    check = evaluate(sleeve_policy(), full_context([("BTC", "5000")]))  # 500M of bitcoin
    rules = [f.rule for f in check.findings]
    assert rules.index("policy.size") < rules.index("policy.eligible") < rules.index(
        "policy.per-underlying")


def test_negative_holding_blocks_and_unvalued_positions_warn() -> None:
    short = evaluate(sleeve_policy(), full_context([*COMPLIANT[:-1], ("USD", "-1.00")]))
    [negative] = [f for f in short.findings if f.rule == NEGATIVE_HOLDING_RULE]
    assert negative.severity is Severity.BLOCKING and short.blocking
    assert negative.subject == "holding:da-sleeve/main:USD@bny"
    unvalued = evaluate(sleeve_policy(), context(
        snapshot(COMPLIANT, unpriced=["COIN"]), risk=RiskFigures(1.0, SCENARIOS),
        drawdown=0.0, adv=ADV))
    [warning] = [f for f in unvalued.findings if f.rule == VALUATION_INCOMPLETE_RULE]
    assert (warning.severity, warning.measured) == (Severity.WARNING, "1")


def test_policy_of_another_vehicle_is_refused() -> None:
    with pytest.raises(InvalidInput, match="cannot check vehicle"):
        evaluate(token_policy(), full_context())


def test_token_fund_custody_runs_in_the_same_engine() -> None:
    snap = snapshot([("BNB", "100000")], vehicle=TOKENS)  # 60M of BNB at bitgo
    ctx = context(snap, vehicle=TOKENS, risk=RiskFigures(3e6), drawdown=0.0,
                  transfers=(transfer("T1", destination="0xelsewhere", proposed=True),))
    check = evaluate(token_policy(), ctx)
    assert [(f.rule, f.subject) for f in check.findings] == [("policy.custody", "T1")]
    assert check.blocking
    assert evaluate(replace(token_policy(), limits=token_policy().limits[:4]),
                    replace(ctx, transfers=())).findings == ()
