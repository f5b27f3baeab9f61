"""Booking a manager statement's cash flows in the ledger, without booking any flow twice.

The state fund holds each manager as a fund-interest instrument counted in units and valued
at the NAV per unit. A statement reports flows in money; each becomes a trade of units
against the vehicle's USD cash, at the NAV per unit stored on or before the flow's date.

**The matching rule.** Flows the book already holds (the demo books its subscriptions and
capital calls from the fund's own records; operations may book a call from the call notice
before the statement arrives) are *matched*, not re-posted. A book entry matches a flow
when it is posted and not reversed, is dated the flow's day, moves units of the manager's
interest in the flow's direction, and moves the vehicle's USD cash the other way by the
flow's amount (within USD 1 or 0.01 %, the rounding of units x NAV). Units are priced at
the NAV per unit stored on or before the flow's day, else at the unit price of the latest
dealing the book holds, else (nothing held yet) at the launch price. An entry matches one
flow only (entries already claimed by a stored statement are skipped). An unmatched flow is
posted under the id ``MGR-<manager>-<date>-<kind>`` (``-2``, ``-3`` for a second or third
flow of the same kind that day), so importing the same statement again replays the same
entries and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from qoima.app.manager_ports import FlowRecord
from qoima.app.ports import UnitOfWork
from qoima.app.units import record_change
from qoima.domain.enums import AccountKind, EntryCode, InstrumentKind
from qoima.domain.errors import InvalidInput, NotFound, Origin
from qoima.domain.money import MONEY_CONTEXT
from qoima.domain.reference import BASE_CURRENCY, Account, Instrument
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.ledger.journal import Journal
from qoima.managers.model import Flow, FlowKind, Statement

FUND_INTEREST_KINDS = (InstrumentKind.HEDGE_FUND_INTEREST, InstrumentKind.VENTURE_FUND_INTEREST)
#: A new interest with no NAV per unit stored is issued at 100 per unit (the usual launch
#: price, and the demo's); the first statement's closing NAV then sets the price.
LAUNCH_UNIT_PRICE = Decimal(100)
MATCH_ABSOLUTE = Decimal(1)
MATCH_RELATIVE = Decimal("0.0001")
ENTRY_CODES = {FlowKind.SUBSCRIPTION: EntryCode.BUY, FlowKind.REDEMPTION: EntryCode.SELL,
               FlowKind.CAPITAL_CALL: EntryCode.CAPITAL_CALL,
               FlowKind.DISTRIBUTION: EntryCode.DISTRIBUTION}
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class InterestAccounts:
    """Where a manager's flows are booked: its fund-interest holding and the cash."""

    instrument: Instrument
    holding: str
    cash: str


def fund_interest(uow: UnitOfWork, manager_code: str) -> Instrument | None:
    found = [i for i in uow.reference.list_instruments()
             if i.manager_code == manager_code and i.kind in FUND_INTEREST_KINDS]
    if len(found) > 1:
        raise InvalidInput(f"manager {manager_code} has {len(found)} fund-interest "
                           f"instruments ({', '.join(i.code for i in found)}); qoima books "
                           "one per manager", field="instrument")
    return found[0] if found else None


def interest_accounts(uow: UnitOfWork, manager_code: str, vehicle: str) -> InterestAccounts:
    """The manager's interest and the vehicle's USD cash, each exactly one account (cash in
    the liquidity tranche when the vehicle holds USD in several)."""
    instrument = fund_interest(uow, manager_code)
    if instrument is None:
        raise NotFound(f"manager {manager_code} has no fund-interest instrument: register one "
                       f"(kind hedge_fund_interest or venture_fund_interest, manager "
                       f"{manager_code})", field="instrument")
    holdings = [i.account for i in uow.reference.list_accounts()
                if i.account.kind is AccountKind.HOLDING and i.account.vehicle_code == vehicle]
    interest = [a for a in holdings if a.instrument_code == instrument.code]
    if len(interest) != 1:
        raise NotFound(f"vehicle {vehicle} has {len(interest)} holding accounts for "
                       f"{instrument.code}, qoima books into exactly one: open it with "
                       f"`qoima account open holding:{vehicle}/TRANCHE:{instrument.code}"
                       "@CUSTODIAN`", field="account")
    cash = [a for a in holdings if a.instrument_code == BASE_CURRENCY]
    if len(cash) > 1:
        cash = [a for a in cash if a.tranche_code == "liquidity"]
    if len(cash) != 1:
        raise NotFound(f"vehicle {vehicle} needs one USD holding account (or one in its "
                       "liquidity tranche) to pay and receive manager flows", field="account")
    return InterestAccounts(instrument, interest[0].code, cash[0].code)


