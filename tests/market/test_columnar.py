"""ColumnarBars behaves as the tuple of Bars it holds, and the vectorized quality checks
over it report exactly what the row-by-row checks report."""

from __future__ import annotations

import operator
import pickle
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qoima.market.calendars import CalendarName, get_calendar
from qoima.market.quality import GAP, JUMP, STALE_CLOSE, QualityLimits, check_series
from qoima.market.series import Bar, ColumnarBars, Series, SeriesId, SeriesKind, bars_hash

D = Decimal
BARS = (
    Bar(date(2024, 1, 2), D("10.50"), D("10"), D("11"), D("9.5"), D("1200")),
    Bar(date(2024, 1, 3), D("10.7"), None, D("10.9"), None, None),
    Bar(date(2024, 1, 5), D("1E+1"), D("10.1"), D("10.2"), D("9.9"), D("0")),
)


def test_columnar_bars_equal_and_index_like_the_tuple() -> None:
    columnar = ColumnarBars.from_bars(BARS)
    assert len(columnar) == 3
    assert columnar == BARS
    assert operator.eq(BARS, columnar)  # the tuple defers to ColumnarBars.__eq__
    assert not operator.ne(columnar, BARS)
    assert columnar == list(BARS)
    assert columnar != BARS[:2] and columnar != (*BARS[:2], BARS[0])
    assert columnar[0] == BARS[0] and columnar[-1] == BARS[-1]
    assert columnar[1].open is None and columnar[1].volume is None
    assert str(columnar[0].close) == "10.50"  # the text's exponent is kept
    assert columnar[1:] == BARS[1:] and columnar[::-1] == BARS[::-1] and columnar[5:] == ()
    with pytest.raises(IndexError):
        columnar[3]
    with pytest.raises(IndexError):
        columnar[-4]
    assert tuple(columnar) == BARS and list(reversed(columnar)) == list(reversed(BARS))
    assert tuple(columnar) is not None and columnar.bars() is columnar.bars()  # cached
    assert columnar[2] == BARS[2]  # indexing after materializing
    assert hash(columnar) == hash(BARS)
    assert BARS[1] in columnar and columnar.index(BARS[2]) == 2
    assert columnar == ColumnarBars.from_bars(BARS)
    assert bars_hash(columnar) == bars_hash(BARS)
    assert pickle.loads(pickle.dumps(columnar)) == BARS
    assert columnar != "abc"


def test_columnar_bars_columns_and_validation() -> None:
    columnar = ColumnarBars.from_bars(BARS)
    assert columnar.day_ordinals.tolist() == [bar.day.toordinal() for bar in BARS]
    assert columnar.close_float.tolist() == [10.5, 10.7, 10.0]
    opens = columnar.float_column("open")
    assert opens is not None and np.isnan(opens[1])
    assert columnar.decimal("high", 2) == D("10.2") and columnar.decimal("low", 1) is None
    assert columnar.day(2) == date(2024, 1, 5)
    with pytest.raises(ValueError):
        columnar.day_ordinals[0] = 1  # read-only
    only_close = ColumnarBars.from_bars([Bar(date(2024, 1, 1), D(1))])
    assert only_close.float_column("volume") is None
    with pytest.raises(ValueError):
        ColumnarBars(np.array([1]), [None] * 5, [None] * 5)
    with pytest.raises(ValueError):
        ColumnarBars(np.array([1]), [["1"]], [np.array([1.0])])
    with pytest.raises(ValueError):
        ColumnarBars(np.array([1, 2]), [["1"], None, None, None, None],
                     [np.array([1.0]), None, None, None, None])


def test_a_series_with_columnar_bars_equals_one_with_a_tuple() -> None:
    sid = SeriesId(SeriesKind.PRICE, "X")
    columnar = Series(sid, ColumnarBars.from_bars(BARS), "s", "crypto")
    plain = Series(sid, BARS, "s", "crypto")
    assert columnar == plain and hash(columnar) == hash(plain)
    assert columnar.first_date == date(2024, 1, 2) and columnar.last_date == date(2024, 1, 5)


