"""The demo's external managers: mandates and a year of statements. ILLUSTRATIVE.

Terms, exposures, venues and custodians are invented for the demo and describe no real
manager. Statements are derived from the demo book, so they agree with it: each period's
flows are the book's subscriptions, redemptions, calls and distributions of the manager's
fund interest (same day, same cash amount, so the import matches them and posts nothing),
and each closing NAV is the units held times the NAV per unit the demo prices. Hedge funds
report monthly, venture funds quarterly, for every period the demo has a NAV for. Fees are
what the terms give (recomputed by :mod:`qoima.managers.fees`), except two things left in
on purpose for oversight to find: Manager E overcharges its March management fee and
Manager D's March statement arrives late. Venture statements accrue no carry (see
:func:`_incentive`). Venture fund G reports no exposures, so the risk
engine falls back to its declared proxy and the look-through flags it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from qoima.app.book import ReferenceData
from qoima.app.manager_records import statement_hash
from qoima.app.managers import ManagerService
from qoima.domain.enums import AccountKind, EntryCode, InstrumentKind, ManagerKind
from qoima.domain.money import MONEY_CONTEXT, quantize
from qoima.domain.reference import BASE_CURRENCY, Account
from qoima.ledger.entries import EntryDraft
from qoima.managers.fees import (
    add_months,
    management_basis,
    management_fee,
    performance_checks,
)
from qoima.managers.model import (
    ZERO,
    Exposure,
    FeeCharge,
    FeeKind,
    FeeTerms,
    Flow,
    FlowKind,
    Frequency,
    Guidelines,
    HurdleKind,
    LiquidityTerms,
    ManagementFeeBasis,
    Mandate,
    Statement,
    StatementSource,
)
from qoima.market.quotes import PriceQuote

D = Decimal
FLOW_KINDS = {EntryCode.BUY: FlowKind.SUBSCRIPTION, EntryCode.SELL: FlowKind.REDEMPTION,
              EntryCode.CAPITAL_CALL: FlowKind.CAPITAL_CALL,
              EntryCode.DISTRIBUTION: FlowKind.DISTRIBUTION}
FUND_KINDS = (InstrumentKind.HEDGE_FUND_INTEREST, InstrumentKind.VENTURE_FUND_INTEREST)
OVERCHARGE = ("hf-e", date(2026, 3, 31), D("1.25"))  # management fee charged x 1.25
LATE = ("hf-d", date(2026, 3, 31), date(2026, 5, 20))  # received three weeks after due
NO_EXPOSURES = frozenset({"vc-g"})
VENTURE_COMMITMENT = D(100_000_000)


@dataclass(frozen=True, slots=True)
class Line:
    """An exposure as shares of NAV: market value, and for a derivative its notional."""

    asset: str
    venue: str
    custodian: str
    value: Decimal
    notional: Decimal | None = None


CASH = ("bank", "bny")  # where each manager's residual USD sits
PROFILES: dict[str, tuple[Line, ...]] = {
    "hf-a": (Line("BTC", "coinbase-prime", "coinbase-custody", D("0.46")),
             Line("BTC", "cme", "fcm-clearing", D("-0.002"), D("-0.45")),
             Line("ETH", "coinbase-prime", "coinbase-custody", D("0.20")),
             Line("ETH", "deribit", "deribit", D("-0.001"), D("-0.19"))),
    "hf-b": (Line("BTC", "coinbase-prime", "copper", D("0.35")),
             Line("ETH", "coinbase-prime", "copper", D("0.12")),
             Line("BTC", "cme", "fcm-clearing", D("0.003"), D("0.10"))),
    "hf-c": (Line("BTC", "cme", "fcm-clearing", D("0.004"), D("0.30")),
             Line("ETH", "cme", "fcm-clearing", D("0.002"), D("0.08"))),
    "hf-d": (Line("USDT", "aave", "fireblocks", D("0.55")),
             Line("ETH", "uniswap", "fireblocks", D("0.15")),
             Line("BNB", "pancakeswap", "fireblocks", D("0.05"))),
    "hf-e": (Line("BTC", "coinbase-prime", "bitgo", D("0.22")),
             Line("ETH", "coinbase-prime", "bitgo", D("0.10")),
             Line("BNB", "binance", "ceffu", D("0.04")),
             Line("COIN", "nasdaq", "bny", D("0.06")),
             Line("USDT", "okx", "okx", D("0.10"))),
    "vc-f": (Line("ETH", "on-chain", "anchorage", D("0.45")),
             Line("BNB", "on-chain", "anchorage", D("0.15")),
             Line("BTC", "on-chain", "anchorage", D("0.10")),
             Line("COIN", "nasdaq", "bny", D("0.10"))),
}

HEDGE_FEES = FeeTerms(management_rate=D("0.02"), performance_rate=D("0.20"),
                      crystallisation=Frequency.QUARTERLY)
VENTURE_FEES = FeeTerms(management_rate=D("0.02"),
                        management_basis=ManagementFeeBasis.COMMITMENT, carry_rate=D("0.20"),
                        preferred_return=D("0.08"), catch_up=D(1))
FEES = {"hf-a": replace(HEDGE_FEES, management_rate=D("0.015"), hurdle=HurdleKind.HARD,
                        hurdle_rate=D("0.05")),
        "hf-d": replace(HEDGE_FEES, performance_rate=D("0.15"))}
HEDGE_LIQUIDITY = LiquidityTerms(lock_up_months=12, notice_days=45,
                                 redemption_frequency=Frequency.QUARTERLY, gate=D("0.25"))
VENTURE_LIQUIDITY = LiquidityTerms(term_years=10)


def _guidelines(code: str) -> Guidelines:
    lines = PROFILES.get(code, ())
    return Guidelines(
        max_leverage=D(3), max_single_asset_share=D("0.5"),
        asset_share_overrides=(("USDT", D("0.7")),) if code == "hf-d" else (),
        allowed_venues=tuple(sorted({line.venue for line in lines} | {CASH[0]})),
        allowed_custodians=tuple(sorted({line.custodian for line in lines} | {CASH[1]})),
        no_go_assets=("XMR",))


@dataclass(frozen=True, slots=True)
class DemoManagers:
    mandates: tuple[Mandate, ...]
    statements: tuple[Statement, ...]


@dataclass(frozen=True, slots=True)
class _Interest:
    """A manager's fund interest in the demo book: units and cash of each flow, prices."""

    holding: str
    flows: tuple[tuple[date, FlowKind, Decimal, Decimal], ...]  # day, kind, units, cash
    prices: dict[date, Decimal]


