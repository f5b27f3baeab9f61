"""Alignment of mixed-calendar series and the returns computed from it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.market.calendars import CalendarName, get_calendar
from qoima.market.returns import (
    DROPPED_SESSIONS,
    NO_HISTORY,
    STALE_GAP,
    AlignmentRule,
    ReturnMeasure,
    StaleGap,
    align_closes,
    changes,
    log_returns,
    simple_returns,
)
from qoima.market.series import Bar, Series, SeriesId, SeriesKind

XNYS = get_calendar(CalendarName.XNYS)
WEEKDAYS = get_calendar(CalendarName.WEEKDAYS)
CRYPTO = get_calendar(CalendarName.CRYPTO)


def make_series(code: str, closes: Mapping[date, float | str], *,
                kind: SeriesKind = SeriesKind.PRICE, calendar: str = "xnys",
                currency: str | None = "USD") -> Series:
    bars = tuple(Bar(day, Decimal(str(close))) for day, close in sorted(closes.items()))
    return Series(SeriesId(kind, code), bars, "test", calendar, currency)


def daily(start: date, closes: list[float], *, skip: frozenset[date] = frozenset()
          ) -> dict[date, float]:
    """Closes on consecutive calendar days from ``start``, leaving out ``skip``."""
    out = {}
    for offset, close in enumerate(closes):
        day = start + timedelta(days=offset)
        if day not in skip:
            out[day] = close
    return out


# --- the worked example and holidays ---------------------------------------------------

def test_weekend_crypto_moves_compound_into_monday() -> None:
    fri, sat, sun, mon = (date(2024, 3, 8) + timedelta(days=i) for i in range(4))
    btc = make_series("BTC", {fri: 100, sat: 110, sun: 90, mon: 99}, calendar="crypto")
    aligned = align_closes({"BTC": btc}, XNYS, fri, mon, rule=AlignmentRule.COMPOUND)
    assert aligned.dates == (fri, mon)
    assert aligned.column("BTC").tolist() == [100.0, 99.0]
    returns = log_returns(aligned)
    assert returns.start_dates == (fri,) and returns.dates == (mon,)
    assert returns.values.shape == (1, 1)
    assert returns.column("BTC")[0] == pytest.approx(math.log(99 / 100), abs=1e-15)
    # the same as compounding the three crypto days
    assert returns.column("BTC")[0] == pytest.approx(
        math.log(110 / 100) + math.log(90 / 110) + math.log(99 / 90), abs=1e-15)
    # and not the accident of dropping weekend rows after computing daily returns
    assert returns.column("BTC")[0] != pytest.approx(math.log(99 / 90))
    assert simple_returns(aligned).column("BTC")[0] == pytest.approx(-0.01, abs=1e-15)
    assert aligned.warnings == () and returns.rule is AlignmentRule.COMPOUND
    assert returns.measure is ReturnMeasure.LOG and returns.units == ("log return",)


def test_us_holiday_on_a_weekday_target_is_one_stale_session() -> None:
    # 2024-07-04 (Thursday): NYSE closed, weekday calendar open
    spy = make_series("SPY", {date(2024, 7, 1): 500, date(2024, 7, 2): 505,
                              date(2024, 7, 3): 510, date(2024, 7, 5): 520,
                              date(2024, 7, 8): 515})
    btc = make_series("BTC", daily(date(2024, 7, 1), [60, 61, 62, 63, 64, 65, 66, 67]),
                      calendar="crypto")
    aligned = align_closes({"SPY": spy, "BTC": btc}, WEEKDAYS, date(2024, 7, 1),
                           date(2024, 7, 8), rule=AlignmentRule.COMPOUND)
    assert aligned.dates == tuple(date(2024, 7, d) for d in (1, 2, 3, 4, 5, 8))
    assert aligned.column("SPY").tolist() == [500, 505, 510, 510, 520, 515]
    assert aligned.stale_sessions[:, 0].tolist() == [0, 0, 0, 1, 0, 0]
    assert aligned.warnings == ()  # within max_stale_sessions: the documented carry
    returns = log_returns(aligned)
    spy_returns = returns.column("SPY")
    assert spy_returns[2] == 0.0  # 07-04: no move on the holiday
    assert spy_returns[3] == pytest.approx(math.log(520 / 510))  # 07-05 from 07-03
    assert returns.column("BTC")[4] == pytest.approx(math.log(67 / 64))  # weekend into Mon


def test_us_holiday_on_the_xnys_target_compounds_crypto_into_the_next_session() -> None:
    btc = make_series("BTC", daily(date(2024, 7, 3), [100, 104, 102]), calendar="crypto")
    aligned = align_closes({"BTC": btc}, XNYS, date(2024, 7, 3), date(2024, 7, 5),
                           rule=AlignmentRule.COMPOUND)
    assert aligned.dates == (date(2024, 7, 3), date(2024, 7, 5))
    assert log_returns(aligned).column("BTC")[0] == pytest.approx(math.log(102 / 100))


def test_common_sessions_drops_exactly_the_dates_without_every_close() -> None:
    spy = make_series("SPY", {date(2024, 7, 1): 500, date(2024, 7, 2): 505,
                              date(2024, 7, 3): 510, date(2024, 7, 5): 520,
                              date(2024, 7, 8): 515})
    btc = make_series("BTC", daily(date(2024, 7, 1), [60, 61, 62, 63, 64, 65, 66, 67],
                                   skip=frozenset({date(2024, 7, 2)})), calendar="crypto")
    aligned = align_closes({"SPY": spy, "BTC": btc}, WEEKDAYS, date(2024, 7, 1),
                           date(2024, 7, 8), rule=AlignmentRule.COMMON_SESSIONS)
    assert aligned.dates == tuple(date(2024, 7, d) for d in (1, 3, 5, 8))
    assert aligned.dropped_dates == (date(2024, 7, 2), date(2024, 7, 4))
    assert aligned.values.tolist() == [[500, 60], [510, 62], [520, 64], [515, 67]]
    (finding,) = aligned.warnings
    assert finding.rule == DROPPED_SESSIONS and finding.severity is Severity.INFO
    assert "2024-07-02" in finding.message and "2024-07-04" in finding.message
    returns = log_returns(aligned)
    assert returns.start_dates == (date(2024, 7, 1), date(2024, 7, 3), date(2024, 7, 5))
    # the dropped day's move lands in the next kept period, it is not lost
    assert returns.column("BTC")[0] == pytest.approx(math.log(62 / 60))


def test_last_observation_samples_like_compound() -> None:
    btc = make_series("BTC", daily(date(2024, 3, 1), [float(100 + i) for i in range(20)]),
                      calendar="crypto")
    args = ({"BTC": btc}, XNYS, date(2024, 3, 1), date(2024, 3, 20))
    compound = align_closes(*args, rule=AlignmentRule.COMPOUND)
    last = align_closes(*args, rule=AlignmentRule.LAST_OBSERVATION)
    assert np.array_equal(compound.values, last.values)
    assert last.rule is AlignmentRule.LAST_OBSERVATION


# --- missing data ----------------------------------------------------------------------

def test_gap_longer_than_the_limit_is_nan_and_a_warning_naming_the_dates() -> None:
    # SPY has no close 2024-01-08..01-12 (5 sessions); 01-15 is MLK day (NYSE closed)
    closes = {date(2024, 1, 3): 470, date(2024, 1, 4): 468, date(2024, 1, 5): 469,
              date(2024, 1, 16): 472, date(2024, 1, 17): 471}
    aligned = align_closes({"SPY": make_series("SPY", closes)}, XNYS, date(2024, 1, 3),
                           date(2024, 1, 17), rule=AlignmentRule.COMPOUND,
                           max_stale_sessions=3)
    spy = aligned.column("SPY")
    assert aligned.dates[3:8] == tuple(date(2024, 1, d) for d in (8, 9, 10, 11, 12))
    assert spy[:6].tolist() == [470, 468, 469, 469, 469, 469]  # carried for 3 sessions
    assert np.isnan(spy[6]) and np.isnan(spy[7])  # 01-11, 01-12: beyond the limit
    assert spy[8:].tolist() == [472, 471]
    assert aligned.stale_sessions[:, 0].tolist() == [0, 0, 0, 1, 2, 3, 4, 5, 0, 0]
    assert aligned.gaps == (StaleGap("SPY", (date(2024, 1, 11), date(2024, 1, 12)),
                                     date(2024, 1, 5)),)
    (finding,) = aligned.warnings
    assert finding.rule == STALE_GAP and finding.severity is Severity.WARNING
    assert finding.subject == "SPY" and finding.as_of_date == date(2024, 1, 11)
    assert "2024-01-11..2024-01-12" in finding.message
    assert finding.limit == "3" and finding.measured == "2"
    returns = log_returns(aligned)
    nan_dates = [d for d, r in zip(returns.dates, returns.column("SPY"), strict=True)
                 if np.isnan(r)]
    assert nan_dates == [date(2024, 1, 11), date(2024, 1, 12), date(2024, 1, 16)]
    assert returns.warnings == aligned.warnings


def test_series_starting_inside_the_window_reports_no_history() -> None:
    late = make_series("NEW", {date(2024, 1, 5): 10, date(2024, 1, 8): 11})
    aligned = align_closes({"NEW": late}, XNYS, date(2024, 1, 3), date(2024, 1, 8),
                           rule=AlignmentRule.COMPOUND)
    assert np.isnan(aligned.values[:2, 0]).all()
    assert aligned.stale_sessions[:, 0].tolist() == [-1, -1, 0, 0]
    (finding,) = aligned.warnings
    assert finding.rule == NO_HISTORY
    assert "2024-01-03..2024-01-04" in finding.message


def test_close_before_the_window_is_used_within_the_limit() -> None:
    spy = make_series("SPY", {date(2023, 12, 29): 475, date(2024, 1, 3): 470})
    aligned = align_closes({"SPY": spy}, XNYS, date(2024, 1, 2), date(2024, 1, 3),
                           rule=AlignmentRule.COMPOUND, max_stale_sessions=1)
    assert aligned.column("SPY").tolist() == [475, 470]
    assert aligned.stale_sessions[:, 0].tolist() == [1, 0]
    strict = align_closes({"SPY": spy}, XNYS, date(2024, 1, 2), date(2024, 1, 3),
                          rule=AlignmentRule.COMPOUND, max_stale_sessions=0)
    assert np.isnan(strict.values[0, 0]) and strict.gaps[0].dates == (date(2024, 1, 2),)


def test_empty_series_is_all_nan_with_a_warning() -> None:
    empty = Series(SeriesId(SeriesKind.PRICE, "X"), (), "test", "xnys", "USD")
    aligned = align_closes({"X": empty}, XNYS, date(2024, 1, 2), date(2024, 1, 3),
                           rule=AlignmentRule.COMPOUND)
    assert np.isnan(aligned.values).all() and aligned.warnings[0].rule == NO_HISTORY


# --- rates -----------------------------------------------------------------------------

def test_rates_give_changes_in_percentage_points() -> None:
    dgs10 = make_series("DGS10", {date(2024, 1, 2): "3.95", date(2024, 1, 3): "3.91",
                                  date(2024, 1, 4): "3.99"},
                        kind=SeriesKind.RATE, calendar="weekdays", currency=None)
    aligned = align_closes({"DGS10": dgs10}, WEEKDAYS, date(2024, 1, 2), date(2024, 1, 4),
                           rule=AlignmentRule.LAST_OBSERVATION)
    assert aligned.units == ("percent",)
    moved = changes(aligned)
    assert moved.measure is ReturnMeasure.CHANGE and moved.units == ("percentage points",)
    assert moved.column("DGS10") == pytest.approx([-0.04, 0.08], abs=1e-12)
    with pytest.raises(InvalidInput, match="changes"):
        log_returns(aligned)
    with pytest.raises(InvalidInput, match="changes"):
        simple_returns(aligned)
    with pytest.raises(InvalidInput, match="do not compound"):
        align_closes({"DGS10": dgs10}, WEEKDAYS, date(2024, 1, 2), date(2024, 1, 4),
                     rule=AlignmentRule.COMPOUND)


def test_mixed_rates_and_prices_select_columns() -> None:
    days = {date(2024, 1, 2): "4.0", date(2024, 1, 3): "4.1"}
    aligned = align_closes(
        {"DGS10": make_series("DGS10", days, kind=SeriesKind.RATE, currency=None),
         "USDKZT": make_series("USD/KZT", {date(2024, 1, 2): 450, date(2024, 1, 3): 459},
                               kind=SeriesKind.FX, currency=None)},
        WEEKDAYS, date(2024, 1, 2), date(2024, 1, 3), rule=AlignmentRule.LAST_OBSERVATION)
    assert aligned.units == ("percent", "KZT per USD")
    fx = aligned.select("USDKZT")
    assert fx.names == ("USDKZT",) and fx.values.shape == (2, 1)
    assert log_returns(fx).column("USDKZT")[0] == pytest.approx(math.log(459 / 450))
    moved = changes(aligned)
    assert moved.units == ("percentage points", "KZT per USD")
    assert moved.values[0].tolist() == pytest.approx([0.1, 9.0])
    with pytest.raises(InvalidInput, match="no series"):
        aligned.column("BTC")


# --- input checks and immutability -----------------------------------------------------

def test_bad_inputs_are_refused() -> None:
    spy = make_series("SPY", {date(2024, 1, 2): 1})
    with pytest.raises(InvalidInput):
        align_closes({}, XNYS, date(2024, 1, 2), date(2024, 1, 3),
                     rule=AlignmentRule.COMPOUND)
    with pytest.raises(InvalidInput, match="after"):
        align_closes({"SPY": spy}, XNYS, date(2024, 1, 3), date(2024, 1, 2),
                     rule=AlignmentRule.COMPOUND)
    with pytest.raises(InvalidInput, match="max_stale_sessions"):
        align_closes({"SPY": spy}, XNYS, date(2024, 1, 2), date(2024, 1, 3),
                     rule=AlignmentRule.COMPOUND, max_stale_sessions=-1)
    unordered = Series(SeriesId(SeriesKind.PRICE, "U"),
                       (Bar(date(2024, 1, 3), Decimal(1)), Bar(date(2024, 1, 2), Decimal(1))),
                       "test", "xnys", "USD")
    with pytest.raises(InvalidInput, match="ascending"):
        align_closes({"U": unordered}, XNYS, date(2024, 1, 2), date(2024, 1, 3),
                     rule=AlignmentRule.COMPOUND)
    zero = make_series("Z", {date(2024, 1, 2): 0, date(2024, 1, 3): 1})
    aligned = align_closes({"Z": zero}, XNYS, date(2024, 1, 2), date(2024, 1, 3),
                           rule=AlignmentRule.COMPOUND)
    with pytest.raises(InvalidInput, match="positive"):
        log_returns(aligned)


def test_results_are_read_only_and_hashed() -> None:
    spy = make_series("SPY", {date(2024, 1, 2): 1, date(2024, 1, 3): 2})
    aligned = align_closes({"SPY": spy}, XNYS, date(2024, 1, 2), date(2024, 1, 3),
                           rule=AlignmentRule.COMPOUND)
    with pytest.raises(ValueError, match="read-only"):
        aligned.values[0, 0] = 5.0
    assert not log_returns(aligned).values.flags.writeable
    again = align_closes({"SPY": spy}, XNYS, date(2024, 1, 2), date(2024, 1, 3),
                         rule=AlignmentRule.COMPOUND)
    other = align_closes({"SPY": make_series("SPY", {date(2024, 1, 2): 1,
                                                     date(2024, 1, 3): 3})},
                         XNYS, date(2024, 1, 2), date(2024, 1, 3),
                         rule=AlignmentRule.COMPOUND)
    assert aligned.inputs_hash == again.inputs_hash != other.inputs_hash


def test_window_without_sessions_is_empty() -> None:
    spy = make_series("SPY", {date(2024, 1, 5): 1})
    aligned = align_closes({"SPY": spy}, XNYS, date(2024, 1, 6), date(2024, 1, 7),
                           rule=AlignmentRule.COMPOUND)
    assert aligned.dates == () and aligned.values.shape == (0, 1)
    assert log_returns(aligned).values.shape == (0, 1)


# --- agreement with pandas -------------------------------------------------------------

def test_compound_matches_pandas_reindex_ffill() -> None:
    rng = np.random.default_rng(7)
    start, end = date(2023, 1, 1), date(2024, 6, 30)
    all_days = pd.date_range(start, end, freq="D")
    btc_days = all_days[rng.random(all_days.size) > 0.05]  # crypto with a few holes
    spy_days = pd.DatetimeIndex([d for d in all_days if XNYS.is_session(d.date())])
    frames = {}
    series = {}
    for name, days in (("BTC", btc_days), ("SPY", spy_days)):
        closes = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.02, days.size))), 4)
        frames[name] = pd.Series(closes, index=days)
        series[name] = make_series(name, {d.date(): str(c)
                                          for d, c in zip(days, closes, strict=True)})
    target = pd.DatetimeIndex(XNYS.sessions(date(2023, 2, 1), end))
    expected = pd.DataFrame({name: s.reindex(target, method="ffill")
                             for name, s in frames.items()})
    aligned = align_closes(series, XNYS, date(2023, 2, 1), end, rule=AlignmentRule.COMPOUND,
                           max_stale_sessions=10_000)
    assert aligned.dates == tuple(d.date() for d in target)
    np.testing.assert_array_equal(aligned.values, expected.to_numpy())
    np.testing.assert_allclose(log_returns(aligned).values,
                               np.log(expected).diff().iloc[1:].to_numpy(), rtol=1e-12)
    common = align_closes(series, XNYS, date(2023, 2, 1), end,
                          rule=AlignmentRule.COMMON_SESSIONS)
    expected_common = pd.DataFrame(frames).reindex(target).dropna()
    assert common.dates == tuple(d.date() for d in expected_common.index)
    np.testing.assert_array_equal(common.values, expected_common.to_numpy())


# --- properties ------------------------------------------------------------------------

ORIGIN = date(2024, 1, 1)


@st.composite
def price_histories(draw: st.DrawFn) -> dict[date, float]:
    offsets = draw(st.lists(st.integers(0, 120), min_size=1, max_size=60, unique=True))
    prices = draw(st.lists(st.floats(0.01, 1e6), min_size=len(offsets),
                           max_size=len(offsets)))
    return {ORIGIN + timedelta(days=o): round(p, 6)
            for o, p in zip(sorted(offsets), prices, strict=True)}


def _last_on_or_before(closes: Mapping[date, float], day: date) -> float | None:
    before = [d for d in closes if d <= day]
    return closes[max(before)] if before else None


@settings(max_examples=60, deadline=None)
@given(history=price_histories(), start_offset=st.integers(0, 120),
       length=st.integers(0, 60),
       calendar_name=st.sampled_from([CalendarName.XNYS, CalendarName.WEEKDAYS,
                                      CalendarName.CRYPTO]))
def test_log_returns_telescope_to_the_span(history: dict[date, float], start_offset: int,
                                           length: int, calendar_name: str) -> None:
    calendar = get_calendar(calendar_name)
    start = ORIGIN + timedelta(days=start_offset)
    end = start + timedelta(days=length)
    aligned = align_closes({"X": make_series("X", history)}, calendar, start, end,
                           rule=AlignmentRule.COMPOUND, max_stale_sessions=10_000)
    sessions = calendar.sessions(start, end)
    for day, value in zip(aligned.dates, aligned.column("X"), strict=True):
        expected = _last_on_or_before(history, day)
        assert (np.isnan(value) if expected is None else value == expected)
    returns = log_returns(aligned).column("X")
    if len(sessions) >= 2 and not np.isnan(returns).any():
        first = _last_on_or_before(history, sessions[0])
        last = _last_on_or_before(history, sessions[-1])
        assert first is not None and last is not None
        assert returns.sum() == pytest.approx(math.log(last / first), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(a=price_histories(), b=price_histories())
def test_common_sessions_are_the_intersection(a: dict[date, float],
                                              b: dict[date, float]) -> None:
    start, end = ORIGIN, ORIGIN + timedelta(days=120)
    aligned = align_closes({"A": make_series("A", a), "B": make_series("B", b)}, XNYS,
                           start, end, rule=AlignmentRule.COMMON_SESSIONS)
    sessions = XNYS.sessions(start, end)
    assert aligned.dates == tuple(d for d in sessions if d in a and d in b)
    assert set(aligned.dropped_dates) | set(aligned.dates) == set(sessions)
    assert aligned.column("A").tolist() == [a[d] for d in aligned.dates]
    assert bool(aligned.warnings) == bool(aligned.dropped_dates)
