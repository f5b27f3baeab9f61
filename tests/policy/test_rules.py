"""Every limit kind: a breaching case with hand-computed figures, a passing case, and the
"not evaluated" warning when its inputs are missing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qoima.domain.enums import InstrumentKind, Severity, Venue
from qoima.domain.findings import Finding
from qoima.domain.reference import Instrument
from qoima.policy.context import RiskFigures, Transfer
from qoima.policy.model import (
    Concentration,
    ConcentrationBasis,
    Custody,
    DrawdownTrigger,
    Eligibility,
    InstrumentList,
    LimitKind,
    Liquidity,
    RiskCvar,
    ShareOfReserves,
    SizeRange,
    StressLoss,
    TriggerAction,
)
from qoima.policy.rules import RULES, check_limit
from tests.policy.book import AS_OF, BY_CODE, SLEEVE, TOKENS, context, snapshot, transfer

D = Decimal
SIZE = SizeRange("size", D(50_000_000), D(300_000_000))


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def test_every_limit_kind_has_exactly_one_rule() -> None:
    assert set(RULES) == set(LimitKind)


# size_range ---------------------------------------------------------------------------------

def test_size_above_max_blocks() -> None:
    ctx = context(snapshot([("IBIT", "6000000"), ("USD", "1000000.00")]))  # 300M + 1M
    finding = only(check_limit(SIZE, ctx))
    assert (finding.rule, finding.severity, finding.subject) == (
        "policy.size", Severity.BLOCKING, SLEEVE)
    assert (finding.measured, finding.limit) == ("301000000", "<= 300000000")
    assert finding.as_of_date == AS_OF
    assert "above the maximum USD 300,000,000.00" in finding.message


def test_size_within_range_passes_and_below_min_warns() -> None:
    assert check_limit(SIZE, context(snapshot([("IBIT", "2000000")]))) == []  # 100M
    low = only(check_limit(SIZE, context(snapshot([("USD", "10000000.00")]))))
    assert (low.severity, low.measured, low.limit) == (Severity.WARNING, "10000000", ">= 50000000")
    empty = only(check_limit(SIZE, context(snapshot())))  # the unfunded sleeve
    assert (empty.severity, empty.measured) == (Severity.WARNING, "0")


# share_of_reserves --------------------------------------------------------------------------

def test_share_of_reserves() -> None:
    limit = ShareOfReserves("reserves-share", D("0.08"))
    snap = snapshot([("IBIT", "2000000")])  # 100M
    finding = only(check_limit(limit, context(snap, total_reserves_usd="1000000000")))
    assert (finding.measured, finding.limit) == ("0.1", "<= 0.08")  # 100M / 1bn
    assert check_limit(limit, context(snap, total_reserves_usd="2000000000")) == []  # 5 %
    missing = only(check_limit(limit, context(snap, total_reserves_usd="0")))
    assert (missing.rule, missing.severity) == ("policy.reserves-share.not_evaluated",
                                                Severity.WARNING)


# eligibility --------------------------------------------------------------------------------

ELIGIBLE = Eligibility("eligible", (InstrumentKind.ETF, InstrumentKind.EQUITY),
                       (Venue.NYSE, Venue.NASDAQ, Venue.CBOE, Venue.AIX), ("bny", "bitgo"))


def test_eligible_book_passes_and_cash_is_always_eligible() -> None:
    snap = snapshot([("USD", "1000.00"), ("IBIT", "10"), ("AIX-BTC", "10"), ("COIN", "1")])
    assert check_limit(ELIGIBLE, context(snap)) == []


def test_token_in_the_sleeve_is_not_eligible() -> None:
    finding = only(check_limit(ELIGIBLE, context(snapshot([("IBIT", "10"), ("BTC", "1")]))))
    assert (finding.rule, finding.subject, finding.severity) == (
        "policy.eligible", "BTC", Severity.BLOCKING)
    assert "kind token is not allowed" in finding.message
    assert (finding.measured, finding.limit) == (
        "kind token, venue none, custodian bitgo",
        "kinds equity, etf; venues AIX, CBOE, NASDAQ, NYSE; custodians bitgo, bny")


def test_venue_and_custodian_outside_the_lists() -> None:
    otc = Instrument("OTC-ETF", "Unlisted wrapper", InstrumentKind.ETF, 0, venue=Venue.OTC)
    snap = snapshot([("IBIT", "10", "state-wallet")])
    finding = only(check_limit(ELIGIBLE, context(snap)))
    assert "custodian state-wallet is not allowed" in finding.message
    ctx = context(snap, instruments={**BY_CODE, "IBIT": otc})
    assert "venue OTC is not allowed" in only(check_limit(ELIGIBLE, ctx)).message


# instrument_list ----------------------------------------------------------------------------

def test_allow_and_deny_lists() -> None:
    allow = InstrumentList("instruments", allow=("IBIT",))
    deny = InstrumentList("instruments", deny=("FBTC", "USD"))
    snap = snapshot([("USD", "5.00"), ("IBIT", "1"), ("FBTC", "1")])
    finding = only(check_limit(allow, context(snap)))
    assert (finding.subject, finding.limit) == ("FBTC", "allow IBIT")  # cash not reported
    denied = check_limit(deny, context(snap))
    assert [f.subject for f in denied] == ["FBTC", "USD"]  # cash may be denied by name
    assert check_limit(allow, context(snapshot([("USD", "5.00"), ("IBIT", "1")]))) == []


# concentration ------------------------------------------------------------------------------

def test_per_instrument_share_hand_computed() -> None:
    limit = Concentration("per-instrument", ConcentrationBasis.INSTRUMENT, D("0.6"))
    snap = snapshot([("IBIT", "1400000"), ("FBTC", "375000")])  # 70M + 30M
    finding = only(check_limit(limit, context(snap)))
    assert (finding.subject, finding.measured, finding.limit) == (
        "instrument:IBIT", "0.7", "<= 0.6")
    assert check_limit(limit, context(snapshot([("IBIT", "1000000"),
                                                ("FBTC", "625000")]))) == []  # 50/50


def test_issuer_groups_sponsors_and_cash_is_not_an_issuer() -> None:
    limit = Concentration("per-issuer", ConcentrationBasis.ISSUER, D("0.5"))
    # IBIT 30M + ETHA 30M (both BlackRock) = 60 % of 100M; FBTC 20M; cash 20M
    snap = snapshot([("IBIT", "600000"), ("ETHA", "1200000"), ("FBTC", "250000"),
                     ("USD", "20000000.00")])
    finding = only(check_limit(limit, context(snap)))
    assert (finding.subject, finding.measured) == ("issuer:BlackRock", "0.6")


def test_underlying_looks_through_etfs_with_overrides() -> None:
    limit = Concentration("per-underlying", ConcentrationBasis.UNDERLYING, D("0.9"),
                          (("ETH", D("0.3")),))
    # BTC: IBIT 40M + FBTC 20M + AIX-BTC 5M = 65 %; ETH: ETHA 35M = 35 % > 30 % override
    snap = snapshot([("IBIT", "800000"), ("FBTC", "250000"), ("AIX-BTC", "500000"),
                     ("ETHA", "1400000")])
    finding = only(check_limit(limit, context(snap)))
    assert (finding.subject, finding.measured, finding.limit) == (
        "underlying:ETH", "0.35", "<= 0.3")
    tokens = snapshot([("BNB", "1000")], vehicle=TOKENS)  # a token is its own underlying
    capped = Concentration("u", ConcentrationBasis.UNDERLYING, D(1), max_usd=D(500_000))
    assert only(check_limit(capped, context(tokens, vehicle=TOKENS))).subject == "underlying:BNB"


def test_custodian_and_manager_bases() -> None:
    by_custodian = Concentration("per-custodian", ConcentrationBasis.CUSTODIAN, D("0.65"))
    # bny: IBIT 50M + cash 20M = 70M of 100M (cash counts for custodians); bitgo: 30M
    snap = snapshot([("IBIT", "1000000"), ("USD", "20000000.00"), ("AIX-BTC", "3000000")])
    finding = only(check_limit(by_custodian, context(snap)))
    assert (finding.subject, finding.measured) == ("custodian:bny", "0.7")
    assert check_limit(Concentration("c", ConcentrationBasis.CUSTODIAN, D("0.7")),
                       context(snap)) == []  # at the limit is within it
    by_manager = Concentration("per-manager", ConcentrationBasis.MANAGER, D("0.5"))
    fund = snapshot([("HF-A-LP", "30000"), ("HF-B-LP", "10000")], vehicle="state-fund")
    finding = only(check_limit(by_manager, context(fund, vehicle="state-fund")))
    assert (finding.subject, finding.measured) == ("manager:hf-a", "0.75")


def test_concentration_without_reference_data_is_not_evaluated() -> None:
    limit = Concentration("per-issuer", ConcentrationBasis.ISSUER, D("0.5"))
    ctx = context(snapshot([("IBIT", "10")]), instruments={})
    finding = only(check_limit(limit, ctx))
    assert (finding.rule, finding.severity) == ("policy.per-issuer.not_evaluated",
                                                Severity.WARNING)


# liquidity ----------------------------------------------------------------------------------

LIQ = Liquidity("liquidity", 5, D("0.8"), D("0.2"))


def test_liquidity_from_adv_hand_computed() -> None:
    snap = snapshot([("IBIT", "2000000")])  # 100M
    # 20 % of 50M ADV x 5 days = 50M sellable -> 50 % < 80 %
    finding = only(check_limit(LIQ, context(snap, adv={"IBIT": D(50_000_000)})))
    assert (finding.measured, finding.limit, finding.severity) == (
        "0.5", ">= 0.8", Severity.BLOCKING)
    assert check_limit(LIQ, context(snap, adv={"IBIT": D(100_000_000)})) == []


def test_liquidity_uses_the_apps_figure_or_a_shorter_horizon() -> None:
    snap = snapshot([("IBIT", "2000000")])
    assert only(check_limit(LIQ, context(snap, liquidity={5: D("0.5")}))).measured == "0.5"
    assert check_limit(LIQ, context(snap, liquidity={1: D("0.9"), 30: D("0.1")})) == []


def test_liquidity_without_inputs_is_not_evaluated() -> None:
    finding = only(check_limit(LIQ, context(snapshot([("IBIT", "10")]))))
    assert finding.rule == "policy.liquidity.not_evaluated"
    assert "IBIT" in finding.message


# risk_cvar / stress_loss --------------------------------------------------------------------

def test_cvar_caps_in_usd_and_share() -> None:
    limit = RiskCvar("cvar", D(25_000_000), D("0.005"))
    snap = snapshot([("IBIT", "2000000")])
    over_usd = only(check_limit(limit, context(snap, risk=RiskFigures(30_000_000.0))))
    assert (over_usd.measured, over_usd.limit) == (
        "30000000", "<= 25000000 USD and <= 0.005 of reserves")
    # 12M of 2bn = 0.6 % > 0.5 %, under the USD cap
    over_share = only(check_limit(limit, context(snap, total_reserves_usd="2000000000",
                                                 risk=RiskFigures(12_000_000.0))))
    assert "0.60 % of total reserves" in over_share.message
    assert check_limit(limit, context(snap, risk=RiskFigures(5_000_000.0))) == []


@pytest.mark.parametrize("risk", [None, RiskFigures(float("nan"))])
def test_cvar_without_a_figure_is_not_evaluated(risk: RiskFigures | None) -> None:
    finding = only(check_limit(RiskCvar("cvar", D(1)), context(snapshot(), risk=risk)))
    assert (finding.rule, finding.severity) == ("policy.cvar.not_evaluated", Severity.WARNING)


def test_stress_loss_per_scenario() -> None:
    limit = StressLoss("stress", ("btc-minus-50", "oil-crash-tenge"), D(160_000_000))
    risk = RiskFigures(1.0, {"btc-minus-50": 200_000_000.0, "dollar-spike": 9e9})
    findings = check_limit(limit, context(snapshot(), risk=risk))
    assert [(f.rule, f.subject) for f in findings] == [
        ("policy.stress", "btc-minus-50"), ("policy.stress.not_evaluated", "oil-crash-tenge")]
    assert findings[0].measured == "200000000"
    ok = RiskFigures(1.0, {"btc-minus-50": 100e6, "oil-crash-tenge": 160e6})
    assert check_limit(limit, context(snapshot(), risk=ok)) == []
    every = StressLoss("stress", (), D(160_000_000))  # no names: every scenario given
    assert [f.subject for f in check_limit(every, context(snapshot(), risk=risk))] == [
        "btc-minus-50", "dollar-spike"]
    assert only(check_limit(every, context(snapshot()))).rule == "policy.stress.not_evaluated"


# drawdown_trigger ---------------------------------------------------------------------------

def test_drawdown_trigger_warns_never_blocks() -> None:
    freeze = DrawdownTrigger("drawdown-freeze", D("0.25"), TriggerAction.FREEZE_BUYING)
    finding = only(check_limit(freeze, context(snapshot(), drawdown=0.30)))
    assert (finding.severity, finding.measured, finding.limit) == (
        Severity.WARNING, "0.3", ">= 0.25: freeze_buying")
    assert "freeze buying required" in finding.message
    assert check_limit(freeze, context(snapshot(), drawdown=0.10)) == []
    assert check_limit(freeze, context(snapshot(), drawdown=0.25)) != []  # at the level
    missing = only(check_limit(freeze, context(snapshot())))
    assert missing.rule == "policy.drawdown-freeze.not_evaluated"


# custody ------------------------------------------------------------------------------------

CUSTODY = Custody(
    "custody", (("bnb-smart-chain", ("0x00000000000000000000000000000000000A1E01",)),),
    max_transfer_usd=D(5_000_000), max_transfer_units=(("BNB", D(8000)),),
    velocity_window_days=7, velocity_max_usd=D(15_000_000), approval_quorum=3)


def custody(*transfers: Transfer) -> list[Finding]:
    snap = snapshot([("BNB", "1000")], vehicle=TOKENS)
    return check_limit(CUSTODY, context(snap, vehicle=TOKENS, transfers=transfers))


def test_whitelisted_transfer_within_caps_passes() -> None:
    assert custody(transfer("T1"), transfer("T2", proposed=True, approvers=())) == []


def test_destination_outside_the_whitelist_blocks() -> None:
    finding = only(custody(transfer("T1", destination="0xdeadbeef")))
    assert (finding.rule, finding.subject, finding.severity) == (
        "policy.custody", "T1", Severity.BLOCKING)
    assert "not whitelisted" in finding.message


def test_per_transfer_caps_in_usd_and_units() -> None:
    assert "per-transfer cap USD 5,000,000.00" in only(custody(transfer("T1", "6000000"))).message
    assert "9000 BNB is above" in only(custody(transfer("T1", quantity="9000"))).message
    unpriced = custody(transfer("T1", None))  # neither the cap nor the velocity can run
    assert [(f.rule, f.subject) for f in unpriced] == [
        ("policy.custody.not_evaluated", "T1"), ("policy.custody.not_evaluated", "velocity:7d")]


def test_velocity_counts_the_rolling_window_only() -> None:
    inside = [transfer(f"T{i}", "4000000", days_ago=i) for i in range(4)]  # 16M in 4 days
    finding = only(custody(*inside))
    assert (finding.subject, finding.measured, finding.limit) == (
        "velocity:7d", "16000000", "<= 15000000 USD")
    old = [transfer("T0", "4000000", days_ago=7), *inside[1:]]  # 7 days ago: outside
    assert custody(*old) == []
    future = transfer("T9", "9000000", days_ago=-1)  # after as_of: not yet counted
    assert custody(*inside[1:], future) == []


def test_executed_transfer_needs_the_quorum_of_distinct_approvers() -> None:
    finding = only(custody(transfer("T1", approvers=("a", "b", "b"))))
    assert "executed with 2 approver(s), quorum is 3" in finding.message
    assert custody(transfer("T1", approvers=(), proposed=True)) == []  # approvals come later
