"""Performance maths against hand computations and reference libraries on the same data."""

from __future__ import annotations

from datetime import date, timedelta

import empyrical
import numpy as np
import numpy_financial as npf
import pytest

from qoima.domain.errors import DegenerateSeries, InsufficientHistory, InvalidInput
from qoima.managers import performance as perf
from qoima.managers.model import Flow, FlowKind

from .factory import D, statement


def test_xirr_equals_numpy_financial_irr_on_yearly_flows() -> None:
    # Flows exactly 365 days apart: XIRR's act/365 year is the period of numpy's IRR.
    amounts = [-1000.0, 120.0, 250.0, 400.0, 480.0, 90.0]
    start = date(2021, 3, 1)
    flows = [(start + timedelta(days=365 * k), a) for k, a in enumerate(amounts)]
    assert perf.xirr(flows) == pytest.approx(npf.irr(amounts), abs=1e-10)


def test_xirr_hand_case_and_excel_reference() -> None:
    # -1000 then +1100 after 365 days is exactly 10 %.
    assert perf.xirr([(date(2021, 1, 1), -1000.0), (date(2022, 1, 1), 1100.0)]) == \
        pytest.approx(0.10, abs=1e-12)
    # Excel's documented XIRR example: 0.373362535 (37.34 %).
    excel = [(date(2008, 1, 1), -10000.0), (date(2008, 3, 1), 2750.0),
             (date(2008, 10, 30), 4250.0), (date(2009, 2, 15), 3250.0),
             (date(2009, 4, 1), 2750.0)]
    assert perf.xirr(excel) == pytest.approx(0.373362535, abs=1e-8)
    assert perf.xnpv(perf.xirr(excel), excel) == pytest.approx(0.0, abs=1e-6)


def test_xirr_refuses_flows_without_a_sign_change() -> None:
    with pytest.raises(InvalidInput, match="never change sign"):
        perf.xirr([(date(2021, 1, 1), 100.0), (date(2022, 1, 1), 50.0)])
    with pytest.raises(InsufficientHistory):
        perf.xirr([])


def test_modified_dietz_hand_case() -> None:
    # September (30 days): 1000 at the start, +300 on the 11th (in for 20/30 of the month),
    # -100 on the 21st (10/30), 1250 at the end.
    # gain = 1250 - 1000 - 200 = 50; capital = 1000 + 300*2/3 - 100*1/3 = 1166.67
    s = statement(date(2026, 9, 1), date(2026, 9, 30), 1000, 50, flows=(
        Flow(date(2026, 9, 11), FlowKind.SUBSCRIPTION, D(300)),
        Flow(date(2026, 9, 21), FlowKind.REDEMPTION, D(100))))
    assert s.closing_nav == 1250
    assert perf.statement_return(s) == pytest.approx(50 / (1000 + 200 - 100 / 3), rel=1e-12)
    assert perf.statement_return(s) == pytest.approx(3 / 70, rel=1e-12)


def test_time_weighted_return_chains_periods_by_hand() -> None:
    # January 100 -> 110 (+10 %); February: 50 subscribed on the 1st, 160 -> 176 (+10 %).
    jan = statement(date(2026, 1, 1), date(2026, 1, 31), 100, 10)
    feb = statement(date(2026, 2, 1), date(2026, 2, 28), 110, 16,
                    flows=(Flow(date(2026, 2, 1), FlowKind.SUBSCRIPTION, D(50)),))
    assert feb.closing_nav == 176
    assert perf.time_weighted_return([feb, jan]) == pytest.approx(0.21, abs=1e-12)
    assert [r.value for r in perf.statement_returns([jan, feb])] == \
        pytest.approx([0.1, 0.1])


def test_daily_twr_by_hand() -> None:
    # day 1: 105/100; day 2: 50 arrives, 160/(105+50); day 3: 150/160
    expected = 1.05 * (160 / 155) * (150 / 160) - 1
    assert perf.daily_time_weighted_return([100, 105, 160, 150], [0, 50, 0]) == \
        pytest.approx(expected, rel=1e-12)
    with pytest.raises(InvalidInput):
        perf.daily_time_weighted_return([100, 105], [0, 0])


def test_overlapping_statements_are_refused() -> None:
    a = statement(date(2026, 1, 1), date(2026, 1, 31), 100, 1)
    b = statement(date(2026, 1, 15), date(2026, 2, 15), 101, 1)
    with pytest.raises(InvalidInput, match="overlap"):
        perf.time_weighted_return([a, b])


def test_venture_multiples_by_hand() -> None:
    # Calls 20 + 15 + 10 = 45 paid in, 4 distributed, NAV 50 left: DPI 4/45, RVPI 50/45,
    # TVPI 54/45 = 1.2.
    q1 = statement(date(2026, 1, 1), date(2026, 3, 31), 0, 0, manager="vc-f", flows=(
        Flow(date(2026, 1, 15), FlowKind.CAPITAL_CALL, D(20)),))
    q2 = statement(date(2026, 4, 1), date(2026, 6, 30), 20, 3, manager="vc-f", flows=(
        Flow(date(2026, 4, 15), FlowKind.CAPITAL_CALL, D(15)),
        Flow(date(2026, 5, 15), FlowKind.CAPITAL_CALL, D(10)),
        Flow(date(2026, 6, 15), FlowKind.DISTRIBUTION, D(4))))
    q3 = statement(date(2026, 7, 1), date(2026, 9, 30), 44, 6, manager="vc-f")
    m = perf.statement_multiples([q1, q2, q3])
    assert q3.closing_nav == 50
    assert (m.paid_in, m.distributed, m.residual) == (45.0, 4.0, 50.0)
    assert m.dpi == pytest.approx(4 / 45)
    assert m.rvpi == pytest.approx(50 / 45)
    assert m.tvpi == pytest.approx(1.2)
    assert m.tvpi == pytest.approx(m.dpi + m.rvpi)


