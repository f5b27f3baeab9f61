"""Reading daily market series from files: generic CSV, Yahoo and FRED exports, Parquet, and
any other table through a column map.

Every reader returns a checked :class:`Series` or raises :class:`InvalidInput` naming the
file, line and column; nothing half-read escapes. Values go from the file's text straight
to ``Decimal``. Rows are streamed (only parsed bars are kept) so long files do not need
their text in memory, and the per-row path is one ``try`` around plain constructor calls:
the slow, precise diagnosis runs only for a row that failed.

Plain generic, Yahoo and FRED files with ISO dates take a columnar fast path first: pyarrow
reads every cell as text, the checks run vectorized, and the series holds
:class:`ColumnarBars` (Decimals built from the text on demand). Anything unusual in a file
sends it down the row path, so every error reads exactly as before.
"""

from __future__ import annotations

import csv
import gc
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from pathlib import Path
from typing import Any, NoReturn, Protocol

import numpy as np

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput, Origin
from qoima.domain.findings import Finding
from qoima.market.calendars import get_calendar
from qoima.market.quality import DEFAULT_LIMITS, QualityLimits, check_series
from qoima.market.series import Bar, ColumnarBars, Series, SeriesId

MISSING_VALUE = "market.missing_value"
GENERIC_COLUMNS = ("date", "open", "high", "low", "close", "volume")
YAHOO_COLUMNS = ("Date", "Open", "High", "Low", "Close", "Adj Close", "Volume")
FRED_DATE_COLUMNS = ("DATE", "observation_date")
FRED_MISSING = frozenset({"", "."})
YAHOO_NULL = "null"
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
FORMATS = ("auto", "generic", "yahoo", "fred", "parquet", "columns")
BAR_FIELDS = ("close", "open", "high", "low", "volume")


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which column holds what, for files in no known layout; ``date_format`` is a
    ``strptime`` format (None: detect from the first row)."""

    date: str
    close: str
    open: str | None = None
    high: str | None = None
    low: str | None = None
    volume: str | None = None
    date_format: str | None = None

    def columns(self) -> dict[str, str | None]:
        return {"date": self.date, "close": self.close, "open": self.open, "high": self.high,
                "low": self.low, "volume": self.volume}


# --- dates -------------------------------------------------------------------------------

DateParser = Callable[[str], date]


def _iso_date(text: str) -> date:
    # fromisoformat alone would also take 20240102 and 2024-W01-2; one file, one format
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(text)
    return date.fromisoformat(text)


def _strptime_parser(fmt: str) -> DateParser:
    strptime = datetime.strptime

    def parse(text: str) -> date:
        return strptime(text, fmt).date()

    return parse


# (pattern of the first row's date, parser, label); US month-first for slashed dates, as
# Yahoo and FRED web exports write them
_DATE_FORMATS: tuple[tuple[re.Pattern[str], DateParser, str], ...] = (
    (re.compile(r"\d{4}-\d{2}-\d{2}"), _iso_date, "YYYY-MM-DD"),
    (re.compile(r"\d{4}/\d{2}/\d{2}"), _strptime_parser("%Y/%m/%d"), "YYYY/MM/DD"),
    (re.compile(r"\d{1,2}/\d{1,2}/\d{4}"), _strptime_parser("%m/%d/%Y"), "MM/DD/YYYY"),
    (re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}"), _strptime_parser("%d.%m.%Y"), "DD.MM.YYYY"),
)


def _detect_date_format(text: str, origin: Origin, field: str) -> tuple[DateParser, str]:
    for pattern, parser, label in _DATE_FORMATS:
        if pattern.fullmatch(text):
            try:
                parser(text)
            except ValueError:
                break
            return parser, label
    known = ", ".join(label for _, _, label in _DATE_FORMATS)
    raise InvalidInput(f"{text!r} is not a date in a known format ({known})", origin=origin,
                       field=field)


# --- table layout --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Layout:
    """Column positions in a file; ``names`` maps bar fields to the file's column names."""

    width: int
    date: int
    close: int
    optional: tuple[int | None, int | None, int | None, int | None]  # open, high, low, volume
    names: dict[str, str]
    skip_missing_close: bool = False  # FRED: '.' or empty = no observation that day
    null_marker: str | None = None  # Yahoo: 'null' = no data, an error here
    date_format: str | None = None


def _header_error(file: str, expected: str, found: Sequence[str],
                  missing: Sequence[str] = (), unknown: Sequence[str] = ()) -> InvalidInput:
    detail = []
    if missing:
        detail.append(f"missing {', '.join(missing)}")
    if unknown:
        detail.append(f"unknown {', '.join(unknown)}")
    what = f" ({'; '.join(detail)})" if detail else ""
    return InvalidInput(f"unexpected columns{what}; expected {expected}; found "
                        f"{','.join(found) or '(none)'}", origin=Origin(file, 1), field="header")


