"""Operational scenarios a crypto sleeve adds to a reserve, per position and vehicle.

Each scenario says which positions it touches, how much of their value is lost (a haircut, a
discount, a price concession) and how much is *unavailable* for how many days (frozen at a
failed custodian, stuck on a halted chain or a halted ETF): money that is still there but
cannot meet a liquidity need.

* custodian failure: positions at the custodian frozen ``frozen_days``, ``haircut`` lost
  (recovery in insolvency proceedings below 100 %);
* ETF halt: crypto ETFs halted ``halt_days`` and reopening at ``discount`` below NAV;
* chain halt: tokens on the chain cannot move for ``halt_days`` (``haircut`` for a price
  gap on restart);
* forced sale of seized coins into a thin market: the average price concession follows the
  square-root law ``k * sigma_daily * sqrt(Q / ADV)`` (capped at 100 %), plus the
  half-spread, with ADV scaled down by ``adv_scale`` for a thin market.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace

from qoima.domain.enums import InstrumentKind, Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.risk.liquidity import MarketLiquidity, sqrt_impact
from qoima.risk.positions import RiskBook, RiskPosition
from qoima.risk.provenance import Provenance, array_hash


@dataclass(frozen=True, slots=True)
class OperationalImpact:
    key: str
    instrument_code: str
    vehicle_code: str
    value_usd: float
    loss_usd: float  # positive: value lost
    unavailable_usd: float  # value that cannot be used for ``unavailable_days``
    unavailable_days: int


@dataclass(frozen=True, slots=True)
class OperationalResult:
    """One operational scenario: affected positions, losses and frozen value (USD)."""

    scenario: str
    description: str
    positions: tuple[OperationalImpact, ...]  # the affected positions only
    vehicle_loss_usd: Mapping[str, float]
    vehicle_unavailable_usd: Mapping[str, float]
    total_loss_usd: float
    total_unavailable_usd: float
    total_value_usd: float  # the whole book's value, for shares
    provenance: Provenance

    @property
    def loss_share(self) -> float:
        return self.total_loss_usd / self.total_value_usd if self.total_value_usd else 0.0

    @property
    def unavailable_share(self) -> float:
        return (self.total_unavailable_usd / self.total_value_usd
                if self.total_value_usd else 0.0)


def _fraction(value: float, name: str) -> float:
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise InvalidInput(f"{name} must be a fraction in [0, 1], got {value!r}", field=name)
    return float(value)


def _days(value: int, name: str) -> int:
    if int(value) != value or value < 0:
        raise InvalidInput(f"{name} must be a whole number of days >= 0, got {value!r}",
                           field=name)
    return int(value)


def _result(book: RiskBook, scenario: str, description: str,
            impacts: list[OperationalImpact], parameters: dict[str, object],
            findings: tuple[Finding, ...] = ()) -> OperationalResult:
    losses: dict[str, float] = {}
    frozen: dict[str, float] = {}
    for item in impacts:
        losses[item.vehicle_code] = losses.get(item.vehicle_code, 0.0) + item.loss_usd
        frozen[item.vehicle_code] = frozen.get(item.vehicle_code, 0.0) + item.unavailable_usd
    if not impacts:
        findings = (*findings, Finding("risk.operational_no_positions", Severity.INFO,
                                       scenario, "no position is affected by this scenario"))
    provenance = Provenance(f"operational-{scenario}", array_hash(
        book.values_usd, [i.loss_usd for i in impacts]), parameters, warnings=findings)
    return OperationalResult(
        scenario, description, tuple(impacts), dict(sorted(losses.items())),
        dict(sorted(frozen.items())), math.fsum(i.loss_usd for i in impacts),
        math.fsum(i.unavailable_usd for i in impacts), book.total_usd, provenance)


def _freeze(book: RiskBook, hit: Callable[[RiskPosition], bool], days: int,
            loss_share: float) -> list[OperationalImpact]:
    out = []
    for p in book.positions:
        if hit(p):
            value = max(p.value_usd, 0.0)
            loss = loss_share * value
            out.append(OperationalImpact(p.key, p.instrument_code, p.vehicle_code, p.value_usd,
                                         loss, value - loss if days else 0.0, days))
    return out


def custodian_failure(book: RiskBook, custodian_code: str, *, frozen_days: int,
                      haircut: float = 0.0) -> OperationalResult:
    """Positions at ``custodian_code`` frozen ``frozen_days``; ``haircut`` of them lost."""
    days, cut = _days(frozen_days, "frozen_days"), _fraction(haircut, "haircut")
    impacts = _freeze(book, lambda p: p.custodian_code == custodian_code, days, cut)
    return _result(book, "custodian-failure",
                   f"custodian {custodian_code} fails: assets frozen {days} days, "
                   f"{cut:.1%} lost", impacts,
                   {"custodian": custodian_code, "frozen_days": days, "haircut": cut})


def etf_halt(book: RiskBook, *, halt_days: int, discount: float = 0.0,
             instruments: Collection[str] | None = None) -> OperationalResult:
    """Crypto ETFs (or the ``instruments`` listed) halted ``halt_days``, then ``discount``
    below NAV."""
    days, cut = _days(halt_days, "halt_days"), _fraction(discount, "discount")

    def hit(p: RiskPosition) -> bool:
        if instruments is not None:
            return p.instrument_code in instruments
        return p.instrument_kind is InstrumentKind.ETF and p.crypto

    impacts = _freeze(book, hit, days, cut)
    return _result(book, "etf-halt", f"ETF trading halted {days} days, reopening "
                   f"{cut:.1%} below NAV", impacts,
                   {"halt_days": days, "discount": cut,
                    "instruments": sorted(instruments) if instruments is not None else None})


def chain_halt(book: RiskBook, chain: str, *, token_chains: Mapping[str, str], halt_days: int,
               haircut: float = 0.0) -> OperationalResult:
    """Tokens on ``chain`` cannot move for ``halt_days``; ``token_chains`` maps instrument
    code -> chain (from reference data). ETFs on the same asset are not affected: they trade
    on their exchange."""
    days, cut = _days(halt_days, "halt_days"), _fraction(haircut, "haircut")
    on_chain = {InstrumentKind.TOKEN, InstrumentKind.STABLECOIN, InstrumentKind.TOKENIZED_RWA}
    impacts = _freeze(book, lambda p: p.instrument_kind in on_chain
                      and token_chains.get(p.instrument_code) == chain, days, cut)
    return _result(book, "chain-halt", f"chain {chain} halted {days} days", impacts,
                   {"chain": chain, "halt_days": days, "haircut": cut})


def forced_sale(book: RiskBook, market: Mapping[str, MarketLiquidity], *,
                vehicle: str | None = None, keys: Collection[str] | None = None,
                sale_share: float = 1.0, impact_coefficient: float = 1.0,
                adv_scale: float = 1.0) -> OperationalResult:
    """Sell ``sale_share`` of the chosen positions at once into a market ``adv_scale`` as
    deep as usual; the loss is the price concession (impact plus half-spread) on the value
    sold. Choose positions by ``vehicle`` (e.g. the seized pool) and/or ``keys``."""
    share = _fraction(sale_share, "sale_share")
    if not math.isfinite(adv_scale) or adv_scale <= 0:
        raise InvalidInput(f"adv_scale must be positive, got {adv_scale!r}", field="adv_scale")
    if vehicle is None and keys is None:
        raise InvalidInput("choose the positions to sell: a vehicle and/or position keys",
                           field="vehicle")
    impacts: list[OperationalImpact] = []
    findings: list[Finding] = []
    for p in book.positions:
        if (vehicle is not None and p.vehicle_code != vehicle) or (
                keys is not None and p.key not in keys):
            continue
        depth = market.get(p.instrument_code)
        if depth is None:
            if p.instrument_kind is not InstrumentKind.CASH:
                findings.append(Finding("risk.liquidity_no_volume", Severity.WARNING, p.key,
                                        f"{p.instrument_code}: no market depth; not sold"))
            continue
        thin = replace(depth, adv_units=depth.adv_units * adv_scale)
        sold = share * max(p.value_usd, 0.0)
        concession = min(1.0, sqrt_impact(sold, thin, impact_coefficient) + depth.half_spread)
        impacts.append(OperationalImpact(p.key, p.instrument_code, p.vehicle_code, p.value_usd,
                                         concession * sold, 0.0, 0))
    return _result(book, "forced-sale", f"forced sale of {share:.0%} of "
                   f"{vehicle or 'the chosen positions'} into a market at {adv_scale:.0%} of "
                   "its usual depth", impacts,
                   {"vehicle": vehicle, "keys": sorted(keys) if keys is not None else None,
                    "sale_share": share, "impact_coefficient": impact_coefficient,
                    "adv_scale": adv_scale}, tuple(findings))
