"""Reading market files: every layout, every kind of bad input, and the real data set."""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoima.adapters.market_files import MISSING_VALUE, ColumnMap, read_series
from qoima.adapters.series_naming import guess_series
from qoima.domain.errors import InvalidInput
from qoima.market.calendars import CalendarName
from qoima.market.quality import GAP, JUMP, OHLC, STALE_CLOSE, QualityLimits
from qoima.market.series import Bar, Series, SeriesId, SeriesKind

BTC = SeriesId(SeriesKind.PRICE, "BTC")
D = Decimal
GENERIC_HEADER = "date,open,high,low,close,volume\n"
MARKET = Path(__file__).resolve().parents[3] / "shared" / "data" / "market"


def write(tmp_path: Path, text: str, name: str = "btc.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def read(path: Path, **kwargs: Any) -> Series:
    options: dict[str, Any] = {"series_id": BTC, "calendar": CalendarName.CRYPTO,
                                  "source": "test", "currency": "USD"}
    options.update(kwargs)
    return read_series(path, **options)


def read_error(path: Path, **kwargs: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        read(path, **kwargs)
    return caught.value


# --- good files ------------------------------------------------------------------------------

def test_generic_csv_exact_decimals_and_optional_columns(tmp_path: Path) -> None:
    path = write(tmp_path, GENERIC_HEADER
                 + "2014-09-17,465.864,468.174,452.422,457.334,21056800\n"
                 + "2014-09-18,,,,424.440,\n")
    series = read_series(path, series_id=BTC, calendar="crypto", source="yahoo",
                         currency="USD")
    assert series.bars == (
        Bar(date(2014, 9, 17), D("457.334"), D("465.864"), D("468.174"), D("452.422"),
            D("21056800")),
        Bar(date(2014, 9, 18), D("424.440")),
    )
    assert str(series.bars[1].close) == "424.440"  # the file's digits, never via float
    assert (series.source, series.calendar, series.currency) == ("yahoo", "crypto", "USD")
    assert series.warnings == ()


def test_generic_columns_in_any_order_and_close_only(tmp_path: Path) -> None:
    path = write(tmp_path, "close,date\n1.5,2024-01-01\n1.6,2024-01-02\n")
    series = read(path)
    assert [b.close for b in series.bars] == [D("1.5"), D("1.6")]


def test_yahoo_export_uses_close_not_adj_close(tmp_path: Path) -> None:
    path = write(tmp_path, "Date,Open,High,Low,Close,Adj Close,Volume\n"
                 "2024-01-02,10,12,9,11,5.5,100\n2024-01-03,11,11.5,10,10.5,5.25,200\n")
    series = read(path)
    assert [(b.close, b.volume) for b in series.bars] == [
        (D(11), D(100)), (D("10.5"), D(200))]


def test_yahoo_null_row_is_an_error_naming_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "Date,Open,High,Low,Close,Adj Close,Volume\n"
                 "2024-01-02,10,12,9,11,11,100\n2024-01-03,null,null,null,null,null,null\n")
    error = read_error(path)
    assert error.origin is not None and error.origin.line == 3
    assert error.origin.file == str(path)
    assert error.field == "Close"
    assert "null" in error.message


@pytest.mark.parametrize("date_column", ["DATE", "observation_date"])
def test_fred_missing_values_are_skipped_and_counted(tmp_path: Path, date_column: str) -> None:
    path = write(tmp_path, f"{date_column},DGS10\n2024-01-02,3.95\n2024-01-03,.\n"
                 "2024-01-04,\n2024-01-05,4.05\n", name="DGS10.csv")
    series = read(path, series_id=SeriesId(SeriesKind.RATE, "DGS10"),
                  calendar=CalendarName.WEEKDAYS, currency=None)
    assert [(b.day, b.close) for b in series.bars] == [
        (date(2024, 1, 2), D("3.95")), (date(2024, 1, 5), D("4.05"))]
    missing = [w for w in series.warnings if w.rule == MISSING_VALUE]
    assert len(missing) == 1 and missing[0].measured == "2" and "line 3" in missing[0].message


def test_parquet_reads_like_csv_and_names_row_as_line(tmp_path: Path) -> None:
    import pandas as pd  # type: ignore[import-untyped]

    frame = pd.DataFrame({"date": [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)],
                          "open": [1.1, None, 1.3], "high": [1.2, None, 1.4],
                          "low": [1.0, None, 1.2], "close": [1.15, 1.25, 1.35],
                          "volume": [10, 20, 30]})
    path = tmp_path / "btc.parquet"
    frame.to_parquet(path)
    series = read(path)
    assert series.bars[0] == Bar(date(2024, 1, 1), D("1.15"), D("1.1"),
                                 D("1.2"), D("1.0"), D(10))
    assert series.bars[1].open is None
    frame.loc[2, "close"] = -1.35
    frame.loc[2, ["open", "high", "low"]] = None
    frame.to_parquet(path)
    error = read_error(path)
    assert error.origin is not None and error.origin.line == 4  # row index 2 + 2
    assert error.field == "close"


