"""The staleness rule counts days, or sessions of the instrument's own calendar."""

from __future__ import annotations

from datetime import date

from qoima.domain.enums import InstrumentKind, Venue
from qoima.market.quotes import MaxAge, StalenessRule

RULE = StalenessRule.default()


def test_an_etf_close_before_a_holiday_weekend_is_not_stale() -> None:
    friday, tuesday = date(2025, 1, 17), date(2025, 1, 21)  # Monday 20th: MLK day
    assert RULE.age(InstrumentKind.ETF, Venue.NASDAQ, friday, tuesday) == 1
    assert not RULE.is_stale(InstrumentKind.ETF, Venue.NASDAQ, friday, tuesday)
    # three sessions behind (Wed 15th -> Thu, Fri, Tue) is stale
    assert RULE.is_stale(InstrumentKind.ETF, Venue.NASDAQ, date(2025, 1, 15), tuesday)


def test_an_aix_listing_follows_the_kazakh_calendar() -> None:
    # Nauryz 21-25 March 2025: the AIX ETF's close of Thursday 20th is one session old on
    # Wednesday 26th, while NYSE would count four sessions
    thursday, wednesday = date(2025, 3, 20), date(2025, 3, 26)
    assert RULE.age(InstrumentKind.ETF, Venue.AIX, thursday, wednesday) == 1
    assert RULE.age(InstrumentKind.ETF, Venue.NYSE, thursday, wednesday) == 4


def test_crypto_and_funds_count_calendar_days() -> None:
    assert RULE.is_stale(InstrumentKind.TOKEN, None, date(2025, 1, 17), date(2025, 1, 19))
    assert not RULE.is_stale(InstrumentKind.TOKEN, None, date(2025, 1, 18), date(2025, 1, 19))
    assert not RULE.is_stale(InstrumentKind.HEDGE_FUND_INTEREST, None, date(2025, 1, 1),
                             date(2025, 2, 15))
    assert RULE.is_stale(InstrumentKind.HEDGE_FUND_INTEREST, None, date(2025, 1, 1),
                         date(2025, 2, 16))
    assert MaxAge(3).unit == "days" and MaxAge(2, in_sessions=True).unit == "sessions"
