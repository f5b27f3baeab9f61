"""Quality checks on hand-built series whose findings can be worked out on paper."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from qoima.domain.enums import Severity
from qoima.domain.findings import Finding
from qoima.market.calendars import CalendarName, get_calendar
from qoima.market.quality import (
    DUPLICATE_DATE,
    GAP,
    JUMP,
    NEGATIVE_VOLUME,
    NON_POSITIVE,
    OHLC,
    STALE_CLOSE,
    UNORDERED,
    QualityLimits,
    average_daily_volume,
    check_series,
)
from qoima.market.series import Bar, SeriesId, SeriesKind

BTC = SeriesId(SeriesKind.PRICE, "BTC")
SPY = SeriesId(SeriesKind.PRICE, "SPY")
RATE = SeriesId(SeriesKind.RATE, "DGS10")
CRYPTO = get_calendar(CalendarName.CRYPTO)
XNYS = get_calendar(CalendarName.XNYS)
D = Decimal


def daily(closes: list[str], start: date = date(2024, 1, 1)) -> list[Bar]:
    return [Bar(start + timedelta(days=i), D(c)) for i, c in enumerate(closes)]


def rules(findings: tuple[Finding, ...]) -> list[str]:
    return [f.rule for f in findings]


def test_clean_series_has_no_findings() -> None:
    report = check_series(BTC, daily(["100", "101", "102", "101"]), CRYPTO, source_name="t")
    assert report.ok and report.errors == () and report.warnings == ()


def test_jump_of_known_size_in_robust_sigmas() -> None:
    # closes 100,101,100,...,100 (20 returns: ten +a, ten -a, a = ln 1.01), then 200 (ln 2).
    # 21 returns sorted: ten -a, ten +a, ln 2 -> median +a. Deviations from it: ten 2a,
    # ten 0, ln2 - a -> MAD 2a. sigma = 1.4826 * 2a = 0.0295047;
    # size = (0.6931472 - 0.0099503) / 0.0295047 = 23.155 -> "23.2".
    closes = ["100", "101"] * 10 + ["100", "200"]
    report = check_series(BTC, daily(closes), CRYPTO, source_name="t")
    assert report.errors == ()
    jumps = [w for w in report.warnings if w.rule == JUMP]
    assert len(jumps) == 1
    assert jumps[0].measured == "23.2"
    assert jumps[0].limit == "8"
    assert jumps[0].as_of_date == date(2024, 1, 22)
    assert jumps[0].severity is Severity.WARNING


def test_jump_below_threshold_is_not_flagged() -> None:
    # same shape, jump to 110: (ln 1.1 - a) / 0.0295047 = 2.89 sigmas
    closes = ["100", "101"] * 10 + ["100", "110"]
    report = check_series(BTC, daily(closes), CRYPTO, source_name="t")
    assert JUMP not in rules(report.warnings)
    tighter = check_series(BTC, daily(closes), CRYPTO, source_name="t",
                           limits=QualityLimits(jump_sigmas=2.5))
    assert [w.measured for w in tighter.warnings if w.rule == JUMP] == ["2.9"]


def test_flat_rate_falls_back_to_mean_deviation_and_flags_the_step() -> None:
    # a policy rate: 30 days flat, one step of 0.25 pp. Changes: 29 zeros + 0.25 -> MAD 0;
    # mean absolute deviation from median 0 = 0.25/30, sigma = 1.2533 * 0.008333 = 0.010444,
    # size = 0.25 / 0.010444 = 23.9
    closes = ["5.25"] * 30 + ["5.50"]
    report = check_series(SeriesId(SeriesKind.RATE, "DFEDTARU"), daily(closes),
                          get_calendar(CalendarName.DAILY), source_name="t")
    assert [w.measured for w in report.warnings if w.rule == JUMP] == ["23.9"]


def test_gap_of_four_sessions_across_a_weekend_on_xnys() -> None:
    # Thu 2024-01-04 -> Thu 2024-01-11 misses Fri 5, Mon 8, Tue 9, Wed 10: 4 > 3
    bars = [Bar(date(2024, 1, 3), D(1)), Bar(date(2024, 1, 4), D(1.5)),
            Bar(date(2024, 1, 11), D(2)), Bar(date(2024, 1, 12), D(3)),
            Bar(date(2024, 1, 16), D(2))]  # Mon 15 is Martin Luther King day: no gap
    report = check_series(SPY, bars, XNYS, source_name="spy.csv", lines=[2, 3, 4, 5, 6])
    gaps = [w for w in report.warnings if w.rule == GAP]
    assert len(gaps) == 1
    assert gaps[0].measured == "4" and gaps[0].limit == "3"
    assert "2024-01-04" in gaps[0].message and "2024-01-11" in gaps[0].message
    assert "line 4" in gaps[0].subject


def test_weekend_is_no_gap_on_xnys_but_counts_on_crypto() -> None:
    # Fri 2024-01-05 -> Wed 2024-01-10: xnys misses Mon, Tue (2); crypto misses 4 days
    bars = [Bar(date(2024, 1, 5), D(1)), Bar(date(2024, 1, 10), D(1.01))]
    assert GAP not in rules(check_series(SPY, bars, XNYS, source_name="t").warnings)
    crypto = [w for w in check_series(BTC, bars, CRYPTO, source_name="t").warnings
              if w.rule == GAP]
    assert [w.measured for w in crypto] == ["4"]
    # Fri -> Tue on crypto: Sat, Sun, Mon = 3, not more than 3
    short = [Bar(date(2024, 1, 5), D(1)), Bar(date(2024, 1, 9), D(1.01))]
    assert GAP not in rules(check_series(BTC, short, CRYPTO, source_name="t").warnings)


def test_stale_close_five_sessions_warns_four_does_not() -> None:
    report = check_series(BTC, daily(["1", "2", "2", "2", "2", "2", "3"]), CRYPTO,
                          source_name="t", lines=list(range(2, 9)))
    stale = [w for w in report.warnings if w.rule == STALE_CLOSE]
    assert len(stale) == 1 and stale[0].measured == "5"
    assert "line 3" in stale[0].subject
    assert "2024-01-02" in stale[0].message and "2024-01-06" in stale[0].message
    four = check_series(BTC, daily(["1", "2", "2.0", "2.00", "2", "3"]), CRYPTO,
                        source_name="t")
    assert STALE_CLOSE not in rules(four.warnings)


def test_non_positive_prices_are_errors_with_line_and_field() -> None:
    bars = daily(["10", "11", "-1", "12"])
    bars[1] = Bar(bars[1].day, D(11), open=D(0))
    report = check_series(BTC, bars, CRYPTO, source_name="btc.csv", lines=[2, 3, 4, 5])
    assert rules(report.errors) == [NON_POSITIVE, NON_POSITIVE]
    assert [(e.line, e.field) for e in report.error_locations] == [(3, "open"), (4, "close")]
    assert "line 4" in report.errors[1].subject
    assert report.errors[1].severity is Severity.ERROR
    assert report.errors[1].measured == "-1"


def test_rates_may_be_zero_or_negative_and_prices_may_when_allowed() -> None:
    bars = daily(["0.10", "0", "-0.05", "0.02"])
    assert check_series(RATE, bars, CRYPTO, source_name="t").errors == ()
    allowed = QualityLimits(allow_non_positive=True)
    assert check_series(BTC, bars, CRYPTO, source_name="t", limits=allowed).errors == ()


def test_duplicate_and_unordered_dates() -> None:
    bars = [Bar(date(2024, 1, 1), D(1)), Bar(date(2024, 1, 3), D(1)),
            Bar(date(2024, 1, 2), D(1)), Bar(date(2024, 1, 2), D(1))]
    report = check_series(BTC, bars, CRYPTO, source_name="t", lines=[2, 3, 4, 5])
    assert rules(report.errors) == [UNORDERED, DUPLICATE_DATE]
    assert [e.line for e in report.error_locations] == [4, 5]
    assert report.warnings == ()  # no gap/stale/jump analysis over unordered dates


@pytest.mark.parametrize(("bar", "field"), [
    (Bar(date(2024, 1, 2), D(5), high=D(4), low=D(6)), "high"),
    (Bar(date(2024, 1, 2), D(7), high=D(6), low=D(4)), "close"),
    (Bar(date(2024, 1, 2), D(5), open=D(3), high=D(6), low=D(4)), "open"),
    (Bar(date(2024, 1, 2), D(3), low=D(4)), "close"),
])
def test_impossible_ohlc_is_an_error(bar: Bar, field: str) -> None:
    bars = [Bar(date(2024, 1, 1), D(5)), bar]
    report = check_series(BTC, bars, CRYPTO, source_name="t", lines=[2, 3])
    assert rules(report.errors)[0] == OHLC
    assert report.error_locations[0].field == field
    assert report.error_locations[0].line == 3
    relaxed = check_series(BTC, bars, CRYPTO, source_name="t",
                           limits=QualityLimits(strict_ohlc=False))
    assert relaxed.errors == () and OHLC in rules(relaxed.warnings)


def test_negative_volume_is_an_error_zero_is_not() -> None:
    bars = [Bar(date(2024, 1, 1), D(5), volume=D(0)), Bar(date(2024, 1, 2), D(5), volume=D(-3))]
    report = check_series(BTC, bars, CRYPTO, source_name="t")
    assert rules(report.errors) == [NEGATIVE_VOLUME]
    assert report.error_locations[0].field == "volume"
    assert report.error_locations[0].line is None


def test_lines_must_be_parallel() -> None:
    with pytest.raises(ValueError):
        check_series(BTC, daily(["1", "2"]), CRYPTO, source_name="t", lines=[2])


def test_average_daily_volume() -> None:
    bars = [Bar(date(2024, 1, day), D(1), volume=None if day == 4 else D(day * 10))
            for day in range(1, 8)]
    # window 3 ending 2024-01-05: days 3, 4 (no volume), 5 -> (30 + 50) / 2 = 40
    assert average_daily_volume(bars, date(2024, 1, 5), window_sessions=3) == D(40)
    # default window covers every bar up to 2024-01-07: (10+20+30+50+60+70) / 6 = 40
    assert average_daily_volume(bars, date(2024, 1, 7)) == D(40)
    assert average_daily_volume(bars, date(2023, 12, 31)) is None
    assert average_daily_volume(daily(["1", "2"]), date(2024, 1, 2)) is None


def test_a_flat_policy_rate_is_not_a_stale_close() -> None:
    bars = [Bar(date(2024, 1, 1) + timedelta(days=n), Decimal("5.50")) for n in range(40)]
    rate = SeriesId(SeriesKind.RATE, "DFEDTARU")
    report = check_series(rate, bars, get_calendar("daily"), source_name="t")
    assert [w for w in report.warnings if w.rule == STALE_CLOSE] == []
    price = check_series(SeriesId(SeriesKind.PRICE, "X"), bars, get_calendar("daily"),
                         source_name="t")
    assert [w.measured for w in price.warnings if w.rule == STALE_CLOSE] == ["40"]
