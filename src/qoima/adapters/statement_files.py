"""Manager statements from CSV or XLSX, all or nothing, errors naming file, sheet, row, column.

The template
------------
One table, one row per line of the statement, the header in the first row. In XLSX the
table is on the sheet named ``statement`` (else the first sheet; a column map may name
another). Columns (the template's header names; a column map renames them):

============== ========================================================================
period_start   first day of the period, YYYY-MM-DD (every row, or only the first: blank
               repeats it; a different value is an error)
period_end     last day of the period, both days included; same rule
line           what the row is: ``opening_nav``, ``pnl`` (gross of fees), ``closing_nav``,
               ``leverage`` (the manager's gross leverage, optional), ``flow``, ``fee``,
               ``exposure``
kind           flow: ``subscription`` ``redemption`` ``capital_call`` ``distribution``;
               fee: ``management`` ``performance`` ``carry`` ``other``
date           flow date
asset          exposure: asset code known to the reference data (BTC, ETH, USD, ...)
venue          exposure: where it trades or is held (an exchange, a prime broker, a chain)
custodian      exposure: who holds it
amount         the number: NAV, P&L, flow and fee amounts (positive; the kind gives the
               direction), an exposure's market value (negative for a short)
gross_exposure exposure: economic exposure when it is not the market value (a future's
               or swap's notional), negative for a short (optional column)
manager        optional: must be the manager the statement is imported for
currency       optional: the statement currency (default USD), same rule as the dates
============== ========================================================================

Numbers are plain (``1234567.89``, no thousands separators). A column map renames
columns: ``{"amount": "Value (USD)", "line": "Type"}`` (our field -> their header), and
``"sheet"`` names the XLSX sheet; :func:`read_column_map` reads one from YAML::

    sheet: Statement
    columns: {amount: "Value (USD)", line: Type}

The whole file is refused on the first malformed cell, and else on every failed check of
:mod:`qoima.managers.validation` (roll-forward, dates after the previous statement,
negative NAV, unknown assets, exposures adding up to NAV): nothing is returned partially.
Reading XLSX needs ``openpyxl``.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from qoima.adapters.fields import parse_date, parse_enum
from qoima.adapters.located_yaml import as_mapping, load_yaml
from qoima.domain.canonical import plain_decimal
from qoima.domain.errors import InvalidInput, Origin, QoimaError
from qoima.domain.money import parse_decimal
from qoima.managers.model import (
    Exposure,
    FeeCharge,
    FeeKind,
    Flow,
    FlowKind,
    Statement,
    StatementSource,
)
from qoima.managers.validation import ensure_valid

FIELDS = ("period_start", "period_end", "line", "kind", "date", "asset", "venue",
          "custodian", "amount", "gross_exposure", "manager", "currency")
REQUIRED = ("period_start", "period_end", "line", "kind", "date", "asset", "venue",
            "custodian", "amount")
SINGLE_LINES = ("opening_nav", "pnl", "closing_nav", "leverage")
LINES = (*SINGLE_LINES, "flow", "fee", "exposure")
DEFAULT_SHEET = "statement"
MAX_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Our field -> their header, and the XLSX sheet to read (None: the default)."""

    columns: Mapping[str, str]
    sheet: str | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(FIELDS))
        if unknown:
            raise InvalidInput(f"column map names unknown fields {', '.join(unknown)} "
                               f"(fields: {', '.join(FIELDS)})", field=unknown[0])

    def header(self, field: str) -> str:
        return self.columns.get(field, field)


def column_pairs(text: str, *, field: str = "map") -> ColumnMap:
    """``field=Header,field=Header`` (the inline form of a column map: CLI ``--map``, the
    API's ``columns`` parameter); an unknown field or a malformed pair names ``field``."""
    pairs = {}
    for part in text.split(","):
        name, sep, header = part.partition("=")
        if not sep or not name.strip() or not header.strip():
            raise InvalidInput(f"{part!r} is not FIELD=HEADER", field=field)
        pairs[name.strip()] = header.strip()
    try:
        return ColumnMap(pairs)
    except InvalidInput as error:
        raise InvalidInput(error.message, field=field) from None


