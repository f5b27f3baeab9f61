"""The demo's market: a year of the seeded synthetic generator, labeled SYNTHETIC.

Crypto, the ETFs, COIN, gold, USD/KZT and the rates come from ``qoima.market.synthetic``
(regimes, fat tails, volatility clustering, cross-asset correlation). What the generator
does not price is derived from it here, so the book moves together:

* T-bills accrete to par at a discount yield just under the fed funds upper bound;
* the Treasury notes are priced off the 2- and 10-year yields (interpolated to maturity);
* SDR in USD moves against the dollar index (the non-USD part of the basket);
* USDT is 1.0000; fund interests get monthly (hedge) or quarterly (venture) NAVs that
  load on BTC's return over the period;
* USD/KZT is the National Bank's official rate, set for every calendar day: the last
  valuation-day fixing carries over weekends and holidays.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from numpy.random import PCG64, Generator

from qoima.app.demo.reference import HEDGE_FUNDS, NOTES, TBILLS, VENTURE_FUNDS
from qoima.market.calendars import CalendarName, get_calendar
from qoima.market.quotes import SYNTHETIC_SOURCE_PREFIX, FxQuote, PriceQuote
from qoima.market.series import Series
from qoima.market.synthetic import DEFAULT_PARAMS, SyntheticMarket, generate_market

SOURCE = f"{SYNTHETIC_SOURCE_PREFIX}:qoima-demo"
SEED = 48  # the year opens with a ~20 % fall (trough near 81,000 in December), then recovers
#: BTC on the first demo day, set so that IBIT closes the demo year (2026-10-30) at 74.32,
#: the price examples/sleeve-first-tranche.yaml pays "at the close".
BTC_START = 99_328.18
GENERATED = ("BTC", "ETH", "BNB", "XAU", "COIN", "IBIT", "FBTC", "ETHA", "AIX-BTC")
SDR_START = 1.365  # USD per XDR on the first day
SDR_NON_USD_WEIGHT = 0.57  # the basket's EUR, CNY, JPY and GBP share
BILL_SPREAD = 0.20  # percentage points: 3-month bills trade a little under the funds rate
#: Hedge funds' monthly beta to BTC, by manager (market-neutral low, macro high).
HEDGE_FUND_BETA = {"hf-a": 0.03, "hf-b": 0.45, "hf-c": 0.30, "hf-d": 0.15, "hf-e": 0.35}
VENTURE_BETA = 0.6


def calendar_days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _dec(value: float, places: int) -> Decimal:
    return Decimal(f"{value:.{places}f}")


def bill_price(day: date, maturity: date, yield_pct: float) -> Decimal:
    """Price in percent of par of a discount bill ``(maturity - day)`` days from par, at a
    discount yield of ``yield_pct`` percent (actual/360)."""
    days = max((maturity - day).days, 0)
    return _dec(100 * (1 - yield_pct / 100 * days / 360), 4)


def note_price(day: date, maturity: date, coupon_pct: float, yield_pct: float) -> Decimal:
    """Clean price in percent of par of a semiannual-coupon note at a yield (street
    convention, fractional first period; accrued interest actual/actual by half-year)."""
    coupons = [maturity]
    while coupons[-1] > day:
        previous = coupons[-1]
        month = previous.month - 6 if previous.month > 6 else previous.month + 6
        coupons.append(previous.replace(year=previous.year - (previous.month <= 6),
                                        month=month))
    last_coupon, upcoming = coupons[-1], sorted(coupons[:-1])
    period = (upcoming[0] - last_coupon).days
    fraction = (upcoming[0] - day).days / period  # of a half-year to the next coupon
    discount = 1 + yield_pct / 200
    dirty = sum(coupon_pct / 2 / discount ** (fraction + k) for k in range(len(upcoming)))
    dirty += 100 / discount ** (fraction + len(upcoming) - 1)
    accrued = coupon_pct / 2 * (1 - fraction)
    return _dec(dirty - accrued, 4)


def _levels(series: Series) -> tuple[list[date], list[float]]:
    return [b.day for b in series.bars], [float(b.close) for b in series.bars]


class _Daily:
    """The last value on or before a day of a generated series."""

    def __init__(self, series: Series) -> None:
        self.days, self.values = _levels(series)

    def on(self, day: date) -> float:
        return self.values[max(bisect.bisect_right(self.days, day) - 1, 0)]


def demo_synthetic(start: date, end: date) -> SyntheticMarket:
    return generate_market(start, end, seed=SEED, params=DEFAULT_PARAMS.with_start(BTC=BTC_START))


def demo_series(market: SyntheticMarket) -> list[Series]:
    """The generator's series as the demo stores them, under the demo's source label so
    they and the quotes below describe the same closes (re-running the demo changes
    nothing)."""
    return [replace(series, source=SOURCE) for series in market.series.values()]


def demo_market(start: date, end: date, bill_maturities: dict[str, list[date]],
                market: SyntheticMarket | None = None
                ) -> tuple[list[PriceQuote], list[FxQuote]]:
    market = market or demo_synthetic(start, end)
    quotes = [PriceQuote(code, bar.day, bar.close, "USD", SOURCE)
              for code in GENERATED for bar in market.get(code).bars]
    quotes += [PriceQuote("USDT", d, Decimal("1.0000"), "USD", SOURCE)
               for d in calendar_days(start, end)]
    sessions = get_calendar(CalendarName.XNYS).sessions(start, end)
    fed_funds = _Daily(market.get("rate:DFEDTARU"))
    for code in TBILLS:
        for d in sessions:
            maturity = next((m for m in bill_maturities[code] if m > d), None)
            if maturity is not None:
                bill_yield = max(fed_funds.on(d) - BILL_SPREAD, 0.01)
                quotes.append(PriceQuote(code, d, bill_price(d, maturity, bill_yield), "USD",
                                         SOURCE))
    dgs2, dgs10 = _Daily(market.get("rate:DGS2")), _Daily(market.get("rate:DGS10"))
    for code, _, coupon in NOTES:
        maturity = date(int(code[-4:]), 11, 15)
        for d in sessions:
            years = (maturity - d).days / 365.25
            # linear in maturity between the 2- and 10-year points, flat beyond them
            weight = min(max((years - 2) / 8, 0.0), 1.0)
            note_yield = dgs2.on(d) + weight * (dgs10.on(d) - dgs2.on(d))
            quotes.append(PriceQuote(code, d, note_price(d, maturity, float(coupon), note_yield),
                                     "USD", SOURCE))
    dxy_days, dxy = _levels(market.get("DXY"))
    quotes += [PriceQuote("XDR", d, _dec(SDR_START * (dxy[0] / v) ** SDR_NON_USD_WEIGHT, 5),
                          "USD", SOURCE) for d, v in zip(dxy_days, dxy, strict=True)]
    quotes += list(fund_navs(_Daily(market.get("BTC")), start, end))
    kzt = _Daily(market.get("fx:USD/KZT"))
    fx = [FxQuote("USD", "KZT", d, _dec(kzt.on(d), 2), SOURCE) for d in calendar_days(start, end)]
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


def fund_navs(btc: _Daily, start: date, end: date) -> Iterator[PriceQuote]:
    """Monthly NAV per unit for hedge funds, quarterly for venture funds (start at 100):
    alpha + beta x BTC's log return over the period + the manager's own noise."""
    rng = Generator(PCG64(SEED))
    ends = month_ends(start, end)
    funds = [(code, ends, 0.004, HEDGE_FUND_BETA.get(code, 0.3), 0.025)
             for code, *_ in HEDGE_FUNDS]
    funds += [(code, ends[2::3], 0.015, VENTURE_BETA, 0.07) for code, *_ in VENTURE_FUNDS]
    for code, days, alpha, beta, vol in funds:
        nav, previous = 100.0, start
        shocks = rng.standard_normal(len(days))
        yield PriceQuote(f"{code.upper()}-LP", start, _dec(nav, 6), "USD", SOURCE)
        for day, shock in zip(days, shocks, strict=True):
            move = math.log(btc.on(day) / btc.on(previous))
            nav *= float(np.exp(alpha + beta * move + vol * shock))
            previous = day
            yield PriceQuote(f"{code.upper()}-LP", day, _dec(nav, 6), "USD", SOURCE)
