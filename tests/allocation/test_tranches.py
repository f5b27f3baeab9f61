"""Tranche plans: cumulative targets, lot rounding, ADV-capped daily slices on session days,
release logic for every state, and bad input."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoima.allocation import tranches as tr
from qoima.allocation.tranches import TrancheStatus as S
from qoima.domain.errors import InvalidInput
from qoima.market.calendars import get_calendar
from qoima.policy.allocation import TrancheRules, TrancheStep

D = Decimal
M = D(1_000_000)
ZERO = D(0)
FRIDAY = date(2025, 1, 3)
WEEKDAYS = get_calendar("weekdays").is_session

RULES = TrancheRules(steps=(TrancheStep("t1", up_to_usd=250 * M, min_usd=50 * M),
                            TrancheStep("t2", up_to_usd=300 * M)),
                     adv_participation=D("0.1"), min_days_between=7)


def plan(target: Decimal = 280 * M, deployed: Decimal = ZERO, rules: TrancheRules = RULES,
         **changes: object) -> tr.TranchePlan:
    arguments: dict[str, object] = {
        "weights": {"IBIT": 0.5, "FBTC": 0.5},
        "prices_usd": {"IBIT": D("50.00"), "FBTC": D("80.00")},
        "lot_sizes": {"IBIT": D(1), "FBTC": D(1)},
        "adv_usd": {"IBIT": 2_000_000_000.0, "FBTC": 200_000_000.0},
        "start": FRIDAY, "sessions": WEEKDAYS}
    arguments.update(changes)
    return tr.plan_tranches(rules, target_usd=target, deployed_usd=deployed,
                            **arguments)  # type: ignore[arg-type]


def orders(tranche: tr.Tranche) -> dict[str, tr.TrancheOrder]:
    return {o.instrument: o for o in tranche.orders}


# -- targets and schedules by hand -----------------------------------------------------------

def test_usd_100m_into_two_etfs_at_10_percent_of_adv() -> None:
    # IBIT: 50M / USD 50 = 1,000,000 shares; 10 % of ADV 2bn / 50 = 4,000,000 a day: 1 day.
    # FBTC: 50M / USD 80 = 625,000 shares; 10 % of ADV 200M / 80 = 250,000 a day: 3 days.
    result = plan(target=100 * M)
    (first,) = result.tranches
    assert (first.id, first.cumulative_target_usd, first.amount_usd) == ("t1", 100 * M, 100 * M)
    ibit, fbtc = orders(first)["IBIT"], orders(first)["FBTC"]
    assert (ibit.quantity, ibit.daily_max_quantity, ibit.days) == (D(1_000_000), D(4_000_000), 1)
    assert fbtc.daily_max_quantity == D(250_000)
    assert [(s.day, s.date, s.quantity) for s in fbtc.slices] == [
        (1, date(2025, 1, 3), D(250_000)), (2, date(2025, 1, 6), D(250_000)),
        (3, date(2025, 1, 7), D(125_000))]  # Friday, then Monday and Tuesday
    assert first.days == 3
    assert (first.earliest_start, first.earliest_end) == (FRIDAY, date(2025, 1, 7))
    assert first.cost_usd == 100 * M
    assert result.warnings == ()


def test_first_tranche_up_to_250m_then_up_to_300m() -> None:
    result = plan(target=280 * M)
    assert [(t.id, t.cumulative_target_usd, t.amount_usd) for t in result.tranches] == [
        ("t1", 250 * M, 250 * M), ("t2", 280 * M, 30 * M)]
    first, second = result.tranches
    # FBTC 125M / 80 = 1,562,500 shares at 250,000 a day: 7 sessions, Jan 3 - Jan 13
    assert first.days == 7 and first.earliest_end == date(2025, 1, 13)
    # t2 starts at the first session 7 calendar days after t1 ends
    assert second.earliest_start == date(2025, 1, 20)
    assert orders(second)["FBTC"].quantity == D(187_500)
    assert [t.id for t in plan(target=200 * M).tranches] == ["t1"]
    assert plan(target=300 * M).tranches[-1].cumulative_target_usd == 300 * M


def test_money_already_deployed_counts_against_the_steps() -> None:
    assert [(t.id, t.amount_usd) for t in plan(deployed=100 * M).tranches] == [
        ("t1", 150 * M), ("t2", 30 * M)]
    result = plan(deployed=260 * M)
    assert [(t.id, t.amount_usd) for t in result.tranches] == [("t2", 20 * M)]
    assert orders(result.tranches[0])["IBIT"].quantity == D(200_000)  # 10M / 50
    done = plan(deployed=280 * M)
    assert done.tranches == ()
    assert [w.rule for w in done.warnings] == [tr.NOTHING_TO_DEPLOY]


def test_lot_rounding_rolls_the_remainder_into_the_next_tranche() -> None:
    # 60/40 at awkward prices and lots of 100 shares
    result = plan(weights={"IBIT": 0.6, "FBTC": 0.4},
                  prices_usd={"IBIT": D("37.13"), "FBTC": D("61.07")},
                  lot_sizes={"IBIT": D(100), "FBTC": D(100)})
    first, second = result.tranches
    ibit1, ibit2 = orders(first)["IBIT"], orders(second)["IBIT"]
    # t1: 150M / 37.13 = 4,039,860.48 -> 4,039,800 shares (USD 149,997,774 spent)
    assert ibit1.amount_usd == 150 * M and ibit1.quantity == D(4_039_800)
    assert ibit1.cost_usd == D("149997774.00")
    # t2: 168M - 149,997,774 = 18,002,226 allotted -> 484,800 shares
    assert ibit2.amount_usd == D("18002226.00") and ibit2.quantity == D(484_800)
    total = ibit1.cost_usd + ibit2.cost_usd
    assert 168 * M - 100 * D("37.13") < total <= 168 * M


def test_unknown_adv_gives_one_slice_and_a_warning() -> None:
    result = plan(target=100 * M, adv_usd={"IBIT": 2e9})
    fbtc = orders(result.tranches[0])["FBTC"]
    assert fbtc.daily_max_quantity is None
    assert [(s.day, s.quantity) for s in fbtc.slices] == [(1, D(625_000))]
    assert [(w.rule, w.subject) for w in result.warnings] == [(tr.UNKNOWN_ADV, "FBTC")]


def test_adv_below_one_lot_buys_one_lot_a_session_with_a_warning() -> None:
    result = plan(target=D(10_000), weights={"GOLD": 1.0}, prices_usd={"GOLD": D(2_500)},
                  lot_sizes={"GOLD": D(1)}, adv_usd={"GOLD": 1_000.0},
                  rules=TrancheRules(steps=(TrancheStep("t1", up_to_usd=M),)))
    order = orders(result.tranches[0])["GOLD"]
    assert order.daily_max_quantity == D(1)
    assert [s.quantity for s in order.slices] == [D(1)] * 4
    assert result.warnings[0].rule == tr.ADV_BELOW_ONE_LOT


def test_a_list_of_sessions_instead_of_a_predicate() -> None:
    sessions = [date(2025, 1, 3), date(2025, 1, 8), date(2025, 1, 9), date(2025, 1, 10)]
    fbtc = orders(plan(target=100 * M, sessions=sessions).tranches[0])["FBTC"]
    assert [s.date for s in fbtc.slices] == sessions[:3]
    with pytest.raises(InvalidInput, match="session list ends on 2025-01-08"):
        plan(target=100 * M, sessions=sessions[:2])


def test_provenance() -> None:
    first, second = plan(), plan()
    assert first.provenance.method == "allocation.tranche_plan"
    assert first.provenance.inputs_hash == second.provenance.inputs_hash
    assert plan(target=290 * M).provenance.inputs_hash != first.provenance.inputs_hash


@settings(max_examples=60, deadline=None)
@given(target_m=st.integers(50, 300), deployed_m=st.integers(0, 320),
       w=st.integers(1, 99), p1=st.decimals("0.5", "900", places=2),
       p2=st.decimals("0.5", "90000", places=2),
       lot1=st.sampled_from([D(1), D(10), D(100)]),
       lot2=st.sampled_from([D("0.0001"), D("0.01"), D(1)]),
       adv=st.floats(1e6, 5e9))
def test_rounding_and_slicing_invariants(target_m: int, deployed_m: int, w: int, p1: Decimal,
                                         p2: Decimal, lot1: Decimal, lot2: Decimal,
                                         adv: float) -> None:
    weights = {"A": w / 100, "B": 1 - w / 100}
    prices, lots = {"A": p1, "B": p2}, {"A": lot1, "B": lot2}
    target, deployed = target_m * M, deployed_m * M
    result = plan(target=target, deployed=deployed, weights=weights, prices_usd=prices,
                  lot_sizes=lots, adv_usd={"A": adv, "B": adv / 3})
    spent = dict.fromkeys(weights, D(0))
    for tranche in result.tranches:
        for order in tranche.orders:
            assert order.cost_usd <= order.amount_usd  # rounding never exceeds the allotment
            assert order.quantity % order.lot_size == 0
            assert sum((s.quantity for s in order.slices), D(0)) == order.quantity
            assert order.daily_max_quantity is not None
            assert all(s.quantity <= order.daily_max_quantity for s in order.slices)
            assert all(s.quantity % order.lot_size == 0 for s in order.slices)
            assert all(WEEKDAYS(s.date) for s in order.slices)
            assert [s.date for s in order.slices] == sorted({s.date for s in order.slices})
            spent[order.instrument] += order.cost_usd
    to_deploy = max(target - deployed, D(0))
    for code, weight in weights.items():
        share = to_deploy * D(repr(weight))
        # within one lot (and a cent per tranche) of the instrument's share of the target
        slack = lots[code] * prices[code] + D("0.01") * len(result.tranches)
        assert share - slack <= spent[code] <= share
    starts = [t.earliest_start for t in result.tranches]
    assert starts == sorted(starts)


# -- release logic -----------------------------------------------------------------------------

def status(result: tr.TranchePlan | None = None, *, executed: dict[str, Decimal] | None = None,
           go: bool = True, as_of: date = date(2025, 2, 3),
           last: dict[str, date] | None = None) -> list[tuple[S, str]]:
    states = tr.tranche_status(result or plan(), executed_usd_by_tranche=executed or {},
                               gate_go=go, as_of=as_of, last_execution_dates=last or {})
    return [(s.status, s.reason) for s in states]


def test_gate_go_releases_the_first_tranche_only() -> None:
    assert status() == [(S.RELEASED, ""), (S.PLANNED, "after tranche t1")]


def test_gate_wait_blocks_the_first_tranche() -> None:
    assert status(go=False) == [(S.BLOCKED, "waiting for the gate (WAIT)"),
                                (S.PLANNED, "after tranche t1")]


def test_in_progress_blocks_the_next() -> None:
    states = status(executed={"t1": 100 * M})
    assert states[0] == (S.IN_PROGRESS, "USD 100,000,000 of 250,000,000 executed")
    assert states[1] == (S.BLOCKED, "tranche t1 not yet executed (USD 150,000,000 to go)")
    waiting = status(executed={"t1": 100 * M}, go=False)[0]
    assert waiting == (S.IN_PROGRESS, "USD 100,000,000 of 250,000,000 executed; the gate "
                                      "says WAIT")


def test_executed_within_tolerance_and_min_days_between() -> None:
    almost = 250 * M - D("1.2") * M  # 0.48 % short: within the 0.5 % tolerance
    on = {"t1": date(2025, 1, 27)}
    assert status(executed={"t1": almost}, last=on, as_of=date(2025, 2, 3)) == [
        (S.EXECUTED, ""), (S.RELEASED, "")]
    early = status(executed={"t1": almost}, last=on, as_of=date(2025, 2, 2))
    assert early[1] == (S.BLOCKED, "7 days must pass after tranche t1 (last executed "
                                   "2025-01-27): not before 2025-02-03")
    short = status(executed={"t1": 250 * M - 2 * M}, last=on)
    assert short[0][0] is S.IN_PROGRESS and short[1][0] is S.BLOCKED
    unknown = status(executed={"t1": 250 * M}, last={})
    assert unknown[1] == (S.BLOCKED, "last execution date of tranche t1 unknown")
    states = tr.tranche_status(plan(), executed_usd_by_tranche={"t1": almost}, gate_go=True,
                               as_of=date(2025, 2, 1), last_execution_dates=on)
    assert states[1].earliest_release == date(2025, 2, 3)
    assert states[0].remaining_usd == D("1.2") * M


def test_never_released_while_the_gate_says_wait() -> None:
    both = status(executed={"t1": 250 * M}, last={"t1": date(2025, 1, 1)}, go=False)
    assert both[1] == (S.BLOCKED, "waiting for the gate (WAIT)")
    combined = status(executed={"t1": 250 * M}, last={"t1": date(2025, 2, 1)}, go=False)
    assert combined[1][1].startswith("waiting for the gate (WAIT); 7 days must pass")


def test_a_step_without_the_gate_is_released_on_wait() -> None:
    rules = TrancheRules(steps=(TrancheStep("t1", 250 * M, 50 * M),
                                TrancheStep("t2", 300 * M, requires_gate=False)))
    result = plan(rules=rules)
    assert status(result, executed={"t1": 250 * M}, go=False) == [
        (S.EXECUTED, ""), (S.RELEASED, "")]


def test_all_executed() -> None:
    assert status(executed={"t1": 250 * M, "t2": 30 * M},
                  last={"t1": date(2025, 1, 10), "t2": date(2025, 1, 30)}) == [
        (S.EXECUTED, ""), (S.EXECUTED, "")]


def test_status_bad_input() -> None:
    with pytest.raises(InvalidInput, match="no tranche t9 in the plan"):
        status(executed={"t9": M})
    with pytest.raises(InvalidInput, match="no tranche t9 in the plan"):
        status(last={"t9": FRIDAY})
    with pytest.raises(InvalidInput, match="is negative"):
        status(executed={"t1": -M})


# -- bad input ---------------------------------------------------------------------------------

def test_bad_plans_name_the_cause() -> None:
    with pytest.raises(InvalidInput, match=r"weights sum to 0\.9,"):
        plan(weights={"IBIT": 0.5, "FBTC": 0.4})
    with pytest.raises(InvalidInput, match="must be above t1's"):
        TrancheRules(steps=(TrancheStep("t1", 250 * M), TrancheStep("t2", 200 * M)))
    with pytest.raises(InvalidInput, match=r"above the last tranche's cap \(t2: up to USD "
                                           r"300,000,000\)"):
        plan(target=310 * M)
    with pytest.raises(InvalidInput, match="stops inside tranche t1, below its floor of USD "
                                           "50,000,000"):
        plan(target=40 * M)
    with pytest.raises(InvalidInput, match="FBTC: price must be given"):
        plan(prices_usd={"IBIT": D(50)})
    with pytest.raises(InvalidInput, match="IBIT: lot size must be given and above 0"):
        plan(lot_sizes={"IBIT": D(0), "FBTC": D(1)})
    with pytest.raises(InvalidInput, match="target must be above 0"):
        plan(target=D(0))
    with pytest.raises(InvalidInput, match="deployed must be >= 0"):
        plan(deployed=-M)
    with pytest.raises(InvalidInput, match="no session within"):
        plan(sessions=lambda day: day < FRIDAY - timedelta(days=1))
