"""Reference data of the full demo: the one-year demo's institution with a realistic book.

The same five vehicles, managers and crypto instruments as :mod:`qoima.app.demo.reference`;
the FX reserves gain an equity tranche, a ladder of thirteen 3-month bills, five hundred
Treasury notes and bonds, two hundred and fifty stocks and gold bars in five vaults.
Accounts are the ones the entries use (every one opened before the first posting) and the
sleeve's, opened before it buys anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from qoima.app.book import ReferenceData
from qoima.app.demo.reference import (
    CUSTODIANS,
    FX,
    INSTRUMENTS,
    LABEL,
    MANAGERS,
    NOTES,
    SLEEVE,
    TBILLS,
    VEHICLES,
    reference_data,
)
from qoima.app.demo.universe import BondSpec, EquitySpec
from qoima.domain.enums import CustodianKind, InstrumentKind, TrancheKind
from qoima.domain.reference import Account, Custodian, Instrument, Tranche, Vehicle
from qoima.ledger.entries import EntryDraft

D = Decimal
BILL_COUNT = 13  # a weekly ladder of 3-month bills
BILLS = tuple(f"TB-{k:02d}" for k in range(1, BILL_COUNT + 1))
BILL_DAYS = 91
EQUITY = "equity"

GOLD_VAULTS = (
    # custodian, bar lists (label, troy ounces, cost per ounce)
    ("boe-vault", (("bars-2016", D(900_000), D(1250)), ("bars-2019", D(600_000), D(1480)),
                   ("bars-2022", D(300_000), D(1790)))),
    ("fed-ny", (("bars-2016", D(350_000), D(1250)), ("bars-2020", D(250_000), D(1770)))),
    ("zurich-vault", (("bars-2018", D(250_000), D(1300)), ("bars-2023", D(150_000), D(1940)))),
    ("nbk", (("bars-2017", D(500_000), D(1260)), ("bars-2021", D(400_000), D(1800)),
             ("bars-2024", D(300_000), D(2350)))),
    ("nbk-almaty", (("bars-2019", D(250_000), D(1400)), ("bars-2022", D(150_000), D(1800)),
                    ("bars-2025", D(100_000), D(3300)))),
)
#: Domestic purchases of the book's year go to a new bar list in the Astana vault.
GOLD_PURCHASE_VAULT, GOLD_PURCHASE_LABEL = "nbk", "bars-2026"

FULL_CUSTODIANS = (*CUSTODIANS,
                   Custodian("zurich-vault", "Gold vault, Zurich (illustrative)",
                             CustodianKind.VAULT, "CH"),
                   Custodian("nbk-almaty", "National Bank gold vault, Almaty (illustrative)",
                             CustodianKind.VAULT, "KZ"))


def full_vehicles() -> tuple[Vehicle, ...]:
    """The one-year demo's vehicles; the FX reserves add an equity tranche."""
    result = []
    for vehicle in VEHICLES:
        if vehicle.code == FX:
            tranches = (*vehicle.tranches, Tranche(
                EQUITY, TrancheKind.INVESTMENT, "Equity tranche (global equity index mandate)"))
            vehicle = replace(vehicle, tranches=tranches, description=(
                "Stabilization and investment assets: USD liquidity, a bill ladder, US "
                "Treasuries, equities, gold and SDRs. " + LABEL))
        result.append(vehicle)
    return tuple(result)


def ladder_maturities(start: date, end: date) -> dict[str, list[date]]:
    """Bill ``k`` first matures ``k`` weeks after the start and rolls every 91 days."""
    result = {}
    for k, code in enumerate(BILLS, start=1):
        days, day = [], start + timedelta(weeks=k)
        while day <= end + timedelta(days=BILL_DAYS):
            while day.weekday() >= 5:
                day += timedelta(days=1)
            days.append(day)
            day += timedelta(days=BILL_DAYS)
        result[code] = days
    return result


def full_instruments(bonds: Iterable[BondSpec], equities: Iterable[EquitySpec]
                     ) -> tuple[Instrument, ...]:
    small_only = {*TBILLS, *(code for code, _, _ in NOTES)}
    base = tuple(i for i in INSTRUMENTS if i.code not in small_only)
    bills = tuple(Instrument(code, f"US Treasury bill, ladder rung {code[-2:]} (rolled every "
                                   "3 months)", InstrumentKind.TBILL, 2, price_factor=D("0.01"),
                             issuer="US Treasury") for code in BILLS)
    notes = tuple(Instrument(b.code, b.name, InstrumentKind.BOND, 2, price_factor=D("0.01"),
                             issuer="US Treasury", maturity=b.maturity.isoformat())
                  for b in bonds)
    stocks = tuple(Instrument(e.code, e.name, InstrumentKind.EQUITY, 0, ticker=e.ticker,
                              venue=e.venue, issuer=e.name.removesuffix(" (illustrative)"))
                   for e in equities)
    return base + bills + notes + stocks


def accounts_of(entries: Iterable[EntryDraft]) -> tuple[Account, ...]:
    """Every account the entries post to, and the sleeve's accounts for the instruments it
    may buy (open before its first tranche: sizing and the policy read the custodian off
    them), in a stable order."""
    codes = {p.account for e in entries for p in e.postings}
    codes |= {a.code for a in reference_data().accounts if a.vehicle_code == SLEEVE}
    return tuple(Account.parse(code) for code in sorted(codes))


def full_reference(bonds: tuple[BondSpec, ...], equities: tuple[EquitySpec, ...],
                   entries: Iterable[EntryDraft]) -> ReferenceData:
    return ReferenceData(custodians=FULL_CUSTODIANS, managers=MANAGERS,
                         vehicles=full_vehicles(), instruments=full_instruments(bonds, equities),
                         accounts=accounts_of(entries))
