"""A year of illustrative entries for the demo reserve, priced off the demo market."""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from qoima.app.demo.reference import (
    FUND,
    FX,
    HEDGE_FUNDS,
    NOTES,
    SEIZED,
    TBILLS,
    TOKENS,
    VENTURE_FUNDS,
    holding,
)
from qoima.domain.enums import AccountKind, EntryCode, EntryPhase
from qoima.domain.reference import Account
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.market.quotes import PriceQuote

D = Decimal
CENT = D("0.01")
ONE = D(1)
START = date(2025, 11, 3)
END = date(2026, 10, 30)
BILL_FACE = D(2_700_000_000)
BILL_DAYS = 91


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def bill_maturities() -> dict[str, list[date]]:
    """Three series maturing a month apart, each rolled every 91 days."""
    firsts = {"TB-A": date(2025, 12, 4), "TB-B": date(2026, 1, 6), "TB-C": date(2026, 2, 5)}
    result = {}
    for code in TBILLS:
        days, day = [], firsts[code]
        while day <= END + timedelta(days=BILL_DAYS):
            days.append(_weekday(day))
            day = days[-1] + timedelta(days=BILL_DAYS)
        result[code] = days
    return result


class PriceBook:
    def __init__(self, quotes: list[PriceQuote]) -> None:
        series: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
        for q in sorted(quotes, key=lambda q: (q.instrument_code, q.price_date)):
            series[q.instrument_code].append((q.price_date, q.price))
        self._series = dict(series)

    def on(self, code: str, day: date) -> Decimal:
        points = self._series[code]
        index = bisect.bisect_right(points, (day, D("Infinity"))) - 1
        if index < 0:
            raise KeyError(f"no demo price for {code} on {day}")
        return points[index][1]


def _ext(instrument: str) -> str:
    return Account(AccountKind.EXTERNAL, instrument).code


def _cap(vehicle: str, instrument: str = "USD") -> str:
    return Account(AccountKind.CAPITAL, instrument, vehicle).code


@dataclass
class DemoBook:
    prices: PriceBook
    entries: list[EntryDraft] = field(default_factory=list)

    def add(self, entry_id: str, code: EntryCode, day: date, legs: list[PostingDraft],
            description: str, *, phase: EntryPhase = EntryPhase.POSTED,
            resolves_entry_id: str | None = None, reverses_entry_id: str | None = None,
            metadata: tuple[tuple[str, str], ...] = ()) -> None:
        self.entries.append(EntryDraft(entry_id, code, day, tuple(legs), description, phase,
                                       resolves_entry_id, reverses_entry_id, metadata))

    def trade(self, entry_id: str, code: EntryCode, day: date, target: Account,
              quantity: Decimal, unit_price: Decimal, cash: Account, description: str,
              factor: Decimal = ONE) -> None:
        """Buy (quantity > 0) or sell/redeem (< 0) against cash at ``unit_price`` per unit."""
        per_unit = unit_price * factor
        total = (abs(quantity) * per_unit).quantize(CENT, ROUND_HALF_EVEN)
        sign = 1 if quantity > 0 else -1
        leg = (PostingDraft(target.code, quantity, unit_cost_usd=per_unit) if quantity > 0
               else PostingDraft(target.code, quantity, unit_price_usd=per_unit))
        self.add(entry_id, code, day, [
            leg, PostingDraft(_ext(target.instrument_code), -quantity),
            PostingDraft(cash.code, -sign * total), PostingDraft(_ext("USD"), sign * total),
        ], description)


def build_entries(prices: PriceBook) -> list[EntryDraft]:
    book = DemoBook(prices)
    _fx_reserves(book)
    _state_fund(book)
    _seized(book)
    _token_fund(book)
    return sorted(book.entries, key=lambda e: (e.value_date, e.entry_id))


def _opening(book: DemoBook, account: Account, quantity: Decimal, unit_cost: Decimal | None,
             what: str) -> None:
    instrument = account.instrument_code
    book.add(f"FX-OPEN-{instrument}-{account.custodian_code}", EntryCode.OPENING_BALANCE, START,
             [PostingDraft(account.code, quantity, unit_cost_usd=unit_cost),
              PostingDraft(_cap(FX, instrument), -quantity)],
             f"Opening balance: {what} (migrated from the legacy register)")


