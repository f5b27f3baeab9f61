"""The columnar fast path of ``read_series`` gives what the row-by-row path gives: the same
bars and warnings for good files, the same error (file, line, field) for bad ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import qoima.adapters.market_files as market_files
from qoima.adapters.market_files import read_series
from qoima.adapters.series_naming import guess_series
from qoima.domain.errors import InvalidInput
from qoima.market.calendars import CalendarName
from qoima.market.quality import QualityLimits
from qoima.market.series import ColumnarBars, SeriesId, SeriesKind
from tests.adapters.test_market_files import _RELAXED, MARKET

BTC = SeriesId(SeriesKind.PRICE, "BTC")
DGS10 = SeriesId(SeriesKind.RATE, "DGS10")


@contextmanager
def row_path_only() -> Iterator[None]:
    with mock.patch.object(market_files, "_read_csv_columnar", return_value=None):
        yield


def outcome(path: Path, **options: Any) -> tuple[Any, ...]:
    try:
        series = read_series(path, **options)
    except InvalidInput as error:
        return ("error", error.message, error.origin, error.field, error.details)
    return ("ok", tuple(series.bars), series.warnings, series.calendar, series.source)


def both_paths(path: Path, **options: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    fast = outcome(path, **options)
    with row_path_only():
        rows = outcome(path, **options)
    return fast, rows


def options_for(kind: str) -> dict[str, Any]:
    if kind == "fred":
        return {"series_id": DGS10, "calendar": CalendarName.US_FEDERAL, "source": "t",
                "currency": None}
    return {"series_id": BTC, "calendar": CalendarName.CRYPTO, "source": "t",
            "currency": "USD"}


# --- random files ------------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(1, 10**7).map(str),
    st.builds(lambda i, p: f"{i / 10**p:.{p}f}", st.integers(1, 10**7), st.integers(0, 6)),
    st.sampled_from(("1.50", "1.5e2", "1.5E+2", "+3", ".5", "5.", "2.000000000000000001",
                     "1e-3", "0.0001000")))
BAD_CELLS = ("abc", "", "null", " 1", "1 ", "nan", "inf", "1e999", '"1"', "1,5", "-2", "0",
             "1_000", "2024-01-01", "--1", "1e", ".")
BAD_DATES = ("2024-1-02", "20240102", "2024-02-30", "0000-01-01", "2024/01/02", "",
             " 2024-01-02", "2024-01-02T00:00")


@st.composite
def csv_files(draw: Any) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(("generic", "generic", "yahoo", "fred")))
    if kind == "generic":
        optional = draw(st.lists(st.sampled_from(("open", "high", "low", "volume")),
                                 unique=True))
        columns = draw(st.permutations(["date", "close", *optional]))
        header = [draw(st.sampled_from((name, name.upper(), name.title()))) for name in columns]
    elif kind == "yahoo":
        columns = ["date", "open", "high", "low", "close", "adj", "volume"]
        header = ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]
    else:
        columns = ["date", "close"]
        header = [draw(st.sampled_from(("DATE", "observation_date"))), "DGS10"]
    n = draw(st.integers(0, 40))
    day = date(2020, 1, 1) + timedelta(days=draw(st.integers(0, 3000)))
    rows = []
    for _ in range(n):
        day += timedelta(days=draw(st.integers(1, 4)))
        cells = {"date": day.isoformat()}
        base = float(draw(NUMBERS))
        for name in columns:
            if name == "date":
                continue
            if name == "close" and kind == "fred" and draw(st.integers(0, 9)) == 0:
                cells[name] = draw(st.sampled_from((".", "", " . ")))
            elif name in ("open", "high", "low", "volume") and draw(st.integers(0, 5)) == 0:
                cells[name] = ""  # missing optional value
            elif name in ("high", "low"):
                cells[name] = repr(round(base * (1.01 if name == "high" else 0.99), 4))
            else:
                cells[name] = draw(NUMBERS) if name == "volume" else repr(base)
        rows.append([cells[name] for name in columns])
    bad = draw(st.integers(0, 3)) == 0  # one in four files has one anomaly
    newline = draw(st.sampled_from(("\n", "\r\n")))
    lines = [",".join(header)] + [",".join(row) for row in rows]
    if bad and rows:
        where = draw(st.integers(1, len(lines) - 1))
        what = draw(st.sampled_from(("cell", "date", "blank", "short", "cr")))
        row = lines[where].split(",")
        date_at = columns.index("date")
        if what == "cell":
            cell = draw(st.integers(0, len(row) - 1).filter(lambda i: i != date_at))
            row[cell] = draw(st.sampled_from(BAD_CELLS))
            lines[where] = ",".join(row)
        elif what == "date":
            row[date_at] = draw(st.sampled_from(BAD_DATES))
            lines[where] = ",".join(row)
        elif what == "blank":
            lines.insert(where, "")
        elif what == "short":
            lines[where] = ",".join(row[:-1])
        else:
            lines[where] = lines[where] + "\r"
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    bom = b"\xef\xbb\xbf" if draw(st.integers(0, 9)) == 0 else b""
    return kind, bom + text.encode()


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=csv_files())
@example(case=("fred", b"\xef\xbb\xbfDATE,DGS10\n\n2020-01-02,1.0\n2020-01-03,.\n"))
@example(case=("generic", b"date,close\r\n2020-01-02,1.0\r\n\r\n2020-01-03,2\r\n"))
def test_fast_path_reads_what_the_row_path_reads(tmp_path: Path,
                                                 case: tuple[str, bytes]) -> None:
    kind, data = case
    path = tmp_path / "s.csv"
    path.write_bytes(data)
    fast, rows = both_paths(path, **options_for(kind))
    assert fast == rows


def test_a_clean_file_takes_the_fast_path_and_an_odd_one_does_not(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("date,close,volume\n2024-01-01,1.50,10\n2024-01-02,1.6,\n")
    series = read_series(path, **options_for("generic"))
    assert isinstance(series.bars, ColumnarBars)
    assert str(series.bars[0].close) == "1.50" and series.bars[1].volume is None
    path.write_text('date,close,volume\n2024-01-01,"1.50",10\n2024-01-02,1.6,\n')
    assert isinstance(read_series(path, **options_for("generic")).bars, tuple)


def test_fred_missing_values_keep_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "DGS10.csv"
    path.write_text("observation_date,DGS10\n2024-01-02,4.0\n2024-01-03,.\n2024-01-04,4.1\n"
                    "2024-01-05,x\n")
    fast, rows = both_paths(path, **options_for("fred"))
    assert fast == rows and fast[0] == "error" and fast[2].line == 5
    path.write_text("observation_date,DGS10\n2024-01-02,4.0\n2024-01-03,.\n2024-01-04,4.1\n")
    fast, rows = both_paths(path, **options_for("fred"))
    assert fast == rows and fast[0] == "ok" and len(fast[1]) == 2
    assert "first on line 3" in fast[2][0].message


def test_quality_errors_name_the_same_line_on_both_paths(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("date,open,high,low,close\n2024-01-01,1,2,1,1.5\n2024-01-02,1,2,1,3\n"
                    "2024-01-02,1,2,1,1.5\n")
    fast, rows = both_paths(path, **options_for("generic"))
    assert fast == rows and fast[0] == "error" and fast[2].line == 3 and fast[3] == "close"


# --- the real files ----------------------------------------------------------------------------

@pytest.mark.realdata
@pytest.mark.skipif(not MARKET.is_dir(), reason="../shared/data/market is absent")
def test_real_files_read_the_same_on_both_paths() -> None:
    files = sorted(p for p in MARKET.glob("*.csv") if p.name != "fomc.csv")
    assert files
    fast_count = 0
    for path in files:
        guess = guess_series(path)
        options = {"series_id": guess.series_id, "calendar": guess.calendar,
                   "source": "shared", "currency": guess.currency,
                   "limits": _RELAXED.get(path.stem, QualityLimits())}
        fast, rows = both_paths(path, **options)
        assert fast == rows, path.name
        fast_count += isinstance(read_series(path, **options).bars, ColumnarBars)
    assert fast_count > len(files) // 2  # the shared files are plain ISO CSVs
