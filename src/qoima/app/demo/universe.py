"""The full demo's instrument universe: Treasuries, equities and seizure cases, from a seed.

Every name, code and quantity here is ILLUSTRATIVE. Bond codes are CUSIP-shaped (nine
characters with a valid check digit) under an issuer prefix no real issuer uses; equity
codes carry an ``EQ-`` prefix so they cannot be mistaken for listed tickers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from numpy.random import PCG64, Generator

from qoima.domain.enums import Venue

D = Decimal
UNIVERSE_SEED = 20_261_030
BOND_COUNT = 500
EQUITY_COUNT = 250
SEIZURE_COUNT = 140
BOND_PREFIX = "99UST"  # CUSIP issuer part (with the first digits): not a real issuer
COUPON_MONTHS = (2, 5, 8, 11)  # Treasuries mature mid-February, -May, -August, -November


def cusip_check_digit(body: str) -> str:
    """The ninth character of a CUSIP from the first eight (the published algorithm)."""
    total = 0
    for position, char in enumerate(body):
        if char.isdigit():
            value = int(char)
        elif char.isalpha():
            value = ord(char.upper()) - ord("A") + 10
        else:
            value = {"*": 36, "@": 37, "#": 38}[char]
        if position % 2:
            value *= 2
        total += value // 10 + value % 10
    return str((10 - total % 10) % 10)


@dataclass(frozen=True, slots=True)
class BondSpec:
    """One Treasury note or bond line: face held in USD, coupon in percent a year."""

    code: str
    coupon_pct: Decimal
    maturity: date
    face_usd: Decimal
    cost_pct: Decimal  # what the legacy register carried it at, in percent of par

    @property
    def name(self) -> str:
        kind = "bond" if self.maturity.year - 2025 > 10 else "note"
        return (f"US Treasury {kind} {self.coupon_pct}% {self.maturity:%d %b %Y} "
                "(illustrative)")


def bond_universe(count: int = BOND_COUNT) -> tuple[BondSpec, ...]:
    """``count`` lines maturing 2027..2055; more short and medium notes than long bonds,
    as in a reserve manager's investment tranche."""
    rng = Generator(PCG64(UNIVERSE_SEED))
    bonds = []
    for number in range(count):
        years = 1.3 + 28.7 * float(rng.beta(1.3, 2.6))  # mostly 2-10 years out, a long tail
        year = min(2026 + max(int(years), 1), 2055)
        month = COUPON_MONTHS[int(rng.integers(len(COUPON_MONTHS)))]
        coupon = D(int(rng.integers(4, 41))) / 8  # 0.50 % .. 5.125 % in eighths
        face = D(int(rng.lognormal(3.4, 0.6))) * 1_000_000  # about USD 30M, 5M..200M
        cost = (D(96) + D(int(rng.integers(0, 600))) / 100).quantize(D("0.01"))
        body = f"{BOND_PREFIX}{number:03d}"
        bonds.append(BondSpec(body + cusip_check_digit(body), coupon.normalize(),
                              date(year, month, 15), max(face, D(5_000_000)), cost))
    return tuple(bonds)


SECTORS = {
    "Technology": ("Systems", "Software", "Semiconductor", "Networks", "Digital"),
    "Financials": ("Bancorp", "Financial", "Capital", "Insurance", "Trust"),
    "Health care": ("Therapeutics", "Health", "Medical", "Biosciences", "Pharma"),
    "Industrials": ("Industries", "Aerospace", "Logistics", "Machinery", "Rail"),
    "Consumer": ("Brands", "Foods", "Retail", "Apparel", "Motors"),
    "Energy": ("Energy", "Petroleum", "Resources", "Pipeline", "Power"),
    "Materials": ("Materials", "Chemicals", "Mining", "Steel", "Packaging"),
    "Utilities": ("Utilities", "Electric", "Water", "Gas", "Grid"),
    "Communication": ("Media", "Telecom", "Broadcasting", "Wireless", "Studios"),
    "Real estate": ("Realty", "Properties", "REIT", "Estates", "Towers"),
}
WORDS = ("Altair", "Borealis", "Cedar", "Dunmore", "Elmstead", "Fairhaven", "Granite",
         "Halcyon", "Ironwood", "Juniper", "Kestrel", "Larkspur", "Meridian", "Northwind",
         "Oakridge", "Pinecrest", "Quarry", "Redfern", "Silverton", "Thornbury", "Umber",
         "Valemont", "Westmark", "Yarrow", "Zephyr", "Ashgrove", "Bramble", "Copperline",
         "Driftwood", "Emberly", "Foxglove", "Glenmore", "Harrow", "Inglewood", "Jasper",
         "Kingsley", "Lumen", "Marlow", "Nettle", "Orchard")
