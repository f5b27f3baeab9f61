"""Loosening detection per limit kind, and when an approved version takes effect."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from qoima.domain.enums import InstrumentKind, Severity, Venue
from qoima.domain.errors import InvalidInput
from qoima.policy.changes import loosened, takes_effect_on
from qoima.policy.model import (
    Concentration,
    ConcentrationBasis,
    Custody,
    DrawdownTrigger,
    Eligibility,
    InstrumentList,
    InvestmentPolicy,
    Limit,
    Liquidity,
    RiskCvar,
    ShareOfReserves,
    SizeRange,
    StressLoss,
    TriggerAction,
)
from tests.policy.book import sleeve_policy, token_policy

D = Decimal
E = InstrumentKind


def policy(*limits: Limit, delay: int = 30) -> InvestmentPolicy:
    return InvestmentPolicy("da-sleeve", 1, "p", date(2026, 1, 1), limits, delay)


def diff(old: Limit, **changes: Any) -> list[str]:
    return loosened(policy(old), policy(replace(old, **changes)))


SIZE = SizeRange("size", D(50), D(300))
ELIGIBLE = Eligibility("eligible", (E.ETF, E.EQUITY), (Venue.NYSE,), ("bny",))
LISTS = InstrumentList("instruments", allow=("IBIT",), deny=("BTC", "ETH"))
CONC = Concentration("conc", ConcentrationBasis.UNDERLYING, D("0.9"), (("ETH", D("0.3")),))
LIQ = Liquidity("liq", 5, D("0.8"), D("0.2"))
CVAR = RiskCvar("cvar", D(25), D("0.005"))
STRESS = StressLoss("stress", ("a", "b"), D(160))
DRAW = DrawdownTrigger("dd", D("0.25"), TriggerAction.FREEZE_BUYING)
CUSTODY = Custody("custody", (("bitcoin", ("bc1a",)),), D(5), (("BTC", D(50)),), 7, D(15), 3)


@pytest.mark.parametrize(("old", "changes", "expected"), [
    (SIZE, {"max_usd": D(400)}, "size: max_usd raised from 300 to 400"),
    (SIZE, {"min_usd": D(10)}, "size: min_usd lowered from 50 to 10"),
    (SIZE, {"min_usd": None}, "size: min_usd lowered from 50 to no limit"),
    (SIZE, {"severity": Severity.WARNING}, "size: severity weakened from blocking to warning"),
    (SIZE, {"below_min_severity": Severity.WARNING, "severity": Severity.BLOCKING}, None),
    (ShareOfReserves("s", D("0.05")), {"max_share": D("0.06")},
     "s: max_share raised from 0.05 to 0.06"),
    (ELIGIBLE, {"kinds": (E.ETF, E.EQUITY, E.TOKEN)}, "eligible: kinds now also allows token"),
    (ELIGIBLE, {"venues": ()}, "eligible: venues restriction removed"),
    (ELIGIBLE, {"custodians": ("bny", "state-wallet")},
     "eligible: custodians now also allows state-wallet"),
    (LISTS, {"deny": ("ETH",)}, "instruments: deny no longer lists BTC"),
    (LISTS, {"allow": ("FBTC", "IBIT")}, "instruments: allow now also allows FBTC"),
    (CONC, {"overrides": (("ETH", D("0.5")),)}, "conc: max_share for ETH raised from 0.3 to 0.5"),
    (CONC, {"overrides": ()}, "conc: max_share for ETH raised from 0.3 to 0.9"),
    (CONC, {"basis": ConcentrationBasis.ISSUER}, "conc: basis changed from underlying to issuer"),
    (LIQ, {"min_share": D("0.7")}, "liq: min_share lowered from 0.8 to 0.7"),
    (LIQ, {"within_days": 10}, "liq: within_days raised from 5 to 10"),
    (CVAR, {"max_share": None}, "cvar: max_share raised from 0.005 to no limit"),
    (STRESS, {"scenarios": ("a",)}, "stress: scenarios no longer checked: b"),
    (DRAW, {"drawdown": D("0.3")}, "dd: drawdown raised from 0.25 to 0.3"),
    (DRAW, {"action": TriggerAction.REVIEW}, "dd: action weakened from freeze_buying to review"),
    (CUSTODY, {"destinations": (("bitcoin", ("bc1a", "bc1b")),)},
     "custody: destinations on bitcoin now also allow bc1b"),
    (CUSTODY, {"velocity_max_usd": D(20)}, "custody: velocity_max_usd raised from 15 to 20"),
    (CUSTODY, {"velocity_window_days": 3}, "custody: velocity_window_days lowered from 7 to 3"),
    (CUSTODY, {"approval_quorum": 2}, "custody: approval_quorum lowered from 3 to 2"),
    (CUSTODY, {"max_transfer_units": ()},
     "custody: max_transfer_units for BTC raised from 50 to no limit"),
])
def test_each_loosening_is_named(old: Limit, changes: dict[str, Any],
                                 expected: str | None) -> None:
    assert diff(old, **changes) == ([] if expected is None else [expected])


@pytest.mark.parametrize(("old", "changes"), [
    (SIZE, {"max_usd": D(250), "min_usd": D(60)}),
    (ELIGIBLE, {"kinds": (E.ETF,)}),
    (LISTS, {"deny": ("BTC", "ETH", "BNB")}),
    (InstrumentList("l", deny=("BTC",)), {"allow": ("IBIT",)}),  # a new allow list narrows
    (CONC, {"overrides": (("ETH", D("0.2")), ("BTC", D("0.8")))}),
    (STRESS, {"scenarios": ()}),  # every scenario run is checked: not looser
    (DRAW, {"action": TriggerAction.DE_RISK, "drawdown": D("0.2")}),
    (CUSTODY, {"approval_quorum": 4, "velocity_window_days": 30}),
])
def test_tightening_is_not_loosening(old: Limit, changes: dict[str, Any]) -> None:
    assert diff(old, **changes) == []


def test_removed_limit_kind_change_and_shorter_delay_loosen() -> None:
    old = policy(SIZE, CVAR)
    assert loosened(old, policy(SIZE)) == ["cvar: limit removed"]
    assert loosened(old, policy(SIZE, CVAR, LIQ)) == []  # a new limit only tightens
    assert loosened(old, policy(SIZE, CVAR, delay=0)) == [
        "policy: change_delay_days lowered from 30 to 0"]
    swapped = RiskCvar("size", D(1))
    assert loosened(old, policy(swapped, CVAR)) == [
        "size: kind changed from size_range to risk_cvar"]
    assert loosened(sleeve_policy(), sleeve_policy()) == []
    with pytest.raises(InvalidInput):
        loosened(sleeve_policy(), token_policy())


def test_takes_effect_on() -> None:
    current = replace(sleeve_policy(), change_delay_days=30)
    approved = date(2026, 3, 1)
    looser = replace(current, version=2, limits=current.limits[1:])  # drops "size"
    tighter = replace(current, version=2, effective_from=date(2026, 2, 1), change_delay_days=0)
    assert loosened(current, tighter) == ["policy: change_delay_days lowered from 30 to 0"]
    stricter = replace(current, version=2, effective_from=date(2026, 2, 1))
    assert takes_effect_on(current, stricter, approved) == approved
    assert takes_effect_on(current, looser, approved) == date(2026, 3, 31)
    later = replace(stricter, effective_from=date(2026, 6, 1))
    assert takes_effect_on(current, later, approved) == date(2026, 6, 1)
    assert takes_effect_on(None, looser, approved) == approved  # the first version
