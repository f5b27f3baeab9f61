"""Concentration limits: value per key of the basis as a share of the vehicle's NAV.

Keys: the instrument; its issuer (or ETF sponsor); its underlying asset (an ETF counts as
what it holds, a token as itself, cash and equities as none); the custodian of the holding
(cash counts); its venue (listing or trading venue in lower case, ``nasdaq``; cash and
tokens in custody have none); the external manager.

**Look-through.** In the book a fund interest is one position held at the fund
administrator. For the underlying, custodian and venue bases its value is spread over what
its manager's latest statement says the fund holds (``ctx.look_through``, shares of the
statement's NAV): signed economic exposure per asset, net market value per custodian and
venue. So the state fund's BTC is its own BTC plus every manager's, and a custodian used by
three managers is one key. A fund interest without a breakdown keeps its own key (the
administrator, venue ``private``, no underlying) and is flagged with a WARNING
``policy.<limit id>.look_through_missing``: its exposure is not seen through. The
denominator stays the vehicle's NAV.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from qoima.domain.enums import InstrumentKind, Severity
from qoima.domain.findings import Finding
from qoima.domain.money import MONEY_CONTEXT, ZERO
from qoima.domain.reference import Instrument
from qoima.policy.context import LookThroughShares, PolicyContext
from qoima.policy.model import Concentration, ConcentrationBasis
from qoima.policy.rule_text import (
    exact_text,
    found,
    not_evaluated,
    pct,
    ratio,
    rule_id,
    share_text,
    usd,
)
from qoima.portfolio.snapshot import PositionValue

LOOK_THROUGH_MISSING = "look_through_missing"
FUND_INTEREST_KINDS = (InstrumentKind.HEDGE_FUND_INTEREST, InstrumentKind.VENTURE_FUND_INTEREST)
LOOK_THROUGH_BASES = (ConcentrationBasis.UNDERLYING, ConcentrationBasis.CUSTODIAN,
                      ConcentrationBasis.VENUE)
_TOKEN_KINDS = (InstrumentKind.TOKEN, InstrumentKind.STABLECOIN)


def underlying_of(instrument: Instrument) -> str | None:
    """The asset an instrument gives exposure to: an ETF's underlying, a token itself."""
    if instrument.underlying is not None:
        return instrument.underlying.asset
    return instrument.code if instrument.kind in _TOKEN_KINDS else None


def _key(basis: ConcentrationBasis, position: PositionValue,
         ctx: PolicyContext) -> tuple[str | None, bool]:
    """(key, reference missing) of a position counted as itself."""
    if basis is ConcentrationBasis.CUSTODIAN:
        return position.custodian_code or "none", False
    if position.instrument_kind is InstrumentKind.CASH:
        return None, False
    if basis is ConcentrationBasis.INSTRUMENT:
        return position.instrument_code, False
    instrument = ctx.instruments.get(position.instrument_code)
    if instrument is None:
        return None, True
    if basis is ConcentrationBasis.ISSUER:
        return instrument.issuer, False
    if basis is ConcentrationBasis.MANAGER:
        return instrument.manager_code, False
    if basis is ConcentrationBasis.VENUE:
        return (None if instrument.venue is None else instrument.venue.value.lower()), False
    return underlying_of(instrument), False


def _seen_through(basis: ConcentrationBasis, shares: LookThroughShares,
                  ctx: PolicyContext) -> tuple[dict[str, Decimal], list[str]]:
    """Share of the fund interest per key, and the reported assets with no reference data."""
    if basis is ConcentrationBasis.CUSTODIAN:
        return dict(shares.custodians), []
    if basis is ConcentrationBasis.VENUE:
        return dict(shares.venues), []
    parts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    unknown = []
    for asset, share in shares.assets.items():
        instrument = ctx.instruments.get(asset)
        if instrument is None:
            unknown.append(asset)
            continue
        key = None if instrument.is_currency else underlying_of(instrument)
        if key is not None:
            parts[key] += share
    return parts, unknown


def _flag(limit: Concentration, ctx: PolicyContext, position: PositionValue,
          fallback: str | None) -> Finding:
    instrument = ctx.instruments.get(position.instrument_code)
    manager = instrument.manager_code if instrument and instrument.manager_code else "unknown"
    why = ("no look-through of the managers' statements was supplied"
           if ctx.look_through is None else
           f"manager {manager} has no statement with exposures on or before {ctx.as_of}")
    counted = (f"counted as one position at {limit.basis} {fallback}" if fallback else
               f"counted under no {limit.basis}")
    worth = usd(position.value_usd or ZERO)
    return Finding(f"{rule_id(limit)}.{LOOK_THROUGH_MISSING}", Severity.WARNING,
                   position.instrument_code,
                   f"{position.instrument_code} (manager {manager}, {worth}) is not seen "
                   f"through for {limit.id}: {why}; {counted}", ctx.as_of)


def concentration(limit: Concentration, ctx: PolicyContext) -> list[Finding]:
    nav = ctx.nav.nav_usd
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    through: dict[str, Decimal] = defaultdict(lambda: ZERO)  # the part from fund interests
    missing: set[str] = set()
    flags: list[Finding] = []
    looks_through = limit.basis in LOOK_THROUGH_BASES
    for position in ctx.positions:
        value = position.value_usd
        if value is None:
            continue
        fund = looks_through and position.instrument_kind in FUND_INTEREST_KINDS
        shares = (ctx.look_through or {}).get(position.instrument_code) if fund else None
        if shares is not None:
            parts, unknown = _seen_through(limit.basis, shares, ctx)
            missing.update(f"{asset} (reported in {position.instrument_code})"
                           for asset in unknown)
            for part, share in parts.items():
                amount = MONEY_CONTEXT.multiply(value, share)
                totals[part] += amount
                through[part] += amount
            continue
        key, reference_missing = _key(limit.basis, position, ctx)
        if reference_missing:
            missing.add(position.instrument_code)
            continue
        if fund:
            flags.append(_flag(limit, ctx, position, key))
        if key is not None:
            totals[key] += value
    findings = []
    if missing:
        findings.append(not_evaluated(limit, ctx, "no reference data for "
                                      + ", ".join(sorted(missing))))
    findings += flags
    for key in sorted(totals):
        findings += _breach(limit, ctx, key, totals[key], through.get(key, ZERO), nav)
    return findings


def _breach(limit: Concentration, ctx: PolicyContext, key: str, value: Decimal,
            seen_through: Decimal, nav: Decimal) -> list[Finding]:
    problems = []
    share = ratio(value, nav) if nav > 0 else ZERO
    cap = limit.share_limit(key)
    if nav > 0 and share > cap:
        problems.append(f"{pct(share)} of {ctx.vehicle_code}, above {pct(cap)}")
    if limit.max_usd is not None and value > limit.max_usd:
        problems.append(f"{usd(value)}, above {usd(limit.max_usd)}")
    if not problems:
        return []
    cap_text = f"<= {exact_text(cap)}" + ("" if limit.max_usd is None else
                                         f" and <= {exact_text(limit.max_usd)} USD")
    detail = (f" ({usd(seen_through)} of it through fund interests)" if seen_through else "")
    return [found(limit, ctx, f"{limit.basis}:{key}",
                  f"{limit.basis} {key} is " + " and ".join(problems) + detail,
                  share_text(share), cap_text)]
