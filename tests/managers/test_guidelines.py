"""Mandate guidelines on statement exposures, run through the policy rule engine."""

from __future__ import annotations

from datetime import date

import pytest

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.managers import guidelines as g
from qoima.managers.model import Exposure, Guidelines

from .factory import D, mandate, statement

SEP = (date(2026, 9, 1), date(2026, 9, 30))


def _book(*exposures: Exposure, leverage: str | None = None):  # type: ignore[no-untyped-def]
    total = sum((e.market_value for e in exposures), D(0))
    return statement(*SEP, total, 0, exposures=exposures, leverage=leverage)


BASIS = _book(
    Exposure("USD", "bny", "bny", D(40)),
    Exposure("BTC", "coinbase-prime", "copper", D(40)),
    Exposure("BTC", "cme", "marex", D(1), D(-40)),      # short future hedging the spot
    Exposure("ETH", "deribit", "copper", D(19), D(60)),  # long perp, notional 60
)


def _rules(**terms: object) -> list[str]:
    m = mandate(guidelines=Guidelines(**terms))  # type: ignore[arg-type]
    return [f"{f.rule} {f.subject}" for f in g.guideline_findings(m, BASIS)]


def test_leverage_is_gross_exposure_over_nav() -> None:
    # gross 40 + 40 + 40 + 60 = 180 on NAV 100: 1.8x
    assert _rules(max_leverage=D(2)) == []
    m = mandate(guidelines=Guidelines(max_leverage=D("1.5")))
    [finding] = g.guideline_findings(m, BASIS)
    assert (finding.rule, finding.severity, finding.subject) == (g.LEVERAGE_RULE,
                                                                 Severity.BLOCKING, "hf-a")
    assert (finding.measured, finding.limit) == ("1.8", "<= 1.5")


def test_reported_leverage_counts_when_there_are_no_exposures() -> None:
    m = mandate(guidelines=Guidelines(max_leverage=D(2)))
    bare = statement(*SEP, 100, 0, leverage="2.5")
    [finding] = g.guideline_findings(m, bare)
    assert finding.rule == g.LEVERAGE_RULE and "reported by the manager" in finding.message
    [missing] = g.guideline_findings(m, statement(*SEP, 100, 0))
    assert missing.rule == "mandate.leverage.not_evaluated"
    assert missing.severity is Severity.WARNING


def test_single_asset_share_uses_net_exposure_and_the_policy_rule() -> None:
    # BTC nets to 40 - 40 = 0; ETH 60 of 100 = 60 %; USD is cash and never counts.
    m = mandate(guidelines=Guidelines(max_single_asset_share=D("0.5")))
    [finding] = g.guideline_findings(m, BASIS)
    assert (finding.rule, finding.subject) == (g.SINGLE_ASSET_RULE, "hf-a/asset:ETH")
    assert finding.message == "underlying ETH is 60.00 % of hf-a, above 50.00 %"
    assert (finding.measured, finding.limit) == ("0.6", "<= 0.5")
    assert _rules(max_single_asset_share=D("0.5"),
                  asset_share_overrides=(("ETH", D("0.7")),)) == []


def test_no_go_assets_venues_and_custodians() -> None:
    found = _rules(no_go_assets=("ETH",), allowed_venues=("cme", "coinbase-prime"),
                   allowed_custodians=("copper", "marex"))
    assert found == ["mandate.no_go_asset hf-a/ETH", "mandate.venue hf-a/venue:bny",
                     "mandate.venue hf-a/venue:deribit", "mandate.custodian hf-a/custodian:bny"]


def test_severity_follows_the_guidelines() -> None:
    m = mandate(guidelines=Guidelines(max_leverage=D(1), severity=Severity.WARNING))
    assert {f.severity for f in g.guideline_findings(m, BASIS)} == {Severity.WARNING}
    with pytest.raises(InvalidInput, match="severity"):
        Guidelines(severity=Severity.INFO)


def test_guidelines_are_policy_limits() -> None:
    limits = g.policy_limits(Guidelines(max_single_asset_share=D("0.4"),
                                        no_go_assets=("XMR",)))
    assert [type(limit).__name__ for limit in limits] == ["Concentration", "InstrumentList"]


def test_guidelines_refuse_bad_terms() -> None:
    with pytest.raises(InvalidInput, match="max_single_asset_share"):
        Guidelines(max_single_asset_share=D("1.5"))
    with pytest.raises(InvalidInput, match="listed twice"):
        Guidelines(allowed_venues=("cme", "cme"))
    with pytest.raises(InvalidInput, match="max_leverage"):
        Guidelines(max_leverage=D(0))
