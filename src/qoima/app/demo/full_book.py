"""A year of illustrative entries for the full demo reserve: about a thousand positions.

The FX reserves here (liquidity, the bill ladder, Treasuries, equities, gold); the crypto
vehicles in :mod:`qoima.app.demo.full_crypto_book`. Every amount is a ``Decimal`` and every
entry balances per asset: opening balances against the vehicle's capital in the same
instrument, trades against cash and the outside world, coupons and dividends against income.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from numpy.random import PCG64, Generator

from qoima.app.demo.book import CENT, END, START, DemoBook, PriceBook, _cap
from qoima.app.demo.full_crypto_book import crypto_vehicles
from qoima.app.demo.full_reference import (
    EQUITY,
    GOLD_PURCHASE_LABEL,
    GOLD_PURCHASE_VAULT,
    GOLD_VAULTS,
)
from qoima.app.demo.reference import FX
from qoima.app.demo.universe import UNIVERSE_SEED, BondSpec, EquitySpec, SeizureCase
from qoima.domain.enums import AccountKind, EntryCode
from qoima.domain.reference import Account
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.market.calendars import CalendarName, get_calendar

D = Decimal
BILL_FACE = D(600_000_000)
EQUITY_TRANCHE_USD = D(5_000_000_000)
DIVIDEND_YIELD = D("0.018")


def held(vehicle: str, tranche: str, instrument: str, custodian: str,
         label: str | None = None) -> Account:
    return Account(AccountKind.HOLDING, instrument, vehicle, tranche, custodian, label)


def full_entries(prices: PriceBook, bonds: tuple[BondSpec, ...],
                 equities: tuple[EquitySpec, ...], cases: tuple[SeizureCase, ...],
                 bills: dict[str, list[date]]) -> list[EntryDraft]:
    book = DemoBook(prices)
    _liquidity(book, bills)
    _treasuries(book, bonds)
    _equities(book, equities)
    _gold(book)
    crypto_vehicles(book, cases)
    return sorted(book.entries, key=lambda e: (e.value_date, e.entry_id))


def _open(book: DemoBook, account: Account, quantity: Decimal, unit_cost: Decimal | None,
          what: str) -> None:
    instrument = account.instrument_code
    suffix = f"-{account.label}" if account.label else ""
    book.add(f"FX-OPEN-{instrument}-{account.tranche_code}-{account.custodian_code}{suffix}",
             EntryCode.OPENING_BALANCE, START,
             [PostingDraft(account.code, quantity, unit_cost_usd=unit_cost),
              PostingDraft(_cap(FX, instrument), -quantity)],
             f"Opening balance: {what} (migrated from the legacy register)")


def _business_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _liquidity(book: DemoBook, bills: dict[str, list[date]]) -> None:
    cash = held(FX, "liquidity", "USD", "fed-ny")
    _open(book, cash, D(4_000_000_000), None, "USD liquidity at the Fed")
    _open(book, held(FX, "liquidity", "XDR", "imf"), D(735_000_000), D("1.33"),
          "SDR holdings")
    for code, maturities in bills.items():
        account = held(FX, "liquidity", code, "bny")
        price = book.prices.on(code, START)
        _open(book, account, BILL_FACE, price / 100, f"bill ladder rung {code}")
        for when in (m for m in maturities if m <= END):
            book.trade(f"FX-{code}-REDEEM-{when}", EntryCode.SELL, when, account, -BILL_FACE,
                       D(100), cash, f"{code} matures at par", D("0.01"))
            book.trade(f"FX-{code}-ROLL-{when}", EntryCode.BUY, when, account, BILL_FACE,
                       book.prices.on(code, when), cash,
                       f"{code} rolled into a new 3-month bill", D("0.01"))
    fee = Account(AccountKind.EXPENSE, "USD", FX, label="custody-fee").code
    for when in (date(2026, 1, 5), date(2026, 4, 6), date(2026, 7, 6), date(2026, 10, 5)):
        book.add(f"FX-CUSTODY-FEE-{when}", EntryCode.FEE, when,
                 [PostingDraft(cash.code, D(-1_750_000)), PostingDraft(fee, D(1_750_000))],
                 "Quarterly custody fee (bills, Treasuries, equities, gold)")


def coupon_dates(bond: BondSpec, start: date, end: date) -> list[date]:
    """Semiannual coupon days of ``bond`` after ``start`` up to ``end`` (next business day
    when the 15th is a weekend)."""
    months = sorted({bond.maturity.month, (bond.maturity.month + 5) % 12 + 1})
    days = [_business_day(date(year, month, 15)) for year in range(start.year, end.year + 1)
            for month in months]
    return [d for d in days if start < d <= end and d <= bond.maturity]


def _treasuries(book: DemoBook, bonds: tuple[BondSpec, ...]) -> None:
    cash = held(FX, "investment", "USD", "bny")
    _open(book, cash, D(250_000_000), None, "USD cash of the investment tranche")
    income = Account(AccountKind.INCOME, "USD", FX, label="coupon").code
    for bond in bonds:
        _open(book, held(FX, "investment", bond.code, "bny"), bond.face_usd, bond.cost_pct / 100,
              bond.name)
        for pay in coupon_dates(bond, START, END):
            amount = (bond.face_usd * bond.coupon_pct / 200).quantize(CENT)
            book.add(f"FX-CPN-{bond.code}-{pay}", EntryCode.INCOME, pay,
                     [PostingDraft(cash.code, amount), PostingDraft(income, -amount)],
                     f"Semiannual coupon, {bond.name}")


def _first_sessions(start: date, end: date) -> list[date]:
    """The first exchange session of each month after ``start``'s month."""
    sessions = get_calendar(CalendarName.XNYS).sessions(start, end)
    firsts: dict[tuple[int, int], date] = {}
    for day in sessions:
        firsts.setdefault((day.year, day.month), day)
    return [d for d in firsts.values() if (d.year, d.month) != (start.year, start.month)]


