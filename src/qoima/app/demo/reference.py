"""Reference data of the demo reserve. Names are illustrative, not real institutions' books."""

from __future__ import annotations

from decimal import Decimal

from qoima.app.book import ReferenceData
from qoima.domain.enums import (
    AccountKind,
    CostMethod,
    CustodianKind,
    InstrumentKind,
    ManagerKind,
    TrancheKind,
    VehicleKind,
    Venue,
)
from qoima.domain.reference import (
    Account,
    Custodian,
    Instrument,
    Manager,
    Tranche,
    UnderlyingExposure,
    Vehicle,
)

D = Decimal
LABEL = "ILLUSTRATIVE DEMO — modeled on the seed case; not any institution's real book"

FX = "fx-reserves"
SLEEVE = "da-sleeve"
FUND = "state-fund"
SEIZED = "seized-pool"
TOKENS = "alem-fund"

#: The sleeve's policy range in USD (seeds: 50-300M); the policy issue enforces it.
SLEEVE_RANGE_USD = (D(50_000_000), D(300_000_000))

CUSTODIANS = (
    Custodian("nbk", "National Bank vault and books (illustrative)", CustodianKind.CENTRAL_BANK,
              "KZ"),
    Custodian("fed-ny", "Federal Reserve Bank of New York", CustodianKind.CENTRAL_BANK, "US"),
    Custodian("bny", "Global custodian (illustrative)", CustodianKind.GLOBAL_CUSTODIAN, "US"),
    Custodian("boe-vault", "Bank of England gold vault", CustodianKind.VAULT, "GB"),
    Custodian("imf", "IMF SDR Department", CustodianKind.CENTRAL_BANK, "INT"),
    Custodian("bitgo", "BitGo (AIX ETF and crypto custody)", CustodianKind.CRYPTO_CUSTODIAN, "KZ"),
    Custodian("state-wallet", "State-controlled wallets (seized assets)",
              CustodianKind.STATE_WALLET, "KZ"),
    Custodian("fund-admin", "Fund administrator (illustrative)",
              CustodianKind.FUND_ADMINISTRATOR, "KY"),
)

VEHICLES = (
    Vehicle(FX, "FX reserves", VehicleKind.FX_RESERVE, CostMethod.FIFO, None, (
        Tranche("liquidity", TrancheKind.LIQUIDITY, "Liquidity tranche"),
        Tranche("investment", TrancheKind.INVESTMENT, "Investment tranche"),
        Tranche("gold", TrancheKind.GOLD, "Gold tranche"),
    ), "Stabilization assets: USD liquidity, US Treasuries, gold and SDRs. " + LABEL),
    Vehicle(SLEEVE, "Digital-asset sleeve of the FX reserves", VehicleKind.DIGITAL_ASSET_SLEEVE,
            CostMethod.FIFO, FX, (Tranche("main", TrancheKind.DIGITAL_ASSET, "Sleeve"),),
            "Indirect exposure only (spot ETFs, regulated crypto equities); policy range "
            "USD 50-300M; empty until the stability gate opens. " + LABEL),
    Vehicle(FUND, "State Fund of Digital Assets", VehicleKind.STATE_FUND, CostMethod.FIFO, None, (
        Tranche("managers", TrancheKind.EXTERNAL_MANAGERS, "Hedge-fund mandates"),
        Tranche("venture", TrancheKind.VENTURE, "Venture commitments"),
        Tranche("liquidity", TrancheKind.LIQUIDITY, "Cash and forfeited assets"),
    ), "Invests through external hedge-fund and venture managers. " + LABEL),
    Vehicle(SEIZED, "Seized-asset pool", VehicleKind.SEIZED_POOL, CostMethod.FIFO, None,
            (Tranche("main", TrancheKind.SEIZED, "Seized assets"),),
            "Crypto seized in criminal cases; pending until forfeiture. " + LABEL),
    Vehicle(TOKENS, "Direct-token fund", VehicleKind.DIRECT_TOKEN_FUND, CostMethod.AVERAGE, None,
            (Tranche("main", TrancheKind.DIRECT_TOKEN, "Tokens"),),
            "Holds tokens directly; first holding BNB. " + LABEL),
)