def test_kaplan_schoar_pme_worked_example() -> None:
    # Benchmark 100 (2020-01-01), 120 (2021-01-01), 150 (2022-01-01).
    # Contributions carried to the end: 100 * 150/100 + 50 * 150/120 = 150 + 62.5 = 212.5
    # Distribution carried: 30 * 150/120 = 37.5; NAV at the end 160.
    # PME = (37.5 + 160) / 212.5 = 0.929411...
    levels = {date(2020, 1, 1): 100.0, date(2021, 1, 1): 120.0, date(2022, 1, 1): 150.0}
    flows = [(date(2020, 1, 1), -100.0), (date(2021, 1, 1), -50.0), (date(2021, 1, 1), 30.0)]
    pme = perf.ks_pme(flows, 160.0, date(2022, 1, 1), levels)
    assert pme == pytest.approx(197.5 / 212.5, rel=1e-12)
    assert pme < 1  # the benchmark did better
    # levels are taken as of the last date on or before the flow
    assert perf.ks_pme([(date(2020, 6, 1), -100.0)], 160.0, date(2022, 3, 1), levels) == \
        pytest.approx(160.0 / 150.0)
    with pytest.raises(InsufficientHistory):
        perf.ks_pme([(date(2019, 6, 1), -100.0)], 160.0, date(2022, 1, 1), levels)


def _returns() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    bench = rng.normal(0.02, 0.15, 36)
    own = 0.004 + 0.35 * bench + rng.normal(0, 0.03, 36)
    return own, bench


def test_risk_measures_match_empyrical() -> None:
    own, _ = _returns()
    assert perf.volatility(own, 12) == pytest.approx(
        empyrical.annual_volatility(own, period="monthly"), rel=1e-10)
    assert perf.max_drawdown(own) == pytest.approx(empyrical.max_drawdown(own), rel=1e-10)
    assert perf.sharpe_ratio(own, 12, risk_free=0.001) == pytest.approx(
        empyrical.sharpe_ratio(own, risk_free=0.001, period="monthly"), rel=1e-10)


def test_drawdown_by_hand() -> None:
    # 1 -> 1.1 -> 0.88 -> 0.968: worst is 0.88 / 1.1 - 1 = -20 %
    assert perf.max_drawdown([0.1, -0.2, 0.1]) == pytest.approx(-0.2)
    assert perf.max_drawdown([0.01, 0.02]) == 0.0


def test_alpha_beta_match_least_squares_and_empyrical() -> None:
    own, bench = _returns()
    result = perf.alpha_beta(own, bench, 12, risk_free=0.001)
    slope, intercept = np.polyfit(bench - 0.001, own - 0.001, 1)
    assert result.beta == pytest.approx(slope, rel=1e-10)
    assert result.alpha == pytest.approx(intercept, rel=1e-10)
    ref_alpha, ref_beta = empyrical.alpha_beta(own, bench, risk_free=0.001, period="monthly")
    assert result.beta == pytest.approx(ref_beta, rel=1e-8)
    assert result.annual_alpha == pytest.approx(ref_alpha, rel=1e-8)
    assert perf.correlation(own, bench) == pytest.approx(np.corrcoef(own, bench)[0, 1])


def test_undefined_measures_raise_instead_of_nan() -> None:
    with pytest.raises(DegenerateSeries):
        perf.sharpe_ratio([0.01, 0.01, 0.01], 12)
    with pytest.raises(InsufficientHistory):
        perf.volatility([0.01], 12)
    with pytest.raises(DegenerateSeries):
        perf.correlation([0.01, 0.02, 0.03], [0.0, 0.0, 0.0])
    with pytest.raises(InvalidInput):
        perf.alpha_beta([0.01, 0.02, 0.03], [0.01, 0.02], 12)
    with pytest.raises(DegenerateSeries):
        perf.volatility([0.01, float("nan")], 12)


def test_investor_flows_and_irr_of_statements() -> None:
    # 100 invested at the start of 2025 (opening NAV), worth 110 after 365 days: IRR 10 %.
    s = statement(date(2025, 1, 1), date(2025, 12, 31), 100, 10)
    flows = perf.investor_flows([s])
    assert flows == [(date(2025, 1, 1), -100.0), (date(2025, 12, 31), 110.0)]
    assert perf.xirr(flows) == pytest.approx(1.1 ** (365 / 364) - 1, rel=1e-9)


def test_benchmark_period_returns_use_the_day_before_the_start() -> None:
    periods = [perf.PeriodReturn(date(2026, 1, 1), date(2026, 1, 31), 0.0)]
    levels = {date(2025, 12, 31): 100.0, date(2026, 1, 31): 90.0}
    assert perf.benchmark_period_returns(periods, levels) == pytest.approx([-0.1])
