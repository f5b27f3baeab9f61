"""Small reference data and entry builders shared by tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from qoima.app.book import ReferenceData
from qoima.domain.enums import (
    AccountKind,
    CostMethod,
    CustodianKind,
    EntryCode,
    EntryPhase,
    InstrumentKind,
    TrancheKind,
    VehicleKind,
    Venue,
)
from qoima.domain.reference import (
    Account,
    Custodian,
    Instrument,
    Tranche,
    UnderlyingExposure,
    Vehicle,
)
from qoima.ledger.entries import EntryDraft, PostingDraft

D = Decimal
USD = Instrument("USD", "US dollar", InstrumentKind.CASH, 2, "USD")
KZT = Instrument("KZT", "Kazakh tenge", InstrumentKind.CASH, 2, "KZT")
IBIT = Instrument("IBIT", "iShares Bitcoin Trust ETF", InstrumentKind.ETF, 0, ticker="IBIT",
                  venue=Venue.NASDAQ, underlying=UnderlyingExposure("BTC", D("0.000568")))
BTC = Instrument("BTC", "Bitcoin", InstrumentKind.TOKEN, 8, chain="bitcoin")
ETH = Instrument("ETH", "Ether", InstrumentKind.TOKEN, 18, chain="ethereum")

CUSTODIAN = Custodian("bny", "BNY Mellon", CustodianKind.GLOBAL_CUSTODIAN, "US")
WALLET = Custodian("state-wallet", "State wallet", CustodianKind.STATE_WALLET, "KZ")
FIFO_FUND = Vehicle("fund-a", "Fund A", VehicleKind.STATE_FUND, CostMethod.FIFO,
                    tranches=(Tranche("main", TrancheKind.GENERAL),))
AVG_FUND = Vehicle("fund-b", "Fund B", VehicleKind.DIRECT_TOKEN_FUND, CostMethod.AVERAGE,
                   tranches=(Tranche("main", TrancheKind.GENERAL),))
SEIZED = Vehicle("seized", "Seized pool", VehicleKind.SEIZED_POOL,
                 tranches=(Tranche("main", TrancheKind.SEIZED),))


def holding(vehicle: str, instrument: str, custodian: str = "bny") -> str:
    return Account(AccountKind.HOLDING, instrument, vehicle, "main", custodian).code


def external(instrument: str) -> str:
    return Account(AccountKind.EXTERNAL, instrument).code


def capital(vehicle: str, instrument: str = "USD") -> str:
    return Account(AccountKind.CAPITAL, instrument, vehicle).code


def reference_data() -> ReferenceData:
    vehicles = (FIFO_FUND, AVG_FUND, SEIZED)
    instruments = (USD, KZT, IBIT, BTC, ETH)
    accounts = []
    for vehicle in vehicles:
        for instrument in instruments:
            custodian = "state-wallet" if vehicle is SEIZED else "bny"
            accounts.append(Account(AccountKind.HOLDING, instrument.code, vehicle.code, "main",
                                    custodian))
        accounts.append(Account(AccountKind.CAPITAL, "USD", vehicle.code))
        accounts.append(Account(AccountKind.EXPENSE, "USD", vehicle.code, label="fees"))
    return ReferenceData(custodians=(CUSTODIAN, WALLET), vehicles=vehicles,
                         instruments=instruments, accounts=tuple(accounts))


def legs(*pairs: tuple[str, str | Decimal]) -> tuple[PostingDraft, ...]:
    return tuple(PostingDraft(account, D(amount)) for account, amount in pairs)


def cash_in(entry_id: str, day: date, vehicle: str, amount: str) -> EntryDraft:
    return EntryDraft(entry_id, EntryCode.CASH_IN, day,
                      legs((holding(vehicle, "USD"), amount), (capital(vehicle), f"-{amount}")))


def buy(entry_id: str, day: date, vehicle: str, instrument: str, quantity: str,
        unit_cost: str) -> EntryDraft:
    total = D(quantity) * D(unit_cost)
    return EntryDraft(entry_id, EntryCode.BUY, day, (
        PostingDraft(holding(vehicle, instrument), D(quantity), unit_cost_usd=D(unit_cost)),
        PostingDraft(external(instrument), -D(quantity)),
        PostingDraft(holding(vehicle, "USD"), -total.quantize(D("0.01"))),
        PostingDraft(external("USD"), total.quantize(D("0.01"))),
    ))


def sell(entry_id: str, day: date, vehicle: str, instrument: str, quantity: str,
         unit_price: str) -> EntryDraft:
    total = D(quantity) * D(unit_price)
    return EntryDraft(entry_id, EntryCode.SELL, day, (
        PostingDraft(holding(vehicle, instrument), -D(quantity), unit_price_usd=D(unit_price)),
        PostingDraft(external(instrument), D(quantity)),
        PostingDraft(holding(vehicle, "USD"), total.quantize(D("0.01"))),
        PostingDraft(external("USD"), -total.quantize(D("0.01"))),
    ))


def seizure(entry_id: str, day: date, instrument: str, quantity: str,
            unit_cost: str) -> EntryDraft:
    return EntryDraft(entry_id, EntryCode.SEIZURE_INTAKE, day, (
        PostingDraft(holding("seized", instrument, "state-wallet"), D(quantity),
                     unit_cost_usd=D(unit_cost)),
        PostingDraft(external(instrument), -D(quantity)),
    ), phase=EntryPhase.PENDING)


def expense(vehicle: str, label: str = "fees") -> str:
    return Account(AccountKind.EXPENSE, "USD", vehicle, label=label).code


def fee(entry_id: str, day: date, vehicle: str, amount: str) -> EntryDraft:
    return EntryDraft(entry_id, EntryCode.FEE, day,
                      legs((holding(vehicle, "USD"), f"-{amount}"), (expense(vehicle), amount)))


def transfer(entry_id: str, day: date, source: str, target: str, instrument: str,
             quantity: str) -> EntryDraft:
    """Move ``quantity`` of ``instrument`` between two vehicles' holdings (lots move at cost)."""
    return EntryDraft(entry_id, EntryCode.TRANSFER, day,
                      legs((holding(source, instrument), f"-{quantity}"),
                           (holding(target, instrument), quantity)))


def reversal(entry_id: str, day: date, reverses: str) -> EntryDraft:
    """Reverse ``reverses``; the journal derives the negated postings."""
    return EntryDraft(entry_id, EntryCode.REVERSAL, day, (), reverses_entry_id=reverses)


def forfeiture(entry_id: str, day: date, pending: str) -> EntryDraft:
    return EntryDraft(entry_id, EntryCode.FORFEITURE, day, (), resolves_entry_id=pending)


def return_to_owner(entry_id: str, day: date, pending: str) -> EntryDraft:
    return EntryDraft(entry_id, EntryCode.RETURN_TO_OWNER, day, (), resolves_entry_id=pending)