def read_column_map(path: Path) -> ColumnMap:
    """A column map from YAML: ``sheet`` (optional) and ``columns`` (field: header)."""
    top = as_mapping(load_yaml(path), what="column map", origin=Origin(str(path), 1))
    top.check_keys({"sheet", "columns"})
    columns = as_mapping(top.get("columns"), what="columns", origin=top.origin("columns"))
    for key, value in columns.values.items():
        if not isinstance(value, str) or not value:
            raise InvalidInput("each column must map to a header name",
                               origin=columns.origin(key), field=key)
    try:
        return ColumnMap(dict(columns.values), top.string("sheet"))
    except QoimaError as error:
        raise error.with_origin(columns.origin(error.field)) from None


class _Table:
    """Rows of one sheet as {field: text}, with the place of each cell for errors."""

    def __init__(self, file: str, sheet: str | None, headers: list[str],
                 rows: list[tuple[int, list[str]]], columns: ColumnMap) -> None:
        self.file, self.sheet, self.columns, self.rows = file, sheet, columns, rows
        self.index = {h.strip(): i for i, h in enumerate(headers) if h.strip()}
        for field in REQUIRED:
            if columns.header(field) not in self.index:
                raise self.error(f"missing column {columns.header(field)!r}", 1, field)

    def error(self, message: str, row: int, field: str) -> InvalidInput:
        header = self.columns.header(field)
        where = f"{self.file}[{self.sheet}]" if self.sheet else self.file
        return InvalidInput(message, origin=Origin(where, row), field=header, file=self.file,
                            sheet=self.sheet, row=row, column=header)

    def records(self) -> Iterator[tuple[int, dict[str, str]]]:
        for number, cells in self.rows:
            record = {}
            for field in FIELDS:
                i = self.index.get(self.columns.header(field))
                record[field] = cells[i].strip() if i is not None and i < len(cells) else ""
            yield number, record


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)


def _csv_table(path: Path, columns: ColumnMap) -> _Table:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            headers = next(reader, None)
            rows = []
            start = reader.line_num + 1
            for cells in reader:
                if any(c.strip() for c in cells):
                    rows.append((start, cells))
                start = reader.line_num + 1
                if len(rows) > MAX_ROWS:
                    raise InvalidInput(f"more than {MAX_ROWS} rows", origin=Origin(str(path)))
        except csv.Error as error:
            raise InvalidInput(f"not valid CSV: {error}",
                               origin=Origin(str(path), reader.line_num)) from None
    if headers is None:
        raise InvalidInput("file is empty", origin=Origin(str(path)))
    return _Table(str(path), None, headers, rows, columns)


def _xlsx_table(path: Path, columns: ColumnMap) -> _Table:
    import openpyxl  # only when reading XLSX

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise InvalidInput(f"not a readable XLSX workbook: {error}",
                           origin=Origin(str(path))) from None
    try:
        names = book.sheetnames
        name = columns.sheet or (DEFAULT_SHEET if DEFAULT_SHEET in names else names[0])
        if name not in names:
            raise InvalidInput(f"no sheet named {name!r} (sheets: {', '.join(names)})",
                               origin=Origin(str(path)), field="sheet")
        # read one row past the limit, never the whole of an oversized (or crafted) sheet
        cells = [[_cell_text(v) for v in row] for row in itertools.islice(
            book[name].iter_rows(values_only=True), MAX_ROWS + 1)]
    finally:
        book.close()
    if not cells:
        raise InvalidInput("sheet is empty", origin=Origin(f"{path}[{name}]"))
    if len(cells) > MAX_ROWS:
        raise InvalidInput(f"more than {MAX_ROWS} rows", origin=Origin(f"{path}[{name}]"))
    rows = [(number, row) for number, row in enumerate(cells[1:], 2) if any(row)]
    return _Table(str(path), name, cells[0], rows, columns)