def book_flows(uow: UnitOfWork, statement: Statement, accounts: InterestAccounts,
               claimed: Collection[str], *, at: datetime, actor: str) -> list[FlowRecord]:
    """Match or post every flow of ``statement`` inside the caller's unit."""
    journal = Journal(uow.journal)
    taken = set(claimed)
    seen: Counter[tuple[date, FlowKind]] = Counter()
    records = []
    for position, flow in enumerate(statement.flows, 1):
        seen[flow.on_date, flow.kind] += 1
        matched = _match(uow, flow, accounts, taken)
        if matched is not None:
            taken.add(matched)
            records.append(FlowRecord(position, flow.on_date, str(flow.kind), flow.amount,
                                      matched, True, flow.row))
            continue
        entry_id = f"MGR-{statement.manager_code}-{flow.on_date}-{flow.kind}"
        count = seen[flow.on_date, flow.kind]
        entry_id += f"-{count}" if count > 1 else ""
        draft = _draft(uow, entry_id, flow, statement, accounts)
        result = journal.post(draft, recorded_at=at, actor=actor)
        if result.posted is not None:
            record_change(uow, at=at, actor=actor, action=f"entry.{result.posted.phase}",
                          object_type="entry", object_id=entry_id,
                          payload=result.posted.content())
        taken.add(entry_id)
        records.append(FlowRecord(position, flow.on_date, str(flow.kind), flow.amount,
                                  entry_id, False, flow.row))
    return records


def unit_price(uow: UnitOfWork, instrument: str, on: date) -> Decimal | None:
    """The NAV per unit stored on or before ``on`` (USD), if any."""
    quote = uow.market.latest_prices(on, [instrument]).get(instrument)
    return quote.price if quote is not None and quote.currency == BASE_CURRENCY else None


def _dealing_price(uow: UnitOfWork, holding: str, instrument: str, on: date) -> Decimal | None:
    """Without a stored NAV: the unit price of the latest dealing the book holds (a call
    booked from its notice, say) on or before ``on``."""
    uow.journal.reversal_dates()  # writes this unit's entries first
    prices = [row.unit_cost_usd or row.unit_price_usd
              for row in uow.journal.postings_until(on, [instrument])
              if row.account_code == holding and (row.unit_cost_usd or row.unit_price_usd)]
    return prices[-1] if prices else None


def units_held(uow: UnitOfWork, account: str, on: date) -> Decimal:
    return uow.journal.balances_as_of(on).get(account, Decimal(0))


def _draft(uow: UnitOfWork, entry_id: str, flow: Flow, statement: Statement,
           accounts: InterestAccounts) -> EntryDraft:
    instrument = accounts.instrument
    price = unit_price(uow, instrument.code, flow.on_date) or _dealing_price(
        uow, accounts.holding, instrument.code, flow.on_date)
    where = _origin(statement, flow)
    if price is None:
        if units_held(uow, accounts.holding, flow.on_date) != 0:
            raise InvalidInput(f"no NAV per unit of {instrument.code} (stored or dealt) on "
                               f"or before {flow.on_date} to turn the {flow.kind} into units",
                               origin=where, field="date")
        price = LAUNCH_UNIT_PRICE
    cash = flow.amount.quantize(CENT, ROUND_HALF_EVEN, context=MONEY_CONTEXT)
    units = MONEY_CONTEXT.divide(cash, price).quantize(
        Decimal(1).scaleb(-instrument.scale), ROUND_HALF_EVEN, context=MONEY_CONTEXT)
    if units == 0:
        raise InvalidInput(f"{flow.kind} of {cash} is less than one unit step of "
                           f"{instrument.code}", origin=where, field="amount")
    sign = 1 if flow.into_fund > 0 else -1
    leg = (PostingDraft(accounts.holding, units, unit_cost_usd=price) if sign > 0
           else PostingDraft(accounts.holding, -units, unit_price_usd=price))
    return EntryDraft(entry_id, ENTRY_CODES[flow.kind], flow.on_date, (
        leg, PostingDraft(Account(AccountKind.EXTERNAL, instrument.code).code, -sign * units),
        PostingDraft(accounts.cash, -sign * cash),
        PostingDraft(Account(AccountKind.EXTERNAL, BASE_CURRENCY).code, sign * cash)),
        f"{flow.kind} with manager {statement.manager_code} at NAV per unit {price} "
        f"(statement for the period ending {statement.period_end})",
        metadata=(("manager", statement.manager_code),
                  ("statement_period_end", statement.period_end.isoformat())))


def _match(uow: UnitOfWork, flow: Flow, accounts: InterestAccounts,
           taken: Collection[str]) -> str | None:
    reversed_ids = uow.journal.reversal_dates()  # also writes this unit's entries first
    direction = 1 if flow.into_fund > 0 else -1
    candidates = sorted({row.entry_id for row in uow.journal.postings_until(
        flow.on_date, [accounts.instrument.code])
        if row.value_date == flow.on_date and row.account_code == accounts.holding
        and row.amount * direction > 0})
    tolerance = max(MATCH_ABSOLUTE, MATCH_RELATIVE * flow.amount)
    for entry_id in candidates:
        if entry_id in taken or entry_id in reversed_ids:
            continue
        entry = uow.journal.find_entry(entry_id)
        if entry is None:
            continue
        cash = sum((p.amount for p in entry.draft.postings if p.account == accounts.cash),
                   Decimal(0))
        if abs(-direction * cash - flow.amount) <= tolerance:
            return entry_id
    return None


def _origin(statement: Statement, flow: Flow) -> Origin | None:
    source = statement.source
    if source is None:
        return None
    where = f"{source.file}[{source.sheet}]" if source.sheet else source.file
    return Origin(where, flow.row)