def test_column_map_with_own_date_format(tmp_path: Path) -> None:
    path = write(tmp_path, "Day,Last,Vol,Note\n31/12/2023,100.5,7,a\n01/01/2024,101,8,b\n",
                 name="x.csv")
    mapping = ColumnMap(date="Day", close="Last", volume="Vol", date_format="%d/%m/%Y")
    series = read(path, column_map=mapping)
    assert [(b.day, b.close, b.volume) for b in series.bars] == [
        (date(2023, 12, 31), D("100.5"), D(7)), (date(2024, 1, 1), D(101), D(8))]
    error = read_error(write(tmp_path, "Day,Last\n31/12/2023,1\n2024-01-01,2\n", name="y.csv"),
                       column_map=ColumnMap(date="Day", close="Last", date_format="%d/%m/%Y"))
    assert error.origin is not None and error.origin.line == 3 and error.field == "Day"


def test_slashed_dates_detected_from_first_row(tmp_path: Path) -> None:
    path = write(tmp_path, "date,close\n01/02/2024,1\n01/03/2024,2\n")
    assert [b.day for b in read(path).bars] == [
        date(2024, 1, 2), date(2024, 1, 3)]


def test_quality_warnings_travel_with_the_series(tmp_path: Path) -> None:
    rows = "".join(f"{date(2024, 1, 1) + timedelta(days=i)},,,,{100 + i % 2},\n"
                   for i in range(30))
    path = write(tmp_path, GENERIC_HEADER + rows + "2024-02-10,,,,300,\n")
    series = read(path)
    rules = {w.rule for w in series.warnings}
    assert rules == {GAP, JUMP}
    gap = next(w for w in series.warnings if w.rule == GAP)
    assert gap.measured == "10" and "line 32" in gap.subject


def test_relaxed_limits_let_published_quirks_through(tmp_path: Path) -> None:
    path = write(tmp_path, GENERIC_HEADER + "2020-04-19,,,,18.27,\n2020-04-20,,,,-36.98,\n")
    assert read_error(path).field == "close"
    series = read(path, limits=QualityLimits(allow_non_positive=True))
    assert series.bars[1].close == D("-36.98")


# --- bad input -------------------------------------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    error = read_error(tmp_path / "nope.csv")
    assert error.origin is not None and error.origin.file.endswith("nope.csv")
    assert "not found" in error.message and error.field == "path"


@pytest.mark.parametrize("text", ["", "\n\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    error = read_error(write(tmp_path, text))
    assert "empty" in error.message and error.field == "header"
    assert error.origin is not None and error.origin.line == 1


def test_header_only_is_an_error(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, GENERIC_HEADER))
    assert "no data rows" in error.message
    assert error.origin is not None and error.origin.line == 2


def test_header_typo_says_expected_and_found(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "date,open,high,low,clsoe,volume\n2024-01-01,1,1,1,1,1\n"))
    assert error.field == "header" and error.origin is not None and error.origin.line == 1
    assert "missing close" in error.message and "unknown clsoe" in error.message
    assert "expected date,open,high,low,close,volume" in error.message
    assert "found date,open,high,low,clsoe,volume" in error.message


