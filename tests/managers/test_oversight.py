"""Oversight: findings for late statements, unreconciled NAV and fees; scorecards."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from qoima.domain.enums import ManagerKind, Severity
from qoima.managers import oversight as o
from qoima.managers import performance as perf
from qoima.managers.model import (
    FeeKind,
    FeeTerms,
    Flow,
    FlowKind,
    Frequency,
    LiquidityTerms,
)

from .factory import D, mandate, statement


def _months(n: int, start_nav: int = 1_000_000, pnls: tuple[int, ...] = ()) -> list:  # type: ignore[type-arg]
    out, nav = [], D(start_nav)
    pnls = pnls or tuple([10_000, -5_000, 20_000, 7_000, -12_000, 15_000][:n])
    for k in range(n):
        start = date(2025, 1 + k, 1)
        end = date(2025, 2 + k, 1) - timedelta(days=1)
        s = statement(start, end, nav, pnls[k], received_on=end + timedelta(days=10))
        out.append(s)
        nav = s.closing_nav
    return out


def test_missing_and_late_statements() -> None:
    m = mandate(inception=date(2025, 1, 1), statement_lag_days=30)
    jan, feb, mar = _months(3)
    late_feb = statement(feb.period_start, feb.period_end, feb.opening_nav, feb.pnl,
                         received_on=date(2025, 4, 15))
    findings = o.late_statement_findings(m, [jan, late_feb], as_of=date(2025, 5, 5))
    # February (due 30 March) arrived 16 days late; March (due 30 April) is missing; April is
    # not yet due on 5 May.
    assert [(f.severity, f.as_of_date) for f in findings] == [
        (Severity.WARNING, date(2025, 2, 28)), (Severity.ERROR, date(2025, 5, 5))]
    assert "16 days after it was due" in findings[0].message
    assert "period ending 2025-03-31" in findings[1].message
    assert o.late_statement_findings(m, [jan, feb, mar], as_of=date(2025, 4, 30)) == []


def test_nav_not_reconciling_and_fee_mismatch_findings() -> None:
    m = mandate(FeeTerms(management_rate=D("0.012")), inception=date(2025, 1, 1))
    # 1.2 % of 1,000,000 for 31 days = 1,019.18; the manager charged 1,500.
    jan = statement(date(2025, 1, 1), date(2025, 1, 31), 1_000_000, 0,
                    fees={FeeKind.MANAGEMENT: 1500}, closing=990_000)
    findings = o.oversight_findings(m, [jan], as_of=date(2025, 2, 10))
    rules = {f.rule: f for f in findings}
    assert rules[o.NAV_NOT_RECONCILING].severity is Severity.ERROR
    fee = rules[o.FEE_MISMATCH]
    assert (fee.severity, fee.measured, fee.limit) == (Severity.ERROR, "1500", "1019.18")
    under = statement(date(2025, 1, 1), date(2025, 1, 31), 1_000_000, 0,
                      fees={FeeKind.MANAGEMENT: 900})
    [finding] = o.fee_findings(o.fee_checks(m, [under]), "hf-a")
    assert finding.severity is Severity.WARNING
    close = statement(date(2025, 1, 1), date(2025, 1, 31), 1_000_000, 0,
                      fees={FeeKind.MANAGEMENT: "1019.50"})
    assert o.fee_findings(o.fee_checks(m, [close]), "hf-a") == []  # within tolerance


def test_scorecard_matches_the_performance_functions() -> None:
    m = mandate(inception=date(2025, 1, 1),
                liquidity=LiquidityTerms(lock_up_months=3, notice_days=45,
                                         redemption_frequency=Frequency.QUARTERLY,
                                         gate=D("0.25")))
    months = _months(6)
    bench = {date(2024, 12, 31): 100.0}
    level = 100.0
    for k, move in enumerate([0.05, -0.03, 0.08, 0.02, -0.06, 0.04]):
        level *= 1 + move
        bench[months[k].period_end] = level
    card = o.scorecard(m, months, as_of=date(2025, 7, 20), benchmark=bench)
    returns = [perf.statement_return(s) for s in months]
    assert card.twr == pytest.approx(perf.link(returns))
    assert card.volatility == pytest.approx(perf.volatility(returns, 12))
    assert card.sharpe == pytest.approx(perf.sharpe_ratio(returns, 12))
    assert card.max_drawdown == pytest.approx(perf.max_drawdown(returns))
    assert card.irr == pytest.approx(perf.xirr(perf.investor_flows(months)))
    assert card.pme is not None and card.correlation is not None
    assert card.alpha_beta is not None
    assert card.nav == months[-1].closing_nav and card.statements == 6
    # dealing dates are quarter ends from inception; 31 March is inside the lock-up
    # (to 1 April); 30 September is the first whose 45-day notice can still be given.
    assert card.liquidity.lock_up_ends == date(2025, 4, 1)
    assert card.liquidity.next_dealing_date == date(2025, 9, 30)
    assert card.findings == ()
    [row] = o.comparison_rows([card])
    assert list(row) == list(o.COMPARISON_COLUMNS)
    assert row["twr"] == card.twr and row["next_dealing_date"] == "2025-09-30"


def test_scorecard_says_why_figures_are_missing() -> None:
    m = mandate(inception=date(2025, 1, 1))
    card = o.scorecard(m, _months(1), as_of=date(2025, 2, 10))
    assert card.volatility is None and card.sharpe is None and card.pme is None
    assert any("volatility" in note for note in card.notes)
    assert any("benchmark" in note for note in card.notes)
    empty = o.scorecard(m, [], as_of=date(2025, 1, 10))
    assert empty.nav is None and empty.twr is None


def test_venture_scorecard_has_multiples_and_unfunded_commitment() -> None:
    m = mandate(FeeTerms(), kind=ManagerKind.VENTURE_FUND, commitment="100", manager="vc-f",
                inception=date(2025, 1, 1), statement_frequency=Frequency.QUARTERLY)
    q1 = statement(date(2025, 1, 1), date(2025, 3, 31), 0, 5, manager="vc-f", flows=(
        Flow(date(2025, 1, 10), FlowKind.CAPITAL_CALL, D(40)),
        Flow(date(2025, 3, 1), FlowKind.DISTRIBUTION, D(3))))
    card = o.scorecard(m, [q1], as_of=date(2025, 4, 30))
    assert card.unfunded_commitment == 60
    assert card.multiples is not None and card.multiples.tvpi == pytest.approx(45 / 40)
    assert card.liquidity.closed_end and card.liquidity.next_dealing_date is None
    rows = o.comparison_rows([card, o.scorecard(mandate(inception=date(2025, 1, 1)),
                                                _months(2), as_of=date(2025, 3, 10))])
    assert [r["manager"] for r in rows] == ["hf-a", "vc-f"]
    assert rows[1]["tvpi"] == pytest.approx(45 / 40) and rows[0]["tvpi"] is None
