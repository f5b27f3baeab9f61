"""As-of index: latest bar on or before a date, exact closes, staleness, and speed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoima.domain.errors import InvalidInput
from qoima.market.asof import AsOfIndex
from qoima.market.calendars import CalendarName, get_calendar
from qoima.market.series import Bar, Series, SeriesId, SeriesKind

XNYS = get_calendar(CalendarName.XNYS)


def make_series(text: str, closes: dict[date, str], calendar: str = "xnys") -> Series:
    bars = tuple(Bar(day, Decimal(close)) for day, close in sorted(closes.items()))
    return Series(SeriesId.parse(text), bars, "test", calendar, "USD")


SPY = make_series("price:SPY", {date(2024, 11, 26): "598.83", date(2024, 11, 27): "597.19",
                                date(2024, 11, 29): "602.55", date(2024, 12, 2): "603.63"})
USDKZT = make_series("fx:USD/KZT", {date(2024, 11, 29): "0.1", date(2024, 11, 30): "0.2"},
                     calendar="crypto")


def test_lookup_latest_bar_on_or_before() -> None:
    index = AsOfIndex.from_series([SPY, USDKZT])
    assert index.lookup("SPY", date(2024, 11, 25)) is None  # before the first bar
    assert index.lookup("SPY", date(2024, 11, 27)) == SPY.bars[1]  # exact date
    assert index.lookup("SPY", date(2024, 11, 28)) == SPY.bars[1]  # Thanksgiving
    assert index.lookup("SPY", date(2024, 12, 1)) == SPY.bars[2]  # Sunday
    assert index.lookup("SPY", date(2030, 1, 1)) == SPY.bars[3]  # after the last
    assert index.lookup(SeriesId(SeriesKind.PRICE, "SPY"), date(2024, 12, 2)) == SPY.bars[3]
    assert index.lookup("price:SPY", date(2024, 12, 2)) == SPY.bars[3]
    assert index.lookup("USD/KZT", date(2024, 12, 5)) == USDKZT.bars[1]
    assert index.lookup("QQQ", date(2024, 12, 2)) is None  # unknown: a missing price
    assert index.lookup("fx:SPY", date(2024, 12, 2)) is None
    assert "SPY" in index and "fx:USD/KZT" in index and "QQQ" not in index
    assert set(index.series_ids) == {SPY.id, USDKZT.id}


def test_close_as_of_is_exact() -> None:
    index = AsOfIndex.from_series([SPY, USDKZT])
    assert index.close_as_of("USD/KZT", date(2024, 11, 29)) == (date(2024, 11, 29),
                                                                Decimal("0.1"))
    day, close = index.close_as_of("SPY", date(2024, 11, 28)) or (None, None)
    assert (day, close) == (date(2024, 11, 27), Decimal("597.19"))
    assert isinstance(close, Decimal) and str(close) == "597.19"
    assert index.close_as_of("SPY", date(2024, 1, 1)) is None


def test_staleness_counts_sessions_since_the_last_bar() -> None:
    index = AsOfIndex.from_series([SPY])
    assert index.staleness("SPY", date(2024, 11, 27), XNYS) == 0
    assert index.staleness("SPY", date(2024, 11, 28), XNYS) == 0  # Thanksgiving: closed
    assert index.staleness("SPY", date(2024, 12, 1), XNYS) == 0  # weekend after Friday
    weekdays = get_calendar(CalendarName.WEEKDAYS)
    assert index.staleness("SPY", date(2024, 11, 28), weekdays) == 1
    assert index.staleness("SPY", date(2024, 12, 4), XNYS) == 2  # Tue, Wed missing
    assert index.staleness("SPY", date(2024, 11, 1), XNYS) is None
    assert index.staleness("QQQ", date(2024, 12, 4), XNYS) is None


def test_lookup_many_matches_lookup_for_any_order_and_input_type() -> None:
    index = AsOfIndex.from_series([SPY])
    days = [date(2024, 11, 20) + timedelta(days=i) for i in range(20)]
    shuffled = days[::-1][::2] + days[::2]
    expected = [index.lookup("SPY", d) for d in shuffled]
    assert index.lookup_many("SPY", shuffled) == expected
    assert index.lookup_many("SPY", np.array(shuffled, dtype="datetime64[D]")) == expected
    assert index.lookup_many("SPY", []) == []
    assert index.lookup_many("QQQ", days[:3]) == [None, None, None]
    closes = index.closes_many("SPY", shuffled)
    assert closes.shape == (len(shuffled),)
    for close, bar in zip(closes, expected, strict=True):
        assert np.isnan(close) if bar is None else close == float(bar.close)
    assert np.isnan(index.closes_many("QQQ", days[:2])).all()


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInput, match="twice"):
        AsOfIndex.from_series([SPY, SPY])
    unordered = Series(SPY.id, SPY.bars[::-1], "test", "xnys", "USD")
    with pytest.raises(InvalidInput, match="ascending"):
        AsOfIndex.from_series([unordered])
    rate = make_series("rate:SPY", {date(2024, 1, 2): "4.0"})
    index = AsOfIndex.from_series([SPY, rate])
    with pytest.raises(InvalidInput, match="several series"):
        index.lookup("SPY", date(2024, 12, 2))
    assert index.lookup("rate:SPY", date(2024, 12, 2)) == rate.bars[0]
    assert "SPY" in index and "fx:SPY" not in index and 3 not in index


# --- agreement with pandas and with a brute-force scan ---------------------------------

def _random_series(rng: np.random.Generator, n_bars: int) -> Series:
    offsets = np.sort(rng.choice(9_000, size=n_bars, replace=False))
    closes = rng.integers(1, 10**8, size=n_bars)
    return Series(SeriesId(SeriesKind.PRICE, "BTC"),
                  tuple(Bar(date(2000, 1, 1) + timedelta(days=int(o)), Decimal(int(c)) / 100)
                        for o, c in zip(offsets, closes, strict=True)),
                  "test", "crypto", "USD")


def test_agrees_with_pandas_asof_on_random_dates() -> None:
    rng = np.random.default_rng(11)
    series = _random_series(rng, 3_000)
    index = AsOfIndex.from_series([series])
    frame = pd.Series([float(b.close) for b in series.bars],
                      index=pd.DatetimeIndex([b.day for b in series.bars]))
    days = [date(2000, 1, 1) + timedelta(days=int(o)) for o in rng.integers(-30, 9_100, 2_000)]
    expected = frame.asof(pd.DatetimeIndex(days)).to_numpy()
    np.testing.assert_array_equal(index.closes_many("BTC", days), expected)
    bars = index.lookup_many("BTC", days)
    as_floats = [np.nan if b is None else float(b.close) for b in bars]
    np.testing.assert_array_equal(as_floats, expected)
    for day in days[:200]:
        close = index.close_as_of("BTC", day)
        scalar = frame.asof(pd.Timestamp(day))
        assert np.isnan(scalar) if close is None else float(close[1]) == scalar


@st.composite
def bars_and_dates(draw: st.DrawFn) -> tuple[tuple[Bar, ...], list[date]]:
    offsets = sorted(draw(st.sets(st.integers(0, 400), max_size=50)))
    bars = tuple(Bar(date(2024, 1, 1) + timedelta(days=o),
                     draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**6),
                                      places=2)))
                 for o in offsets)
    queries = draw(st.lists(st.integers(-5, 410), max_size=30))
    return bars, [date(2024, 1, 1) + timedelta(days=q) for q in queries]


@settings(max_examples=100, deadline=None)
@given(case=bars_and_dates())
def test_lookup_equals_a_brute_force_scan(case: tuple[tuple[Bar, ...], list[date]]) -> None:
    bars, days = case
    index = AsOfIndex.from_series([Series(SeriesId(SeriesKind.PRICE, "X"), bars, "test",
                                          "crypto", "USD")])
    expected = []
    for day in days:
        on_or_before = [bar for bar in bars if bar.day <= day]
        expected.append(on_or_before[-1] if on_or_before else None)
    assert [index.lookup("X", d) for d in days] == expected
    assert index.lookup_many("X", days) == expected

