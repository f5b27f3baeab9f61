"""Stable string enums of the domain; their values are stored and must never change."""

from __future__ import annotations

from enum import StrEnum


class VehicleKind(StrEnum):
    FX_RESERVE = "fx_reserve"
    DIGITAL_ASSET_SLEEVE = "digital_asset_sleeve"
    STATE_FUND = "state_fund"
    SEIZED_POOL = "seized_pool"
    DIRECT_TOKEN_FUND = "direct_token_fund"


class TrancheKind(StrEnum):
    LIQUIDITY = "liquidity"
    INVESTMENT = "investment"
    GOLD = "gold"
    DIGITAL_ASSET = "digital_asset"
    EXTERNAL_MANAGERS = "external_managers"
    VENTURE = "venture"
    SEIZED = "seized"
    DIRECT_TOKEN = "direct_token"
    GENERAL = "general"


class InstrumentKind(StrEnum):
    CASH = "cash"
    TBILL = "tbill"
    BOND = "bond"
    GOLD = "gold"
    SDR = "sdr"
    ETF = "etf"
    EQUITY = "equity"
    HEDGE_FUND_INTEREST = "hedge_fund_interest"
    VENTURE_FUND_INTEREST = "venture_fund_interest"
    TOKEN = "token"
    STABLECOIN = "stablecoin"
    TOKENIZED_RWA = "tokenized_rwa"


#: Kinds whose unit is itself a currency: valued through FX, never through a price.
CURRENCY_KINDS = frozenset({InstrumentKind.CASH})


class Venue(StrEnum):
    NYSE = "NYSE"
    NASDAQ = "NASDAQ"
    CBOE = "CBOE"
    AIX = "AIX"  # Astana International Exchange
    KASE = "KASE"
    LBMA = "LBMA"
    OTC = "OTC"
    ONCHAIN = "ONCHAIN"
    PRIVATE = "PRIVATE"  # fund interests: priced by the manager's NAV


class CustodianKind(StrEnum):
    CENTRAL_BANK = "central_bank"
    GLOBAL_CUSTODIAN = "global_custodian"
    CRYPTO_CUSTODIAN = "crypto_custodian"
    STATE_WALLET = "state_wallet"
    EXCHANGE = "exchange"
    FUND_ADMINISTRATOR = "fund_administrator"
    VAULT = "vault"


class ManagerKind(StrEnum):
    HEDGE_FUND = "hedge_fund"
    VENTURE_FUND = "venture_fund"
    ASSET_MANAGER = "asset_manager"


class AccountKind(StrEnum):
    """What an account stands for; only HOLDING accounts are the institution's positions."""

    HOLDING = "holding"
    EXTERNAL = "external"  # the outside world per instrument: counterparties, markets
    CAPITAL = "capital"  # funding received from / returned to the owner
    INCOME = "income"
    EXPENSE = "expense"
    SUSPENSE = "suspense"  # awaiting classification (e.g. seized, not yet forfeited)


#: Accounts whose balance may never go below zero on any date.
NON_NEGATIVE_ACCOUNT_KINDS = frozenset({AccountKind.HOLDING})


class EntryCode(StrEnum):
    OPENING_BALANCE = "opening_balance"
    BUY = "buy"
    SELL = "sell"
    TRANSFER = "transfer"  # between vehicles (or tranches/custodians) of the institution
    CASH_IN = "cash_in"
    CASH_OUT = "cash_out"
    INCOME = "income"  # coupons, interest, staking rewards
    FEE = "fee"
    CAPITAL_CALL = "capital_call"
    DISTRIBUTION = "distribution"
    SEIZURE_INTAKE = "seizure_intake"
    FORFEITURE = "forfeiture"
    RETURN_TO_OWNER = "return_to_owner"
    REVERSAL = "reversal"


class EntryPhase(StrEnum):
    """Two-phase entries: PENDING until posted (FORFEITURE) or voided (RETURN_TO_OWNER)."""

    POSTED = "posted"
    PENDING = "pending"


class PendingOutcome(StrEnum):
    POSTED = "posted"
    VOIDED = "voided"


#: Which codes resolve a pending entry, and how.
RESOLVING_CODES: dict[EntryCode, PendingOutcome] = {
    EntryCode.FORFEITURE: PendingOutcome.POSTED,
    EntryCode.RETURN_TO_OWNER: PendingOutcome.VOIDED,
}


class CostMethod(StrEnum):
    FIFO = "fifo"
    AVERAGE = "average"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    BLOCKING = "blocking"