def test_yahoo_header_typo(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "Date,Open,High,Low,Closed,Adj Close,Volume\n"))
    assert "missing Close" in error.message and "unknown Closed" in error.message


def test_negative_price_on_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, GENERIC_HEADER + "2024-01-01,1,2,1,1.5,10\n"
                 "2024-01-02,1,2,1,-1.5,10\n2024-01-03,1,2,1,1.5,10\n")
    error = read_error(path)
    assert error.origin is not None and (error.origin.file, error.origin.line) == (str(path), 3)
    assert error.field == "close" and "not positive" in error.message
    assert error.details["rule"] == "market.non_positive"
    assert re.match(rf"{re.escape(str(path))}:3: field 'close': ", str(error))


def test_swapped_date_order(tmp_path: Path) -> None:
    path = write(tmp_path, "date,close\n2024-01-01,1\n2024-01-03,1\n2024-01-02,1\n")
    error = read_error(path)
    assert error.origin is not None and error.origin.line == 4 and error.field == "date"
    assert "ascend" in error.message


def test_duplicate_date(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "date,close\n2024-01-01,1\n2024-01-01,1\n"))
    assert error.origin is not None and error.origin.line == 3 and error.field == "date"


def test_mixed_date_formats(tmp_path: Path) -> None:
    path = write(tmp_path, "date,close\n2024-01-01,1\n2024-01-02,1\n01/03/2024,1\n")
    error = read_error(path)
    assert error.origin is not None and error.origin.line == 4 and error.field == "date"
    assert "01/03/2024" in error.message


def test_unknown_date_format_on_first_row(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "date,close\nJan 1 2024,1\n"))
    assert error.origin is not None and error.origin.line == 2 and error.field == "date"
    assert "YYYY-MM-DD" in error.message


@pytest.mark.parametrize(("cell", "field", "words"), [
    ("abc", "close", "not a number"), ("NaN", "close", "not a finite"),
    ("", "close", "required"),
])
def test_non_numeric_values(tmp_path: Path, cell: str, field: str, words: str) -> None:
    path = write(tmp_path, f"date,close,volume\n2024-01-01,1,5\n2024-01-02,{cell},5\n")
    error = read_error(path)
    assert error.origin is not None and error.origin.line == 3
    assert error.field == field and words in error.message


def test_non_numeric_volume_names_its_column(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "Date,Close,Volume\n2024-01-02,1,12k\n"))
    assert error.field == "Volume" and error.origin is not None and error.origin.line == 2


def test_wrong_number_of_columns(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "date,close\n2024-01-01,1\n2024-01-02,1,9\n"))
    assert error.origin is not None and error.origin.line == 3
    assert "expected 2 columns, found 3" in error.message


def test_unknown_format_and_calendar(tmp_path: Path) -> None:
    path = write(tmp_path, "date,close\n2024-01-01,1\n")
    assert read_error(path, fmt="xlsx").field == "fmt"
    assert read_error(path, calendar="mars").field == "calendar"


# --- round trip ------------------------------------------------------------------------------

_prices = st.decimals(min_value=D("0.0001"), max_value=D("1e9"), places=4,
                      allow_nan=False, allow_infinity=False)


@st.composite
def _bars(draw: st.DrawFn) -> list[Bar]:
    start = draw(st.dates(date(1990, 1, 1), date(2030, 1, 1)))
    steps = draw(st.lists(st.integers(1, 3), min_size=1, max_size=40))
    bars, day = [], start
    for step in steps:
        low = draw(_prices)
        high = low + draw(st.decimals(0, 1000, places=2))
        close = draw(st.sampled_from([low, high, (low + high) / 2]))
        has_ohlc = draw(st.booleans())
        volume = draw(st.one_of(st.none(), st.integers(0, 10**12).map(D)))
        bars.append(Bar(day, close, low if has_ohlc else None, high if has_ohlc else None,
                        low if has_ohlc else None, volume))
        day += timedelta(days=step)
    return bars


