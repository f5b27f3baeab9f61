"""The full demo's crypto vehicles: the sleeve (funded, waiting for the gate), the state
fund, the seized pool case by case (one labeled wallet per case and asset) and the
direct-token fund."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from qoima.app.demo.book import END, DemoBook, _cap, _ext, _state_fund, _token_fund
from qoima.app.demo.reference import FUND, FX, SEIZED, SLEEVE, TOKENS, holding
from qoima.app.demo.universe import SeizureCase
from qoima.domain.enums import AccountKind, EntryCode, EntryPhase
from qoima.domain.reference import Account
from qoima.ledger.entries import PostingDraft

D = Decimal
SLEEVE_FUNDING_USD = D(60_000_000)
SLEEVE_FUNDED = date(2026, 9, 1)
TRANSFER_DELAY = timedelta(days=21)  # forfeited coins reach the state fund three weeks later


def crypto_vehicles(book: DemoBook, cases: tuple[SeizureCase, ...]) -> None:
    _sleeve(book)
    _state_fund(book)
    _seized(book, cases)
    _token_fund(book)
    _more_tokens(book)


def _sleeve(book: DemoBook) -> None:
    """Funded from the FX reserves' investment tranche and not yet invested: the first
    tranche waits for the stability gate (the seed case's "wait for the dust to settle")."""
    source = holding(FX, "investment", "USD", "bny")
    cash = holding(SLEEVE, "main", "USD", "bny")
    book.add(f"SLEEVE-FUNDING-{SLEEVE_FUNDED}", EntryCode.TRANSFER, SLEEVE_FUNDED,
             [PostingDraft(source.code, -SLEEVE_FUNDING_USD),
              PostingDraft(cash.code, SLEEVE_FUNDING_USD)],
             "FX reserves fund the digital-asset sleeve; invested in tranches once the "
             "stability gate opens")


def _wallet(code: str, label: str) -> Account:
    return Account(AccountKind.HOLDING, code, SEIZED, "main", "state-wallet", label)


def _seized(book: DemoBook, cases: tuple[SeizureCase, ...]) -> None:
    for case in cases:
        entry_id = "SZ-" + case.case.removeprefix("KZ-AFM-")
        meta = (("case", case.case),)
        legs = []
        for code, quantity in case.assets:
            fair = book.prices.on(code, case.intake)
            legs += [PostingDraft(_wallet(code, case.label).code, quantity, unit_cost_usd=fair),
                     PostingDraft(_ext(code), -quantity)]
        book.add(entry_id, EntryCode.SEIZURE_INTAKE, case.intake, legs,
                 f"Seizure intake, case {case.case}: held pending a court decision",
                 phase=EntryPhase.PENDING, metadata=meta)
        if case.decided is None or case.outcome == "pending":
            continue
        if case.outcome == "returned":
            book.add(f"{entry_id}-RETURN", EntryCode.RETURN_TO_OWNER, case.decided, [],
                     f"Court released the assets of case {case.case} to the victims",
                     resolves_entry_id=entry_id, metadata=meta)
            continue
        legs = []
        for code, quantity in case.assets:
            fair = book.prices.on(code, case.decided)
            legs += [PostingDraft(_wallet(code, case.label).code, quantity, unit_cost_usd=fair),
                     PostingDraft(_ext(code), -quantity)]
        book.add(f"{entry_id}-FORFEIT", EntryCode.FORFEITURE, case.decided, legs,
                 f"Forfeiture ordered in case {case.case}; recognized at fair value",
                 resolves_entry_id=entry_id,
                 metadata=(*meta, ("court_order", f"{case.case}/FO-1")))
        moved = case.decided + TRANSFER_DELAY
        if case.outcome == "moved" and moved <= END:
            legs = []
            for code, quantity in case.assets:
                legs += [PostingDraft(_wallet(code, case.label).code, -quantity),
                         PostingDraft(holding(FUND, "liquidity", code, "bitgo").code, quantity)]
            book.add(f"{entry_id}-TO-FUND", EntryCode.TRANSFER, moved, legs,
                     f"Forfeited assets of case {case.case} moved into the State Fund "
                     "(BitGo custody)", metadata=meta)


def _more_tokens(book: DemoBook) -> None:
    """Beyond the monthly BNB purchases: a second capital tranche, BTC and ETH bought
    monthly, and a USDT buffer for settlements."""
    cash = holding(TOKENS, "main", "USD", "bny")
    day = date(2026, 1, 12)
    book.add(f"ALEM-CAPITAL-{day}", EntryCode.CASH_IN, day,
             [PostingDraft(cash.code, D(80_000_000)), PostingDraft(_cap(TOKENS), D(-80_000_000))],
             "Second capital tranche from the ministry for the direct-token fund")
    day = date(2026, 2, 2)
    book.trade(f"ALEM-USDT-BUY-{day}", EntryCode.BUY, day,
               holding(TOKENS, "main", "USDT", "bitgo"), D(5_000_000),
               book.prices.on("USDT", day), cash, "USDT settlement buffer")
    day = date(2026, 1, 20)
    while day <= END:
        for code, amount in (("BTC", D(2_000_000)), ("ETH", D(1_000_000))):
            price = book.prices.on(code, day)
            quantity = (amount / price).quantize(D("0.000001"), ROUND_HALF_EVEN)
            book.trade(f"ALEM-{code}-BUY-{day}", EntryCode.BUY, day,
                       holding(TOKENS, "main", code, "bitgo"), quantity, price, cash,
                       f"Monthly {code} purchase (dollar-cost averaging)")
        day = date(day.year + day.month // 12, day.month % 12 + 1, 20)