def _equities(book: DemoBook, equities: tuple[EquitySpec, ...]) -> None:
    """The tranche at the start, then a monthly rebalance: three trims, three additions."""
    rng = Generator(PCG64(UNIVERSE_SEED + 3))
    cash = held(FX, EQUITY, "USD", "bny")
    _open(book, cash, D(150_000_000), None, "USD cash of the equity tranche")
    total_weight = sum(e.weight for e in equities)
    shares: dict[str, Decimal] = {}
    for spec in equities:
        price = book.prices.on(spec.code, START)
        value = EQUITY_TRANCHE_USD * D(repr(spec.weight / total_weight))
        shares[spec.code] = (value / price).to_integral_value(ROUND_DOWN)
        cost = (price * D(repr(round(float(rng.uniform(0.55, 1.15)), 4)))).quantize(CENT)
        _open(book, held(FX, EQUITY, spec.code, "bny"), shares[spec.code], cost, spec.name)
    by_code = {e.code: e for e in equities}
    for day in _first_sessions(START, END):
        picks = [str(c) for c in rng.choice(sorted(by_code), size=6, replace=False)]
        for k, code in enumerate(picks[:3]):
            sold = (shares[code] * D("0.25")).to_integral_value(ROUND_DOWN)
            shares[code] -= sold
            book.trade(f"FX-EQ-{day}-A{k}-TRIM-{code}", EntryCode.SELL, day,
                       held(FX, EQUITY, code, "bny"), -sold, book.prices.on(code, day), cash,
                       f"Rebalance: trim {by_code[code].name}")
        for k, code in enumerate(picks[3:]):
            price = book.prices.on(code, day)
            amount = D(int(rng.integers(3, 9))) * 1_000_000
            bought = (amount / price).to_integral_value(ROUND_DOWN)
            shares[code] += bought
            book.trade(f"FX-EQ-{day}-B{k}-ADD-{code}", EntryCode.BUY, day,
                       held(FX, EQUITY, code, "bny"), bought, price, cash,
                       f"Rebalance: add to {by_code[code].name}")
        pay = day + timedelta(days=14)
        value = sum((shares[c] * book.prices.on(c, pay) for c in shares), D(0))
        amount = (value * DIVIDEND_YIELD / 12).quantize(CENT)
        income = Account(AccountKind.INCOME, "USD", FX, label="dividend").code
        book.add(f"FX-EQ-DIVIDENDS-{pay}", EntryCode.INCOME, pay,
                 [PostingDraft(cash.code, amount), PostingDraft(income, -amount)],
                 "Dividends received on the equity tranche (monthly custody statement)")
    fee = Account(AccountKind.EXPENSE, "USD", FX, label="mandate-fee").code
    for when in (date(2026, 1, 5), date(2026, 4, 6), date(2026, 7, 6), date(2026, 10, 5)):
        book.add(f"FX-EQ-MANDATE-FEE-{when}", EntryCode.FEE, when,
                 [PostingDraft(cash.code, D(-625_000)), PostingDraft(fee, D(625_000))],
                 "Quarterly fee of the equity index mandate (5 bp a year)")


def _gold(book: DemoBook) -> None:
    cash = held(FX, "liquidity", "USD", "fed-ny")
    for vault, lots in GOLD_VAULTS:
        for label, ounces, cost in lots:
            _open(book, held(FX, "gold", "XAU", vault, label), ounces, cost,
                  f"gold bar list {label}, {vault}")
    lot = held(FX, "gold", "XAU", GOLD_PURCHASE_VAULT, GOLD_PURCHASE_LABEL)
    for when in (date(2026, 1, 15), date(2026, 4, 15), date(2026, 7, 15), date(2026, 10, 15)):
        book.trade(f"FX-GOLD-BUY-{when}", EntryCode.BUY, when, lot, D(25_000),
                   book.prices.on("XAU", when), cash,
                   "Gold purchase from domestic refiners (priority right)")