def _fx_reserves(book: DemoBook) -> None:
    cash = holding(FX, "liquidity", "USD", "fed-ny")
    _opening(book, cash, D(4_000_000_000), None, "USD liquidity at the Fed")
    _opening(book, holding(FX, "gold", "XAU", "boe-vault"), D(3_000_000), D(1850),
             "gold, London")
    _opening(book, holding(FX, "gold", "XAU", "nbk"), D(1_500_000), D(1850),
             "gold, domestic vault")
    _opening(book, holding(FX, "liquidity", "XDR", "imf"), D(735_000_000), D("1.33"),
             "SDR holdings")
    for code, name, _ in NOTES:
        cost = D("0.9810") if code.endswith("2029") else D("0.9650")
        _opening(book, holding(FX, "investment", code, "bny"), D(7_000_000_000), cost, name)
    maturities = bill_maturities()
    for code in TBILLS:
        account = holding(FX, "liquidity", code, "bny")
        price = book.prices.on(code, START)
        _opening(book, account, BILL_FACE, price / 100, f"T-bill series {code}")
        for when in (m for m in maturities[code] if m <= END):
            book.trade(f"FX-{code}-REDEEM-{when}", EntryCode.SELL, when, account, -BILL_FACE,
                       D(100), cash, f"{code} matures at par", D("0.01"))
            book.trade(f"FX-{code}-ROLL-{when}", EntryCode.BUY, when, account, BILL_FACE,
                       book.prices.on(code, when), cash, f"{code} rolled into a new 3-month bill",
                       D("0.01"))
    investment_cash = holding(FX, "investment", "USD", "bny")
    coupon_account = Account(AccountKind.INCOME, "USD", FX, label="coupon").code
    for code, _, rate in NOTES:
        for pay in (date(2025, 11, 17), date(2026, 5, 15)):
            amount = (D(7_000_000_000) * rate / 100 / 2).quantize(CENT)
            book.add(f"FX-{code}-COUPON-{pay}", EntryCode.INCOME, pay,
                     [PostingDraft(investment_cash.code, amount),
                      PostingDraft(coupon_account, -amount)], f"{code} semiannual coupon")
    for when in (date(2026, 1, 15), date(2026, 4, 15), date(2026, 7, 15), date(2026, 10, 15)):
        book.trade(f"FX-GOLD-BUY-{when}", EntryCode.BUY, when, holding(FX, "gold", "XAU", "nbk"),
                   D(25_000), book.prices.on("XAU", when), cash,
                   "Gold purchase from domestic refiners (priority right)")
    fee_account = Account(AccountKind.EXPENSE, "USD", FX, label="custody-fee").code
    for when in (date(2026, 1, 5), date(2026, 4, 6), date(2026, 7, 6), date(2026, 10, 5)):
        book.add(f"FX-CUSTODY-FEE-{when}", EntryCode.FEE, when,
                 [PostingDraft(cash.code, D(-1_250_000)), PostingDraft(fee_account, D(1_250_000))],
                 "Quarterly custody fee")


def _units(amount: Decimal, nav: Decimal) -> Decimal:
    return (amount / nav).quantize(D("0.000001"), ROUND_HALF_EVEN)


def _state_fund(book: DemoBook) -> None:
    cash = holding(FUND, "liquidity", "USD", "bny")
    book.add("SF-CAPITAL-2025-11-10", EntryCode.CASH_IN, date(2025, 11, 10),
             [PostingDraft(cash.code, D(750_000_000)), PostingDraft(_cap(FUND), D(-750_000_000))],
             "Initial capital of the State Fund of Digital Assets")
    dealing = [date(2025, 11, 30), date(2025, 11, 30), date(2025, 12, 31), date(2025, 12, 31),
               date(2026, 1, 31)]
    for (code, name, _, millions), day in zip(HEDGE_FUNDS, dealing, strict=True):
        units_code = f"{code.upper()}-LP"
        nav = book.prices.on(units_code, day)
        book.trade(f"SF-{code}-SUBSCRIBE-{day}", EntryCode.BUY, day,
                   holding(FUND, "managers", units_code, "fund-admin"),
                   _units(D(millions) * 1_000_000, nav), nav, cash,
                   f"Subscription to {name} at month-end NAV")
    calls = {"vc-f": [(date(2025, 12, 15), 20), (date(2026, 4, 15), 15), (date(2026, 8, 14), 10)],
             "vc-g": [(date(2026, 1, 20), 25), (date(2026, 6, 15), 10)]}
    for code, name, _, _ in VENTURE_FUNDS:
        units_code = f"{code.upper()}-LP"
        for day, millions in calls[code]:
            nav = book.prices.on(units_code, day)
            book.trade(f"SF-{code}-CALL-{day}", EntryCode.CAPITAL_CALL, day,
                       holding(FUND, "venture", units_code, "fund-admin"),
                       _units(D(millions) * 1_000_000, nav), nav, cash,
                       f"Capital call from {name}")
    vc_f = holding(FUND, "venture", "VC-F-LP", "fund-admin")
    day = date(2026, 9, 15)
    nav = book.prices.on("VC-F-LP", day)
    book.trade(f"SF-vc-f-DISTRIBUTION-{day}", EntryCode.DISTRIBUTION, day, vc_f,
               -_units(D(4_000_000), nav), nav, cash, "Distribution from Venture fund F")
    day = date(2026, 6, 30)
    nav = book.prices.on("HF-C-LP", day)
    book.trade(f"SF-hf-c-REDEEM-{day}", EntryCode.SELL, day,
               holding(FUND, "managers", "HF-C-LP", "fund-admin"), -_units(D(20_000_000), nav),
               nav, cash, "Partial redemption from Manager C after the Q2 review")
    fee = Account(AccountKind.EXPENSE, "USD", FUND, label="management-fee").code
    for when in (date(2026, 1, 5), date(2026, 4, 6), date(2026, 7, 6), date(2026, 10, 5)):
        book.add(f"SF-ADVISORY-FEE-{when}", EntryCode.FEE, when,
                 [PostingDraft(cash.code, D(-500_000)), PostingDraft(fee, D(500_000))],
                 "Quarterly mandate oversight fee")
    # A keying error and its correction: posted entries are never edited, only reversed.
    book.add("SF-ADVISORY-FEE-2026-04-06-DUP", EntryCode.FEE, date(2026, 4, 6),
             [PostingDraft(cash.code, D(-5_000_000)), PostingDraft(fee, D(5_000_000))],
             "Quarterly mandate oversight fee (keyed as 5,000,000 in error)")
    book.add("SF-ADVISORY-FEE-2026-04-06-DUP-REV", EntryCode.REVERSAL, date(2026, 4, 8), [],
             "Reversal of a duplicate fee keyed in error",
             reverses_entry_id="SF-ADVISORY-FEE-2026-04-06-DUP")


