from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest

from qoima.adapters.providers import yahoo
from qoima.adapters.providers.yahoo import (
    YahooSource,
    float_to_decimal,
    parse_history,
    yahoo_ticker,
    yfinance_history,
)
from qoima.market.calendars import CalendarName
from qoima.market.series import Bar, SeriesId, SeriesKind
from qoima.market.sources import (
    MalformedPayload,
    ProviderError,
    ProviderUnavailable,
    UnsupportedSeries,
)

SPX = SeriesId(SeriesKind.PRICE, "SPX")
COLUMNS = ["Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends", "Stock Splits"]


def history_frame(rows: list[tuple[str, float, float, float, float, int]],
                  tz: str = "America/New_York") -> pd.DataFrame:
    """A frame as ``Ticker.history(auto_adjust=False)`` returns it: float64 prices holding
    Yahoo's float32 values, int64 volume, tz-aware index named 'Date'."""
    index = pd.DatetimeIndex([pd.Timestamp(day) for day, *_ in rows], name="Date").tz_localize(tz)
    data: dict[str, Any] = {
        "Open": [r[1] for r in rows], "High": [r[2] for r in rows],
        "Low": [r[3] for r in rows], "Close": [r[4] for r in rows],
        "Adj Close": [r[4] for r in rows],
        "Volume": np.array([r[5] for r in rows], dtype="int64"),
        "Dividends": [0.0] * len(rows), "Stock Splits": [0.0] * len(rows),
    }
    return pd.DataFrame(data, index=index, columns=COLUMNS)


# ^GSPC, 2024-01-02 and 01-03, exactly the floats Yahoo sends (float32 values of the quotes).
GSPC = [
    ("2024-01-02", 4745.2001953125, 4754.330078125, 4722.669921875, 4742.830078125, 3743050000),
    ("2024-01-03", 4725.06982421875, 4729.2900390625, 4699.7099609375, 4704.81005859375,
     3950760000),
]


class FakeHistory:
    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.calls: list[tuple[str, date, date]] = []

    def __call__(self, symbol: str, start: date, end_exclusive: date) -> pd.DataFrame:
        self.calls.append((symbol, start, end_exclusive))
        return self.frame


def test_history_frame_parses_to_the_quoted_decimals() -> None:
    fake = FakeHistory(history_frame(GSPC))
    series = YahooSource(history=fake).fetch(SPX, date(2024, 1, 2), date(2024, 1, 3))
    assert series.bars == (
        Bar(date(2024, 1, 2), close=Decimal("4742.83"), open=Decimal("4745.2"),
            high=Decimal("4754.33"), low=Decimal("4722.67"), volume=Decimal(3743050000)),
        Bar(date(2024, 1, 3), close=Decimal("4704.81"), open=Decimal("4725.07"),
            high=Decimal("4729.29"), low=Decimal("4699.71"), volume=Decimal(3950760000)),
    )
    assert fake.calls == [("^GSPC", date(2024, 1, 2), date(2024, 1, 4))]  # end is exclusive
    assert (series.source, series.calendar, series.currency) == ("yahoo", CalendarName.XNYS,
                                                                  "USD")


def test_crypto_in_utc_and_rows_outside_the_range_or_without_close_dropped() -> None:
    frame = history_frame([
        ("2024-01-01", 42280.23046875, 44184.0, 42180.7734375, 44179.12890625, 18092702226),
        ("2024-01-02", 44187.140625, 45899.70703125, 44176.94921875, float("nan"), 0),
        ("2024-01-03", 45000.0, 45500.0, 44000.0, 44950.5, 1),
    ], tz="UTC")
    fake = FakeHistory(frame)
    series = YahooSource(history=fake).fetch(SeriesId(SeriesKind.PRICE, "BTC"),
                                             date(2024, 1, 1), date(2024, 1, 2))
    assert series.bars == (Bar(date(2024, 1, 1), close=Decimal("44179.13"),
                               open=Decimal("42280.23"), high=Decimal(44184),
                               low=Decimal("42180.773"), volume=Decimal(18092702226)),)
    assert fake.calls[0][0] == "BTC-USD"
    assert series.calendar == CalendarName.CRYPTO


def test_fx_maps_to_yahoo_pair_and_drops_meaningless_volume() -> None:
    frame = history_frame([("2024-01-02", 456.0, 457.0, 455.0, 470.1199951171875, 0)],
                          tz="Europe/London")
    fake = FakeHistory(frame)
    series = YahooSource(history=fake).fetch(SeriesId(SeriesKind.FX, "USD/KZT"),
                                             date(2024, 1, 2), date(2024, 1, 2))
    assert fake.calls[0][0] == "KZT=X"
    assert series.bars[0].close == Decimal("470.12")
    assert series.bars[0].volume is None
    assert (series.currency, series.calendar) == ("KZT", CalendarName.WEEKDAYS)


