"""Fee recomputation against hand-computed cases."""

from __future__ import annotations

from datetime import date

import pytest

from qoima.domain.enums import ManagerKind
from qoima.domain.errors import InvalidInput
from qoima.managers import fees
from qoima.managers.model import (
    FeeKind,
    FeeTerms,
    Flow,
    FlowKind,
    Frequency,
    HurdleKind,
    ManagementFeeBasis,
)

from .factory import D, mandate, statement

PERF = FeeKind.PERFORMANCE


def test_management_fee_is_pro_rata_by_days() -> None:
    # 2 % of 10,000,000 for 30 days: 10,000,000 * 0.02 * 30 / 365 = 16,438.356 -> 16,438.36
    assert fees.management_fee(D("0.02"), D(10_000_000), 30) == D("16438.36")
    m = mandate(FeeTerms(management_rate=D("0.02")))
    s = statement(date(2026, 9, 1), date(2026, 9, 30), 10_000_000, 0,
                  fees={FeeKind.MANAGEMENT: "16438.36"})
    [check] = fees.management_checks(m, [s])
    assert (check.expected, check.charged, check.difference) == (D("16438.36"),
                                                                D("16438.36"), 0)


def test_management_fee_weights_flows_by_days_in_the_fund() -> None:
    # 3,000,000 subscribed on 16 September is in for 15 of 30 days: basis 11,500,000;
    # 0.02 * 11,500,000 * 30 / 365 = 18,904.109... -> 18,904.11
    m = mandate(FeeTerms(management_rate=D("0.02")))
    s = statement(date(2026, 9, 1), date(2026, 9, 30), 10_000_000, 0, flows=(
        Flow(date(2026, 9, 16), FlowKind.SUBSCRIPTION, D(3_000_000)),))
    assert fees.management_basis(m, s) == D(11_500_000)
    [check] = fees.management_checks(m, [s])
    assert check.expected == D("18904.11")
    assert check.charged == 0 and check.difference == D("-18904.11")


def test_management_fee_on_commitment() -> None:
    # 2 % of a 100m commitment for a 92-day quarter: 100e6 * 0.02 * 92 / 365 = 504,109.59
    m = mandate(FeeTerms(management_rate=D("0.02"),
                         management_basis=ManagementFeeBasis.COMMITMENT),
                kind=ManagerKind.VENTURE_FUND, commitment="100000000", manager="vc-f")
    s = statement(date(2026, 7, 1), date(2026, 9, 30), 30_000_000, 0, manager="vc-f")
    assert fees.management_checks(m, [s])[0].expected == D("504109.59")


@pytest.mark.parametrize(("hurdle", "gross", "expected"), [
    # start = HWM = 1, a year, 20 % fee, 5 % hurdle
    (HurdleKind.NONE, "1.12", "0.024"),   # 0.2 * (1.12 - 1)
    (HurdleKind.HARD, "1.12", "0.014"),   # 0.2 * (1.12 - 1.05)
    (HurdleKind.SOFT, "1.12", "0.024"),   # hurdle beaten: 0.2 * (1.12 - 1)
    (HurdleKind.HARD, "1.04", "0"),       # below the hurdle
    (HurdleKind.SOFT, "1.04", "0"),
    (HurdleKind.NONE, "1.04", "0.008"),
])
def test_hurdle_hard_and_soft(hurdle: HurdleKind, gross: str, expected: str) -> None:
    terms = FeeTerms(performance_rate=D("0.2"), hurdle=hurdle,
                     hurdle_rate=D("0.05") if hurdle is not HurdleKind.NONE else D(0))
    fee = fees.performance_fee_per_unit(terms, start_value=D(1), gross_value=D(gross),
                                        high_water_mark=D(1), days=365)
    assert fee.per_unit == D(expected)


def test_high_water_mark_not_exceeded_means_no_fee() -> None:
    terms = FeeTerms(performance_rate=D("0.2"))
    fee = fees.performance_fee_per_unit(terms, start_value=D("0.9"), gross_value=D("0.99"),
                                        high_water_mark=D(1), days=365)
    assert fee.per_unit == 0 and fee.reference == 1
    no_hwm = FeeTerms(performance_rate=D("0.2"), high_water_mark=False)
    fee = fees.performance_fee_per_unit(no_hwm, start_value=D("0.9"), gross_value=D("0.99"),
                                        high_water_mark=D(1), days=365)
    assert fee.per_unit == D("0.018")  # 0.2 * (0.99 - 0.9)


