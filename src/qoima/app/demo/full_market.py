"""The full demo's market: ten years of the seeded synthetic generator, labeled SYNTHETIC.

The same generator as the one-year demo (:mod:`qoima.market.synthetic`), over 2016-11-01 to
2026-10-30, with what a ten-year history needs: instruments exist only from their listing
day (BNB 2017, COIN 2021, the spot ETFs 2024), a VIX derived from the S&P 500's volatility,
and the stocks of the FX reserves' equity tranche, each with two years of sessions (enough
for the risk engine's 250-period regressions) loading on the S&P 500.

Start levels are set so that the last day lands near late-2026 levels (the paths scale
with their start): BTC so that IBIT closes 2026-10-30 at 74.32, the price
``examples/sleeve-first-tranche.yaml`` pays at the close. Everything the generator does not
price (bills, notes and bonds, SDR, fund NAVs, USDT, the tenge's daily official rate) is
derived as in :mod:`qoima.app.demo.market`, on the book's year only.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np

from qoima.app.demo.market import (
    BILL_SPREAD,
    SDR_NON_USD_WEIGHT,
    SDR_START,
    SOURCE,
    _Daily,
    _dec,
    bill_price,
    calendar_days,
    fund_navs,
)
from qoima.app.demo.universe import BondSpec, EquitySpec, equity_universe
from qoima.market.calendars import CalendarName, get_calendar
from qoima.market.quotes import FxQuote, PriceQuote
from qoima.market.series import Bar, Series, SeriesId, SeriesKind
from qoima.market.synthetic import (
    ASSETS,
    DEFAULT_PARAMS,
    ETFS,
    AssetParams,
    Loading,
    MarketParams,
    RateParams,
    SyntheticMarket,
    VixParams,
    generate_market,
)

FULL_START = date(2016, 11, 1)
FULL_SEED = 96  # plausible decade moves: BTC ~230-fold, S&P 500 and gold ~2.8-fold
EQUITY_HISTORY_FROM = date(2024, 10, 1)  # two years of sessions per stock
LISTED = {"BNB": date(2017, 7, 25), "COIN": date(2021, 4, 14),
          "IBIT": date(2024, 1, 11), "FBTC": date(2024, 1, 11), "ETHA": date(2024, 7, 23),
          "AIX-BTC": date(2024, 6, 3)}
#: Levels on the first day of each series, calibrated so the last day is near late 2026.
FULL_LEVELS = {"SPX": 2434.2, "DXY": 100.38, "WTI": 75.55, "XAU": 1428.07, "BTC": 562.16,
               "ETH": 23.82, "BNB": 186.94, "COIN": 45.56, "USD/KZT": 458.87}
NOT_GENERATED = frozenset({"MSTR"})  # not held or watched by the full book
#: Nov 2016: fed funds 0.25-0.50 %, the 2-year near 0.85 %, the 10-year near 1.85 %.
FULL_RATES = RateParams(fed_funds_upper=0.50, spread2_start=0.45, term_start=1.0)
#: Stocks take the market's drift through their beta to the S&P 500, none of their own.
STOCK_OWN_DRIFT = (0.0, 0.0, 0.0)


def full_params(equities: tuple[EquitySpec, ...]) -> MarketParams:
    assets = tuple(replace(a, start=FULL_LEVELS.get(a.code, a.start),
                           first_date=LISTED.get(a.code))
                   for a in ASSETS if a.code not in NOT_GENERATED)
    stocks = tuple(
        AssetParams(e.code, CalendarName.XNYS, e.start, e.vol, drift=STOCK_OWN_DRIFT,
                    loadings=(Loading("SPX", e.beta),), volume=e.volume,
                    first_date=EQUITY_HISTORY_FROM)
        for e in equities)
    etfs = tuple(replace(e, first_date=LISTED.get(e.code)) for e in ETFS)
    return MarketParams(DEFAULT_PARAMS.regimes, assets + stocks, etfs, FULL_RATES, VixParams())


def full_synthetic(end: date, equities: tuple[EquitySpec, ...] | None = None
                   ) -> SyntheticMarket:
    chosen = equity_universe() if equities is None else equities
    return generate_market(FULL_START, end, seed=FULL_SEED, params=full_params(chosen))


def full_series(market: SyntheticMarket, fx: list[FxQuote]) -> list[Series]:
    """The generator's series under the demo's source label; USD/KZT as valued (every
    calendar day, from ``fx``), like the one-year demo."""
    usd_kzt = SeriesId(SeriesKind.FX, "USD/KZT")
    series = [replace(s, source=SOURCE) for s in market.series.values() if s.id != usd_kzt]
    series.append(Series(usd_kzt, tuple(Bar(q.rate_date, q.rate) for q in fx), SOURCE,
                         CalendarName.DAILY, "KZT"))
    return series


def full_quotes(market: SyntheticMarket, start: date, end: date, bonds: tuple[BondSpec, ...],
                bills: dict[str, list[date]]) -> tuple[list[PriceQuote], list[FxQuote]]:
    """Closes of what the generator does not price, for the book's year ``start..end``;
    the tenge's official rate for every day of the ten years."""
    sessions = get_calendar(CalendarName.XNYS).sessions(start, end)
    quotes: list[PriceQuote] = []
    fed_funds = _Daily(market.get("rate:DFEDTARU"))
    for code, maturities in bills.items():
        for d in sessions:
            maturity = next((m for m in maturities if m > d), None)
            if maturity is not None:
                bill_yield = max(fed_funds.on(d) - BILL_SPREAD, 0.01)
                quotes.append(PriceQuote(code, d, bill_price(d, maturity, bill_yield), "USD",
                                         SOURCE))
    quotes += bond_quotes(market, sessions, bonds)
    dxy = _Daily(market.get("DXY"))
    base = dxy.on(start)
    quotes += [PriceQuote("XDR", d, _dec(SDR_START * (base / dxy.on(d)) ** SDR_NON_USD_WEIGHT,
                                         5), "USD", SOURCE) for d in sessions]
    quotes += [PriceQuote("USDT", d, _dec(1.0, 4), "USD", SOURCE)
               for d in calendar_days(start, end)]
    quotes += list(fund_navs(_Daily(market.get("BTC")), start, end))
    kzt = _Daily(market.get("fx:USD/KZT"))
    fx = [FxQuote("USD", "KZT", d, _dec(kzt.on(d), 2), SOURCE)
          for d in calendar_days(market.start_date, end)]
    return quotes, fx