def _generic_layout(header: list[str], file: str) -> _Layout:
    lowered = [name.strip().lower() for name in header]
    missing = [name for name in ("date", "close") if name not in lowered]
    unknown = [name for name, low in zip(header, lowered, strict=True)
               if low not in GENERIC_COLUMNS]
    duplicated = len(set(lowered)) != len(lowered)
    if missing or unknown or duplicated:
        raise _header_error(file, ",".join(GENERIC_COLUMNS) + " (open, high, low, volume "
                            "optional)", header, missing, unknown)
    index = {name: lowered.index(name) for name in lowered}
    return _Layout(len(header), index["date"], index["close"],
                   (index.get("open"), index.get("high"), index.get("low"), index.get("volume")),
                   {name: header[i] for name, i in index.items()})


def _yahoo_layout(header: list[str], file: str) -> _Layout:
    stripped = [name.strip() for name in header]
    required = ("Date", "Close")
    missing = [name for name in required if name not in stripped]
    unknown = [name for name in stripped if name not in YAHOO_COLUMNS]
    if missing or unknown or len(set(stripped)) != len(stripped):
        raise _header_error(file, ",".join(YAHOO_COLUMNS), header, missing, unknown)
    index = {name: stripped.index(name) for name in stripped}
    names = {name.lower(): name for name in stripped if name != "Adj Close"}
    return _Layout(len(header), index["Date"], index["Close"],
                   (index.get("Open"), index.get("High"), index.get("Low"), index.get("Volume")),
                   names, null_marker=YAHOO_NULL)


def _fred_layout(header: list[str], file: str) -> _Layout:
    stripped = [name.strip() for name in header]
    if len(stripped) != 2 or stripped[0] not in FRED_DATE_COLUMNS or not stripped[1]:
        raise _header_error(file, "DATE,<SERIES> or observation_date,<SERIES>", header)
    return _Layout(2, 0, 1, (None, None, None, None),
                   {"date": stripped[0], "close": stripped[1]}, skip_missing_close=True)


def _mapped_layout(header: list[str], file: str, column_map: ColumnMap) -> _Layout:
    stripped = [name.strip() for name in header]
    wanted = {field: name for field, name in column_map.columns().items() if name is not None}
    missing = [name for name in wanted.values() if name not in stripped]
    if missing:
        raise _header_error(file, ",".join(wanted.values()) + " (from the column map)", header,
                            missing)
    index = {field: stripped.index(name) for field, name in wanted.items()}
    return _Layout(len(header), index["date"], index["close"],
                   (index.get("open"), index.get("high"), index.get("low"), index.get("volume")),
                   wanted, date_format=column_map.date_format)


def _detect_format(path: Path, header: list[str] | None, column_map: ColumnMap | None) -> str:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return "parquet"
    if column_map is not None:
        return "columns"
    names = [name.strip() for name in header or []]
    if len(names) == 2 and names[0] in FRED_DATE_COLUMNS:
        return "fred"
    if "Adj Close" in names or (names and names[0] == "Date"):
        return "yahoo"
    return "generic"


# --- rows ----------------------------------------------------------------------------------

#: No daily series is this long (400 years of every calendar day is 146,100 rows); a larger
#: file is refused while streaming, before it can fill memory.
MAX_ROWS = 1_000_000

@dataclass(frozen=True, slots=True)
class _Parsed:
    bars: Sequence[Bar]
    lines: Sequence[int]
    skipped_lines: Sequence[int]


class _LineCounter(Protocol):
    """What ``csv.reader`` offers: the number of the line last read."""

    @property
    def line_num(self) -> int: ...


class _RowNumbers:
    __slots__ = ("line_num",)

    def __init__(self) -> None:
        self.line_num = 1  # the header


