"""Yahoo Finance daily bars through ``yfinance`` (crypto, gold and oil futures, indices, FX).

yfinance hands back a pandas DataFrame of floats; this module turns it into exact
``Decimal`` bars (see :func:`float_to_decimal` for how the float noise is removed) and maps
qoima codes to Yahoo tickers. The network call is one injectable function, so tests pass a
DataFrame shaped exactly as yfinance returns it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Context, Decimal
from typing import Any

import numpy as np

from qoima.adapters.providers import CONNECT_TIMEOUT_S
from qoima.adapters.series_naming import CRYPTO
from qoima.market.calendars import CalendarName
from qoima.market.series import Bar, Series, SeriesId, SeriesKind
from qoima.market.sources import (
    MalformedPayload,
    ProviderError,
    ProviderUnavailable,
    UnsupportedSeries,
)

TICKERS: Mapping[str, str] = {
    "BTC": "BTC-USD",
    "ETH": "ETH-USD",
    "BNB": "BNB-USD",
    "XAU": "GC=F",  # COMEX gold front month, USD per troy ounce
    "WTI": "CL=F",  # NYMEX WTI front month, USD per barrel
    "DXY": "DX-Y.NYB",
    "SPX": "^GSPC",
}
FX_TICKERS: Mapping[str, str] = {"USD/KZT": "KZT=X"}
PRICE_COLUMNS = ("Open", "High", "Low", "Close")

# A float64 that is not a float32 value carries genuine float64 digits plus arithmetic
# noise (4.0649999999999995); 15 significant digits is DBL_DIG, the most any decimal can
# keep through a float64 round trip, so rounding there drops only the noise.
FLOAT64_SIGNIFICANT_DIGITS = 15
_FLOAT64_CONTEXT = Context(prec=FLOAT64_SIGNIFICANT_DIGITS)

# (symbol, start, end_exclusive) -> DataFrame as ``yfinance.Ticker.history`` returns it
HistoryFetch = Callable[[str, date, date], Any]


def float_to_decimal(value: float) -> Decimal | None:
    """Exact decimal for one yfinance float; None for NaN (a missing value).

    Yahoo stores prices as 32-bit floats, so a close of 182.52 arrives as
    182.52000427246094: ``Decimal(repr(x))`` would keep digits nobody quoted. When the value
    is exactly a float32, the shortest decimal that round-trips through float32 is what Yahoo
    was given (about 7 significant digits, 8 for BTC above 100 000 - a fixed digit count
    would cut real digits there or keep noise at 5 000). Any other value is
    ``Decimal(repr(x))`` rounded to :data:`FLOAT64_SIGNIFICANT_DIGITS`.
    """
    number = float(value)
    if math.isnan(number):
        return None
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {number!r}")
    single = np.float32(number)
    if math.isfinite(float(single)) and float(single) == number:
        text = np.format_float_positional(single, unique=True, trim="-")
        return Decimal(text)
    return _trim(_FLOAT64_CONTEXT.create_decimal(repr(number)))


def _volume(value: float) -> Decimal | None:
    """Volumes are counts: whole numbers stay exact integers (no float32 shortening)."""
    number = float(value)
    if math.isfinite(number) and number.is_integer():
        return Decimal(int(number))
    return float_to_decimal(number)


def _trim(value: Decimal) -> Decimal:
    """Drop trailing zeros without going to exponent form (100, not 1E+2)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def yahoo_ticker(series_id: SeriesId) -> str | None:
    """The Yahoo ticker for a qoima series id, None where Yahoo has no such series.

    Prices map through :data:`TICKERS` and otherwise pass as they are (``IBIT``); an FX pair
    ``USD/XYZ`` is Yahoo's ``XYZ=X`` (units of XYZ per USD), ``ABC/XYZ`` is ``ABCXYZ=X``.
    """
    if series_id.kind is SeriesKind.PRICE:
        return TICKERS.get(series_id.code, series_id.code) if series_id.code else None
    if series_id.kind is SeriesKind.FX:
        if series_id.code in FX_TICKERS:
            return FX_TICKERS[series_id.code]
        base, quote = series_id.fx_pair
        if len(base) != 3 or len(quote) != 3:
            return None
        return f"{quote}=X" if base == "USD" else f"{base}{quote}=X"
    return None