def read_statement(path: Path, *, manager_code: str, known_assets: Collection[str],
                   previous_period_end: date | None = None,
                   columns: ColumnMap | Mapping[str, str] | None = None,
                   received_on: date | None = None) -> Statement:
    """The validated statement in ``path`` (``.csv`` or ``.xlsx``), or :class:`InvalidInput`
    naming file, sheet, row and column; see the module docstring for the template."""
    column_map = columns if isinstance(columns, ColumnMap) else ColumnMap(columns or {})
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InvalidInput("file not found", origin=Origin(str(path)))
    if suffix == ".csv":
        table = _csv_table(path, column_map)
    elif suffix == ".xlsx":
        table = _xlsx_table(path, column_map)
    else:
        raise InvalidInput("statement files end in .csv or .xlsx", origin=Origin(str(path)))
    statement = _Builder(table, manager_code, received_on).build()

    def column(field: str) -> str:  # single-value lines keep their number in "amount"
        return column_map.header("amount" if field in SINGLE_LINES else field)

    return ensure_valid(statement, previous_period_end=previous_period_end,
                        known_assets=known_assets, column=column)


class _Builder:
    def __init__(self, table: _Table, manager_code: str, received_on: date | None) -> None:
        self.table, self.manager, self.received_on = table, manager_code, received_on
        self.common: dict[str, str] = {}
        self.singles: dict[str, tuple[int, Decimal]] = {}
        self.flows: list[Flow] = []
        self.fees: list[FeeCharge] = []
        self.exposures: list[Exposure] = []

    def _same(self, row: int, record: dict[str, str], field: str) -> None:
        value = record[field]
        if not value:
            return
        first = self.common.setdefault(field, value)
        if value != first:
            raise self.table.error(f"{field} {value!r} differs from {first!r} above", row,
                                   field)

    def _origin(self, row: int) -> Origin:
        sheet = self.table.sheet
        return Origin(f"{self.table.file}[{sheet}]" if sheet else self.table.file, row)

    def _located(self, row: int, field: str, parse: Any) -> Any:
        try:
            return parse()
        except QoimaError as error:
            raise self.table.error(error.message, row, field) from None

    def _amount(self, row: int, record: dict[str, str], field: str = "amount",
                required: bool = True) -> Decimal | None:
        text = record[field]
        if not text:
            if required:
                raise self.table.error("a number is required", row, field)
            return None
        value: Decimal = self._located(row, field, lambda: parse_decimal(text, what=field))
        return value

    def _need(self, row: int, record: dict[str, str], field: str, line: str) -> str:
        if not record[field]:
            raise self.table.error(f"a {line} line needs a {field}", row, field)
        return record[field]

    def _row(self, row: int, record: dict[str, str]) -> None:
        for field in ("period_start", "period_end", "manager", "currency"):
            self._same(row, record, field)
        line = record["line"]
        if line not in LINES:
            raise self.table.error(f"{line!r} is not one of: {', '.join(LINES)}", row, "line")
        if line in SINGLE_LINES:
            if line in self.singles:
                raise self.table.error(f"a second {line} line (first on row "
                                       f"{self.singles[line][0]})", row, "line")
            amount = self._amount(row, record)
            assert amount is not None
            self.singles[line] = (row, amount)
        elif line == "flow":
            kind = self._located(row, "kind", lambda: parse_enum(
                FlowKind, self._need(row, record, "kind", line), origin=Origin(""),
                field="kind"))
            on = self._located(row, "date", lambda: parse_date(
                self._need(row, record, "date", line), origin=Origin(""), field="date"))
            amount = self._amount(row, record)
            assert amount is not None
            self.flows.append(Flow(on, kind, amount, row))
        elif line == "fee":
            fee_kind = self._located(row, "kind", lambda: parse_enum(
                FeeKind, self._need(row, record, "kind", line), origin=Origin(""),
                field="kind"))
            amount = self._amount(row, record)
            assert amount is not None
            self.fees.append(FeeCharge(fee_kind, amount, row))
        else:
            value = self._amount(row, record)
            assert value is not None
            self.exposures.append(Exposure(
                self._need(row, record, "asset", line), self._need(row, record, "venue", line),
                self._need(row, record, "custodian", line), value,
                self._amount(row, record, "gross_exposure", required=False), row))

    def build(self) -> Statement:
        first_row = self.table.rows[0][0] if self.table.rows else 2
        if not self.table.rows:
            raise self.table.error("the statement has no rows", 2, "line")
        for row, record in self.table.records():
            self._row(row, record)
        manager = self.common.get("manager", self.manager)
        if manager != self.manager:
            raise self.table.error(f"statement is for manager {manager!r}, imported for "
                                   f"{self.manager!r}", first_row, "manager")
        for line in ("opening_nav", "pnl", "closing_nav"):
            if line not in self.singles:
                raise self.table.error(f"no {line} line", first_row, "line")
        dates = {f: self._located(first_row, f, lambda f=f: parse_date(
            self.common.get(f), origin=Origin(""), field=f)) for f in ("period_start",
                                                                       "period_end")}
        rows = tuple((line, row) for line, (row, _) in self.singles.items())
        rows += (("period_start", first_row), ("period_end", first_row))
        leverage = self.singles.get("leverage")
        return Statement(
            manager_code=self.manager, period_start=dates["period_start"],
            period_end=dates["period_end"], currency=self.common.get("currency", "USD"),
            opening_nav=self.singles["opening_nav"][1], pnl=self.singles["pnl"][1],
            closing_nav=self.singles["closing_nav"][1], flows=tuple(self.flows),
            fees=tuple(self.fees), exposures=tuple(self.exposures),
            reported_leverage=leverage[1] if leverage else None,
            received_on=self.received_on,
            source=StatementSource(self.table.file, self.table.sheet, rows))


