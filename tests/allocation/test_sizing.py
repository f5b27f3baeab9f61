"""Sizing: hand-computed crossings of each budget, the binding constraint, the curve, the
infeasible paths, tightening properties and bad input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoima.allocation import sizing as z
from qoima.domain.errors import InsufficientHistory, InvalidInput
from qoima.policy.allocation import SizingRules
from qoima.policy.model import (
    InvestmentPolicy,
    Liquidity,
    RiskCvar,
    ShareOfReserves,
    SizeRange,
    StressLoss,
)
from qoima.risk.contributions import incremental_risk
from qoima.risk.measures import historical_var_cvar

M = 1_000_000.0
TOTAL = 40_000 * M  # total reserves USD 40bn: 0.01 % of reserves is USD 4M
D = Decimal


def unit_pnl(n: int = 100, seed: int = 3) -> np.ndarray:
    """100 scenarios: five losses -2..-10 %, the rest gains in [0, 1 %] (shuffled).

    At 95 % the linear quantile sits at position 99 * 0.05 = 4.95, so the tail is the
    five worst: CVaR per USD 1 = (0.10 + 0.08 + 0.06 + 0.04 + 0.02) / 5 = 0.06.
    """
    rng = np.random.default_rng(seed)
    values = np.concatenate([[-0.10, -0.08, -0.06, -0.04, -0.02], rng.uniform(0, 0.01, n - 5)])
    return rng.permutation(values)


def policy(*limits: object) -> InvestmentPolicy:
    size = SizeRange("size", min_usd=D(50_000_000), max_usd=D(300_000_000))
    return InvestmentPolicy("da-sleeve", 1, "sleeve", date(2026, 1, 1),
                            (size, *limits), 0)  # type: ignore[arg-type]


def budgets(*limits: object, ivar: str | None = None, level: str = "0.95"
            ) -> z.SizingBudgets:
    rules = SizingRules(incremental_var_max_share=None if ivar is None else D(ivar),
                        level=D(level))
    return z.budgets_from_policy(policy(*limits), rules, D(40_000_000_000))


def inputs(**changes: object) -> z.SizingInputs:
    fields: dict[str, object] = {
        "mix_unit_pnl": unit_pnl(), "total_reserves_usd": TOTAL,
        "weights": {"IBIT": 0.5, "FBTC": 0.5},
        "adv_usd": {"IBIT": 2_000 * M, "FBTC": 2_000 * M},
        "stress_unit_loss": {"crypto-winter": 0.5, "covid": 0.4}}
    fields.update(changes)
    return z.SizingInputs(**fields)  # type: ignore[arg-type]


# -- each budget's crossing by hand --------------------------------------------------------

def test_cvar_budget_gives_the_exact_linear_crossing() -> None:
    # cap 0.03 % of 40bn = USD 12M; CVaR(S) = 0.06 S -> S* = 200M exactly
    result = z.size_sleeve(inputs(), budgets(RiskCvar("cvar", max_share=D("0.0003"))),
                           grid_step_usd=10 * M)
    assert result.status is z.SizingStatus.SIZED
    assert result.recommended_usd == pytest.approx(200 * M, abs=1e-6)
    assert result.binding == ("cvar",)
    assert result.feasible_at_minimum
    assert "recommended size USD 200M, bound by cvar" in result.message
    row = next(r for r in result.curve if r.size_usd == 200 * M)
    assert row.uses[0].value == pytest.approx(12 * M)
    assert row.uses[0].use == pytest.approx(1.0)


def test_cvar_matches_the_risk_engine_on_every_row() -> None:
    held = np.random.default_rng(9).normal(0, 1 * M, 100)
    result = z.size_sleeve(inputs(existing_sleeve_pnl=held, existing_sleeve_usd=30 * M),
                           budgets(RiskCvar("cvar", max_usd=D(9_000_000))))
    for row in result.curve:
        expected = historical_var_cvar(held + (row.size_usd - 30 * M) * unit_pnl(), 0.95)[1]
        assert row.uses[0].value == pytest.approx(expected, rel=1e-12)
    best = result.recommended_usd
    assert best is not None
    at = historical_var_cvar(held + (best - 30 * M) * unit_pnl(), 0.95)[1]
    above = historical_var_cvar(held + (best + 0.02 - 30 * M) * unit_pnl(), 0.95)[1]
    assert at <= 9 * M * (1 + 1e-12)
    assert above > 9 * M


def test_stress_budget_binds_on_the_worst_listed_scenario() -> None:
    # worst of crypto-winter (0.5 / USD) and covid (0.4): cap USD 100M -> S* = 200M;
    # listing only covid: 100M / 0.4 = 250M
    cvar = RiskCvar("cvar", max_usd=D(100_000_000))
    result = z.size_sleeve(inputs(), budgets(cvar, StressLoss("stress", max_usd=D(10**8))))
    assert result.recommended_usd == pytest.approx(200 * M, abs=1e-6)
    assert result.binding == ("stress",)
    covid = StressLoss("stress", scenarios=("covid",), max_usd=D(10**8))
    assert z.size_sleeve(inputs(), budgets(cvar, covid)).recommended_usd == \
        pytest.approx(250 * M, abs=1e-6)


def test_stress_with_existing_losses() -> None:
    # existing sleeve 40M losing 30M in crypto-winter: 30M + 0.5 (S - 40M) <= 100M -> 180M
    result = z.size_sleeve(
        inputs(existing_sleeve_usd=40 * M, existing_stress_loss_usd={"crypto-winter": 30 * M}),
        budgets(StressLoss("stress", scenarios=("crypto-winter",), max_usd=D(10**8))))
    assert result.recommended_usd == pytest.approx(180 * M, abs=1e-6)
    assert result.min_usd == 50 * M


def test_share_of_reserves_and_range_maximum() -> None:
    result = z.size_sleeve(inputs(), budgets(ShareOfReserves("share", D("0.004"))))
    assert result.recommended_usd == pytest.approx(160 * M, abs=1e-6)
    assert result.binding == ("share",)
    loose = z.size_sleeve(inputs(), budgets(ShareOfReserves("share", D("0.01"))))
    assert loose.recommended_usd == 300 * M
    assert loose.binding == (z.RANGE_MAXIMUM,)


def test_liquidity_budget_by_hand() -> None:
    # 5 days at 10 % of ADV: IBIT 2bn -> 1bn sellable, FBTC 200M -> 100M.
    # share(S) = 1 up to 200M, then (0.5 S + 100M) / S >= 0.9  <=>  S <= 250M
    liquidity = Liquidity("liq", within_days=5, min_share=D("0.9"),
                          adv_participation=D("0.1"))
    result = z.size_sleeve(inputs(adv_usd={"IBIT": 2_000 * M, "FBTC": 200 * M}),
                           budgets(liquidity))
    assert result.recommended_usd == pytest.approx(250 * M, abs=0.02)
    assert result.binding == ("liq",)
    row = next(r for r in result.curve if r.size_usd == 300 * M)
    assert row.uses[0].value == pytest.approx(0.5 + 100 / 300)
    assert row.uses[0].use == pytest.approx(0.9 / (0.5 + 100 / 300))
    assert not row.feasible


def test_unknown_adv_counts_as_not_sellable_with_a_warning() -> None:
    liquidity = Liquidity("liq", within_days=5, min_share=D("0.4"))
    result = z.size_sleeve(inputs(adv_usd={"IBIT": 2_000 * M}), budgets(liquidity))
    assert result.recommended_usd == 300 * M  # half the sleeve (IBIT) sells: 50 % >= 40 %
    assert [w.rule for w in result.provenance.warnings] == [z.UNKNOWN_ADV]
    assert "FBTC" in result.provenance.warnings[0].message


def test_incremental_var_against_the_risk_engine() -> None:
    rng = np.random.default_rng(4)
    reserve = rng.normal(0, 200 * M, 500)
    mix = 0.03 * rng.standard_t(3, 500) + 0.2 * reserve / (200 * M) * 0.03
    result = z.size_sleeve(inputs(mix_unit_pnl=mix, reserve_pnl=reserve),
                           budgets(ivar="0.00003", level="0.99"))  # cap USD 1.2M
    best = result.recommended_usd
    assert result.binding == (z.INCREMENTAL_VAR,)
    assert best is not None and 50 * M < best < 300 * M
    assert incremental_risk(reserve, best * mix, 0.99).var_added <= 1.2 * M * (1 + 1e-12)
    assert incremental_risk(reserve, (best + 0.02) * mix, 0.99).var_added > 1.2 * M


def test_several_budgets_the_tightest_binds() -> None:
    result = z.size_sleeve(inputs(), budgets(
        RiskCvar("cvar", max_share=D("0.0003")),  # 200M
        StressLoss("stress", max_usd=D(90_000_000)),  # 180M
        ShareOfReserves("share", D("0.005"))))  # 200M
    assert result.recommended_usd == pytest.approx(180 * M, abs=1e-6)
    assert result.binding == ("stress",)
    limits = {b.name: b.max_size_usd for b in result.boundaries}
    assert limits["cvar"] == pytest.approx(200 * M)
    assert limits["stress"] == pytest.approx(180 * M)
    assert limits["share"] == pytest.approx(200 * M)
    assert all(type(v) is float for v in limits.values())
    assert type(result.recommended_usd) is float


# -- the curve ------------------------------------------------------------------------------

def test_curve_has_a_row_every_10m_from_50m_to_300m() -> None:
    result = z.size_sleeve(inputs(), budgets(RiskCvar("cvar", max_share=D("0.0003"))),
                           grid_step_usd=10 * M)
    assert [r.size_usd for r in result.curve] == [(50 + 10 * k) * M for k in range(26)]
    assert [r.feasible for r in result.curve] == [k <= 15 for k in range(26)]
    for row in result.curve:
        assert row.uses[0].use == pytest.approx(0.06 * row.size_usd / (12 * M))


def test_curve_default_step_and_a_ragged_end() -> None:
    result = z.size_sleeve(inputs(), budgets(ShareOfReserves("s", D("0.01"))),
                           grid_step_usd=70 * M)
    assert [r.size_usd / M for r in result.curve] == [50, 120, 190, 260, 300]
    assert len(z.size_sleeve(inputs(), budgets(ShareOfReserves("s", D("0.01")))).curve) == 26


# -- infeasible -------------------------------------------------------------------------------

def test_infeasible_at_the_minimum_names_the_budget() -> None:
    # CVaR at 50M is 3M = 0.0075 % of reserves, above the 0.005 % (2M) budget
    result = z.size_sleeve(inputs(), budgets(RiskCvar("cvar", max_share=D("0.00005")),
                                             ShareOfReserves("share", D("0.01"))))
    assert result.status is z.SizingStatus.INFEASIBLE
    assert result.recommended_usd is None
    assert result.breached_at_minimum == ("cvar",) == result.binding
    assert not result.feasible_at_minimum
    assert result.message == (
        "no size in the range keeps every budget: at the policy minimum of USD 50M the "
        "sleeve's 1-day 95 % CVaR is 0.0075 % of reserves (USD 3M), above the 0.005 % "
        "budget (USD 2M) of limit cvar")
    assert not any(r.feasible for r in result.curve)
    assert result.provenance.warnings[0].rule == z.INFEASIBLE_AT_MINIMUM


def test_breach_at_the_minimum_but_a_larger_size_is_feasible() -> None:
    # 60M already held, none of it sellable: share (S - 60M) / S >= 0.5 needs S >= 120M
    liquidity = Liquidity("liq", within_days=5, min_share=D("0.5"))
    result = z.size_sleeve(inputs(existing_sleeve_usd=60 * M), budgets(liquidity))
    assert result.status is z.SizingStatus.SIZED
    assert result.recommended_usd == 300 * M
    assert result.breached_at_minimum == ("liq",)
    assert result.curve[0].size_usd == 60 * M and result.curve[0].uses[0].use == np.inf
    assert "only 0 % of the sleeve can be sold within 5 trading days" in \
        result.provenance.warnings[0].message
    low = {b.name: b.max_size_usd for b in result.boundaries}
    assert low["liq"] == 300 * M


# -- properties -------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), cvar_bp=st.integers(1, 10), stress_m=st.integers(10, 200),
       tighten=st.floats(0.3, 1.0), which=st.sampled_from(["cvar", "stress", "liq"]))
def test_a_tighter_budget_never_gives_a_larger_size(seed: int, cvar_bp: int, stress_m: int,
                                                     tighten: float, which: str) -> None:
    rng = np.random.default_rng(seed)
    mix = 0.02 * rng.standard_t(4, 250)
    data = inputs(mix_unit_pnl=mix, adv_usd={"IBIT": 3_000 * M, "FBTC": 300 * M})

    def size(factor: float) -> float:
        caps = {"cvar": 1.0, "stress": 1.0, "liq": 1.0}
        caps[which] = factor
        chosen = budgets(
            RiskCvar("cvar", max_usd=D(round(cvar_bp * 4 * M * caps["cvar"]))),
            StressLoss("stress", max_usd=D(round(stress_m * M * caps["stress"]))),
            Liquidity("liq", 5, min_share=D(str(round(0.6 / caps["liq"], 4)))
                      if caps["liq"] >= 0.6 else D(1)))
        found = z.size_sleeve(data, chosen).recommended_usd
        return -1.0 if found is None else found

    assert size(tighten) <= size(1.0) + 0.02


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), cap_bp=st.integers(1, 20))
def test_recommended_size_keeps_every_budget_and_the_next_cent_breaks_one(
        seed: int, cap_bp: int) -> None:
    rng = np.random.default_rng(seed)
    mix = 0.02 * rng.standard_t(4, 250)
    reserve = rng.normal(0, 100 * M, 250)
    chosen = budgets(RiskCvar("cvar", max_usd=D(cap_bp * 2 * M)), ivar="0.0002")
    result = z.size_sleeve(inputs(mix_unit_pnl=mix, reserve_pnl=reserve), chosen)
    if result.recommended_usd is None:
        assert result.breached_at_minimum
        return
    best = result.recommended_usd
    assert historical_var_cvar(best * mix, 0.95)[1] <= cap_bp * 2 * M * (1 + 1e-12)
    assert incremental_risk(reserve, best * mix, 0.95).var_added <= 8 * M * (1 + 1e-12)
    if result.binding != (z.RANGE_MAXIMUM,):
        up = best + 0.02
        assert (historical_var_cvar(up * mix, 0.95)[1] > cap_bp * 2 * M
                or incremental_risk(reserve, up * mix, 0.95).var_added > 8 * M)


# -- provenance and bad input ------------------------------------------------------------------

def test_provenance_is_reproducible() -> None:
    chosen = budgets(RiskCvar("cvar", max_share=D("0.0003")))
    first, second = (z.size_sleeve(inputs(), chosen) for _ in range(2))
    assert first.provenance.method == "allocation.sizing"
    assert first.provenance.inputs_hash == second.provenance.inputs_hash
    assert first.provenance.parameters_hash == second.provenance.parameters_hash
    other = z.size_sleeve(inputs(mix_unit_pnl=unit_pnl() * 1.01), chosen)
    assert other.provenance.inputs_hash != first.provenance.inputs_hash


def test_range_min_above_max_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"minimum USD 300,000,000\.00 is above its maximum"):
        z.SizingBudgets(300 * M, 50 * M, 0.99, ())
    with pytest.raises(InvalidInput, match="min_usd"):
        SizeRange("size", min_usd=D(300), max_usd=D(50))
    two = InvestmentPolicy("da-sleeve", 1, "p", date(2026, 1, 1), (
        SizeRange("a", min_usd=D(200)), SizeRange("b", max_usd=D(100))), 0)
    with pytest.raises(InvalidInput, match="minimum USD 200 is above the maximum USD 100"):
        z.budgets_from_policy(two, SizingRules(), D(10**9))


def test_too_few_scenarios_for_the_level() -> None:
    with pytest.raises(InsufficientHistory, match="50 observations, at least 100 needed"):
        z.size_sleeve(inputs(mix_unit_pnl=unit_pnl()[:50]),
                      budgets(RiskCvar("c", max_usd=D(1)), level="0.99"))


def test_bad_inputs_name_the_cause() -> None:
    bad = unit_pnl()
    bad[7] = np.nan
    with pytest.raises(InvalidInput, match="mix_unit_pnl: NaN or infinite value at position 7"):
        inputs(mix_unit_pnl=bad)
    with pytest.raises(InvalidInput, match=r"weights sum to 0\.9,"):
        inputs(weights={"IBIT": 0.5, "FBTC": 0.4})
    with pytest.raises(InvalidInput, match="existing_sleeve_pnl must be 1-D of length 100"):
        inputs(existing_sleeve_pnl=np.zeros(99))
    with pytest.raises(InvalidInput, match="ADV given for GBTC"):
        inputs(adv_usd={"GBTC": 1.0})
    with pytest.raises(InvalidInput, match=r"no stress loss given for scenario\(s\) ftx"):
        z.size_sleeve(inputs(), budgets(StressLoss("s", scenarios=("ftx",), max_usd=D(1))))
    with pytest.raises(InvalidInput, match="needs the rest of the reserve's P&L"):
        z.size_sleeve(inputs(), budgets(ivar="0.001"))
    with pytest.raises(InvalidInput, match="grid step"):
        z.size_sleeve(inputs(), budgets(), grid_step_usd=0)
    with pytest.raises(InvalidInput, match="already holds USD 400,000,000"):
        z.size_sleeve(inputs(existing_sleeve_usd=400 * M), budgets())
