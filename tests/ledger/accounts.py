"""AccountInfo objects for ledger tests, built directly (no storage)."""

from __future__ import annotations

from qoima.domain.enums import AccountKind, CostMethod
from qoima.domain.reference import Account, Instrument
from qoima.ledger.ports import AccountInfo
from tests.builders import BTC, ETH, IBIT, KZT, USD

INSTRUMENTS = {i.code: i for i in (USD, KZT, IBIT, BTC, ETH)}


def make_accounts(*accounts: Account,
                  method: CostMethod = CostMethod.FIFO) -> dict[str, AccountInfo]:
    infos: dict[str, AccountInfo] = {}
    for number, account in enumerate(accounts, start=1):
        instrument: Instrument = INSTRUMENTS[account.instrument_code]
        infos[account.code] = AccountInfo(number, account, instrument, method)
    return infos


def holding(instrument: str, vehicle: str = "fund-a", custodian: str = "bny") -> Account:
    return Account(AccountKind.HOLDING, instrument, vehicle, "main", custodian)


def external(instrument: str) -> Account:
    return Account(AccountKind.EXTERNAL, instrument)


def capital(instrument: str = "USD", vehicle: str = "fund-a") -> Account:
    return Account(AccountKind.CAPITAL, instrument, vehicle)


def standard_accounts(method: CostMethod = CostMethod.FIFO) -> dict[str, AccountInfo]:
    """Holdings of every instrument in fund-a and fund-b, a seized pool, externals, capital."""
    accounts: list[Account] = []
    for code in INSTRUMENTS:
        accounts += [holding(code), holding(code, "fund-b"),
                     holding(code, "seized", "state-wallet"), external(code)]
    accounts += [capital(), capital(vehicle="fund-b"),
                 Account(AccountKind.EXPENSE, "USD", "fund-a", label="fees")]
    return make_accounts(*accounts, method=method)