# --- the vectorized checks equal the row checks --------------------------------------------

VALUES = ("0", "-0", "-1", "-0.5", "1", "1.0", "1.00", "2", "2.5", "3", "100", "1e-400",
          "-1e-400", "1.00000000000000001", "1.00000000000000002", "0.99999999999999999")
KINDS = (SeriesKind.PRICE, SeriesKind.FX, SeriesKind.RATE)
CALENDARS = (CalendarName.CRYPTO, CalendarName.XNYS, CalendarName.WEEKDAYS,
             CalendarName.US_FEDERAL)


def values(optional: bool) -> st.SearchStrategy[Decimal | None]:
    number = st.one_of(st.sampled_from(VALUES).map(Decimal),
                       st.integers(-50, 5000).map(lambda i: Decimal(i) / 100))
    return st.one_of(st.none(), number) if optional else number


@st.composite
def bar_lists(draw: Any) -> list[Bar]:
    n = draw(st.integers(0, 70))
    ordered = draw(st.booleans())
    steps = st.integers(1, 9) if ordered else st.integers(-3, 6)
    day = date(2023, 12, 20) + timedelta(days=draw(st.integers(0, 400)))
    walk = draw(st.booleans())  # a random walk with rare jumps, or values from a small set
    close = Decimal(100)
    bars = []
    for _ in range(n):
        day += timedelta(days=draw(steps))
        if walk:
            move = draw(st.sampled_from((0, 0, 1, -1, 2, -2, 3, 40, -30)))
            close = max(Decimal("0.01"), close + Decimal(move) / 10)
            value = close
        else:
            value = draw(values(False))  # type: ignore[assignment]
        bars.append(Bar(day, value, draw(values(True)), draw(values(True)), draw(values(True)),
                        draw(values(True))))
    return bars


limits_strategy = st.builds(
    QualityLimits, max_missing_sessions=st.integers(0, 4), stale_sessions=st.integers(2, 6),
    jump_sigmas=st.sampled_from((2.0, 4.0, 8.0)), jump_min_returns=st.integers(2, 20),
    allow_non_positive=st.booleans(), strict_ohlc=st.booleans())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=bar_lists(), kind=st.sampled_from(KINDS), calendar=st.sampled_from(CALENDARS),
       limits=limits_strategy, with_lines=st.booleans())
def test_vectorized_checks_report_what_the_row_checks_report(
        bars: list[Bar], kind: SeriesKind, calendar: str, limits: QualityLimits,
        with_lines: bool) -> None:
    sid = SeriesId(kind, "X")
    lines = [n * 2 + 3 for n in range(len(bars))] if with_lines else None
    cal = get_calendar(calendar)
    rows = check_series(sid, tuple(bars), cal, source_name="x.csv", lines=lines, limits=limits)
    columns = check_series(sid, ColumnarBars.from_bars(bars), cal, source_name="x.csv",
                           lines=lines, limits=limits)
    assert columns == rows


def test_vectorized_checks_find_gaps_stale_runs_and_jumps() -> None:
    days = get_calendar(CalendarName.XNYS).sessions(date(2024, 1, 2), date(2024, 6, 28))
    del days[40:46]  # six sessions missing
    closes = [D(100) + D(n % 7) / 10 for n in range(len(days))]
    closes[10:16] = [D("101.00")] * 6  # stale
    closes[70] = D(180)  # jump up and back
    bars = [Bar(day, close) for day, close in zip(days, closes, strict=True)]
    sid = SeriesId(SeriesKind.PRICE, "X")
    cal = get_calendar(CalendarName.XNYS)
    rows = check_series(sid, bars, cal, source_name="t")
    columns = check_series(sid, ColumnarBars.from_bars(bars), cal, source_name="t")
    assert columns == rows
    assert {GAP, STALE_CLOSE, JUMP} <= {w.rule for w in columns.warnings}