def bond_yields(market: SyntheticMarket, days: list[date], maturity: date) -> np.ndarray:
    """Yield in percent of a bullet maturing on ``maturity`` on each day: the 2-year below
    two years, linear to the 10-year at ten, then a term premium of 2 bp a year (at most
    40 bp) on top of the 10-year."""
    dgs2, dgs10 = _Daily(market.get("rate:DGS2")), _Daily(market.get("rate:DGS10"))
    two = np.array([dgs2.on(d) for d in days])
    ten = np.array([dgs10.on(d) for d in days])
    years = np.array([(maturity - d).days / 365.25 for d in days])
    weight = np.clip((years - 2) / 8, 0.0, 1.0)
    premium = np.clip(0.02 * (years - 10), 0.0, 0.4)
    result: np.ndarray = two + weight * (ten - two) + premium
    return result


def clean_prices(days: list[date], maturity: date, coupon_pct: float,
                 yields_pct: np.ndarray) -> np.ndarray:
    """Clean price in percent of par on each day, the street convention of
    :func:`qoima.app.demo.market.note_price` in closed form (annuity sum), vectorised."""
    schedule = [maturity]
    while schedule[-1] > days[0]:
        last = schedule[-1]
        month = last.month - 6 if last.month > 6 else last.month + 6
        schedule.append(last.replace(year=last.year - (last.month <= 6), month=month))
    coupons = np.array(sorted(d.toordinal() for d in schedule))
    ordinals = np.array([d.toordinal() for d in days])
    after = np.searchsorted(coupons, ordinals, side="right")  # coupons[after] > day
    remaining = len(coupons) - after
    following, previous = coupons[after], coupons[after - 1]
    fraction = (following - ordinals) / (following - previous)
    v = 1 / (1 + yields_pct / 200)
    annuity = v ** fraction * (1 - v ** remaining) / (1 - v)
    dirty = coupon_pct / 2 * annuity + 100 * v ** (fraction + remaining - 1)
    result: np.ndarray = dirty - coupon_pct / 2 * (1 - fraction)
    return result


def bond_quotes(market: SyntheticMarket, sessions: list[date], bonds: tuple[BondSpec, ...]
                ) -> list[PriceQuote]:
    quotes = []
    for bond in bonds:
        yields = bond_yields(market, sessions, bond.maturity)
        prices = clean_prices(sessions, bond.maturity, float(bond.coupon_pct), yields)
        quotes += [PriceQuote(bond.code, d, _dec(float(p), 4), "USD", SOURCE)
                   for d, p in zip(sessions, prices, strict=True)]
    return quotes


def rescaled_levels(market: SyntheticMarket, targets: dict[str, float]) -> dict[str, float]:
    """Start levels that put each series' last close at ``targets`` (the calibration
    behind :data:`FULL_LEVELS`; paths scale with their start)."""
    levels = {}
    for code, target in targets.items():
        bars = market.get(code).bars
        levels[code] = round(float(bars[0].close) * target / float(bars[-1].close), 2)
    return levels


__all__ = ["FULL_SEED", "FULL_START", "full_quotes", "full_series", "full_synthetic"]