def demo_manager_book(reference: ReferenceData, entries: Sequence[EntryDraft],
                      prices: Sequence[PriceQuote]) -> DemoManagers:
    """Mandates and statements for every manager of the demo reference data whose fund
    interest the demo book holds."""
    interests = _interests(reference, entries, prices)
    mandates, statements = [], []
    for manager in sorted(reference.managers, key=lambda m: m.code):
        interest = interests.get(manager.code)
        if interest is None or not interest.flows or manager.vehicle_code is None:
            continue
        venture = manager.kind is ManagerKind.VENTURE_FUND
        months = 3 if venture else 1
        ends = sorted(d for d in interest.prices if d >= interest.flows[0][0])
        if not ends:
            continue
        first_end = ends[0]
        inception = add_months(first_end.replace(day=1), 1 - months)
        mandate = Mandate(
            manager.code, manager.vehicle_code, manager.kind,
            f"{manager.strategy} (illustrative mandate)", inception,
            FEES.get(manager.code, VENTURE_FEES if venture else HEDGE_FEES),
            VENTURE_LIQUIDITY if venture else HEDGE_LIQUIDITY, _guidelines(manager.code),
            commitment=VENTURE_COMMITMENT if venture else None,
            allocation=None if venture else quantize(interest.flows[0][3], 0),
            statement_frequency=Frequency.QUARTERLY if venture else Frequency.MONTHLY,
            statement_lag_days=60 if venture else 30)
        mandates.append(mandate)
        statements += _statements(mandate, interest, ends)
    return DemoManagers(tuple(mandates), tuple(statements))


def _interests(reference: ReferenceData, entries: Sequence[EntryDraft],
               prices: Sequence[PriceQuote]) -> dict[str, _Interest]:
    by_instrument = {i.code: i.manager_code for i in reference.instruments
                     if i.kind in FUND_KINDS and i.manager_code}
    holdings = {a.code: by_instrument[a.instrument_code] for a in reference.accounts
                if a.kind is AccountKind.HOLDING and a.instrument_code in by_instrument}
    reversed_ids = {e.reverses_entry_id for e in entries if e.reverses_entry_id}
    flows: dict[str, list[tuple[date, FlowKind, Decimal, Decimal]]] = defaultdict(list)
    holding_of: dict[str, str] = {}
    for entry in sorted(entries, key=lambda e: (e.value_date, e.entry_id)):
        kind = FLOW_KINDS.get(entry.code)
        if kind is None or entry.entry_id in reversed_ids:
            continue
        for posting in entry.postings:
            manager = holdings.get(posting.account)
            if manager is None:
                continue
            cash = sum((abs(p.amount) for p in entry.postings if _is_cash(p.account)), ZERO)
            flows[manager].append((entry.value_date, kind, posting.amount, cash))
            holding_of[manager] = posting.account
    navs: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for quote in prices:
        manager = by_instrument.get(quote.instrument_code)
        if manager is not None:
            navs[manager][quote.price_date] = quote.price
    return {m: _Interest(holding_of[m], tuple(f), navs[m]) for m, f in flows.items()}


