"""A small seeded market for the demo: daily closes and USD/KZT, labeled SYNTHETIC.

Deliberately simple (a seeded random walk with per-asset volatility, ETFs tracking their
underlying, bills accreting to par); the market-data issue replaces it with a generator
that reproduces fat tails, regimes and cross-asset correlation. Uses ``random.Random``
with ``1 + r`` steps (no libm calls) so every platform produces identical numbers.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from qoima.app.demo.reference import HEDGE_FUNDS, TBILLS, VENTURE_FUNDS
from qoima.market.quotes import SYNTHETIC_SOURCE_PREFIX, FxQuote, PriceQuote

SOURCE = f"{SYNTHETIC_SOURCE_PREFIX}:qoima-demo"
SEED = 7  # chosen so the year shows a drawdown and a recovery, as in late 2025


@dataclass(frozen=True, slots=True)
class Walk:
    start: float
    daily_vol: float
    daily_drift: float = 0.0
    places: int = 2
    every_day: bool = False  # crypto trades on weekends too
    btc_correlation: float = 0.0  # share of the daily shock common with BTC


WALKS: dict[str, Walk] = {
    "BTC": Walk(106_000, 0.026, 0.0, 2, True),
    "ETH": Walk(3_650, 0.036, 0.0, 2, True, 0.8),
    "BNB": Walk(1_020, 0.030, 0.0, 2, True, 0.7),
    "XAU": Walk(4_000, 0.011, 0.0003, 2),
    "XDR": Walk(1.365, 0.002, 0.0, 5),
    "COIN": Walk(320, 0.040, 0.0, 2, False, 0.6),
    "UST-2029": Walk(99.40, 0.0018, 0.00002, 4),
    "UST-2034": Walk(97.80, 0.0040, 0.00002, 4),
}
ETF_UNITS = {"IBIT": ("BTC", 0.000568), "FBTC": ("BTC", 0.000876), "ETHA": ("ETH", 0.00760),
             "AIX-BTC": ("BTC", 0.0001)}
USD_KZT = Walk(522.0, 0.004, 0.0001, 2, True)
BILL_YIELD = 0.0395  # annual, discount basis


def business_days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def calendar_days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _walk(rng: random.Random, walk: Walk, days: list[date],
          common: dict[date, float] | None = None) -> dict[date, float]:
    """Levels on ``days``; ``common`` holds BTC's standardized shocks for correlated assets."""
    level, path = walk.start, {}
    own_weight = math.sqrt(1 - walk.btc_correlation**2)
    for day in days:
        path[day] = level
        shock = rng.gauss(0.0, 1.0)
        if common is not None and walk.btc_correlation:
            shock = walk.btc_correlation * common.get(day, 0.0) + own_weight * shock
        level *= 1 + walk.daily_drift + walk.daily_vol * shock
    return path


def _shocks(path: dict[date, float], walk: Walk) -> dict[date, float]:
    """Standardized daily moves of a path, keyed by the day the move starts."""
    days = sorted(path)
    return {a: (path[b] / path[a] - 1 - walk.daily_drift) / walk.daily_vol
            for a, b in itertools.pairwise(days)}


def _dec(value: float, places: int) -> Decimal:
    return Decimal(f"{value:.{places}f}")


def bill_price(day: date, maturity: date) -> Decimal:
    """Price in percent of par of a discount bill ``(maturity - day)`` days from par."""
    days = max((maturity - day).days, 0)
    return _dec(100 * (1 - BILL_YIELD * days / 360), 4)


def demo_market(start: date, end: date, bill_maturities: dict[str, list[date]]
                ) -> tuple[list[PriceQuote], list[FxQuote]]:
    rng = random.Random(SEED)
    every = list(calendar_days(start, end))
    weekdays = list(business_days(start, end))
    paths = {"BTC": _walk(rng, WALKS["BTC"], every)}
    common = _shocks(paths["BTC"], WALKS["BTC"])
    for code, walk in WALKS.items():
        if code != "BTC":
            paths[code] = _walk(rng, walk, every if walk.every_day else weekdays, common)
    quotes: list[PriceQuote] = []
    for code, path in paths.items():
        places = WALKS[code].places
        quotes += [PriceQuote(code, d, _dec(v, places), "USD", SOURCE) for d, v in path.items()]
    for code, (underlying, units) in ETF_UNITS.items():
        quotes += [PriceQuote(code, d, _dec(paths[underlying][d] * units * 0.9997, 2), "USD",
                              SOURCE) for d in weekdays]
    quotes += [PriceQuote("USDT", d, Decimal("1.0000"), "USD", SOURCE) for d in every]
    for code in TBILLS:
        for d in weekdays:
            maturity = next((m for m in bill_maturities[code] if m > d), None)
            if maturity is not None:
                quotes.append(PriceQuote(code, d, bill_price(d, maturity), "USD", SOURCE))
    quotes += list(_fund_navs(rng, start, end))
    kzt = _walk(rng, USD_KZT, every)
    fx = [FxQuote("USD", "KZT", d, _dec(v, 2), SOURCE) for d, v in kzt.items()]
    return quotes, fx


def month_ends(start: date, end: date) -> list[date]:
    result = []
    day = start
    while day <= end:
        following = day + timedelta(days=1)
        if following.month != day.month:
            result.append(day)
        day = following
    return result


def _fund_navs(rng: random.Random, start: date, end: date) -> Iterator[PriceQuote]:
    """Monthly NAV per unit for hedge funds, quarterly for venture funds (start at 100)."""
    ends = month_ends(start, end)
    for code, *_ in HEDGE_FUNDS:
        nav = 100.0
        yield PriceQuote(f"{code.upper()}-LP", start, _dec(nav, 6), "USD", SOURCE)
        for day in ends:
            nav *= 1 + 0.006 + rng.gauss(0.0, 0.035)
            yield PriceQuote(f"{code.upper()}-LP", day, _dec(nav, 6), "USD", SOURCE)
    for code, *_ in VENTURE_FUNDS:
        nav = 100.0
        yield PriceQuote(f"{code.upper()}-LP", start, _dec(nav, 6), "USD", SOURCE)
        for day in ends[2::3]:
            nav *= 1 + 0.02 + rng.gauss(0.0, 0.08)
            yield PriceQuote(f"{code.upper()}-LP", day, _dec(nav, 6), "USD", SOURCE)