def _three_years(hurdle: HurdleKind, third_year_fee: str) -> list[fees.FeeCheck]:
    # Year 1: 1,000,000 gains 150,000 (+15 %): fee 0.2 * 150,000 = 30,000, NAV 1,120,000,
    #   unit value 1.15 * 1,120,000 / 1,150,000 = 1.12 = the new HWM.
    # Year 2: -10 % (-112,000): unit 1.008, below the HWM: no fee. NAV 1,008,000.
    # Year 3: +20 % (+201,600): gross NAV 1,209,600, unit 1.2096, 1,000,000 units.
    #   no hurdle: 0.2 * (1.2096 - 1.12) * 1,000,000 = 17,920
    #   hard 5 %: threshold 1.12 * 1.05 = 1.176: 0.2 * 0.0336 * 1e6 = 6,720
    #   soft 5 %: 1.2096 > 1.176 -> 17,920
    terms = FeeTerms(performance_rate=D("0.2"), hurdle=hurdle,
                     hurdle_rate=D("0.05") if hurdle is not HurdleKind.NONE else D(0),
                     crystallisation=Frequency.ANNUAL)
    m = mandate(terms, inception=date(2025, 1, 1))
    y1 = statement(date(2025, 1, 1), date(2025, 12, 31), 1_000_000, 150_000,
                   fees={PERF: "30000"})
    y2 = statement(date(2026, 1, 1), date(2026, 12, 31), y1.closing_nav, -112_000)
    y3 = statement(date(2027, 1, 1), date(2027, 12, 31), y2.closing_nav, 201_600,
                   fees={PERF: third_year_fee})
    assert (y1.closing_nav, y2.closing_nav) == (1_120_000, 1_008_000)
    return fees.performance_checks(m, [y1, y2, y3])


def test_performance_fee_with_high_water_mark_over_three_years() -> None:
    checks = _three_years(HurdleKind.NONE, "17920")
    assert [c.expected for c in checks] == [D("30000.00"), D("0.00"), D("17920.00")]
    assert all(c.difference == 0 for c in checks)


def test_performance_fee_hard_and_soft_hurdle_over_three_years() -> None:
    hard = _three_years(HurdleKind.HARD, "6720")
    # year 1 with a hard hurdle: 0.2 * (1.15 - 1.05) * 1e6 = 20,000 (30,000 was charged)
    assert [c.expected for c in hard] == [D("20000.00"), D("0.00"), D("6720.00")]
    soft = _three_years(HurdleKind.SOFT, "17920")
    assert [c.expected for c in soft][1:] == [D("0.00"), D("17920.00")]


def test_monthly_accruals_are_checked_at_quarterly_crystallisation() -> None:
    # Gross returns +5 %, +5 %, -2 %: unit 1.05 * 1.05 * 0.98 = 1.08045, fee per unit
    # 0.2 * 0.08045 = 0.01609 on 1,000,000 units = 16,090. The manager accrued 10,000 and
    # 10,500 and never reversed: 20,500 charged.
    m = mandate(FeeTerms(performance_rate=D("0.2"), crystallisation=Frequency.QUARTERLY),
                inception=date(2025, 1, 1))
    jan = statement(date(2025, 1, 1), date(2025, 1, 31), 1_000_000, 50_000,
                    fees={PERF: "10000"})
    feb = statement(date(2025, 2, 1), date(2025, 2, 28), jan.closing_nav, 52_500,
                    fees={PERF: "10500"})
    mar = statement(date(2025, 3, 1), date(2025, 3, 31), feb.closing_nav, -22_050)
    apr = statement(date(2025, 4, 1), date(2025, 4, 30), mar.closing_nav, 1000)
    [check] = fees.performance_checks(m, [apr, mar, jan, feb])  # April's quarter is open
    assert (check.expected, check.charged) == (D("16090.00"), D("20500"))
    assert (check.period_start, check.period_end) == (date(2025, 1, 1), date(2025, 3, 31))


def test_performance_fee_per_unit_ignores_subscriptions() -> None:
    # +10 % in the year with 1,000,000 subscribed on day one of the second half: the fee is
    # on the gain per unit, not on the new money.
    m = mandate(FeeTerms(performance_rate=D("0.2"), crystallisation=Frequency.SEMI_ANNUAL),
                inception=date(2025, 1, 1))
    h1 = statement(date(2025, 1, 1), date(2025, 6, 30), 1_000_000, 100_000,
                   fees={PERF: "20000"})
    h2 = statement(date(2025, 7, 1), date(2025, 12, 31), h1.closing_nav, 0, flows=(
        Flow(date(2025, 7, 1), FlowKind.SUBSCRIPTION, D(1_000_000)),))
    checks = fees.performance_checks(m, [h1, h2])
    assert [c.expected for c in checks] == [D("20000.00"), D("0.00")]


