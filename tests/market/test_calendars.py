"""Calendars: session counts, named holidays, and agreement with real exchange history."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from qoima.domain.enums import InstrumentKind, Venue
from qoima.domain.errors import InvalidInput
from qoima.market.calendars import CalendarName, calendar_name_for, get_calendar

MARKET = Path(__file__).resolve().parents[3] / "shared" / "data" / "market"


def test_nyse_session_counts_and_special_closings() -> None:
    xnys = get_calendar(CalendarName.XNYS)
    assert len(xnys.sessions(date(2024, 1, 1), date(2024, 12, 31))) == 252
    # 2025: 250 sessions, one of the holidays the national day of mourning for J. Carter
    assert len(xnys.sessions(date(2025, 1, 1), date(2025, 12, 31))) == 250
    assert not xnys.is_session(date(2025, 1, 9))
    assert "Carter" in (xnys.holiday_name(date(2025, 1, 9)) or "")
    assert not xnys.is_session(date(2025, 4, 18))  # Good Friday
    assert xnys.is_session(date(2025, 4, 17))


def test_previous_next_and_between() -> None:
    xnys = get_calendar(CalendarName.XNYS)
    # Friday 17 Jan 2025, then the MLK holiday Monday 20 Jan: next session is Tuesday
    assert xnys.next_session(date(2025, 1, 17)) == date(2025, 1, 21)
    assert xnys.previous_session(date(2025, 1, 21)) == date(2025, 1, 17)
    assert xnys.previous_session(date(2025, 1, 19), inclusive=True) == date(2025, 1, 17)
    assert xnys.previous_session(date(2025, 1, 17), inclusive=True) == date(2025, 1, 17)
    assert xnys.sessions_between(date(2025, 1, 17), date(2025, 1, 21)) == 1
    assert xnys.sessions_between(date(2025, 1, 21), date(2025, 1, 17)) == 0
    crypto = get_calendar(CalendarName.CRYPTO)
    assert crypto.sessions_between(date(2025, 1, 17), date(2025, 1, 21)) == 4


def test_kazakh_calendars_skip_public_holidays() -> None:
    aix = get_calendar(CalendarName.AIX)
    assert not aix.is_session(date(2025, 3, 21))  # Nauryz
    assert not aix.is_session(date(2025, 12, 16))  # Independence Day
    assert aix.is_session(date(2025, 12, 17))
    assert not aix.is_session(date(2025, 12, 20))  # Saturday


def test_calendar_choice_by_venue_then_kind() -> None:
    assert calendar_name_for(InstrumentKind.ETF, Venue.AIX) == CalendarName.AIX
    assert calendar_name_for(InstrumentKind.ETF, Venue.NASDAQ) == CalendarName.XNYS
    assert calendar_name_for(InstrumentKind.ETF) == CalendarName.XNYS
    assert calendar_name_for(InstrumentKind.TOKEN) == CalendarName.CRYPTO
    assert calendar_name_for(InstrumentKind.GOLD) == CalendarName.WEEKDAYS


def test_unknown_calendar_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown calendar 'xlon'"):
        get_calendar("xlon")


def _dates(name: str) -> list[date]:
    with (MARKET / f"{name}.csv").open() as handle:
        return [date.fromisoformat(row["date"]) for row in csv.DictReader(handle)]


@pytest.mark.realdata
@pytest.mark.skipif(not MARKET.is_dir(), reason="../shared/data/market is absent")
@pytest.mark.parametrize("name", ["IBIT", "SPX", "GLD", "COIN", "MSTR"])
def test_nyse_calendar_matches_real_trading_days_since_2015(name: str) -> None:
    days = [d for d in _dates(name) if d >= date(2015, 1, 1)]
    assert days == get_calendar(CalendarName.XNYS).sessions(days[0], days[-1])


@pytest.mark.realdata
@pytest.mark.skipif(not MARKET.is_dir(), reason="../shared/data/market is absent")
@pytest.mark.parametrize(("name", "calendar"), [("BTC-USD", CalendarName.CRYPTO),
                                                ("USDKZT", CalendarName.DAILY),
                                                ("EFFR", CalendarName.US_FEDERAL)])
def test_other_real_series_follow_their_calendar(name: str, calendar: str) -> None:
    days = [d for d in _dates(name) if d >= date(2015, 1, 1)]
    sessions = set(get_calendar(calendar).sessions(days[0], days[-1]))
    assert sessions <= set(days)  # no session missing (extra days: early-closing holidays)
