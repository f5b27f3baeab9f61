"""The policy's limits become named optimizer constraints; conflicts cite the limit ids."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from qoima.allocation.optimizers import OptimizationMethod, optimize
from qoima.allocation.policy_constraints import Candidate, constraints_from_policy
from qoima.allocation.problem import CompositionProblem, Infeasible
from qoima.domain.enums import InstrumentKind as K
from qoima.domain.enums import Severity, Venue
from qoima.domain.errors import InvalidInput
from qoima.policy.model import (
    Concentration,
    ConcentrationBasis,
    Eligibility,
    InstrumentList,
    InvestmentPolicy,
    Limit,
)
from qoima.policy.model import Liquidity as LiquidityLimit

D = Decimal
SIZE = D("100000000")  # USD 100M


def policy(*limits: Limit) -> InvestmentPolicy:
    return InvestmentPolicy("da-sleeve", 1, "digital assets", date(2026, 1, 1), limits, 0)


CANDIDATES = (
    Candidate("IBIT", K.ETF, Venue.NASDAQ, "bny", "BlackRock", "BTC", 55.0, D(1), 2e9),
    Candidate("ETHA", K.ETF, Venue.NASDAQ, "bny", "BlackRock", "ETH", 20.0, D(1), 3e8),
    Candidate("FBTC", K.ETF, Venue.NYSE, "bny", "Fidelity", "BTC", 80.0, D(1), 5e8),
    Candidate("MSTR", K.EQUITY, Venue.NASDAQ, "bny", "Strategy", "BTC", 300.0, D(1), 4e9),
    Candidate("BTC", K.TOKEN, Venue.ONCHAIN, "coinbase", None, "BTC", 97000.0, D("0.0001"),
              None),
)
ELIGIBLE = Eligibility("eligible", (K.ETF, K.EQUITY), (Venue.NASDAQ, Venue.NYSE), ("bny",))


def test_eligibility_and_lists_drop_candidates_with_reasons() -> None:
    out = constraints_from_policy(
        policy(ELIGIBLE, InstrumentList("lists", deny=("MSTR",))), CANDIDATES, SIZE)
    assert out.codes == ("IBIT", "ETHA", "FBTC")
    reasons = {(e.code, e.limit_id): e.reason for e in out.excluded}
    assert reasons == {("MSTR", "lists"): "on the deny list",
                       ("BTC", "eligible"): "kind token is not eligible"}
    allow = constraints_from_policy(policy(InstrumentList("lists", allow=("IBIT", "FBTC"))),
                                    CANDIDATES, SIZE)
    assert allow.codes == ("IBIT", "FBTC")


def test_no_eligible_instrument_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match=r"no eligible instrument.*BTC: kind token"):
        constraints_from_policy(policy(ELIGIBLE), CANDIDATES[4:], SIZE)


def test_concentration_caps_per_instrument_issuer_and_underlying() -> None:
    limits = (
        ELIGIBLE,
        Concentration("conc-inst", ConcentrationBasis.INSTRUMENT, D("0.4"),
                      overrides=(("MSTR", D("0.1")),), max_usd=D("35000000")),
        Concentration("conc-issuer", ConcentrationBasis.ISSUER, D("0.5")),
        Concentration("conc-under", ConcentrationBasis.UNDERLYING, D("0.8")),
    )
    out = constraints_from_policy(policy(*limits), CANDIDATES, SIZE)
    spec = out.constraints
    assert spec.upper == (0.35, 0.35, 0.35, 0.1)  # max_usd 35M of 100M beats 40 %
    assert spec.upper_names[3] == "conc-inst: MSTR at most 0.1 of the sleeve"
    caps = {g.name: (g.members, g.max_weight) for g in spec.groups}
    assert caps["conc-issuer: issuer BlackRock at most 0.5 of the sleeve"] == ((0, 1), 0.5)
    assert caps["conc-under: underlying BTC at most 0.8 of the sleeve"] == ((0, 2, 3), 0.8)
    assert len(caps) == 3 + 1 + 1  # issuers BlackRock, Fidelity, Strategy; BTC; ETH


def test_liquidity_is_translated_exactly_into_group_caps() -> None:
    limit = LiquidityLimit("liq", within_days=5, min_share=D("0.9"),
                           adv_participation=D("0.1"))
    out = constraints_from_policy(policy(limit), CANDIDATES, D("1000000000"))
    # sellable shares c: IBIT 5 x 10 % x 2bn / 1bn = 1 (never binds), ETHA 0.15, FBTC 0.25,
    # MSTR 2 (never binds), BTC 0 (no ADV). Cuts: sum over S of w <= 0.1 + sum over S of c.
    caps = {tuple(out.codes[i] for i in g.members): g.max_weight for g in out.constraints.groups}
    assert caps == pytest.approx({
        ("ETHA",): 0.25, ("FBTC",): 0.35, ("BTC",): 0.1, ("ETHA", "FBTC"): 0.5,
        ("ETHA", "BTC"): 0.25, ("FBTC", "BTC"): 0.35, ("ETHA", "FBTC", "BTC"): 0.5})
    assert all(name.startswith("liq: ") for name in (g.name for g in out.constraints.groups))
    assert "no ADV for BTC" in out.notes[0]
    # Exact: on random mixes the cuts hold exactly when the limit itself holds.
    sellable = np.array([1.0, 0.15, 0.25, 2.0, 0.0])
    rng = np.random.default_rng(7)
    for w in rng.dirichlet(np.full(5, 0.3), 4000):
        limit_holds = np.minimum(w, sellable).sum() >= 0.9 - 1e-12
        cuts_hold = all(w[list(g.members)].sum() <= g.max_weight + 1e-12
                        for g in out.constraints.groups)
        assert limit_holds == cuts_hold


def test_warning_limits_are_left_to_the_post_trade_check() -> None:
    soft = Concentration("custodians", ConcentrationBasis.CUSTODIAN, D("0.5"),
                         severity=Severity.WARNING)
    out = constraints_from_policy(policy(soft), CANDIDATES, SIZE)
    assert out.constraints.groups == ()
    assert out.notes == ("custodians: a warning limit; checked after trading, not a "
                         "constraint of the optimizer",)


def test_conflicts_cite_the_policy_limits() -> None:
    limits = (ELIGIBLE, Concentration("conc-inst", ConcentrationBasis.INSTRUMENT, D("0.2")))
    out = constraints_from_policy(policy(*limits), CANDIDATES, SIZE)
    scenarios = np.random.default_rng(2).standard_t(4, (250, len(out.codes))) * 0.02
    problem = CompositionProblem(out.codes, scenarios, constraints=out.constraints)
    with pytest.raises(Infeasible) as error:
        optimize(problem, OptimizationMethod.MIN_CVAR)
    assert "conc-inst: IBIT at most 0.2 of the sleeve" in error.value.conflicts
    assert len(error.value.conflicts) == 1 + 4


def test_translated_constraints_hold_in_the_optimum() -> None:
    limits = (ELIGIBLE, Concentration("conc-inst", ConcentrationBasis.INSTRUMENT, D("0.45")),
              Concentration("conc-issuer", ConcentrationBasis.ISSUER, D("0.5")))
    out = constraints_from_policy(policy(*limits), CANDIDATES, SIZE)
    scenarios = np.random.default_rng(3).standard_t(4, (500, len(out.codes))) * 0.02
    problem = CompositionProblem(out.codes, scenarios, constraints=out.constraints)
    result = optimize(problem, OptimizationMethod.MIN_VARIANCE)
    assert result.weights.max() <= 0.45 + 1e-8
    assert result.weights[0] + result.weights[1] <= 0.5 + 1e-8
