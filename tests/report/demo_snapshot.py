"""A small, hand-valued snapshot over the demo's reference data, covering every asset class.

Values (USD, USD/KZT 500):

====================  ===============================================  ==============
class                 holdings                                         USD
====================  ===============================================  ==============
gold                  XAU 100 + 50.5 oz at 2,650.40                    398,885.20
FX cash               USD 1,000,000.00                                 1,000,000.00
US Treasuries         TB-A 500,000 at 98.50%, UST-2029 200,000 at      695,000.00
                      101.25%
SDR                   XDR 100,000 at 1.35                              135,000.00
indirect crypto       IBIT 1,000 x 52.10, COIN 100 x 250, AIX-BTC      96,025.00
                      300 x 9.75 (sleeve), FBTC 200 x 80 (state fund)
equities and funds    HF-A-LP 10,000.123456 x 101.5, SPY 10 x 500,     1,020,012.53
                      VC-F-LP 5,000 (no price: unvalued)
direct tokens         BTC 2.5 x 60,000 (fund), BNB 1,234.5678 x 600    890,740.68
seized                ETH 3 x 2,500 (forfeited, still in the pool)     7,500.00
total                                                                  4,243,163.41
====================  ===============================================  ==============

Pending seized (outside the NAV): BTC 10.12345678, USDT 50,000, ETH 1.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from qoima.app.demo.reference import FUND, FX, SEIZED, SLEEVE, TOKENS, holding, reference_data
from qoima.domain.enums import InstrumentKind, Venue
from qoima.domain.reference import Instrument
from qoima.market.quotes import FxQuote, PriceQuote
from qoima.portfolio.snapshot import PortfolioSnapshot, Position, build_snapshot

D = Decimal
AS_OF = date(2026, 10, 30)
REFERENCE = reference_data()
SPY = Instrument("SPY", "SPDR S&P 500 ETF", InstrumentKind.ETF, 0, ticker="SPY", venue=Venue.NYSE)
INSTRUMENTS = {i.code: i for i in (*REFERENCE.instruments, SPY)}
VEHICLES = {v.code: v for v in REFERENCE.vehicles}
PRICES = {"TB-A": "98.50", "UST-2029": "101.25", "XDR": "1.35", "XAU": "2650.40",
          "IBIT": "52.10", "COIN": "250.00", "AIX-BTC": "9.75", "FBTC": "80",
          "HF-A-LP": "101.5", "SPY": "500", "BTC": "60000", "BNB": "600", "ETH": "2500",
          "USDT": "1.0001"}
HELD_ROWS = (
    (FX, "liquidity", "USD", "fed-ny", "1000000.00"),
    (FX, "liquidity", "TB-A", "bny", "500000"),
    (FX, "liquidity", "XDR", "imf", "100000"),
    (FX, "investment", "UST-2029", "bny", "200000"),
    (FX, "gold", "XAU", "boe-vault", "100.000"),
    (FX, "gold", "XAU", "nbk", "50.5"),
    (SLEEVE, "main", "IBIT", "bny", "1000"),
    (SLEEVE, "main", "COIN", "bny", "100"),
    (SLEEVE, "main", "AIX-BTC", "bitgo", "300"),
    (FUND, "managers", "HF-A-LP", "fund-admin", "10000.123456"),
    (FUND, "venture", "VC-F-LP", "fund-admin", "5000"),
    (FUND, "liquidity", "BTC", "bitgo", "2.5"),
    (FUND, "liquidity", "FBTC", "bny", "200"),
    (FUND, "liquidity", "SPY", "bny", "10"),
    (TOKENS, "main", "BNB", "bitgo", "1234.5678"),
    (SEIZED, "main", "ETH", "state-wallet", "3"),
)
PENDING_ROWS = (
    (SEIZED, "main", "BTC", "state-wallet", "10.12345678"),
    (SEIZED, "main", "USDT", "state-wallet", "50000"),
    (SEIZED, "main", "ETH", "state-wallet", "1"),
)
TOTAL_USD = D("4243163.41")
CLASS_USD = {"gold": D("398885.20"), "fx_cash": D("1000000.00"),
             "us_treasuries": D("695000.00"), "sdr": D("135000.00"),
             "indirect_crypto": D("96025.00"), "equities_and_funds": D("1020012.53"),
             "direct_tokens": D("890740.68"), "seized": D("7500.00")}
SALT_KEY = b"test salt key: 32 bytes exactly!"


def _positions(rows: tuple[tuple[str, str, str, str, str], ...]) -> list[Position]:
    return [Position(holding(vehicle, tranche, code, custodian), INSTRUMENTS[code], D(quantity))
            for vehicle, tranche, code, custodian, quantity in rows]


def demo_snapshot(*, with_kzt: bool = True) -> PortfolioSnapshot:
    prices = {code: PriceQuote(code, AS_OF, D(price), "USD", "exchange")
              for code, price in PRICES.items()}
    fx = (FxQuote("USD", "KZT", AS_OF, D("500"), "nbk"),) if with_kzt else ()
    return build_snapshot(as_of=AS_OF, positions=_positions(HELD_ROWS),
                          pending=_positions(PENDING_ROWS), vehicles=VEHICLES, prices=prices, fx=fx)