@pytest.mark.parametrize(("series_id", "ticker"), [
    (SeriesId(SeriesKind.PRICE, "BTC"), "BTC-USD"),
    (SeriesId(SeriesKind.PRICE, "ETH"), "ETH-USD"),
    (SeriesId(SeriesKind.PRICE, "BNB"), "BNB-USD"),
    (SeriesId(SeriesKind.PRICE, "XAU"), "GC=F"),
    (SeriesId(SeriesKind.PRICE, "WTI"), "CL=F"),
    (SeriesId(SeriesKind.PRICE, "DXY"), "DX-Y.NYB"),
    (SeriesId(SeriesKind.PRICE, "SPX"), "^GSPC"),
    (SeriesId(SeriesKind.PRICE, "IBIT"), "IBIT"),
    (SeriesId(SeriesKind.FX, "USD/KZT"), "KZT=X"),
    (SeriesId(SeriesKind.FX, "EUR/USD"), "EURUSD=X"),
    (SeriesId(SeriesKind.RATE, "DGS10"), None),
])
def test_ticker_map(series_id: SeriesId, ticker: str | None) -> None:
    assert yahoo_ticker(series_id) == ticker


def test_rates_are_not_supported() -> None:
    source = YahooSource(history=FakeHistory(history_frame(GSPC)))
    assert not source.supports(SeriesId(SeriesKind.RATE, "DGS10"))
    with pytest.raises(UnsupportedSeries):
        source.fetch(SeriesId(SeriesKind.RATE, "DGS10"), date(2024, 1, 1), date(2024, 1, 2))


@pytest.mark.parametrize(("value", "expected"), [
    (182.52000427246094, "182.52"),  # float32 noise of a quoted 182.52
    (104123.453125, "104123.45"),  # float32 of 104123.45: 8 significant digits are real
    (4.0649999999999995, "4.065"),  # float64 arithmetic noise
    (0.1, "0.1"),
    (100.0, "100"),
])
def test_float_to_decimal(value: float, expected: str) -> None:
    assert float_to_decimal(value) == Decimal(expected)
    assert str(float_to_decimal(value)) == expected


def test_empty_frame_is_no_bars_and_missing_columns_are_malformed() -> None:
    empty = pd.DataFrame(columns=COLUMNS, index=pd.DatetimeIndex([], name="Date", tz="UTC"))
    assert parse_history(empty, "BTC-USD") == ()
    with pytest.raises(MalformedPayload) as caught:
        parse_history(history_frame(GSPC).drop(columns=["Close"]), "^GSPC")
    assert caught.value.field == "Close"
    assert "yahoo" in caught.value.message
    with pytest.raises(MalformedPayload):
        parse_history({"Close": [1.0]}, "^GSPC")


class _FakeTicker:
    error: Exception

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol

    def history(self, **kwargs: Any) -> pd.DataFrame:
        assert kwargs["raise_errors"] is True
        assert kwargs["auto_adjust"] is False
        raise self.error


def test_default_fetch_maps_network_and_yahoo_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    import yfinance  # type: ignore[import-untyped]
    from curl_cffi.requests.exceptions import ConnectionError as CurlConnectionError
    from yfinance.exceptions import (  # type: ignore[import-untyped]
        YFPricesMissingError,
        YFRateLimitError,
    )

    monkeypatch.setattr(yfinance, "Ticker", _FakeTicker)
    _FakeTicker.error = CurlConnectionError("Could not resolve host: query2.finance.yahoo.com")
    with pytest.raises(ProviderUnavailable, match="yahoo is unreachable"):
        yfinance_history("^GSPC", date(2024, 1, 2), date(2024, 1, 4))
    _FakeTicker.error = YFRateLimitError()
    with pytest.raises(ProviderError) as caught:
        yfinance_history("^GSPC", date(2024, 1, 2), date(2024, 1, 4))
    assert caught.value.details["status"] == 429
    _FakeTicker.error = YFPricesMissingError("NOPE", "")
    with pytest.raises(ProviderError, match="no data for NOPE"):
        yfinance_history("NOPE", date(2024, 1, 2), date(2024, 1, 4))
    assert yahoo.YahooSource().history is yfinance_history