SEIZURES = (
    # entry id, case, date, instrument, quantity, outcome
    ("SZ-2025-0112", "KZ-AFM-2025-0112", date(2025, 11, 5), "BTC", D(12), "forfeited"),
    ("SZ-2025-0131", "KZ-AFM-2025-0131", date(2025, 11, 20), "BTC", D(95), "pending"),
    ("SZ-2025-0187", "KZ-AFM-2025-0187", date(2025, 12, 9), "ETH", D(1200), "pending"),
    ("SZ-2026-0009", "KZ-AFM-2026-0009", date(2026, 1, 14), "ETH", D(30), "returned"),
    ("SZ-2026-0042", "KZ-AFM-2026-0042", date(2026, 2, 17), "USDT", D(1_800_000), "pending"),
)


def _seized(book: DemoBook) -> None:
    for entry_id, case, day, code, quantity, outcome in SEIZURES:
        account = holding(SEIZED, "main", code, "state-wallet")
        fair = book.prices.on(code, day)
        book.add(entry_id, EntryCode.SEIZURE_INTAKE, day,
                 [PostingDraft(account.code, quantity, unit_cost_usd=fair),
                  PostingDraft(_ext(code), -quantity)],
                 f"Seizure intake, case {case}: held pending a court decision",
                 phase=EntryPhase.PENDING, metadata=(("case", case),))
        if outcome == "forfeited":
            when = date(2026, 6, 10)
            fair = book.prices.on(code, when)
            book.add(f"{entry_id}-FORFEIT", EntryCode.FORFEITURE, when,
                     [PostingDraft(account.code, quantity, unit_cost_usd=fair),
                      PostingDraft(_ext(code), -quantity)],
                     f"Forfeiture ordered in case {case}; recognized at fair value",
                     resolves_entry_id=entry_id, metadata=(("case", case),
                                                           ("court_order", f"{case}/FO-1")))
            moved = date(2026, 8, 3)
            book.add(f"{entry_id}-TO-FUND", EntryCode.TRANSFER, moved,
                     [PostingDraft(account.code, -quantity),
                      PostingDraft(holding(FUND, "liquidity", code, "bitgo").code, quantity)],
                     f"Forfeited assets of case {case} moved into the State Fund (BitGo custody)",
                     metadata=(("case", case),))
        elif outcome == "returned":
            book.add(f"{entry_id}-RETURN", EntryCode.RETURN_TO_OWNER, date(2026, 5, 20), [],
                     f"Court released the assets of case {case} to the victims",
                     resolves_entry_id=entry_id, metadata=(("case", case),))


def _token_fund(book: DemoBook) -> None:
    cash = holding(TOKENS, "main", "USD", "bny")
    book.add("ALEM-CAPITAL-2025-11-12", EntryCode.CASH_IN, date(2025, 11, 12),
             [PostingDraft(cash.code, D(60_000_000)), PostingDraft(_cap(TOKENS), D(-60_000_000))],
             "Capital from the ministry for the direct-token fund")
    day = date(2025, 11, 17)
    while day <= END:
        price = book.prices.on("BNB", day)
        quantity = (D(4_000_000) / price).quantize(D("0.000001"), ROUND_HALF_EVEN)
        book.trade(f"ALEM-BNB-BUY-{day}", EntryCode.BUY, day,
                   holding(TOKENS, "main", "BNB", "bitgo"), quantity, price, cash,
                   "Monthly BNB purchase (dollar-cost averaging)")
        day = date(day.year + day.month // 12, day.month % 12 + 1, 17)
