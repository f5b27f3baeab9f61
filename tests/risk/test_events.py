"""FOMC event study: planted jumps recovered, a tiny case by hand, skipped events, real BTC."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pytest
from scipy import stats

from qoima.domain.errors import InvalidInput
from qoima.market.calendars import get_calendar
from qoima.market.returns import AlignmentRule, align_closes, log_returns
from qoima.market.series import Series
from qoima.risk.events import (
    EVENT_SKIPPED,
    KIND_NOT_SUMMARISED,
    DecisionKind,
    FomcDecision,
    fomc_event_study,
)
from tests.risk.conftest import MARKET


def _weekdays(start: date, n: int) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _planted(seed: int = 1) -> tuple[list[date], np.ndarray, np.ndarray, list[FomcDecision]]:
    """2,500 sessions; a decision every 40 sessions cycling hike, hold, cut, hold; hikes
    jump +5 % and cuts -3 % on day 0 on top of a market model with beta 1.2."""
    rng = np.random.default_rng(seed)
    n = 2500
    days = _weekdays(date(2010, 1, 4), n)
    market = rng.normal(0.0003, 0.01, n)
    asset = 0.0005 + 1.2 * market + rng.normal(0.0, 0.01, n)
    decisions = []
    for number, index in enumerate(range(150, n - 5, 40)):
        change = (25, 0, -25, 0)[number % 4]
        asset[index] += {25: 0.05, 0: 0.0, -25: -0.03}[change]
        decisions.append(FomcDecision(days[index], change, 2.0))
    return days, asset, market, decisions


def test_decision_kind() -> None:
    assert FomcDecision(date(2022, 6, 15), 75, 1.75).kind is DecisionKind.HIKE
    assert FomcDecision(date(2020, 3, 15), -100, 0.25).kind is DecisionKind.CUT
    assert FomcDecision(date(2019, 12, 11), 0, 1.75).kind is DecisionKind.HOLD


@pytest.mark.parametrize("model", ["market", "constant-mean"])
def test_planted_jumps_are_recovered(model: str) -> None:
    days, asset, market, decisions = _planted()
    result = fomc_event_study(decisions, asset, ["BTC"], days, market,
                              model=model)  # type: ignore[arg-type]
    hikes, cuts, holds = (result.summary("BTC", kind) for kind in ("hike", "cut", "hold"))
    expected = Counter(d.kind for d in decisions)
    assert (hikes.n_events, cuts.n_events, holds.n_events) == (
        expected[DecisionKind.HIKE], expected[DecisionKind.CUT], expected[DecisionKind.HOLD])
    assert hikes.mean_car == pytest.approx(0.05, abs=0.02)
    assert hikes.ci_low > 0.0 and hikes.p_value < 1e-3 and hikes.bmp_p_value < 1e-3
    assert hikes.patell_p_value < 1e-3
    assert cuts.mean_car == pytest.approx(-0.03, abs=0.02) and cuts.ci_high < 0.0
    # holds: no planted move; |t| < 3 holds for 99.7 % of seeds (an unbiased test)
    assert abs(holds.mean_car) < 0.01 and abs(holds.t_stat) < 3.0
    assert holds.ci_high - holds.ci_low < hikes.mean_car
    assert result.warnings == ()
    if model == "market":
        betas = [o.beta for o in result.events]
        assert np.mean(betas) == pytest.approx(1.2, abs=0.05)


def test_tiny_case_by_hand() -> None:
    """Two events, estimation window [-6, -2], event window [0, 1]: every figure by hand."""
    rng = np.random.default_rng(4)
    days = _weekdays(date(2024, 1, 1), 30)
    market = rng.normal(0, 0.01, 30)
    asset = 0.9 * market + rng.normal(0, 0.01, 30)
    decisions = [FomcDecision(days[10], 25, 5.25), FomcDecision(days[22], 50, 5.75)]
    result = fomc_event_study(decisions, asset, ["X"], days, market,
                              estimation_window=(-6, -2), event_window=(0, 1),
                              min_estimation_obs=5, level=0.9)
    cars: list[float] = []
    scars: list[float] = []
    for decision, day0 in zip(decisions, (10, 22), strict=True):
        est = slice(day0 - 6, day0 - 1)
        beta, alpha = np.polyfit(market[est], asset[est], 1)
        residuals = asset[est] - alpha - beta * market[est]
        s2 = residuals @ residuals / (5 - 2)
        event = slice(day0, day0 + 2)
        abnormal = asset[event] - alpha - beta * market[event]
        m = market[est]
        # classical Var(CAR) for the market model (Campbell, Lo and MacKinlay, ch. 4)
        var_car = s2 * (2 + 2**2 / 5 + (market[event].sum() - 2 * m.mean()) ** 2
                        / np.sum((m - m.mean()) ** 2))
        outcome = result.outcomes("X")[len(cars)]
        assert outcome.decision == decision and outcome.day0 == days[day0]
        assert outcome.alpha == pytest.approx(alpha, rel=1e-9, abs=1e-15)
        assert outcome.beta == pytest.approx(beta, rel=1e-9)
        np.testing.assert_allclose(outcome.abnormal_returns, abnormal, rtol=1e-9)
        assert outcome.car == pytest.approx(abnormal.sum(), rel=1e-9)
        assert outcome.car_standard_error == pytest.approx(np.sqrt(var_car), rel=1e-9)
        assert outcome.estimation_obs == 5
        cars.append(abnormal.sum())
        scars.append(abnormal.sum() / np.sqrt(var_car))
    summary = result.summary("X", "hike")
    mean, sd = np.mean(cars), np.std(cars, ddof=1)
    half = stats.t.ppf(0.95, 1) * sd / np.sqrt(2)
    assert summary.n_events == 2
    assert summary.mean_car == pytest.approx(mean, rel=1e-12)
    assert (summary.ci_low, summary.ci_high) == pytest.approx((mean - half, mean + half),
                                                              rel=1e-9)
    assert summary.t_stat == pytest.approx(mean / (sd / np.sqrt(2)), rel=1e-9)
    assert summary.p_value == pytest.approx(2 * stats.t.sf(abs(summary.t_stat), 1), rel=1e-9)
    bmp = np.mean(scars) / (np.std(scars, ddof=1) / np.sqrt(2))
    assert summary.bmp_t_stat == pytest.approx(bmp, rel=1e-9)
    assert summary.patell_z == pytest.approx(np.sum(scars) / np.sqrt(2 * 3 / 1), rel=1e-9)


def test_constant_mean_by_hand() -> None:
    days = _weekdays(date(2024, 1, 1), 20)
    returns = np.linspace(-0.02, 0.03, 20) ** 2
    result = fomc_event_study([FomcDecision(days[12], 0, 5.5)], returns, ["X"], days,
                              model="constant-mean", estimation_window=(-10, -3),
                              event_window=(-1, 1), min_estimation_obs=8)
    outcome = result.events[0]
    mu = returns[2:10].mean()
    s2 = returns[2:10].var(ddof=1)
    assert outcome.car == pytest.approx(np.sum(returns[11:14] - mu), rel=1e-12)
    assert outcome.car_standard_error == pytest.approx(np.sqrt(s2 * (3 + 9 / 8)), rel=1e-12)
    assert outcome.beta == 0.0
    # one hold is not enough for a t-test: a finding, not a NaN
    assert result.summaries == ()
    assert [w.rule for w in result.warnings] == [KIND_NOT_SUMMARISED]


def test_events_without_data_are_skipped_with_findings() -> None:
    days, asset, market, decisions = _planted()
    two = np.column_stack([asset, asset + 0.001])
    two[150 + 3 * 40 + 1, 1] = np.nan  # inside event 3's window, asset B
    gap_days = list(days)
    extra = [
        FomcDecision(days[10], 25, 1.0),  # estimation window before the data
        FomcDecision(days[-1] + timedelta(days=30), 0, 1.0),  # after the data
        FomcDecision(days[-1], -25, 1.0),  # event window runs past the data
    ]
    result = fomc_event_study(decisions + extra, two, ["A", "B"], gap_days, market)
    skipped = {(w.subject, w.as_of_date) for w in result.warnings if w.rule == EVENT_SKIPPED}
    assert skipped == {
        (f"FOMC {days[10]} (all)", days[10]),
        (f"FOMC {days[-1] + timedelta(days=30)} (all)", days[-1] + timedelta(days=30)),
        (f"FOMC {days[-1]} (all)", days[-1]),
        (f"FOMC {decisions[3].date} (B)", decisions[3].date),
    }
    assert len(result.outcomes("A")) == len(decisions)
    assert len(result.outcomes("B")) == len(decisions) - 1
    assert result.provenance.warnings == result.warnings
    assert all(np.isfinite([s.mean_car, s.ci_low, s.ci_high, s.t_stat, s.p_value,
                            s.bmp_t_stat, s.patell_z]).all() for s in result.summaries)


def test_day0_is_the_first_period_ending_on_or_after_the_decision() -> None:
    sunday = date(2020, 3, 15)
    crypto_days = [sunday + timedelta(days=i) for i in range(-200, 10)]
    nyse_days = [d for d in crypto_days if d.weekday() < 5]
    cut = FomcDecision(sunday, -100, 0.25)
    rng = np.random.default_rng(0)
    on_crypto = fomc_event_study([cut], rng.normal(0, 0.01, len(crypto_days)), ["BTC"],
                                 crypto_days, model="constant-mean")
    on_nyse = fomc_event_study([cut], rng.normal(0, 0.01, len(nyse_days)), ["BTC"],
                               nyse_days, model="constant-mean")
    assert on_crypto.events[0].day0 == sunday
    assert on_nyse.events[0].day0 == date(2020, 3, 16)
    # a data gap: the next period ends more than max_day0_lag_days after the decision
    holed = [d for d in nyse_days if not date(2020, 3, 12) <= d <= date(2020, 3, 19)]
    gap = fomc_event_study([cut], rng.normal(0, 0.01, len(holed)), ["BTC"], holed,
                           model="constant-mean")
    assert gap.events == () and "no period contains the announcement" in gap.warnings[0].message


def test_event_days_left_out_of_estimation_windows() -> None:
    days, asset, market, decisions = _planted()
    kept = fomc_event_study(decisions, asset, ["A"], days, market, exclude_event_days=False)
    left_out = fomc_event_study(decisions, asset, ["A"], days, market)
    assert {o.estimation_obs for o in kept.events} == {110}
    # decisions 40 sessions apart: the windows of the events 40 and 80 sessions earlier lie
    # inside [-120, -11] (3 days each), the one 120 earlier overlaps it by 2 days
    assert {o.estimation_obs for o in left_out.events[3:]} == {110 - 3 - 3 - 2}
    assert [o.estimation_obs for o in left_out.events[:3]] == [110, 107, 104]


def test_bad_input() -> None:
    days, asset, market, decisions = _planted()
    with pytest.raises(InvalidInput):
        fomc_event_study(decisions, asset, ["A"], days, market, level=1.5)
    with pytest.raises(InvalidInput):
        fomc_event_study(decisions, asset, ["A"], days, market, estimation_window=(-20, 0))
    with pytest.raises(InvalidInput):
        fomc_event_study(decisions, asset, ["A"], days)  # market model without a market
    with pytest.raises(InvalidInput):
        fomc_event_study(decisions, asset, ["A", "B"], days, market)
    with pytest.raises(InvalidInput):
        fomc_event_study(decisions, asset, ["A"], days[:-1], market)
    with pytest.raises(InvalidInput):
        fomc_event_study(decisions, asset, ["A"], days, market[:-1])
    with pytest.raises(InvalidInput):
        fomc_event_study(decisions, asset, ["A"], days, market, model="fama")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        fomc_event_study(decisions, asset, ["A"], days[::-1], market)


def _fomc_csv(first: date, last: date) -> list[FomcDecision]:
    with (MARKET / "fomc.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [FomcDecision(date.fromisoformat(r["date"]), int(r["change_bps"]),
                         float(r["upper_bound_pct"])) for r in rows
            if first <= date.fromisoformat(r["date"]) <= last]


def _csv_counts(first: date, last: date) -> Counter[str]:
    counts: Counter[str] = Counter()
    with (MARKET / "fomc.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if first <= date.fromisoformat(row["date"]) <= last:
                change = int(row["change_bps"])
                counts["hike" if change > 0 else "cut" if change < 0 else "hold"] += 1
    return counts


@pytest.mark.realdata
def test_real_btc_around_fomc_2015_2025(real_series: Callable[[str], Series]) -> None:
    first, last = date(2015, 1, 1), date(2025, 12, 31)
    decisions = _fomc_csv(first, last)
    expected = _csv_counts(first, last)
    assert sum(expected.values()) == len(decisions) > 80
    # BTC on its own calendar (every day), constant-mean model: every decision is placed
    btc = log_returns(align_closes({"BTC": real_series("BTC-USD")}, get_calendar("crypto"),
                                   date(2014, 9, 17), date(2026, 3, 31),
                                   rule=AlignmentRule.COMPOUND))
    own = fomc_event_study(decisions, btc.values, ["BTC"], btc.dates, model="constant-mean")
    assert own.warnings == ()
    for kind in ("hike", "cut", "hold"):
        summary = own.summary("BTC", kind)
        assert summary.n_events == expected[kind]
        assert np.isfinite([summary.mean_car, summary.ci_low, summary.ci_high,
                            summary.t_stat, summary.p_value, summary.bmp_t_stat,
                            summary.patell_z]).all()
        assert summary.ci_low < summary.mean_car < summary.ci_high
    assert own.summary("BTC", "cut").n_events == expected["cut"]
    sunday = [o for o in own.events if o.decision.date == date(2020, 3, 15)]
    assert sunday[0].day0 == date(2020, 3, 15)

    # BTC and the S&P 500 on NYSE sessions, market model: early 2015 lacks 120 sessions
    both = log_returns(align_closes({"BTC": real_series("BTC-USD"), "SPX": real_series("SPX")},
                                    get_calendar("xnys"), date(2014, 9, 17),
                                    date(2026, 3, 31), rule=AlignmentRule.COMPOUND))
    market = fomc_event_study(decisions, both.column("BTC"), ["BTC"], both.dates,
                              both.column("SPX"))
    skipped = [w.as_of_date for w in market.warnings if w.rule == EVENT_SKIPPED]
    assert skipped and all(d is not None and d < date(2015, 6, 1) for d in skipped)
    placed = Counter(o.kind.value for o in market.events)
    assert placed + Counter(_kind(d, decisions) for d in skipped) == expected
    assert all(market.summary("BTC", k).n_events == placed[k] for k in expected)
    assert all(np.isfinite([o.car, o.car_standard_error, o.beta]).all()
               for o in market.events)
    assert [o.day0 for o in market.events if o.decision.date == date(2020, 3, 15)] == [
        date(2020, 3, 16)]


def _kind(day: date | None, decisions: list[FomcDecision]) -> str:
    return next(d.kind.value for d in decisions if d.date == day)