def _is_cash(account: str) -> bool:
    return account.startswith("holding:") and \
        Account.parse(account).instrument_code == BASE_CURRENCY


def _statements(mandate: Mandate, interest: _Interest, ends: Sequence[date]
                ) -> list[Statement]:
    result: list[Statement] = []
    start, opening = mandate.inception, ZERO
    for end in ends:
        period = [f for f in interest.flows if start <= f[0] <= end]
        units = sum((f[2] for f in interest.flows if f[0] <= end), ZERO)
        closing = quantize(units * interest.prices[end], 2)
        statement = Statement(
            mandate.manager_code, start, end, BASE_CURRENCY, opening, ZERO, closing,
            flows=tuple(Flow(day, kind, cash) for day, kind, _, cash in period),
            exposures=_exposures(mandate.manager_code, closing),
            received_on=end + timedelta(days=45 if mandate.statement_frequency.months > 1
                                        else 12),
            source=StatementSource(f"illustrative-demo/{mandate.manager_code}-{end}.csv"))
        if (mandate.manager_code, end) == LATE[:2]:
            statement = replace(statement, received_on=LATE[2])
        result.append(_with_fees(mandate, result, statement))
        start, opening = end + timedelta(days=1), closing
    return result


def _exposures(manager: str, nav: Decimal) -> tuple[Exposure, ...]:
    if manager in NO_EXPOSURES:
        return ()
    lines = [Exposure(line.asset, line.venue, line.custodian, quantize(line.value * nav, 2),
                      None if line.notional is None else quantize(line.notional * nav, 2))
             for line in PROFILES.get(manager, ())]
    cash = nav - sum((e.market_value for e in lines), ZERO)
    return (*lines, Exposure(BASE_CURRENCY, CASH[0], CASH[1], cash))


def _with_fees(mandate: Mandate, earlier: Sequence[Statement],
               statement: Statement) -> Statement:
    """The statement with the fees its terms give, and the P&L that rolls it forward."""
    fees = mandate.fees
    paid_in = sum((f.amount for s in earlier for f in s.flows
                   if f.kind in (FlowKind.CAPITAL_CALL, FlowKind.SUBSCRIPTION)), ZERO)
    management = management_fee(fees.management_rate,
                                 management_basis(mandate, statement, paid_in), statement.days)
    if (mandate.manager_code, statement.period_end) == OVERCHARGE[:2]:
        management = quantize(management * OVERCHARGE[2], 2)
    charges = [FeeCharge(FeeKind.MANAGEMENT, management)]
    current = _rolled(statement, charges)
    for _ in range(40):  # the fee changes the gross P&L it is measured on: iterate
        extra = _incentive(mandate, [*earlier, current])
        updated = _rolled(statement, [*charges, *extra])
        if updated == current:
            break
        current = updated
    return current


def _incentive(mandate: Mandate, statements: Sequence[Statement]) -> list[FeeCharge]:
    """The performance fee crystallising at this statement, as the terms compute it. Venture
    statements accrue no carry: under the European waterfall it is paid from distributions,
    and both venture funds end the demo year below paid-in capital plus the preferred
    return."""
    last = statements[-1]
    due = next((c.expected for c in performance_checks(mandate, statements)
                if c.period_end == last.period_end), ZERO)
    return [FeeCharge(FeeKind.PERFORMANCE, due)] if due > 0 else []


def _rolled(statement: Statement, charges: Sequence[FeeCharge]) -> Statement:
    total = sum((c.amount for c in charges), ZERO)
    pnl = statement.closing_nav - statement.opening_nav - statement.net_flows + total
    return replace(statement, pnl=MONEY_CONTEXT.plus(pnl), fees=tuple(charges))


@dataclass(frozen=True, slots=True)
class DemoManagersLoad:
    mandates: int
    statements_imported: int
    statements_replayed: int
    entries_posted: int


def load_demo_managers(service: ManagerService, demo: DemoManagers, *,
                       actor: str) -> DemoManagersLoad:
    """Record the mandates and import the statements in order; running it again changes
    nothing (each statement's hash is its idempotency key)."""
    for mandate in demo.mandates:
        service.set_mandate(mandate, actor=actor)
    imported = replayed = posted = 0
    for statement in sorted(demo.statements, key=lambda s: (s.period_end, s.manager_code)):
        result = service.import_statement(statement, file_hash=statement_hash(statement),
                                          actor=actor)
        replayed += result.replayed
        imported += not result.replayed
        posted += len(result.posted) if not result.replayed else 0
    return DemoManagersLoad(len(demo.mandates), imported, replayed, posted)
