"""Liquidity: days to cash per position, a liquidity ladder, liquidity-adjusted VaR.

Days are calendar days from the as-of date (day 0 = today). An exchange-traded position is
sold at ``participation`` x average daily volume per trading day; a trading day is
``7 / trading_days_per_week`` calendar days on average (US listings trade 5 days a week,
tokens 7), and cash arrives ``settlement_days`` after each sale. Other positions go at once
after their fixed delay: notice and dealing period of a fund, a legal hold, settlement::

    delay          = hold + notice + dealing period + settlement
    trading_days   = value / (participation * ADV_usd)
    days_to_cash   = delay + ceil(trading_days * 7 / trading_days_per_week) - 1
    cash by day D  = min(value, participation * ADV_usd * max(0, D - delay + 1)
                                * trading_days_per_week / 7)       (volume-limited)
                   = value if D >= delay else 0                    (all at once)

Liquidity-adjusted VaR adds the cost of liquidating to the market VaR:
``LVaR = VaR + sum_p (exogenous_p + endogenous_p)`` with the exogenous spread cost of
Bangia, Diebold, Schuermann and Stroughair (1999), ``value * (half_spread + a * sigma_S / 2)``
(``sigma_S`` the volatility of the relative spread, ``a`` its multiplier for the confidence
level), and the endogenous square-root impact ``value * min(1, k * sigma_daily *
sqrt(Q / ADV))`` for positions larger than one day's allowed sale (``Q > participation *
ADV``); smaller ones pay the spread only.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from qoima.domain.enums import InstrumentKind, Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.risk.positions import RiskBook, RiskPosition
from qoima.risk.provenance import Provenance, array_hash

LADDER_DAYS = (1, 7, 30, 90, 365)


@dataclass(frozen=True, slots=True)
class MarketLiquidity:
    """Market depth of one instrument: ADV in units, the price to convert, spread, volatility."""

    adv_units: float
    price_usd: float
    half_spread: float = 0.0  # mean relative half-spread (fraction of mid)
    spread_volatility: float = 0.0  # std of the relative bid-ask spread
    daily_volatility: float = 0.0  # std of daily returns (impact model)

    def __post_init__(self) -> None:
        for name in ("adv_units", "price_usd"):
            if not math.isfinite(getattr(self, name)) or getattr(self, name) <= 0:
                raise InvalidInput(f"{name} must be positive, got {getattr(self, name)!r}",
                                   field=name)
        for name in ("half_spread", "spread_volatility", "daily_volatility"):
            if not math.isfinite(getattr(self, name)) or getattr(self, name) < 0:
                raise InvalidInput(f"{name} must be >= 0, got {getattr(self, name)!r}",
                                   field=name)

    @property
    def adv_usd(self) -> float:
        return self.adv_units * self.price_usd


@dataclass(frozen=True, slots=True)
class LiquidityTerms:
    """How a kind of instrument turns into cash (see the module docstring)."""

    settlement_days: int = 1
    volume_limited: bool = True  # sold at a share of ADV; False: all at once after the delay
    trading_days_per_week: int = 5
    notice_days: int = 0
    dealing_period_days: int = 0  # worst-case wait for the next dealing date
    hold_days: int | None = 0  # legal hold; None: until forfeiture, date unknown
    illiquid: bool = False  # no exit within the ladder (venture interests)
    note: str = ""

    def __post_init__(self) -> None:
        for name in ("settlement_days", "notice_days", "dealing_period_days"):
            if getattr(self, name) < 0:
                raise InvalidInput(f"{name} must be >= 0", field=name)
        if self.hold_days is not None and self.hold_days < 0:
            raise InvalidInput("hold_days must be >= 0", field="hold_days")
        if not 1 <= self.trading_days_per_week <= 7:
            raise InvalidInput("trading_days_per_week must be 1..7",
                               field="trading_days_per_week")

    @property
    def delay_days(self) -> int | None:
        if self.hold_days is None or self.illiquid:
            return None
        return (self.hold_days + self.notice_days + self.dealing_period_days
                + self.settlement_days)


DEFAULT_TERMS: Mapping[InstrumentKind, LiquidityTerms] = {
    InstrumentKind.CASH: LiquidityTerms(0, False, note="cash"),
    InstrumentKind.TBILL: LiquidityTerms(1, False, note="T+1, deep market"),
    InstrumentKind.BOND: LiquidityTerms(1, False, note="T+1, deep market"),
    InstrumentKind.GOLD: LiquidityTerms(2, False, note="LBMA spot, T+2"),
    InstrumentKind.SDR: LiquidityTerms(5, False, note="exchanged through the IMF's voluntary "
                                                      "trading arrangements (assumed 5 days)"),
    InstrumentKind.ETF: LiquidityTerms(1, True, 5, note="exchange-traded, T+1"),
    InstrumentKind.EQUITY: LiquidityTerms(1, True, 5, note="exchange-traded, T+1"),
    InstrumentKind.TOKEN: LiquidityTerms(0, True, 7, note="on-chain/exchange, same day"),
    InstrumentKind.STABLECOIN: LiquidityTerms(0, True, 7, note="on-chain/exchange, same day"),
    InstrumentKind.TOKENIZED_RWA: LiquidityTerms(2, False, note="redeemed with the issuer"),
    InstrumentKind.HEDGE_FUND_INTEREST: LiquidityTerms(
        10, False, notice_days=30, dealing_period_days=30,
        note="monthly dealing, 30 days' notice, paid 10 days after"),
    InstrumentKind.VENTURE_FUND_INTEREST: LiquidityTerms(
        0, False, illiquid=True, note="closed-end: not liquid within a year"),
}


@dataclass(frozen=True, slots=True)
class PositionLiquidity:
    key: str
    instrument_code: str
    instrument_kind: InstrumentKind
    vehicle_code: str
    value_usd: float
    terms: LiquidityTerms
    daily_sale_usd: float | None  # participation * ADV in USD (volume-limited only)
    trading_days: float | None  # value / daily sale
    days_to_cash: int | None  # None: not liquid within any horizon (or no volume data)
    reason: str


@dataclass(frozen=True, slots=True)
class LiquidityLadder:
    """Value (USD and share) liquid within each horizon, total and per vehicle."""

    days: tuple[int, ...]
    total_usd: tuple[float, ...]
    total_share: tuple[float, ...]
    vehicle_usd: Mapping[str, tuple[float, ...]]
    vehicle_share: Mapping[str, tuple[float, ...]]


@dataclass(frozen=True, slots=True)
class LiquidityProfile:
    positions: tuple[PositionLiquidity, ...]
    ladder: LiquidityLadder
    participation: float
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class LiquidityCost:
    key: str
    value_usd: float
    exogenous_usd: float  # spread (Bangia et al.)
    endogenous_usd: float  # square-root price impact


@dataclass(frozen=True, slots=True)
class LiquidityAdjustedVaR:
    var_usd: float
    exogenous_cost_usd: float
    endogenous_cost_usd: float
    lvar_usd: float
    positions: tuple[LiquidityCost, ...]
    provenance: Provenance


def _check_participation(participation: float) -> float:
    value = float(participation)
    if not math.isfinite(value) or not 0.0 < value <= 1.0:
        raise InvalidInput(f"participation must be in (0, 1], got {participation!r}",
                           field="participation")
    return value


def sqrt_impact(value_usd: float, market: MarketLiquidity, coefficient: float = 1.0) -> float:
    """Price concession of selling ``value_usd`` at once: ``min(1, k sigma sqrt(Q/ADV))``."""
    if not math.isfinite(coefficient) or coefficient < 0:
        raise InvalidInput(f"impact coefficient must be >= 0, got {coefficient!r}",
                           field="impact_coefficient")
    share = max(value_usd, 0.0) / market.adv_usd
    return min(1.0, coefficient * market.daily_volatility * math.sqrt(share))


def _terms_for(position: RiskPosition, terms: Mapping[InstrumentKind, LiquidityTerms],
               position_terms: Mapping[str, LiquidityTerms], held: Collection[str],
               forfeiture_days: int | None) -> LiquidityTerms:
    if position.key in position_terms:
        return position_terms[position.key]
    base = terms.get(position.instrument_kind, DEFAULT_TERMS[position.instrument_kind])
    if position.vehicle_code in held:
        return replace(base, hold_days=forfeiture_days, note=f"legal hold; {base.note}")
    return base


def liquidity_profile(book: RiskBook, market: Mapping[str, MarketLiquidity], *,
                      participation: float = 0.10,
                      terms: Mapping[InstrumentKind, LiquidityTerms] | None = None,
                      position_terms: Mapping[str, LiquidityTerms] | None = None,
                      legal_hold_vehicles: Collection[str] = (),
                      forfeiture_days: int | None = None,
                      ladder_days: Sequence[int] = LADDER_DAYS) -> LiquidityProfile:
    """Days to cash of each position and the ladder of value liquid within ``ladder_days``.

    ``market``: depth per instrument code (volume-limited positions need it; without it the
    position counts as not liquid, with a finding). ``terms`` override :data:`DEFAULT_TERMS`
    by kind, ``position_terms`` by position key. Positions in ``legal_hold_vehicles`` wait
    ``forfeiture_days`` (``None``: until a forfeiture whose date is unknown, never liquid).
    """
    share = _check_participation(participation)
    horizons = tuple(int(d) for d in ladder_days)
    if not horizons or any(d < 0 for d in horizons) or list(horizons) != sorted(set(horizons)):
        raise InvalidInput("ladder days must be increasing whole numbers >= 0",
                           field="ladder_days")
    kinds = {**DEFAULT_TERMS, **(terms or {})}
    findings: list[Finding] = []
    rows: list[PositionLiquidity] = []
    liquid: list[list[float]] = []
    for p in book.positions:
        t = _terms_for(p, kinds, position_terms or {}, legal_hold_vehicles, forfeiture_days)
        delay, daily, trading, days = t.delay_days, None, None, None
        reason = t.note
        if delay is None:
            reason = ("legal hold until forfeiture" if t.hold_days is None
                      else t.note or "illiquid")
            curve = [0.0] * len(horizons)
        elif not t.volume_limited or p.value_usd <= 0:
            days = delay
            curve = [p.value_usd if d >= delay else 0.0 for d in horizons]
        elif p.instrument_code not in market:
            reason = "no volume data: counted as not liquid"
            findings.append(Finding("risk.liquidity_no_volume", Severity.WARNING, p.key,
                                    f"{p.instrument_code}: no average daily volume given; "
                                    "counted as not liquid"))
            curve = [0.0] * len(horizons)
        else:
            daily = share * market[p.instrument_code].adv_usd
            trading = p.value_usd / daily
            pace = t.trading_days_per_week / 7
            days = delay + max(1, math.ceil(trading / pace - 1e-12)) - 1
            curve = [min(p.value_usd, daily * max(0, d - delay + 1) * pace) for d in horizons]
        rows.append(PositionLiquidity(p.key, p.instrument_code, p.instrument_kind,
                                      p.vehicle_code, p.value_usd, t, daily, trading, days,
                                      reason))
        liquid.append(curve)
    ladder = _ladder(book, horizons, liquid)
    provenance = Provenance("liquidity-profile", array_hash(book.values_usd), {
        "participation": share, "ladder_days": list(horizons),
        "legal_hold_vehicles": sorted(legal_hold_vehicles), "forfeiture_days": forfeiture_days,
        "market": sorted(market)}, warnings=tuple(findings))
    return LiquidityProfile(tuple(rows), ladder, share, provenance)


def _ladder(book: RiskBook, horizons: tuple[int, ...], liquid: list[list[float]]
            ) -> LiquidityLadder:
    def shares(amounts: list[float], value: float) -> tuple[float, ...]:
        return tuple(a / value if value > 0 else 0.0 for a in amounts)

    total = [math.fsum(c[k] for c in liquid) for k in range(len(horizons))]
    by_vehicle: dict[str, list[float]] = {}
    values: dict[str, float] = {}
    for p, curve in zip(book.positions, liquid, strict=True):
        row = by_vehicle.setdefault(p.vehicle_code, [0.0] * len(horizons))
        for k, amount in enumerate(curve):
            row[k] += amount
        values[p.vehicle_code] = values.get(p.vehicle_code, 0.0) + p.value_usd
    return LiquidityLadder(
        horizons, tuple(total), shares(total, book.total_usd),
        {v: tuple(r) for v, r in sorted(by_vehicle.items())},
        {v: shares(r, values[v]) for v, r in sorted(by_vehicle.items())})


def liquidity_adjusted_var(book: RiskBook, var_usd: float,
                           market: Mapping[str, MarketLiquidity], *,
                           participation: float = 0.10, spread_multiplier: float = 3.0,
                           impact_coefficient: float = 1.0) -> LiquidityAdjustedVaR:
    """``LVaR = VaR + exogenous spread cost + endogenous impact`` (module docstring).

    ``var_usd``: the book's market VaR (positive loss). ``spread_multiplier``: ``a`` of
    Bangia et al., scaling the spread's volatility to the confidence level (about 3 for
    99 %; it matters only where ``spread_volatility`` is given). Positions without market
    data add no cost; a finding names the exchange-traded ones.
    """
    var = float(var_usd)
    if not math.isfinite(var) or var < 0:
        raise InvalidInput(f"VaR must be a finite positive loss, got {var_usd!r}",
                           field="var_usd")
    share = _check_participation(participation)
    if not math.isfinite(spread_multiplier) or spread_multiplier < 0:
        raise InvalidInput("spread_multiplier must be >= 0", field="spread_multiplier")
    costs: list[LiquidityCost] = []
    findings: list[Finding] = []
    for p in book.positions:
        depth = market.get(p.instrument_code)
        value = max(p.value_usd, 0.0)
        if depth is None:
            if DEFAULT_TERMS[p.instrument_kind].volume_limited:
                findings.append(Finding("risk.liquidity_no_volume", Severity.WARNING, p.key,
                                        f"{p.instrument_code}: no market depth given; no "
                                        "liquidation cost counted"))
            costs.append(LiquidityCost(p.key, p.value_usd, 0.0, 0.0))
            continue
        exogenous = value * (depth.half_spread + spread_multiplier * depth.spread_volatility / 2)
        large = value > share * depth.adv_usd
        endogenous = value * sqrt_impact(value, depth, impact_coefficient) if large else 0.0
        costs.append(LiquidityCost(p.key, p.value_usd, exogenous, endogenous))
    exo = math.fsum(c.exogenous_usd for c in costs)
    endo = math.fsum(c.endogenous_usd for c in costs)
    provenance = Provenance("lvar", array_hash(book.values_usd, [var]), {
        "participation": share, "spread_multiplier": spread_multiplier,
        "impact_coefficient": impact_coefficient, "market": sorted(market)},
        warnings=tuple(findings))
    return LiquidityAdjustedVaR(var, exo, endo, var + exo + endo, tuple(costs), provenance)


__all__ = ["DEFAULT_TERMS", "LADDER_DAYS", "LiquidityAdjustedVaR", "LiquidityCost",
           "LiquidityLadder", "LiquidityProfile", "LiquidityTerms", "MarketLiquidity",
           "PositionLiquidity", "liquidity_adjusted_var", "liquidity_profile", "sqrt_impact"]