def _parse_rows(rows: Iterable[list[str]], counter: _LineCounter, layout: _Layout,
                file: str) -> _Parsed:
    """The hot loop: one ``try`` per row, precise diagnosis only when it fails."""
    bars: list[Bar] = []
    lines: list[int] = []
    skipped: list[int] = []
    width = layout.width
    pad = width  # absent optional columns read the empty cell appended at ``pad``
    o, h, lo, v = (pad if i is None else i for i in layout.optional)
    get = itemgetter(layout.date, layout.close, o, h, lo, v)
    parse_date: DateParser | None = (None if layout.date_format is None
                                     else _strptime_parser(layout.date_format))
    skip_missing = layout.skip_missing_close
    dec = Decimal
    from_iso = date.fromisoformat
    iso = False
    add_bar, add_line = bars.append, lines.append
    for row in rows:
        if not row:
            continue  # blank line
        line = counter.line_num
        if line > MAX_ROWS + 1:  # line 1 is the header
            raise InvalidInput(
                f"more than {MAX_ROWS:,} rows: a daily series has a few tens of thousands "
                "(SPX since 1927: 24,777); split the file or check that it is one series",
                origin=Origin(file, line))
        if len(row) != width:
            _diagnose(row, line, layout, parse_date, file)
        row.append("")
        day_text, close_text, open_text, high_text, low_text, volume_text = get(row)
        if skip_missing and close_text.strip() in FRED_MISSING:
            skipped.append(line)
            continue
        if parse_date is None:
            origin = Origin(file, line)
            parse_date = _detect_date_format(day_text, origin, layout.names["date"])[0]
            iso = parse_date is _iso_date  # inlined below: saves a Python call per row
        try:
            close = dec(close_text)
            open_ = dec(open_text) if open_text else None
            high = dec(high_text) if high_text else None
            low = dec(low_text) if low_text else None
            volume = dec(volume_text) if volume_text else None
            if not (close.is_finite() and (open_ is None or open_.is_finite())
                    and (high is None or high.is_finite()) and (low is None or low.is_finite())
                    and (volume is None or volume.is_finite())):
                raise ValueError("not finite")
            if iso:
                if len(day_text) != 10 or day_text[7] != "-":
                    raise ValueError(day_text)
                day = from_iso(day_text)
            else:
                day = parse_date(day_text)
            add_bar(Bar(day, close, open_, high, low, volume))
        except (ValueError, ArithmeticError):
            _diagnose(row[:width], line, layout, parse_date, file)
        add_line(line)
    return _Parsed(bars, lines, skipped)


def _diagnose(row: list[str], line: int, layout: _Layout, parse_date: DateParser | None,
              file: str) -> NoReturn:
    """Raise the error that names the first bad field of a row the fast path rejected."""
    origin = Origin(file, line)
    if len(row) != layout.width:
        raise InvalidInput(f"expected {layout.width} columns, found {len(row)}", origin=origin,
                           field=None)
    date_name = layout.names["date"]
    day_text = row[layout.date]
    if parse_date is None:
        parse_date, _ = _detect_date_format(day_text, origin, date_name)
    try:
        parse_date(day_text)
    except ValueError:
        raise InvalidInput(f"date {day_text!r} is not in the file's date format (taken from "
                           f"its first row{_format_label(layout)})", origin=origin,
                           field=date_name) from None
    positions = dict(zip(BAR_FIELDS, (layout.close, *layout.optional), strict=True))
    for field in BAR_FIELDS:
        position = positions[field]
        if position is None:
            continue
        text = row[position]
        name = layout.names[field]
        if text == "":
            if field == "close":
                raise InvalidInput("a close is required", origin=origin, field=name)
            continue
        if layout.null_marker is not None and text.strip() == layout.null_marker:
            raise InvalidInput(f"{text!r} (the export's marker for no data) where a number is "
                               "required; drop the row or fill it", origin=origin, field=name)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise InvalidInput(f"{text!r} is not a number", origin=origin, field=name) from None
        if not value.is_finite():
            raise InvalidInput(f"{text!r} is not a finite number", origin=origin, field=name)
    raise InvalidInput("row could not be read", origin=origin)  # pragma: no cover


def _format_label(layout: _Layout) -> str:
    return f": {layout.date_format}" if layout.date_format else ""


# --- the columnar fast path ----------------------------------------------------------------

#: Files above this size take the streaming row path, so memory stays bounded.
FAST_PATH_MAX_BYTES = 64 * 1024 * 1024
# the only bytes a fast-path body may hold: ISO dates and plain decimal numbers, where
# pyarrow's strict casts and Decimal accept exactly the same texts
_BODY_BYTES = b"0123456789.+-eE,\n\r"


