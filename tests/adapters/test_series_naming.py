"""Guessing what a market file holds from its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from qoima.adapters.series_naming import guess_series
from qoima.domain.errors import InvalidInput
from qoima.market.series import SeriesId, SeriesKind


@pytest.mark.parametrize(("name", "series", "calendar", "currency"), [
    ("BTC-USD.csv", "price:BTC", "crypto", "USD"),
    ("eth-usd.parquet", "price:ETH", "crypto", "USD"),
    ("USDKZT.csv", "fx:USD/KZT", "daily", "KZT"),
    ("EURUSD.csv", "fx:EUR/USD", "weekdays", "USD"),
    ("DGS10.csv", "rate:DGS10", "us-federal", None),
    ("DFEDTARU.csv", "rate:DFEDTARU", "daily", None),
    ("IBIT.csv", "price:IBIT", "xnys", "USD"),
    ("SPX.csv", "price:SPX", "xnys", "USD"),
    ("BNB.csv", "price:BNB", "crypto", "USD"),
])
def test_guess_from_file_name(name: str, series: str, calendar: str,
                              currency: str | None) -> None:
    guess = guess_series(Path("/data") / name)
    assert (str(guess.series_id), guess.calendar, guess.currency) == (series, calendar,
                                                                       currency)


def test_series_id_parse() -> None:
    assert SeriesId.parse("fx:USD/KZT") == SeriesId(SeriesKind.FX, "USD/KZT")
    assert SeriesId.parse("fx:USD/KZT").fx_pair == ("USD", "KZT")
    assert SeriesId.parse("BTC") == SeriesId(SeriesKind.PRICE, "BTC")
    assert str(SeriesId.parse("rate:DGS2")) == "rate:DGS2"
    with pytest.raises(InvalidInput, match="unknown series kind 'bond'"):
        SeriesId.parse("bond:UST10")
