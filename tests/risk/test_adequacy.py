"""IMF ARA EM metric: hand-computed metric, ratio and band; before/after the sleeve; stress."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from qoima.adapters.scenario_files import read_ara_inputs
from qoima.domain.enums import InstrumentKind
from qoima.domain.errors import InvalidInput
from qoima.risk.adequacy import (
    ARA_EM_WEIGHTS,
    AdequacyBand,
    AraInputs,
    AraWeights,
    ExchangeRegime,
    ara_assessment,
    ara_metric,
    ara_report,
)
from qoima.risk.positions import FactorLoading, RiskBook, RiskPosition
from qoima.risk.scenarios import get_scenario
from qoima.risk.stress import run_stress

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BN = 1e9


def inputs(regime: ExchangeRegime = ExchangeRegime.FLOATING, **changes: Any) -> AraInputs:
    base = AraInputs(regime=regime, exports_usd=80 * BN, broad_money_usd=85 * BN,
                     short_term_debt_usd=15 * BN, other_liabilities_usd=35 * BN,
                     reserves_excluding_sleeve_usd=45 * BN)
    return replace(base, **changes)


def test_weights_are_the_imf_em_metric() -> None:
    assert ARA_EM_WEIGHTS[ExchangeRegime.FIXED] == AraWeights(0.10, 0.10, 0.30, 0.20)
    assert ARA_EM_WEIGHTS[ExchangeRegime.FLOATING] == AraWeights(0.05, 0.05, 0.30, 0.15)


def test_metric_by_hand_for_both_regimes() -> None:
    floating = ara_metric(inputs())
    # 5 % x 80 + 5 % x 85 + 30 % x 15 + 15 % x 35 = 4 + 4.25 + 4.5 + 5.25 = 18.0 bn
    assert floating.metric_usd == pytest.approx(18.0 * BN)
    assert (floating.exports_usd, floating.broad_money_usd, floating.short_term_debt_usd,
            floating.other_liabilities_usd) == pytest.approx((4 * BN, 4.25 * BN, 4.5 * BN,
                                                              5.25 * BN))
    fixed = ara_metric(inputs(ExchangeRegime.FIXED))
    assert fixed.metric_usd == pytest.approx(28.0 * BN)  # 8 + 8.5 + 4.5 + 7
    with_buffer = ara_metric(inputs(commodity_buffer_usd=2 * BN))
    assert with_buffer.metric_usd == pytest.approx(20.0 * BN)
    custom = ara_metric(inputs(), AraWeights(0.0, 0.0, 1.0, 0.0))
    assert custom.metric_usd == pytest.approx(15.0 * BN)


@pytest.mark.parametrize(("reserves_bn", "ratio", "band"), [
    (17.0, 17 / 18, AdequacyBand.BELOW),
    (18.0, 1.0, AdequacyBand.ADEQUATE),  # 100 % is adequate
    (20.0, 20 / 18, AdequacyBand.ADEQUATE),
    (27.0, 1.5, AdequacyBand.ADEQUATE),  # 150 % still is
    (45.0, 2.5, AdequacyBand.ABOVE),
])
def test_ratio_and_band(reserves_bn: float, ratio: float, band: AdequacyBand) -> None:
    result = ara_assessment(inputs(), reserves_bn * BN, label="x")
    assert result.ratio == pytest.approx(ratio)
    assert result.band is band
    assert result.metric_usd == pytest.approx(18.0 * BN)
    assert result.provenance.parameters["regime"] == "floating"


def reserve_book() -> RiskBook:
    def position(key: str, vehicle: str, kind: InstrumentKind, value: float,
                 loadings: dict[str, float]) -> RiskPosition:
        return RiskPosition(key, key, kind, vehicle, value,
                            tuple(FactorLoading(f, b) for f, b in loadings.items()),
                            crypto=vehicle != "fx-reserves")
    return RiskBook(date(2026, 10, 30), (
        position("gold", "fx-reserves", InstrumentKind.GOLD, 10 * BN, {"XAU": 1.0}),
        position("ibit", "da-sleeve", InstrumentKind.ETF, 2 * BN, {"BTC": 1.0}),
        position("seized", "seized-pool", InstrumentKind.TOKEN, 1 * BN, {"BTC": 1.0}),
    ), None)


def test_report_before_after_sleeve_and_under_stress_by_hand() -> None:
    small = inputs(reserves_excluding_sleeve_usd=18 * BN)
    stress = run_stress(reserve_book(), get_scenario("dollar-spike"))  # gold -5 %, BTC -20 %
    report = ara_report(small, sleeve_value_usd=2 * BN, stresses=[stress],
                        reserve_vehicles={"fx-reserves"}, sleeve_vehicle="da-sleeve")
    assert report.before_sleeve.ratio == pytest.approx(1.0)
    assert report.after_sleeve.ratio == pytest.approx(20 / 18)
    assert report.sleeve_counted_usd == pytest.approx(2 * BN)
    (stressed,) = report.under_stress
    # 18 bn - 5 % of 10 bn gold + (2 bn sleeve - 20 %); the seized pool is not reserves
    assert stressed.reserves_usd == pytest.approx(18 * BN - 0.5 * BN + 1.6 * BN)
    assert stressed.label == "dollar-spike"
    assert stressed.band is AdequacyBand.ADEQUATE
    assert report.notes == ("illustrative inputs, not official statistics",)


def test_an_ineligible_sleeve_counts_for_nothing_even_under_stress() -> None:
    small = inputs(reserves_excluding_sleeve_usd=18 * BN)
    stress = run_stress(reserve_book(), get_scenario("btc-minus-50"))
    report = ara_report(small, sleeve_value_usd=2 * BN, sleeve_eligible_share=0.0,
                        stresses=[stress], reserve_vehicles={"fx-reserves"},
                        sleeve_vehicle="da-sleeve")
    assert report.after_sleeve.reserves_usd == report.before_sleeve.reserves_usd
    assert report.under_stress[0].reserves_usd == pytest.approx(18 * BN)  # gold unchanged
    half = ara_report(small, sleeve_value_usd=2 * BN, sleeve_eligible_share=0.5)
    assert half.after_sleeve.reserves_usd == pytest.approx(19 * BN)


def test_bad_inputs_are_clear_errors() -> None:
    with pytest.raises(InvalidInput, match="exports_usd"):
        inputs(exports_usd=-1.0)
    with pytest.raises(InvalidInput, match="fixed or floating"):
        AraInputs("pegged", 1, 1, 1, 1, 1)  # type: ignore[arg-type]
    zero = AraInputs(ExchangeRegime.FIXED, 0, 0, 0, 0, 1)
    with pytest.raises(InvalidInput, match="metric is zero"):
        ara_metric(zero)
    with pytest.raises(InvalidInput, match="finite"):
        ara_assessment(inputs(), float("nan"))
    with pytest.raises(InvalidInput, match="sleeve_eligible_share"):
        ara_report(inputs(), sleeve_value_usd=1.0, sleeve_eligible_share=1.5)
    with pytest.raises(InvalidInput, match="sleeve value"):
        ara_report(inputs(), sleeve_value_usd=-1.0)
    with pytest.raises(InvalidInput, match="separately"):
        ara_report(inputs(), sleeve_value_usd=1.0, reserve_vehicles={"s"}, sleeve_vehicle="s")


def test_example_inputs_file_is_labeled_illustrative_and_computes() -> None:
    example = read_ara_inputs(EXAMPLES / "ara-inputs.yaml")
    assert example.illustrative and "not official" in example.source
    assert example.regime is ExchangeRegime.FLOATING
    assert example.as_of_date == date(2025, 12, 31)
    assert ara_assessment(example, example.reserves_excluding_sleeve_usd).ratio == \
        pytest.approx(2.5)