def _read_csv_columnar(path: Path, fmt: str, column_map: ColumnMap | None,
                       ) -> tuple[_Parsed, _Layout] | None:
    """Generic, Yahoo and FRED files with ISO dates, read by pyarrow into ColumnarBars.

    Returns None on anything unusual (quotes, blank lines, bare carriage returns, a bad
    cell, a non-ISO date, too many rows...): the row path then reads the file and raises
    exactly the error it always did. Line numbers are the row index + 2 (header on line 1),
    which holds because such files have one row per line.
    """
    if fmt not in ("auto", "generic", "yahoo", "fred") or column_map is not None:
        return None
    try:
        if path.stat().st_size > FAST_PATH_MAX_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if (not data or data[:1] in (b"\n", b"\r") or b"\n\n" in data
            or (b"\r" in data and (b"\n\r\n" in data
                                   or data.count(b"\r") != data.count(b"\r\n")))):
        return None  # blank lines or bare carriage returns: the row path counts lines
    end = data.find(b"\n")
    if end < 0 or data[end:].translate(None, _BODY_BYTES):
        return None  # no rows, or a byte no ISO date or plain number holds (quotes, text)
    try:
        header = data[:end].decode("utf-8").removesuffix("\r").split(",")
    except UnicodeDecodeError:
        return None
    file = str(path)
    if fmt == "auto":
        fmt = _detect_format(path, header, column_map)
        if fmt not in ("generic", "yahoo", "fred"):
            return None
    try:
        layout = _layout_for(fmt, header, file, column_map)
    except InvalidInput:
        return None
    try:
        return _columns_from_arrow(data, header, layout), layout
    except _NotFast:
        return None
    except Exception as error:  # any pyarrow complaint about a cell: the row path names it
        if type(error).__module__.startswith("pyarrow"):
            return None
        raise


class _NotFast(Exception):
    """The fast path declines a file; the row path reads it."""


def _columns_from_arrow(data: bytes, header: list[str], layout: _Layout) -> _Parsed:
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]
    import pyarrow.csv as pacsv  # type: ignore[import-untyped]

    names = [f"c{i}" for i in range(len(header))]
    date_name = names[layout.date]
    values = [None if i is None else names[i] for i in (layout.close, *layout.optional)]
    wanted = [date_name, *(name for name in values if name is not None)]
    # dates straight to date32 (YYYY-MM-DD only, no impossible day: what the row path takes
    # once the first row set the ISO format); numbers as text, empty cells as null
    types = {name: pa.string() for name in wanted}
    types[date_name] = pa.date32()
    table = pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
        parse_options=pacsv.ParseOptions(quote_char=False, double_quote=False,
                                          newlines_in_values=False, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types=types, include_columns=wanted,
                                             strings_can_be_null=True, null_values=[""]))
    rows = table.num_rows
    if rows == 0 or rows > MAX_ROWS:
        raise _NotFast

    def column(name: str) -> Any:
        chunked = table.column(name)
        return chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()

    days = column(date_name)
    skipped: list[int] = []
    lines: Sequence[int] = range(2, rows + 2)
    keep = None
    if layout.skip_missing_close:  # FRED: '.' or empty (spaces never get this far)
        close = column(names[layout.close])
        missing = pc.fill_null(pc.equal(close, "."), True)
        if pc.any(missing).as_py():
            keep = pc.invert(missing)
            kept = keep.to_numpy(zero_copy_only=False)
            skipped = (np.flatnonzero(~kept) + 2).tolist()
            if len(skipped) == rows:
                raise _NotFast
            days = days.filter(keep)
            lines = (np.flatnonzero(kept) + 2).tolist()
    if days.null_count:
        raise _NotFast  # an empty date: the row path names it
    ordinals = days.cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    ordinals += _EPOCH_ORDINAL
    if int(ordinals.min()) < 1:
        raise _NotFast  # year 0: pyarrow's calendar has it, Python's does not
    texts: list[Any] = []
    floats: list[np.ndarray | None] = []
    for k, name in enumerate(values):
        if name is None:
            texts.append(None)
            floats.append(None)
            continue
        cells = column(name)
        if keep is not None:
            cells = cells.filter(keep)
        if k == 0 and cells.null_count:
            raise _NotFast  # an empty close: the row path names it
        as_floats = pc.cast(cells, pa.float64()).to_numpy(zero_copy_only=False)
        finite = np.isfinite(as_floats)
        if not finite.all() and (k == 0 or (~finite & ~np.isnan(as_floats)).any()):
            raise _NotFast  # inf, or an overflow: the row path decides
        texts.append(cells)
        floats.append(as_floats)
    bars = ColumnarBars(ordinals, texts, floats)
    return _Parsed(bars, lines, skipped)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


# --- files ---------------------------------------------------------------------------------

