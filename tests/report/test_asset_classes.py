"""Asset classes: the mapping rules, exact totals on a hand-valued snapshot, sunburst levels."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qoima.domain.enums import InstrumentKind, VehicleKind
from qoima.domain.errors import InvalidInput
from qoima.report.asset_classes import (
    DISPLAY_NAMES,
    AssetClass,
    asset_class,
    asset_class_totals,
    classify,
    group_by_asset_class,
    sunburst_levels,
    vehicle_kinds,
)
from tests.report.demo_snapshot import CLASS_USD, INSTRUMENTS, TOTAL_USD, demo_snapshot

D = Decimal
K, V = InstrumentKind, VehicleKind
A = AssetClass


@pytest.mark.parametrize(("kind", "vehicle", "underlying", "expected"), [
    (K.GOLD, V.FX_RESERVE, None, A.GOLD),
    (K.CASH, V.FX_RESERVE, None, A.FX_CASH),
    (K.CASH, V.STATE_FUND, None, A.FX_CASH),
    (K.TBILL, V.FX_RESERVE, None, A.US_TREASURIES),
    (K.BOND, V.FX_RESERVE, None, A.US_TREASURIES),
    (K.SDR, V.FX_RESERVE, None, A.SDR),
    (K.ETF, V.DIGITAL_ASSET_SLEEVE, "BTC", A.INDIRECT_CRYPTO),
    (K.ETF, V.STATE_FUND, "ETH", A.INDIRECT_CRYPTO),  # spot crypto ETF anywhere
    (K.ETF, V.STATE_FUND, None, A.EQUITIES_AND_FUNDS),  # an index ETF
    (K.ETF, V.STATE_FUND, "XAU", A.EQUITIES_AND_FUNDS),  # a gold ETF is not crypto
    (K.EQUITY, V.DIGITAL_ASSET_SLEEVE, None, A.INDIRECT_CRYPTO),  # crypto-company stock
    (K.EQUITY, V.STATE_FUND, None, A.EQUITIES_AND_FUNDS),
    (K.HEDGE_FUND_INTEREST, V.STATE_FUND, None, A.EQUITIES_AND_FUNDS),
    (K.VENTURE_FUND_INTEREST, V.STATE_FUND, None, A.EQUITIES_AND_FUNDS),
    (K.TOKEN, V.DIRECT_TOKEN_FUND, None, A.DIRECT_TOKENS),
    (K.TOKEN, V.STATE_FUND, None, A.DIRECT_TOKENS),
    (K.STABLECOIN, V.DIRECT_TOKEN_FUND, None, A.DIRECT_TOKENS),
    (K.TOKENIZED_RWA, V.DIRECT_TOKEN_FUND, None, A.DIRECT_TOKENS),
    (K.TOKEN, V.SEIZED_POOL, None, A.SEIZED),
    (K.STABLECOIN, V.SEIZED_POOL, None, A.SEIZED),
    (K.CASH, V.SEIZED_POOL, None, A.SEIZED),  # seized cash is seized first
    (K.ETF, V.SEIZED_POOL, "BTC", A.SEIZED),
])
def test_rules(kind: InstrumentKind, vehicle: VehicleKind, underlying: str | None,
               expected: AssetClass) -> None:
    assert classify(kind, vehicle, underlying) is expected
    assert classify(kind.value, vehicle.value, underlying) is expected  # stored strings


def test_every_kind_in_every_vehicle_has_a_class() -> None:
    for kind in InstrumentKind:
        for vehicle in VehicleKind:
            assert isinstance(classify(kind, vehicle), AssetClass)


def test_ids_and_names_are_stable_and_complete() -> None:
    assert [c.value for c in AssetClass] == [
        "gold", "fx_cash", "us_treasuries", "sdr", "indirect_crypto", "equities_and_funds",
        "seized", "direct_tokens"]
    assert set(DISPLAY_NAMES) == set(AssetClass)
    assert len(set(DISPLAY_NAMES.values())) == len(AssetClass)
    assert A.SDR.display_name == "SDR holdings"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        classify("futures", V.FX_RESERVE)


def test_position_wrapper_reads_the_instrument_kind() -> None:
    snapshot = demo_snapshot()
    coin = next(p for p in snapshot.positions if p.instrument_code == "COIN")
    assert asset_class(coin, V.DIGITAL_ASSET_SLEEVE) is A.INDIRECT_CRYPTO
    assert asset_class(coin, V.STATE_FUND) is A.EQUITIES_AND_FUNDS


def test_totals_by_class_are_the_hand_computed_values() -> None:
    snapshot = demo_snapshot()
    totals = asset_class_totals(snapshot, INSTRUMENTS)
    assert {t.asset_class.value: t.value_usd for t in totals} == CLASS_USD
    assert [t.asset_class for t in totals] == [c for c in AssetClass if c.value in CLASS_USD]
    assert sum((t.value_usd for t in totals), D(0)) == TOTAL_USD == snapshot.total_usd
    assert sum((t.value_kzt or D(0) for t in totals), D(0)) == snapshot.total_kzt
    assert sum(t.line_items for t in totals) == len(snapshot.positions)
    funds = next(t for t in totals if t.asset_class is A.EQUITIES_AND_FUNDS)
    assert (funds.line_items, funds.unvalued) == (3, 1)  # VC-F-LP has no price
    crypto = next(t for t in totals if t.asset_class is A.INDIRECT_CRYPTO)
    assert [s.instrument_code for s in crypto.instruments] == ["IBIT", "COIN", "FBTC", "AIX-BTC"]
    gold = next(t for t in totals if t.asset_class is A.GOLD)
    assert gold.instruments[0].line_items == 2  # two vaults, one instrument slice
    for total in totals:
        assert sum((s.value_usd for s in total.instruments), D(0)) == total.value_usd


def test_without_instruments_a_crypto_etf_outside_the_sleeve_is_a_plain_etf() -> None:
    totals = {t.asset_class: t for t in asset_class_totals(demo_snapshot())}
    assert totals[A.INDIRECT_CRYPTO].value_usd == CLASS_USD["indirect_crypto"] - D("16000.00")
    assert totals[A.EQUITIES_AND_FUNDS].value_usd == (CLASS_USD["equities_and_funds"]
                                                      + D("16000.00"))


def test_no_fx_rate_gives_no_kzt_totals() -> None:
    totals = asset_class_totals(demo_snapshot(with_kzt=False), INSTRUMENTS)
    assert all(t.value_kzt is None for t in totals)
    assert all(s.value_kzt is None for t in totals for s in t.instruments)


def test_a_position_of_an_unknown_vehicle_is_refused() -> None:
    snapshot = demo_snapshot()
    kinds = vehicle_kinds(snapshot)
    del kinds["alem-fund"]
    with pytest.raises(InvalidInput, match="alem-fund"):
        group_by_asset_class(snapshot.positions, kinds)


def test_sunburst_levels_add_up_and_labels_are_unique() -> None:
    snapshot = demo_snapshot()
    labels, parents, values = sunburst_levels(asset_class_totals(snapshot, INSTRUMENTS))
    assert len(labels) == len(parents) == len(values) == len(set(labels))
    roots = [i for i, parent in enumerate(parents) if parent == ""]
    assert sum(values[i] for i in roots) == pytest.approx(float(TOTAL_USD))
    for i in roots:
        children = [v for v, parent in zip(values, parents, strict=True) if parent == labels[i]]
        assert sum(children) == pytest.approx(values[i])
    assert set(parents) - {""} <= set(labels)


def test_an_instrument_in_two_classes_gets_distinct_labels() -> None:
    # ETH held in the seized pool (seized) and, say, in the token fund (direct tokens)
    snapshot = demo_snapshot()
    seized_eth = next(p for p in snapshot.positions if p.instrument_code == "ETH")
    from dataclasses import replace

    fund_eth = replace(seized_eth, account_code="holding:alem-fund/main:ETH@bitgo",
                       vehicle_code="alem-fund")
    totals = group_by_asset_class([seized_eth, fund_eth], vehicle_kinds(snapshot))
    labels, _, _ = sunburst_levels(totals)
    assert "ETH (Seized assets)" in labels and "ETH (Direct token holdings)" in labels