def yfinance_history(symbol: str, start: date, end_exclusive: date) -> Any:
    """Daily unadjusted bars from Yahoo; network and Yahoo errors become provider errors.

    ``raise_errors=True`` because yfinance otherwise logs a failure and returns an empty
    DataFrame, which would read as "no trading days" instead of "could not ask".
    """
    import yfinance  # type: ignore[import-untyped]  # imported late: slow, network stack
    from yfinance import exceptions as yf_errors

    # yfinance logs each failure on its own before raising; the error we raise says it once
    logging.getLogger("yfinance").setLevel(logging.CRITICAL)
    try:
        return yfinance.Ticker(symbol).history(
            start=start.isoformat(), end=end_exclusive.isoformat(), interval="1d",
            auto_adjust=False, timeout=CONNECT_TIMEOUT_S, raise_errors=True)
    except yf_errors.YFRateLimitError as error:
        raise ProviderError(f"yahoo refused the request: HTTP 429 rate limited ({error})",
                            provider="yahoo", status=429) from error
    except yf_errors.YFException as error:
        raise ProviderError(f"yahoo has no data for {symbol}: {error}", provider="yahoo",
                            ticker=symbol) from error
    except OSError as error:  # curl_cffi connection/timeout/DNS errors are OSErrors
        raise ProviderUnavailable(f"yahoo is unreachable (offline?): {type(error).__name__}: "
                                  f"{error}", provider="yahoo", ticker=symbol) from error


@dataclass(frozen=True, slots=True)
class YahooSource:
    """Prices (USD) and FX pairs from Yahoo; rates are FRED's business."""

    history: HistoryFetch = field(default=yfinance_history)
    name: str = "yahoo"

    def supports(self, series_id: SeriesId) -> bool:
        return yahoo_ticker(series_id) is not None

    def fetch(self, series_id: SeriesId, since: date, until: date) -> Series:
        ticker = yahoo_ticker(series_id)
        if ticker is None:
            raise UnsupportedSeries(f"{self.name} has no ticker for {series_id}",
                                    field="series", provider=self.name)
        # yfinance's ``end`` is exclusive; our ``until`` is inclusive.
        frame = self.history(ticker, since, until + timedelta(days=1))
        bars = parse_history(frame, ticker, provider=self.name,
                             keep_volume=series_id.kind is not SeriesKind.FX)
        if series_id.kind is SeriesKind.FX:
            calendar, currency = CalendarName.WEEKDAYS, series_id.fx_pair[1]
        elif series_id.code in CRYPTO:
            calendar, currency = CalendarName.CRYPTO, "USD"
        else:  # US indices and CME futures close on (about) NYSE days
            calendar, currency = CalendarName.XNYS, "USD"
        return Series(id=series_id, bars=tuple(b for b in bars if since <= b.day <= until),
                      source=self.name, calendar=calendar, currency=currency)


def parse_history(frame: Any, ticker: str, *, provider: str = "yahoo",
                  keep_volume: bool = True) -> tuple[Bar, ...]:
    """Bars from a ``Ticker.history`` DataFrame; rows without a close are skipped.

    The day is the index's date in the exchange's own time zone, as Yahoo labels it.
    Yahoo reports FX "volume" as 0: ``keep_volume=False`` drops it rather than claim it.
    """
    columns = getattr(frame, "columns", None)
    if columns is None:
        raise MalformedPayload(f"{provider} {ticker}: expected a DataFrame, got "
                               f"{type(frame).__name__}", field="body", provider=provider)
    if len(frame) == 0:
        return ()
    for column in (*PRICE_COLUMNS, "Volume"):
        if column not in columns:
            raise MalformedPayload(f"{provider} {ticker}: column {column!r} is missing "
                                   f"(have {', '.join(map(str, columns))})", field=column,
                                   provider=provider)
    index = frame.index
    if not hasattr(index, "tz") or not hasattr(index, "date"):
        raise MalformedPayload(f"{provider} {ticker}: index is not a DatetimeIndex",
                               field="Date", provider=provider)
    days = index.date
    values = {column: frame[column].to_numpy(dtype="float64", na_value=np.nan)
              for column in (*PRICE_COLUMNS, "Volume")}
    by_day: dict[date, Bar] = {}
    for row, day in enumerate(days):
        try:
            close = float_to_decimal(values["Close"][row])
            if close is None:
                continue
            opened, high, low = (float_to_decimal(values[c][row]) for c in PRICE_COLUMNS[:3])
            volume = _volume(values["Volume"][row]) if keep_volume else None
        except ValueError as error:
            raise MalformedPayload(f"{provider} {ticker} on {day}: {error}", field="Close",
                                   provider=provider) from None
        # A repeated day (Yahoo's live row next to the day's bar) keeps the later row.
        by_day[day] = Bar(day=day, close=close, open=opened, high=high, low=low, volume=volume)
    return tuple(by_day[day] for day in sorted(by_day))