def statement_rows(statement: Statement) -> list[list[str]]:
    """The statement in the template, header first (what the writers write)."""
    head = [statement.period_start.isoformat(), statement.period_end.isoformat()]
    rows = [["period_start", "period_end", "line", "kind", "date", "asset", "venue",
             "custodian", "amount", "gross_exposure", "manager", "currency"]]

    def add(line: str, amount: Decimal, kind: str = "", on: str = "", asset: str = "",
            venue: str = "", custodian: str = "", gross: Decimal | None = None) -> None:
        rows.append([*head, line, kind, on, asset, venue, custodian, plain_decimal(amount),
                     "" if gross is None else plain_decimal(gross), statement.manager_code,
                     statement.currency])

    add("opening_nav", statement.opening_nav)
    for flow in statement.flows:
        add("flow", flow.amount, flow.kind.value, flow.on_date.isoformat())
    add("pnl", statement.pnl)
    for fee in statement.fees:
        add("fee", fee.amount, fee.kind.value)
    add("closing_nav", statement.closing_nav)
    if statement.reported_leverage is not None:
        add("leverage", statement.reported_leverage)
    for e in statement.exposures:
        add("exposure", e.market_value, asset=e.asset, venue=e.venue, custodian=e.custodian,
            gross=e.gross_exposure)
    return rows


def statement_csv(statement: Statement) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(statement_rows(statement))
    return buffer.getvalue()


def write_statement_csv(statement: Statement, path: Path) -> None:
    path.write_text(statement_csv(statement), encoding="utf-8")


def write_statement_xlsx(statement: Statement, path: Path) -> None:
    """The template as XLSX on sheet ``statement``: numbers as numeric cells when a float
    holds them exactly, else as text (the reader takes both)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = DEFAULT_SHEET
    for index, row in enumerate(statement_rows(statement)):
        cells: list[Any] = list(row)
        if index:
            for i in (8, 9):
                if cells[i] and Decimal(repr(float(cells[i]))) == Decimal(cells[i]):
                    cells[i] = float(cells[i])
        sheet.append(cells)
    book.save(path)
