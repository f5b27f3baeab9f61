"""Concentration limits see through fund interests: hand-built snapshots and breakdowns with
hand-computed shares, the flag for an interest without one, the venue basis and its YAML."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qoima.adapters.policy_files import parse_policy, read_policy
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.policy.context import LookThroughShares
from qoima.policy.model import Concentration, ConcentrationBasis, LimitKind
from qoima.policy.rules import check_limit
from tests.policy.book import AS_OF, context, snapshot

D = Decimal
FUND = "state-fund"
DEMO_POLICY = (Path(__file__).resolve().parents[2] / "src" / "qoima" / "adapters"
               / "demo_policies" / "state-fund.yaml")
#: HF-A-LP: 60 % BTC and 30 % ETH (Coinbase Prime, two custodians), 10 % cash at its bank.
HF_A = LookThroughShares(
    "hf-a", AS_OF, assets={"BTC": D("0.6"), "ETH": D("0.3")},
    custodians={"bny": D("0.1"), "coinbase-custody": D("0.6"), "copper": D("0.3")},
    venues={"bank": D("0.1"), "coinbase-prime": D("0.9")})
#: USD 100M in HF-A-LP (100,000 units at 1,000) and USD 50M in IBIT (1M at 50, at bny).
BOOK = [("HF-A-LP", "100000"), ("IBIT", "1000000")]


def fund_ctx(holdings: list[tuple[str, str]] = BOOK, **kw: Any) -> Any:
    kw.setdefault("look_through", {"HF-A-LP": HF_A})
    return context(snapshot(holdings, vehicle=FUND), vehicle=FUND, **kw)


def by_subject(findings: list[Finding]) -> dict[str, Finding]:
    return {f.subject: f for f in findings}


def limit(basis: ConcentrationBasis, share: str, **kw: Any) -> Concentration:
    return Concentration(f"per-{basis}", basis, D(share), **kw)


def test_underlying_adds_the_managers_btc_to_the_funds_own() -> None:
    # BTC: 60 % of 100M through HF-A + IBIT 50M = 110M of 150M; ETH: 30M = 20 %
    found = check_limit(limit(ConcentrationBasis.UNDERLYING, "0.6"), fund_ctx())
    assert [(f.rule, f.subject, f.measured, f.limit) for f in found] == [
        ("policy.per-underlying", "underlying:BTC", "0.733333", "<= 0.6")]
    assert "USD 60,000,000.00 of it through fund interests" in found[0].message
    eth = check_limit(limit(ConcentrationBasis.UNDERLYING, "0.9",
                            overrides=(("ETH", D("0.15")),)), fund_ctx())
    assert [(f.subject, f.measured) for f in eth] == [("underlying:ETH", "0.2")]


def test_without_look_through_the_interest_has_no_underlying_and_is_flagged() -> None:
    found = by_subject(check_limit(limit(ConcentrationBasis.UNDERLYING, "0.3"),
                                   fund_ctx(look_through=None)))
    assert found["underlying:BTC"].measured == "0.333333"  # IBIT alone: 50M of 150M
    flag = found["HF-A-LP"]
    assert (flag.rule, flag.severity) == ("policy.per-underlying.look_through_missing",
                                          Severity.WARNING)
    assert "manager hf-a" in flag.message and "no look-through" in flag.message


def test_a_short_reported_exposure_offsets_a_long() -> None:
    hedged = LookThroughShares("hf-a", AS_OF, {"BTC": D("-0.2")}, {"bny": D(1)},
                               {"cme": D(1)})
    found = check_limit(limit(ConcentrationBasis.UNDERLYING, "0.1"),
                        fund_ctx(look_through={"HF-A-LP": hedged}))
    # IBIT 50M - 20M short through HF-A = 30M of 150M
    assert [(f.subject, f.measured) for f in found] == [("underlying:BTC", "0.2")]


def test_custodians_across_the_fund_and_its_managers() -> None:
    # bny: IBIT 50M + HF-A's cash 10M = 60M; coinbase-custody 60M; copper 30M; no fund-admin
    found = by_subject(check_limit(limit(ConcentrationBasis.CUSTODIAN, "0.35"), fund_ctx()))
    assert {s: f.measured for s, f in found.items()} == {
        "custodian:bny": "0.4", "custodian:coinbase-custody": "0.4"}
    assert "USD 10,000,000.00 of it through fund interests" in found["custodian:bny"].message
    before = by_subject(check_limit(limit(ConcentrationBasis.CUSTODIAN, "0.35"),
                                    fund_ctx(look_through=None)))
    assert before["custodian:fund-admin"].measured == "0.666667"  # 100M of 150M
    assert before["HF-A-LP"].rule == "policy.per-custodian.look_through_missing"


def test_venues_across_the_fund_and_its_managers() -> None:
    # coinbase-prime 90M (60 %), nasdaq 50M (IBIT, 33.3 %), bank 10M; cash has no venue
    found = check_limit(limit(ConcentrationBasis.VENUE, "0.3"),
                        fund_ctx([*BOOK, ("USD", "30000000.00")]))
    # NAV 180M: coinbase-prime 0.5, nasdaq 0.277778 (passes)
    assert [(f.subject, f.measured) for f in found] == [("venue:coinbase-prime", "0.5")]
    own = check_limit(limit(ConcentrationBasis.VENUE, "0.3"), fund_ctx(look_through=None))
    assert {f.subject: f.measured for f in own if f.measured} == {
        "venue:nasdaq": "0.333333", "venue:private": "0.666667"}


def test_tokens_in_custody_and_cash_have_no_venue() -> None:
    ctx = context(snapshot([("BTC", "10"), ("USD", "1000000.00")], vehicle="alem-fund"),
                  vehicle="alem-fund")
    assert check_limit(limit(ConcentrationBasis.VENUE, "0"), ctx) == []


def test_an_interest_without_a_breakdown_keeps_its_key_and_is_flagged() -> None:
    # HF-B-LP 20M has no statement: counted at fund-admin; NAV 170M
    ctx = fund_ctx([*BOOK, ("HF-B-LP", "20000")])
    found = by_subject(check_limit(limit(ConcentrationBasis.CUSTODIAN, "0.1"), ctx))
    assert found["custodian:fund-admin"].measured == "0.117647"
    flag = found["HF-B-LP"]
    assert (flag.rule, flag.severity, flag.as_of_date) == (
        "policy.per-custodian.look_through_missing", Severity.WARNING, AS_OF)
    assert "manager hf-b has no statement with exposures on or before 2026-06-01" in \
        flag.message
    assert "fund-admin" in flag.message
    assert "HF-A-LP" not in found  # seen through: not flagged
    btc = by_subject(check_limit(limit(ConcentrationBasis.UNDERLYING, "0.6"), ctx))
    assert btc["underlying:BTC"].measured == "0.647059"  # 110M of 170M
    assert "counted under no underlying" in btc["HF-B-LP"].message


@pytest.mark.parametrize("basis", [ConcentrationBasis.INSTRUMENT, ConcentrationBasis.ISSUER,
                                   ConcentrationBasis.MANAGER])
def test_bases_that_do_not_look_through_are_unchanged(basis: ConcentrationBasis) -> None:
    with_it = check_limit(limit(basis, "0.5"), fund_ctx())
    assert with_it == check_limit(limit(basis, "0.5"), fund_ctx(look_through=None))
    assert not any(f.rule.endswith("look_through_missing") for f in with_it)


def test_a_reported_asset_without_reference_data_is_not_evaluated() -> None:
    odd = LookThroughShares("hf-a", AS_OF, {"XYZ": D("0.5")}, {"bny": D(1)}, {"bank": D(1)})
    found = check_limit(limit(ConcentrationBasis.UNDERLYING, "0.9"),
                        fund_ctx(look_through={"HF-A-LP": odd}))
    assert [(f.rule, f.severity) for f in found] == [
        ("policy.per-underlying.not_evaluated", Severity.WARNING)]
    assert "XYZ (reported in HF-A-LP)" in found[0].message


@given(st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=8))
def test_a_breakdown_spreads_the_interest_without_creating_value(weights: list[int]) -> None:
    """With a zero cap every custodian breaches, so the measured shares are all of them:
    they add up to one (each rounded to 6 places)."""
    total = sum(weights)
    custodians = {f"c{i}": D(w) / D(total) for i, w in enumerate(weights)}
    shares = LookThroughShares("hf-a", AS_OF, {}, custodians, custodians)
    ctx = fund_ctx([("HF-A-LP", "100000")], look_through={"HF-A-LP": shares})
    for basis in (ConcentrationBasis.CUSTODIAN, ConcentrationBasis.VENUE):
        measured = [D(f.measured or "0") for f in check_limit(limit(basis, "0"), ctx)]
        assert len(measured) == len(weights)
        assert abs(sum(measured, D(0)) - 1) <= D("0.0000005") * len(weights)


# -- the venue basis in policy files ------------------------------------------------------------

HEADER = """\
vehicle: state-fund
version: 1
name: State fund
effective_from: "2026-01-01"
change_delay_days: 30
limits:
"""


def test_the_venue_basis_reads_from_yaml() -> None:
    policy = parse_policy(HEADER + textwrap.dedent("""\
      - id: per-venue
        kind: concentration
        basis: venue
        max_share: 15%
        overrides: {bank: 35%}
        severity: warning
    """), fmt="yaml")
    (venue,) = policy.limits
    assert isinstance(venue, Concentration)
    assert (venue.basis, venue.max_share, venue.share_limit("bank"), venue.severity) == (
        ConcentrationBasis.VENUE, D("0.15"), D("0.35"), Severity.WARNING)


def test_an_unknown_basis_names_line_and_field() -> None:
    with pytest.raises(InvalidInput) as error:
        parse_policy(HEADER + "  - {id: c, kind: concentration, basis: exchange, "
                     "max_share: 10%}\n", fmt="yaml", source="p.yaml")
    assert error.value.origin is not None and error.value.origin.line == 7
    assert error.value.field == "basis" and "venue" in str(error.value)


def test_the_demo_state_fund_policy() -> None:
    policy = read_policy(DEMO_POLICY)
    assert policy.vehicle_code == FUND
    bases = {lim.id: lim.basis for lim in policy.limits if isinstance(lim, Concentration)}
    assert bases == {"per-manager": ConcentrationBasis.MANAGER,
                     "per-underlying": ConcentrationBasis.UNDERLYING,
                     "per-custodian": ConcentrationBasis.CUSTODIAN,
                     "per-venue": ConcentrationBasis.VENUE}
    assert LimitKind.CONCENTRATION in {lim.kind for lim in policy.limits}