@pytest.mark.parametrize(("catch_up", "proceeds", "gp"), [
    # paid in 100, preferred 8, carry 20 %
    ("1", "150", "10"),        # full catch-up: GP gets 20 % of the 50 profit
    ("0.8", "150", "10"),      # 80 % catch-up also ends at 20 % of profit
    ("0", "150", "8.4"),       # no catch-up: 20 % of 150 - 108
    ("1", "105", "0"),         # inside the preferred return
    ("1", "109", "1"),         # inside the catch-up: GP takes the dollar after the pref
    ("1", "90", "0"),          # capital not even returned
])
def test_european_waterfall(catch_up: str, proceeds: str, gp: str) -> None:
    terms = FeeTerms(carry_rate=D("0.2"), preferred_return=D("0.08"), catch_up=D(catch_up))
    split = fees.european_waterfall(terms, paid_in=D(100), proceeds=D(proceeds),
                                    preferred=D(8))
    assert split.gp_total == pytest.approx(D(gp), abs=D("1e-40"))
    assert split.gp_total + split.lp_total == D(proceeds)


def test_waterfall_tiers_with_full_catch_up() -> None:
    terms = FeeTerms(carry_rate=D("0.2"), preferred_return=D("0.08"), catch_up=D(1))
    split = fees.european_waterfall(terms, paid_in=D(100), proceeds=D(150), preferred=D(8))
    # catch-up tier: 0.2 * 8 / (1 - 0.2) = 2, all to the GP; then 40 split 32 / 8
    assert (split.return_of_capital, split.preferred_return) == (100, 8)
    assert (split.gp_catch_up, split.lp_catch_up) == (2, 0)
    assert (split.lp_split, split.gp_split) == (32, 8)


def test_preferred_amount_compounds_annually() -> None:
    assert fees.preferred_amount(D("0.08"), [(date(2025, 1, 1), D(100))],
                                 date(2026, 1, 1)) == pytest.approx(D(8), abs=D("1e-40"))
    two_years = fees.preferred_amount(D("0.08"), [(date(2025, 1, 1), D(100))],
                                      date(2026, 12, 31))  # 729 days
    assert float(two_years) == pytest.approx(100 * (1.08 ** (729 / 365) - 1), rel=1e-12)


def test_carry_check_on_statements() -> None:
    # 100m called, 50m profit, 10m carry accrued: the GP's full-catch-up share is 20 % of
    # 50m whatever the preferred amount, as long as the catch-up completes.
    terms = FeeTerms(carry_rate=D("0.2"), preferred_return=D("0.08"), catch_up=D(1))
    m = mandate(terms, kind=ManagerKind.VENTURE_FUND, commitment="100000000", manager="vc-f")
    s = statement(date(2025, 1, 1), date(2025, 12, 31), 0, 50_000_000, manager="vc-f",
                  flows=(Flow(date(2025, 1, 1), FlowKind.CAPITAL_CALL, D(100_000_000)),),
                  fees={FeeKind.CARRY: "10000000"})
    check = fees.carry_check(m, [s])
    assert check is not None
    assert (check.expected, check.charged) == (D("10000000.00"), D(10_000_000))
    assert [c.kind for c in fees.fee_checks(m, [s])] == [FeeKind.CARRY]


def test_fee_terms_refuse_nonsense() -> None:
    with pytest.raises(InvalidInput, match="hurdle"):
        FeeTerms(hurdle_rate=D("0.05"))
    with pytest.raises(InvalidInput, match="catch_up"):
        FeeTerms(carry_rate=D("0.2"), catch_up=D("0.1"))
    with pytest.raises(InvalidInput, match="management_rate"):
        FeeTerms(management_rate=D("0.2"))


def test_add_months_clamps_to_month_end() -> None:
    assert fees.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert fees.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert fees.add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
    assert fees.crystallisation_periods(date(2025, 1, 1), 6, date(2025, 12, 31)) == [
        (date(2025, 1, 1), date(2025, 6, 30)), (date(2025, 7, 1), date(2025, 12, 31))]


def test_fees_the_terms_do_not_provide_are_all_mismatches() -> None:
    m = mandate(FeeTerms(), inception=date(2025, 1, 1))
    s = statement(date(2025, 1, 1), date(2025, 1, 31), 1000, 10,
                  fees={PERF: 2, FeeKind.MANAGEMENT: 1, FeeKind.CARRY: 3})
    checks = fees.fee_checks(m, [s])
    assert {(c.kind, c.expected, c.charged) for c in checks} == {
        (FeeKind.MANAGEMENT, 0, 1), (PERF, 0, 2), (FeeKind.CARRY, 0, 3)}