@settings(max_examples=60, deadline=None)
@given(_bars())
def test_round_trip_csv(tmp_path_factory: pytest.TempPathFactory, bars: list[Bar]) -> None:
    path = tmp_path_factory.mktemp("rt") / "series.csv"
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["date", "open", "high", "low", "close", "volume"])
        for bar in bars:
            out.writerow([bar.day.isoformat(), *("" if v is None else str(v) for v in
                                                 (bar.open, bar.high, bar.low, bar.close,
                                                  bar.volume))])
    series = read(path)
    assert list(series.bars) == bars


# --- real data -------------------------------------------------------------------------------

# Published quirks the PROVENANCE notes document: negative WTI prints on 2020-04-20, and
# futures/index closes outside the day's traded range.
_RELAXED = {"WTI": QualityLimits(allow_non_positive=True),
            "WTI_FUT": QualityLimits(allow_non_positive=True, strict_ohlc=False),
            "GOLD": QualityLimits(strict_ohlc=False), "VIX": QualityLimits(strict_ohlc=False)}
_KNOWN_CLOSES = {("BTC-USD", date(2014, 9, 17)): D("457.334"),
                 ("BTC-USD", date(2020, 3, 16)): D("5014.48"),
                 ("SPX", date(2008, 10, 13)): D("1003.35"),
                 ("DGS10", date(2020, 3, 16)): D("0.73"),
                 ("USDKZT", date(2020, 3, 16)): D("405.46")}


def _provenance_rows() -> dict[str, int]:
    table = (MARKET / "PROVENANCE.md").read_text(encoding="utf-8")
    return {match[1]: int(match[2]) for match in
            re.finditer(r"^\| (\S+)\.csv \| \S+ \| \S+ \| (\d+) \|", table, re.MULTILINE)}


@pytest.mark.realdata
@pytest.mark.skipif(not MARKET.is_dir(), reason="../shared/data/market is absent")
def test_every_real_file_reads_without_errors() -> None:
    expected = _provenance_rows()
    assert expected["BTC-USD"] == 4279 and expected["SPX"] == 24777
    files = sorted(p for p in MARKET.glob("*.csv") if p.name != "fomc.csv")
    assert {p.stem for p in files} <= set(expected)
    closes: dict[tuple[str, date], Decimal] = {}
    warnings: dict[str, int] = {}
    for path in files:
        guess = guess_series(path)
        series = read_series(path, series_id=guess.series_id, calendar=guess.calendar,
                             source="shared", currency=guess.currency,
                             limits=_RELAXED.get(path.stem, QualityLimits()))
        assert len(series.bars) == expected[path.stem], path.name
        for bar in series.bars:
            if (path.stem, bar.day) in _KNOWN_CLOSES:
                closes[(path.stem, bar.day)] = bar.close
        for finding in series.warnings:
            warnings[finding.rule] = warnings.get(finding.rule, 0) + 1
    assert closes == _KNOWN_CLOSES
    assert warnings.get(OHLC, 0) > 0  # GOLD/VIX/WTI_FUT quirks are kept visible
    assert set(warnings) <= {GAP, STALE_CLOSE, JUMP, OHLC, MISSING_VALUE}


def test_an_oversized_file_is_refused_while_streaming(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import qoima.adapters.market_files as market_files

    monkeypatch.setattr(market_files, "MAX_ROWS", 10)
    start = date(2024, 1, 1)
    rows = "".join(f"{start + timedelta(n)},1,2,1,1.5,10\n" for n in range(20))
    path = write(tmp_path, GENERIC_HEADER + rows)
    error = read_error(path)
    assert error.origin is not None and error.origin.line == 12  # the 11th data row
    assert "more than 10 rows" in error.message
