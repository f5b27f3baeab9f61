"""Trading and valuation calendars: which days a market (or the reserve) has a session.

Crypto trades every day; NYSE/Nasdaq on weekdays except the NYSE holiday schedule (special
closings such as national days of mourning included); AIX on Kazakhstan working days; the
reserve values on Kazakhstan working days too (the National Bank's business calendar); the
National Bank's official USD/KZT rate is set for every calendar day; FRED's daily rates
follow US federal business days.
Holiday tables come from the ``holidays`` package (MIT), which keeps the official lists.

AIX publishes its own trading calendar each year; it follows the Republic of Kazakhstan
public holidays, which is what we use. A workspace can replace any calendar by name.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache

import holidays

from qoima.domain.enums import InstrumentKind, Venue
from qoima.domain.errors import InvalidInput

FIRST_YEAR = 1900
LAST_YEAR = 2100


class CalendarName(StrEnum):
    CRYPTO = "crypto"  # every day, 00:00-24:00 UTC
    XNYS = "xnys"  # NYSE and Nasdaq
    AIX = "aix"  # Astana International Exchange
    KZ_VALUATION = "kz-valuation"  # the reserve's valuation days
    WEEKDAYS = "weekdays"  # Mon-Fri, no holidays
    DAILY = "daily"  # every calendar day: official rates set for every day (NBK USD/KZT)
    US_FEDERAL = "us-federal"  # US federal business days: FRED Treasury and funds rates


@dataclass(frozen=True, slots=True)
class Calendar:
    """A set of session days: weekdays in ``weekmask`` minus ``holidays``.

    ``weekmask`` holds ``date.weekday()`` numbers (Monday 0). Holidays are only known
    between ``FIRST_YEAR`` and ``LAST_YEAR``; sessions outside that range follow the
    weekmask alone.
    """

    name: str
    weekmask: frozenset[int]
    holidays: frozenset[date] = field(default_factory=frozenset)
    holiday_names: tuple[tuple[date, str], ...] = ()

    def is_session(self, day: date) -> bool:
        return day.weekday() in self.weekmask and day not in self.holidays

    def sessions(self, start: date, end: date) -> list[date]:
        """Every session day in ``[start, end]``, ascending."""
        days = []
        day = start
        while day <= end:
            if self.is_session(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def previous_session(self, day: date, *, inclusive: bool = False) -> date:
        """The last session before ``day`` (or on it, when ``inclusive``)."""
        candidate = day if inclusive else day - timedelta(days=1)
        while not self.is_session(candidate):
            candidate -= timedelta(days=1)
        return candidate

    def next_session(self, day: date, *, inclusive: bool = False) -> date:
        candidate = day if inclusive else day + timedelta(days=1)
        while not self.is_session(candidate):
            candidate += timedelta(days=1)
        return candidate

    def sessions_between(self, earlier: date, later: date) -> int:
        """Sessions strictly after ``earlier`` and up to ``later`` (0 when none)."""
        if later <= earlier:
            return 0
        return len(self.sessions(earlier + timedelta(days=1), later))

    def holiday_name(self, day: date) -> str | None:
        names = self.holiday_names
        index = bisect.bisect_left(names, (day, ""))
        if index < len(names) and names[index][0] == day:
            return names[index][1]
        return None


WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


def _from_holidays(name: str, table: holidays.HolidayBase) -> Calendar:
    pairs = tuple(sorted((day, str(label)) for day, label in table.items()))
    return Calendar(name, WEEKDAYS, frozenset(day for day, _ in pairs), pairs)


@cache
def get_calendar(name: str) -> Calendar:
    """The calendar called ``name`` (a ``CalendarName`` value); raises for unknown names."""
    years = range(FIRST_YEAR, LAST_YEAR + 1)
    if name in (CalendarName.CRYPTO, CalendarName.DAILY):
        return Calendar(name, EVERY_DAY)
    if name == CalendarName.US_FEDERAL:
        return _from_holidays(name, holidays.country_holidays("US", years=years))
    if name == CalendarName.WEEKDAYS:
        return Calendar(name, WEEKDAYS)
    if name == CalendarName.XNYS:
        return _from_holidays(name, holidays.financial_holidays("NYSE", years=years))
    if name in (CalendarName.AIX, CalendarName.KZ_VALUATION):
        return _from_holidays(name, holidays.country_holidays("KZ", years=range(1995, 2101)))
    known = ", ".join(c.value for c in CalendarName)
    raise InvalidInput(f"unknown calendar {name!r}; known: {known}", field="calendar")


_VENUE_CALENDARS = {
    Venue.NYSE: CalendarName.XNYS,
    Venue.NASDAQ: CalendarName.XNYS,
    Venue.CBOE: CalendarName.XNYS,
    Venue.AIX: CalendarName.AIX,
    Venue.KASE: CalendarName.KZ_VALUATION,
    Venue.ONCHAIN: CalendarName.CRYPTO,
}
_KIND_CALENDARS = {
    InstrumentKind.TOKEN: CalendarName.CRYPTO,
    InstrumentKind.STABLECOIN: CalendarName.CRYPTO,
    InstrumentKind.ETF: CalendarName.XNYS,
    InstrumentKind.EQUITY: CalendarName.XNYS,
    InstrumentKind.TBILL: CalendarName.XNYS,
    InstrumentKind.BOND: CalendarName.XNYS,
}


def calendar_name_for(kind: InstrumentKind, venue: Venue | None = None) -> CalendarName:
    """The calendar an instrument trades on: its venue's if known, else its kind's."""
    if venue is not None and venue in _VENUE_CALENDARS:
        return _VENUE_CALENDARS[venue]
    return _KIND_CALENDARS.get(kind, CalendarName.WEEKDAYS)