HEDGE_FUNDS = (
    ("hf-a", "Manager A (illustrative)", "market-neutral basis and funding-rate trading", 100),
    ("hf-b", "Manager B (illustrative)", "discretionary macro, BTC/ETH", 90),
    ("hf-c", "Manager C (illustrative)", "systematic trend following", 80),
    ("hf-d", "Manager D (illustrative)", "DeFi liquidity and stablecoin yield", 70),
    ("hf-e", "Manager E (illustrative)", "multi-strategy digital assets", 60),
)
VENTURE_FUNDS = (
    ("vc-f", "Venture fund F (illustrative)", "Web3 infrastructure", 100),
    ("vc-g", "Venture fund G (illustrative)", "L1/L2 ecosystems and stablecoin networks", 100),
)
MANAGERS = tuple(
    Manager(code, name, ManagerKind.HEDGE_FUND, FUND, strategy)
    for code, name, strategy, _ in HEDGE_FUNDS
) + tuple(
    Manager(code, name, ManagerKind.VENTURE_FUND, FUND, strategy)
    for code, name, strategy, _ in VENTURE_FUNDS
)

TBILLS = ("TB-A", "TB-B", "TB-C")  # three rolling 3-month bill series
NOTES = (("UST-2029", "US Treasury 4.00% 2029 (illustrative)", D("4.00")),
         ("UST-2034", "US Treasury 4.25% 2034 (illustrative)", D("4.25")))


def _instruments() -> tuple[Instrument, ...]:
    cash = (Instrument("USD", "US dollar", InstrumentKind.CASH, 2, "USD"),
            Instrument("KZT", "Kazakh tenge", InstrumentKind.CASH, 2, "KZT"))
    bills = tuple(Instrument(code, f"US Treasury bill series {code[-1]} (rolled quarterly)",
                             InstrumentKind.TBILL, 2, price_factor=D("0.01"), issuer="US Treasury")
                  for code in TBILLS)
    notes = tuple(Instrument(code, name, InstrumentKind.BOND, 2, price_factor=D("0.01"),
                             issuer="US Treasury", maturity=f"{code[-4:]}-11-15")
                  for code, name, _ in NOTES)
    reserve = (Instrument("XAU", "Gold, troy ounces (London Good Delivery)",
                          InstrumentKind.GOLD, 3, venue=Venue.LBMA),
               Instrument("XDR", "IMF Special Drawing Rights", InstrumentKind.SDR, 2))
    wrappers = (
        Instrument("IBIT", "iShares Bitcoin Trust ETF", InstrumentKind.ETF, 0, ticker="IBIT",
                   venue=Venue.NASDAQ, issuer="BlackRock",
                   underlying=UnderlyingExposure("BTC", D("0.000568"))),
        Instrument("FBTC", "Fidelity Wise Origin Bitcoin Fund", InstrumentKind.ETF, 0,
                   ticker="FBTC", venue=Venue.CBOE, issuer="Fidelity",
                   underlying=UnderlyingExposure("BTC", D("0.000876"))),
        Instrument("ETHA", "iShares Ethereum Trust ETF", InstrumentKind.ETF, 0, ticker="ETHA",
                   venue=Venue.NASDAQ, issuer="BlackRock",
                   underlying=UnderlyingExposure("ETH", D("0.00760"))),
        Instrument("AIX-BTC", "Fonte Bitcoin ETF (AIX, BitGo custody)", InstrumentKind.ETF, 0,
                   venue=Venue.AIX, issuer="Fonte Capital",
                   underlying=UnderlyingExposure("BTC", D("0.0001"))),
        Instrument("COIN", "Coinbase Global, Class A", InstrumentKind.EQUITY, 0, ticker="COIN",
                   venue=Venue.NASDAQ, issuer="Coinbase"),
    )
    tokens = (
        Instrument("BTC", "Bitcoin", InstrumentKind.TOKEN, 8, chain="bitcoin"),
        Instrument("ETH", "Ether", InstrumentKind.TOKEN, 18, chain="ethereum"),
        Instrument("BNB", "BNB", InstrumentKind.TOKEN, 18, chain="bnb-smart-chain"),
        Instrument("USDT", "Tether USD (ERC-20)", InstrumentKind.STABLECOIN, 6,
                   chain="ethereum", contract="0xdAC17F958D2ee523a2206206994597C13D831ec7"),
    )
    funds = tuple(
        Instrument(f"{code.upper()}-LP", f"{name} fund interest",
                   InstrumentKind.HEDGE_FUND_INTEREST, 6, venue=Venue.PRIVATE,
                   manager_code=code)
        for code, name, _, _ in HEDGE_FUNDS
    ) + tuple(
        Instrument(f"{code.upper()}-LP", f"{name} LP interest",
                   InstrumentKind.VENTURE_FUND_INTEREST, 6, venue=Venue.PRIVATE,
                   manager_code=code)
        for code, name, _, _ in VENTURE_FUNDS
    )
    return cash + bills + notes + reserve + wrappers + tokens + funds


