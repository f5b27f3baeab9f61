"""What a market file holds, guessed from its name when the user does not say.

``BTC-USD.csv`` is the price of BTC in USD on the crypto calendar; ``USDKZT.csv`` is the
National Bank's USD/KZT rate, set for every calendar day; ``DGS10.csv`` is a FRED rate on
US federal business days (``DFEDTAR*``, the target range, is set for every day);
anything else (``IBIT.csv``, ``SPX.csv``) is a USD price on NYSE sessions. Every guess can
be overridden on the command line (``--series``, ``--calendar``, ``--currency``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from qoima.market.calendars import CalendarName
from qoima.market.series import SeriesId, SeriesKind

CRYPTO = frozenset({"BTC", "ETH", "BNB", "SOL", "XRP", "USDT", "USDC", "TON", "TRX", "ADA"})
CURRENCIES = frozenset({"USD", "KZT", "EUR", "GBP", "JPY", "CNY", "CHF", "RUB", "XAU", "XDR"})
RATE_PREFIXES = ("DGS", "EFFR", "FEDFUNDS", "SOFR", "DTB", "T10Y")
DAILY_RATE_PREFIXES = ("DFEDTAR",)


@dataclass(frozen=True, slots=True)
class SeriesGuess:
    series_id: SeriesId
    calendar: str
    currency: str | None


def guess_series(path: Path) -> SeriesGuess:
    stem = path.name.split(".")[0].upper()
    base, dash, quote = stem.partition("-")
    if dash and base in CRYPTO and quote in CURRENCIES:
        return SeriesGuess(SeriesId(SeriesKind.PRICE, base), CalendarName.CRYPTO, quote)
    pair = re.fullmatch(r"([A-Z]{3})/?([A-Z]{3})", stem)
    if pair and pair[1] in CURRENCIES and pair[2] in CURRENCIES and pair[1] != pair[2]:
        calendar = (CalendarName.DAILY if "KZT" in (pair[1], pair[2])
                    else CalendarName.WEEKDAYS)
        return SeriesGuess(SeriesId(SeriesKind.FX, f"{pair[1]}/{pair[2]}"), calendar, pair[2])
    if stem.startswith(DAILY_RATE_PREFIXES):
        return SeriesGuess(SeriesId(SeriesKind.RATE, stem), CalendarName.DAILY, None)
    if stem.startswith(RATE_PREFIXES):
        return SeriesGuess(SeriesId(SeriesKind.RATE, stem), CalendarName.US_FEDERAL, None)
    if stem in CRYPTO:
        return SeriesGuess(SeriesId(SeriesKind.PRICE, stem), CalendarName.CRYPTO, "USD")
    return SeriesGuess(SeriesId(SeriesKind.PRICE, stem), CalendarName.XNYS, "USD")
