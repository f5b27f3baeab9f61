"""Limits refuse impossible values on construction; the policy hash follows meaning only."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from qoima.domain.enums import InstrumentKind, Severity
from qoima.domain.errors import InvalidInput
from qoima.policy.model import (
    LIMIT_TYPES,
    Concentration,
    ConcentrationBasis,
    Custody,
    DrawdownTrigger,
    Eligibility,
    InstrumentList,
    InvestmentPolicy,
    LimitKind,
    Liquidity,
    RiskCvar,
    ShareOfReserves,
    SizeRange,
    StressLoss,
    TriggerAction,
    limit_form,
)
from tests.policy.book import sleeve_policy

D = Decimal


@pytest.mark.parametrize(("build", "field"), [
    (lambda: SizeRange("size", D(300), D(50)), "min_usd"),
    (lambda: SizeRange("size"), "max_usd"),
    (lambda: SizeRange("size", max_usd=D(-1)), "max_usd"),
    (lambda: SizeRange("size", max_usd=D(1), severity=Severity.INFO), "severity"),
    (lambda: ShareOfReserves("s", D("1.01")), "max_share"),
    (lambda: ShareOfReserves("s", D("-0.01")), "max_share"),
    (lambda: Eligibility("e", ()), "kinds"),
    (lambda: Eligibility("e", (InstrumentKind.ETF, InstrumentKind.ETF)), "kinds"),
    (lambda: InstrumentList("l"), "allow"),
    (lambda: InstrumentList("l", allow=("IBIT",), deny=("IBIT",)), "deny"),
    (lambda: Concentration("c", ConcentrationBasis.ISSUER, D("0.5"), (("X", D(2)),)),
     "overrides"),
    (lambda: Liquidity("q", 0, D("0.5")), "within_days"),
    (lambda: Liquidity("q", 5, D("0.5"), D(0)), "adv_participation"),
    (lambda: RiskCvar("r"), "max_usd"),
    (lambda: StressLoss("s", ("a", "a"), D(1)), "scenarios"),
    (lambda: DrawdownTrigger("d", D(0), TriggerAction.REVIEW), "drawdown"),
    (lambda: DrawdownTrigger("d", D("0.1"), "panic"), "action"),  # type: ignore[arg-type]
    (lambda: Custody("c", velocity_window_days=7), "velocity_window_days"),
    (lambda: Custody("c", approval_quorum=0), "approval_quorum"),
    (lambda: Custody("c", (("bitcoin", ("bc1a", "bc1a")),)), "destinations"),
    (lambda: SizeRange("has.dot", max_usd=D(1)), "id"),
])
def test_impossible_limits_are_refused(build, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as error:
        build()
    assert error.value.field == field


def test_policy_refuses_duplicate_ids_and_bad_header() -> None:
    size = SizeRange("size", max_usd=D(1))
    with pytest.raises(InvalidInput, match="used twice"):
        InvestmentPolicy("da-sleeve", 1, "x", date(2026, 1, 1), (size, size), 0)
    with pytest.raises(InvalidInput, match="version"):
        InvestmentPolicy("da-sleeve", 0, "x", date(2026, 1, 1), (size,), 0)
    with pytest.raises(InvalidInput, match="change_delay_days"):
        InvestmentPolicy("da-sleeve", 1, "x", date(2026, 1, 1), (size,), -1)


def test_every_kind_has_a_type() -> None:
    assert set(LIMIT_TYPES) == set(LimitKind)
    assert all(cls.kind is kind for kind, cls in LIMIT_TYPES.items())


def test_hash_ignores_source_text_and_list_order_but_not_meaning() -> None:
    policy = sleeve_policy()
    assert len(policy.content_hash) == 64
    assert replace(policy, source_text="# another comment").content_hash == policy.content_hash
    swapped = Eligibility("eligible", (InstrumentKind.EQUITY, InstrumentKind.ETF))
    same = Eligibility("eligible", (InstrumentKind.ETF, InstrumentKind.EQUITY))
    assert limit_form(swapped) == limit_form(same)
    tighter = replace(policy, limits=(SizeRange("size", D(50_000_000), D(250_000_000)),
                                      *policy.limits[1:]))
    assert tighter.content_hash != policy.content_hash
    assert replace(policy, version=2).content_hash != policy.content_hash


def test_limit_form_names_the_kind_and_keeps_decimals_exact() -> None:
    form = limit_form(SizeRange("size", D("50000000.10"), D(300_000_000)))
    assert form["kind"] == "size_range"
    assert form["min_usd"] == D("50000000.10")


def test_custody_whitelist_and_caps() -> None:
    custody = Custody("c", (("ethereum", ("0xAbC",)), ("bitcoin", ("bc1qX",))),
                      max_transfer_units=(("ETH", D(5)),))
    assert custody.allows("ethereum", "0xabc")  # EVM hex: case-insensitive
    assert not custody.allows("bitcoin", "bc1qx")  # others: exact
    assert not custody.allows("solana", "bc1qX")  # a chain not named allows nothing
    assert custody.max_units("ETH") == D(5) and custody.max_units("BTC") is None
    assert [chain for chain, _ in custody.destinations] == ["bitcoin", "ethereum"]
    assert DrawdownTrigger("d", D("0.1"), TriggerAction.REVIEW).severity is Severity.WARNING


def test_concentration_override_falls_back_to_default() -> None:
    limit = Concentration("c", ConcentrationBasis.UNDERLYING, D("0.9"), (("ETH", D("0.3")),))
    assert (limit.share_limit("ETH"), limit.share_limit("BTC")) == (D("0.3"), D("0.9"))
    assert sleeve_policy().find_limit("nope") is None
    assert sleeve_policy().find_limit("size") == SizeRange("size", D(50_000_000),
                                                           D(300_000_000))