INSTRUMENTS = _instruments()


def holding(vehicle: str, tranche: str, instrument: str, custodian: str) -> Account:
    return Account(AccountKind.HOLDING, instrument, vehicle, tranche, custodian)


def _accounts() -> tuple[Account, ...]:
    accounts = [
        holding(FX, "liquidity", "USD", "fed-ny"),
        *(holding(FX, "liquidity", bill, "bny") for bill in TBILLS),
        holding(FX, "liquidity", "XDR", "imf"),
        *(holding(FX, "investment", code, "bny") for code, _, _ in NOTES),
        holding(FX, "investment", "USD", "bny"),
        holding(FX, "gold", "XAU", "boe-vault"),
        holding(FX, "gold", "XAU", "nbk"),
        holding(SLEEVE, "main", "USD", "bny"),
        *(holding(SLEEVE, "main", etf, "bny") for etf in ("IBIT", "FBTC", "ETHA", "COIN")),
        holding(SLEEVE, "main", "AIX-BTC", "bitgo"),
        holding(FUND, "liquidity", "USD", "bny"),
        holding(FUND, "liquidity", "BTC", "bitgo"),
        *(holding(FUND, "managers", f"{c.upper()}-LP", "fund-admin") for c, *_ in HEDGE_FUNDS),
        *(holding(FUND, "venture", f"{c.upper()}-LP", "fund-admin") for c, *_ in VENTURE_FUNDS),
        *(holding(SEIZED, "main", code, "state-wallet") for code in ("BTC", "ETH", "USDT")),
        holding(TOKENS, "main", "USD", "bny"),
        holding(TOKENS, "main", "BNB", "bitgo"),
    ]
    for code in ("USD", "XAU", "XDR", *(c for c, _, _ in NOTES), *TBILLS):
        accounts.append(Account(AccountKind.CAPITAL, code, FX))
    for vehicle in (SLEEVE, FUND, TOKENS):
        accounts.append(Account(AccountKind.CAPITAL, "USD", vehicle))
    accounts += [
        Account(AccountKind.INCOME, "USD", FX, label="coupon"),
        Account(AccountKind.EXPENSE, "USD", FUND, label="management-fee"),
        Account(AccountKind.EXPENSE, "USD", FX, label="custody-fee"),
    ]
    return tuple(accounts)


def reference_data() -> ReferenceData:
    return ReferenceData(custodians=CUSTODIANS, managers=MANAGERS, vehicles=VEHICLES,
                         instruments=INSTRUMENTS, accounts=_accounts())