#: Beta to the S&P 500 by sector: defensive sectors below one, cyclical above.
SECTOR_BETA = {"Technology": 1.25, "Financials": 1.1, "Health care": 0.8, "Industrials": 1.05,
               "Consumer": 0.95, "Energy": 1.0, "Materials": 1.05, "Utilities": 0.55,
               "Communication": 0.95, "Real estate": 0.85}


@dataclass(frozen=True, slots=True)
class EquitySpec:
    """A listed stock of the FX reserves' equity tranche (illustrative) and the synthetic
    market's parameters for it."""

    code: str
    ticker: str
    name: str
    sector: str
    venue: Venue
    beta: float  # to the S&P 500, on log returns
    vol: float  # own daily shock before the regime scale
    start: float  # price on its first day of history
    volume: float  # shares per session
    weight: float  # relative size in the tranche


def equity_universe(count: int = EQUITY_COUNT) -> tuple[EquitySpec, ...]:
    rng = Generator(PCG64(UNIVERSE_SEED + 1))
    sectors = list(SECTORS)
    names = [(word, sector, noun) for word in WORDS for sector in sectors
             for noun in SECTORS[sector]]
    chosen = rng.permutation(len(names))
    seen: set[str] = set()
    result = []
    for index in chosen:
        word, sector, noun = names[int(index)]
        ticker = _ticker(word, noun, seen)
        if ticker is None:
            continue
        seen.add(ticker)
        result.append(EquitySpec(
            f"EQ-{ticker}", ticker, f"{word} {noun} (illustrative)", sector,
            Venue.NASDAQ if sector in ("Technology", "Communication") else Venue.NYSE,
            round(SECTOR_BETA[sector] * float(rng.uniform(0.8, 1.2)), 3),
            round(float(rng.uniform(0.009, 0.022)), 4),
            round(float(rng.lognormal(4.2, 0.7)), 2),
            round(float(rng.lognormal(14.5, 0.9)), -3),
            round(float(rng.lognormal(0.0, 0.8)), 4)))
        if len(result) == count:
            break
    return tuple(result)


def _ticker(word: str, noun: str, taken: set[str]) -> str | None:
    """Three letters of the name and one of the noun; a later letter when taken."""
    for letter in noun:
        candidate = (word[:3] + letter).upper()
        if candidate.isalpha() and candidate not in taken:
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class SeizureCase:
    """One criminal case's seized coins: wallets per asset, and what the court decided."""

    case: str  # the case number of the financial-monitoring agency
    label: str  # the wallet label in the book: case-2025-014
    intake: date
    assets: tuple[tuple[str, Decimal], ...]  # (instrument, quantity)
    outcome: str  # pending, forfeited, moved (forfeited, then into the state fund), returned
    decided: date | None


def seizure_cases(first: date, last: date, count: int = SEIZURE_COUNT
                  ) -> tuple[SeizureCase, ...]:
    """``count`` cases opened between ``first`` and ``last``; older cases are more often
    decided. Quantities: a few coins to a few hundred BTC, ETH and USDT per case."""
    rng = Generator(PCG64(UNIVERSE_SEED + 2))
    span = (last - first).days
    days = sorted(int(d) for d in rng.integers(0, span - 30, count))
    cases = []
    for number, offset in enumerate(days, start=1):
        intake = date.fromordinal(first.toordinal() + offset)
        label = f"case-{intake.year}-{number:03d}"
        assets: list[tuple[str, Decimal]] = []
        for code, chance, mu, sigma, places in (("BTC", 0.75, 0.3, 1.3, 8),
                                                ("ETH", 0.4, 2.5, 1.5, 6),
                                                ("USDT", 0.45, 10.5, 1.3, 2)):
            if rng.random() < chance or (code == "USDT" and not assets):
                quantity = D(f"{float(rng.lognormal(mu, sigma)):.{places}f}")
                assets.append((code, max(quantity, D(1).scaleb(-places))))
        age = (last - intake).days
        draw = float(rng.random())
        decided = date.fromordinal(intake.toordinal() + 45 + int(rng.integers(0, 120)))
        if decided > last or draw < 0.45:
            outcome, decided_on = "pending", None
        elif draw < 0.53:
            outcome, decided_on = "returned", decided
        elif age > 200 and draw < 0.70:
            outcome, decided_on = "moved", decided
        else:
            outcome, decided_on = "forfeited", decided
        cases.append(SeizureCase(f"KZ-AFM-{intake.year}-{1000 + number:04d}", label, intake,
                                 tuple(assets), outcome, decided_on))
    return tuple(cases)
