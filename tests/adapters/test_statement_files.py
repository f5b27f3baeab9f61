"""Manager statements from CSV and XLSX: good files, each bad input located, round trips."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qoima.adapters.statement_files import (
    ColumnMap,
    read_column_map,
    read_statement,
    statement_csv,
    write_statement_csv,
    write_statement_xlsx,
)
from qoima.domain.errors import InvalidInput
from qoima.managers.model import (
    Exposure,
    FeeCharge,
    FeeKind,
    Flow,
    FlowKind,
    Statement,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "managers"
KNOWN = {"USD", "BTC", "ETH", "USDT", "USDC"}
HEADER = ("period_start,period_end,line,kind,date,asset,venue,custodian,amount,"
          "gross_exposure")
GOOD = f"""{HEADER}
2026-09-01,2026-09-30,opening_nav,,,,,,1000000,
,,flow,subscription,2026-09-15,,,,200000,
,,pnl,,,,,,30000,
,,fee,management,,,,,1500,
,,closing_nav,,,,,,1228500,
,,exposure,,,BTC,cme,marex,-2000,-600000
,,exposure,,,BTC,coinbase-prime,copper,600000,
,,exposure,,,USD,bny,bny,630500,
"""


def _read(path: Path, **kwargs: object) -> Statement:
    return read_statement(path, manager_code="hf-a", known_assets=KNOWN,
                          **kwargs)  # type: ignore[arg-type]


def _csv(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path, **kwargs: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        _read(path, **kwargs)
    return caught.value


def test_example_csv_and_xlsx_read_the_same_statement() -> None:
    csv_statement = _read(EXAMPLES / "statement-hf-a-2026-09.csv",
                          previous_period_end=date(2026, 8, 31))
    xlsx_statement = _read(EXAMPLES / "statement-hf-a-2026-09.xlsx",
                           previous_period_end=date(2026, 8, 31))
    assert csv_statement == xlsx_statement
    assert csv_statement.closing_nav == Decimal("105043178.08")
    assert csv_statement.fees_of(FeeKind.MANAGEMENT) == Decimal("128527.40")
    assert len(csv_statement.exposures) == 6 and csv_statement.reported_leverage == \
        Decimal("1.61")
    assert xlsx_statement.source is not None and xlsx_statement.source.sheet == "statement"


def test_good_csv_with_blank_repeated_dates(tmp_path: Path) -> None:
    s = _read(_csv(tmp_path, GOOD), received_on=date(2026, 10, 12))
    assert (s.period_start, s.period_end, s.currency) == (date(2026, 9, 1),
                                                          date(2026, 9, 30), "USD")
    assert s.flows == (Flow(date(2026, 9, 15), FlowKind.SUBSCRIPTION, Decimal(200000)),)
    assert s.flows[0].row == 3 and s.exposures[0].row == 7
    assert s.exposures[0].exposure == -600000 and s.received_on == date(2026, 10, 12)


def test_bad_roll_forward_names_row_and_column(tmp_path: Path) -> None:
    error = _error(_csv(tmp_path, GOOD.replace("1228500", "1229500")))
    assert error.details["row"] == 6 and error.details["column"] == "amount"
    assert error.details["sheet"] is None
    assert "does not roll forward" in str(error) and str(error).startswith(f"{tmp_path}")


def test_missing_column(tmp_path: Path) -> None:
    text = GOOD.replace(",custodian,", ",keeper,")
    error = _error(_csv(tmp_path, text))
    assert "missing column 'custodian'" in str(error)
    assert (error.details["row"], error.details["column"]) == (1, "custodian")


def test_date_before_previous_statement(tmp_path: Path) -> None:
    error = _error(_csv(tmp_path, GOOD), previous_period_end=date(2026, 9, 10))
    assert (error.details["row"], error.details["column"]) == (2, "period_start")
    assert "not after the previous statement's end 2026-09-10" in str(error)


def test_negative_nav(tmp_path: Path) -> None:
    text = GOOD.replace("opening_nav,,,,,,1000000", "opening_nav,,,,,,-1000000")
    error = _error(_csv(tmp_path, text))
    assert (error.details["row"], error.details["column"]) == (2, "amount")
    assert "negative" in str(error)
    assert len(error.details["issues"]) >= 2  # the roll-forward fails too


def test_unknown_asset(tmp_path: Path) -> None:
    error = _error(_csv(tmp_path, GOOD.replace(",USD,bny", ",DOGE,bny")))
    assert (error.details["row"], error.details["column"]) == (9, "asset")
    assert "unknown asset 'DOGE'" in str(error)


@pytest.mark.parametrize(("old", "new", "row", "column", "words"), [
    ("fee,management,,,,,1500", "fee,management,,,,,1.5k", 5, "amount", "not a number"),
    ("flow,subscription,2026-09-15", "flow,gift,2026-09-15", 3, "kind", "'gift' is not"),
    ("flow,subscription,2026-09-15", "flow,subscription,15/09/2026", 3, "date",
     "not a date"),
    (",,pnl,", ",,profit,", 4, "line", "'profit' is not one of"),
    (",,pnl,", "2026-09-02,,pnl,", 4, "period_start", "differs"),
    ("BTC,cme,marex", "BTC,,marex", 7, "venue", "needs a venue"),
    (",,pnl,,,,,,30000,\n", "", 2, "line", "no pnl line"),
])
def test_malformed_cells_are_located(tmp_path: Path, old: str, new: str, row: int,
                                     column: str, words: str) -> None:
    assert old in GOOD
    error = _error(_csv(tmp_path, GOOD.replace(old, new, 1)))
    assert (error.details["row"], error.details["column"]) == (row, column)
    assert words in str(error)


def test_xlsx_errors_name_the_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "September"
    for line in GOOD.replace("630500", "630000").strip().splitlines():
        sheet.append([float(c) if c.lstrip("-").isdigit() else c for c in line.split(",")])
    path = tmp_path / "s.xlsx"
    book.save(path)
    ok = _read(path)  # exposures 500 short of NAV: inside 0.1 %
    assert ok.source is not None and ok.source.sheet == "September"
    book["September"]["I6"] = 1230000.0  # closing NAV off by 1,500
    book.save(path)
    error = _error(path)
    assert error.details["sheet"] == "September" and error.details["row"] == 6
    assert str(error).startswith(f"{path}[September]:6: field 'amount': NAV does not roll")
    missing = _error(path, columns=ColumnMap({}, sheet="Octobre"))
    assert "no sheet named 'Octobre'" in str(missing)


def test_column_map_renames_headers(tmp_path: Path) -> None:
    text = GOOD.replace("line,", "Type,", 1).replace(",amount,", ",Value (USD),")
    columns = {"line": "Type", "amount": "Value (USD)"}
    assert _read(_csv(tmp_path, text), columns=columns).closing_nav == 1228500
    error = _error(_csv(tmp_path, text.replace("1228500", "1"), "bad.csv"), columns=columns)
    assert error.details["column"] == "Value (USD)"
    yaml_map = tmp_path / "map.yaml"
    yaml_map.write_text('columns: {line: Type, amount: "Value (USD)"}\n', encoding="utf-8")
    assert read_column_map(yaml_map).columns == columns
    yaml_map.write_text("columns: {colour: Type}\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="unknown fields colour") as caught:
        read_column_map(yaml_map)
    assert caught.value.origin is not None and caught.value.origin.line == 1


def test_other_refusals(tmp_path: Path) -> None:
    assert "end in .csv or .xlsx" in str(_error(_csv(tmp_path, GOOD, "s.txt")))
    assert "file not found" in str(_error(tmp_path / "nope.csv"))
    assert "no rows" in str(_error(_csv(tmp_path, HEADER + "\n")))
    other = _csv(tmp_path, GOOD.replace("gross_exposure", "gross_exposure,manager").replace(
        "1000000,\n", "1000000,,hf-b\n", 1))
    assert "for manager 'hf-b'" in str(_error(other))


_money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2)
_assets = st.sampled_from(sorted(KNOWN))
_name = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12).filter(
    lambda s: s.strip() == s)


@st.composite
def statements(draw: st.DrawFn) -> Statement:
    start = draw(st.dates(date(2020, 1, 1), date(2030, 1, 1)))
    end = start + timedelta(days=draw(st.integers(0, 120)))
    flows = tuple(Flow(start + timedelta(days=draw(st.integers(0, (end - start).days))),
                       draw(st.sampled_from(list(FlowKind))), draw(_money))
                  for _ in range(draw(st.integers(0, 3))))
    fees = tuple(FeeCharge(draw(st.sampled_from(list(FeeKind))), draw(_money))
                 for _ in range(draw(st.integers(0, 3))))
    opening = draw(_money)
    pnl = draw(st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e6"), places=2))
    draft = Statement("hf-a", start, end, "USD", opening, pnl, Decimal(0), flows, fees)
    closing = draft.expected_closing_nav
    if closing < 0:
        pnl -= closing
        closing = Decimal(0)
    exposures: tuple[Exposure, ...] = ()
    if closing > 0 and draw(st.booleans()):
        part = draw(st.decimals(min_value=Decimal(0), max_value=closing, places=2))
        exposures = (Exposure(draw(_assets), draw(_name), draw(_name), part,
                              draw(st.none() | _money.map(lambda m: -m))),
                     Exposure("USD", draw(_name), draw(_name), closing - part))
    return Statement("hf-a", start, end, "USD", opening, pnl, closing, flows, fees, exposures,
                     draw(st.none() | st.decimals(min_value=Decimal(0),
                                                  max_value=Decimal(20), places=3)))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(statement=statements())
def test_csv_round_trip(tmp_path: Path, statement: Statement) -> None:
    path = tmp_path / "round.csv"
    write_statement_csv(statement, path)
    back = _read(path)
    assert back == statement
    assert statement_csv(back) == path.read_text(encoding="utf-8")


def test_xlsx_round_trip(tmp_path: Path) -> None:
    statement = _read(EXAMPLES / "statement-hf-a-2026-09.csv")
    path = tmp_path / "round.xlsx"
    write_statement_xlsx(statement, path)
    assert _read(path) == statement


def test_example_column_map(tmp_path: Path) -> None:
    columns = read_column_map(EXAMPLES / "statement-columns.yaml")
    assert columns.sheet == "Statement" and columns.header("amount") == "Value (USD)"
    book = openpyxl.load_workbook(EXAMPLES / "statement-hf-a-2026-09.xlsx")
    sheet = book["statement"]
    sheet.title = "tmp"  # openpyxl would dodge a case-only rename as "Statement1"
    sheet.title = "Statement"
    renamed = dict(columns.columns)
    for cell in sheet[1]:
        cell.value = renamed.get(str(cell.value), cell.value)
    path = tmp_path / "theirs.xlsx"
    book.save(path)
    assert _read(path, columns=columns) == _read(EXAMPLES / "statement-hf-a-2026-09.csv")


def test_an_oversized_sheet_is_refused_after_one_row_past_the_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qoima.adapters import statement_files

    book = openpyxl.Workbook()
    for n in range(50):
        book.active.append(["period_start", n])
    path = tmp_path / "big.xlsx"
    book.save(path)
    monkeypatch.setattr(statement_files, "MAX_ROWS", 5)
    cells: list[object] = []
    cell_text = statement_files._cell_text

    def counted(value: object) -> str:
        cells.append(value)
        return cell_text(value)
    monkeypatch.setattr(statement_files, "_cell_text", counted)
    assert "more than 5 rows" in str(_error(path))
    assert len(cells) == 6 * 2  # six rows of two cells: the rest of the sheet never read


def test_an_inline_column_map_names_its_parameter() -> None:
    from qoima.adapters.statement_files import column_pairs

    assert column_pairs("amount=Value (USD), date = Value date").columns == {
        "amount": "Value (USD)", "date": "Value date"}
    for text, word in (("amount", "FIELD=HEADER"), ("nav=NAV", "nav"), ("=x", "FIELD")):
        with pytest.raises(InvalidInput, match=word) as caught:
            column_pairs(text, field="columns")
        assert caught.value.field == "columns"