def _read_csv(path: Path, fmt: str, column_map: ColumnMap | None) -> tuple[_Parsed, _Layout]:
    file = str(path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        while header is not None and not header:
            header = next(reader, None)  # leading blank lines
        if fmt == "auto":
            fmt = _detect_format(path, header, column_map)
        if header is None:
            raise InvalidInput("file is empty; expected a header row", origin=Origin(file, 1),
                               field="header")
        layout = _layout_for(fmt, header, file, column_map)
        parsed = _parse_rows(reader, reader, layout, file)
    return parsed, layout


def _layout_for(fmt: str, header: list[str], file: str,
                column_map: ColumnMap | None) -> _Layout:
    if fmt == "generic":
        return _generic_layout(header, file)
    if fmt == "yahoo":
        return _yahoo_layout(header, file)
    if fmt == "fred":
        return _fred_layout(header, file)
    if fmt == "columns":
        if column_map is None:
            raise InvalidInput("format 'columns' needs a column map", field="column_map")
        return _mapped_layout(header, file, column_map)
    raise InvalidInput(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}", field="fmt")


def _cell_text(value: Any) -> str:
    """Parquet cells as the text a CSV would hold: floats by their shortest repr (the digits
    the writer meant), dates in ISO form, nulls empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return "" if value != value else repr(value)  # NaN: pandas' empty cell
    return str(value)


def _read_parquet(path: Path, column_map: ColumnMap | None) -> tuple[_Parsed, _Layout]:
    # only parquet readers pay for pyarrow's import; pyarrow ships no type information
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    file = str(path)
    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several unrelated types for bad files
        raise InvalidInput(f"not a readable Parquet file ({error})", origin=Origin(file),
                           field=None) from None
    # pandas may store its index as a column; it is not data
    header = [name for name in parquet.schema_arrow.names
              if not name.startswith("__index_level_")]
    layout = (_generic_layout(header, file) if column_map is None
              else _mapped_layout(header, file, column_map))
    wanted = [header[i] for i in (layout.date, layout.close, *layout.optional) if i is not None]
    order = {name: position for position, name in enumerate(header)}
    counter = _RowNumbers()  # line = row index + 2, as if the table were a CSV with a header

    def rows() -> Iterator[list[str]]:
        for batch in parquet.iter_batches(columns=wanted):
            cells = [[""] * batch.num_rows for _ in header]
            for name, column in zip(batch.schema.names, batch.columns, strict=True):
                cells[order[name]] = [_cell_text(value) for value in column.to_pylist()]
            for row in zip(*cells, strict=True):
                counter.line_num += 1
                yield list(row)

    return _parse_rows(rows(), counter, layout, file), layout


def read_series(path: Path | str, *, series_id: SeriesId, fmt: str = "auto", calendar: str,
                source: str, currency: str | None, column_map: ColumnMap | None = None,
                limits: QualityLimits = DEFAULT_LIMITS) -> Series:
    """Read, check and return one series; raises :class:`InvalidInput` at the first problem.

    ``fmt`` is one of ``FORMATS``; ``auto`` picks Parquet by extension, then FRED, Yahoo or
    generic CSV by header (``columns`` when a ``column_map`` is given). Quality errors
    raise; quality warnings (and FRED's skipped missing values) go into ``Series.warnings``.
    """
    path = Path(path)
    file = str(path)
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}", field="fmt")
    cal = get_calendar(calendar)
    if not path.is_file():
        raise InvalidInput("file not found", origin=Origin(file), field="path")
    # Bars hold no reference cycles, yet each allocation burst triggers the cycle collector
    # over them: pausing it cuts parse time by ~15-20 % on long files.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if fmt == "parquet" or (fmt == "auto" and path.suffix.lower() in PARQUET_SUFFIXES):
            parsed, layout = _read_parquet(path, column_map)
        else:
            fast = _read_csv_columnar(path, fmt, column_map)
            parsed, layout = fast if fast is not None else _read_csv(path, fmt, column_map)
    finally:
        if collecting:
            gc.enable()
    if not parsed.bars:
        raise InvalidInput("no data rows after the header", origin=Origin(file, 2),
                           field=layout.names["close"])
    report = check_series(series_id, parsed.bars, cal, source_name=file, lines=parsed.lines,
                          limits=limits)
    if report.errors:
        first, where = report.errors[0], report.error_locations[0]
        raise InvalidInput(first.message, origin=Origin(file, where.line or 0),
                           field=layout.names.get(where.field, where.field), rule=first.rule)
    warnings = report.warnings
    if parsed.skipped_lines:
        count = len(parsed.skipped_lines)
        warnings = (Finding(MISSING_VALUE, Severity.WARNING, f"{series_id} {file}",
                            f"{count} rows without a value ('.' or empty) skipped, first on line "
                            f"{parsed.skipped_lines[0]}", None, str(count)), *warnings)
    bars = parsed.bars if isinstance(parsed.bars, ColumnarBars) else tuple(parsed.bars)
    return Series(series_id, bars, source, cal.name, currency, warnings)
