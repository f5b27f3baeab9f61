"""The report document as one self-contained HTML file (interactive, or laid out for print).

Everything the page needs is inside it: CSS, plotly.js (once, from the installed plotly
package) and each chart's data, so the file opens offline and can be archived as is.
Text goes through jinja2 autoescaping; chart data sits in JSON script blocks with ``<``
escaped. A figure or table that would draw badly is replaced by a visible box saying why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

import jinja2
from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

from qoima.adapters.report_charts import figure_json
from qoima.report.document import (
    Column,
    Figure,
    KeyFigures,
    Notice,
    NoticeLevel,
    ReportDocument,
    Section,
    Table,
    Text,
    figure_problems,
)

NUMERIC_KINDS = frozenset({"money", "number", "percent"})
MISSING = "—"
LEVEL_ORDER = {NoticeLevel.PROBLEM: 0, NoticeLevel.WARNING: 1, NoticeLevel.INFO: 2}
LEVEL_WORDS = {NoticeLevel.PROBLEM: "Problem", NoticeLevel.WARNING: "Warning",
               NoticeLevel.INFO: "Information"}


def _decimal(value: object) -> Decimal | None:
    """The exact decimal of a cell, or None when it is missing or not a finite number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def format_number(value: object, kind: str, places: int = 2) -> str:
    """Money and numbers with thousands separators, percent from fractions (0.05 is 5.00%).

    Rounding is half-up on the exact decimal, so 2.675 shows as 2.68 as a reader expects.
    Missing and non-finite values show as an em dash, never as NaN.
    """
    number = _decimal(value)
    if number is None:
        return MISSING if value is None or _non_finite(value) else str(value)
    if kind == "percent":
        number *= 100
    quantum = Decimal(1).scaleb(-places)
    rounded = number.quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded.is_zero():
        rounded = abs(rounded)  # never "-0.00"
    text = f"{rounded:,.{places}f}"
    return f"{text}%" if kind == "percent" else text


def _non_finite(value: object) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def format_cell(value: object, column: Column) -> str:
    if column.kind in NUMERIC_KINDS:
        return format_number(value, column.kind, column.places)
    if value is None or _non_finite(value):
        return MISSING
    return str(value)


def table_problems(table: Table) -> list[str]:
    """Why a table would mislead: no columns, or rows that do not match the columns."""
    if not table.columns:
        return ["no columns"]
    return [f"row {i} has {len(row)} cells for {len(table.columns)} columns"
            for i, row in enumerate(table.rows, start=1) if len(row) != len(table.columns)]


def sorted_notices(notices: tuple[Notice, ...]) -> list[Notice]:
    """PROBLEM first, then WARNING, then INFO; the run's order within a level."""
    return sorted(notices, key=lambda n: LEVEL_ORDER.get(n.level, 3))


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


@dataclass(frozen=True, slots=True)
class _Cell:
    text: str
    css: str  # "num" (right-aligned), "date" (no wrap) or ""
    row_header: bool


def cell_class(column: Column) -> str:
    return "num" if column.kind in NUMERIC_KINDS else "date" if column.kind == "date" else ""


def _table_view(table: Table) -> dict[str, Any]:
    problems = table_problems(table)
    first_is_label = bool(table.columns) and table.columns[0].kind == "text"
    rows = [] if problems else [
        [_Cell(format_cell(v, c), cell_class(c), first_is_label and i == 0)
         for i, (v, c) in enumerate(zip(row, table.columns, strict=True))]
        for row in table.rows]
    return {"kind": "table", "table": table, "problems": problems, "rows": rows,
            "classes": [cell_class(c) for c in table.columns]}


def _figure_view(figure: Figure, for_print: bool) -> dict[str, Any]:
    problems = figure_problems(figure)
    spec = ""
    if not problems:
        try:
            spec = figure_json(figure, for_print=for_print)
        except ValueError as error:  # plotly validation or a malformed range figure
            problems = [str(error).splitlines()[0]]
    return {"kind": "figure", "figure": figure, "problems": problems, "spec": spec}


def _block_view(block: object, for_print: bool) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"kind": "text", "paragraphs": paragraphs(block.text)}
    if isinstance(block, KeyFigures):
        return {"kind": "keyfigures", "cards": block.items}
    if isinstance(block, Table):
        return _table_view(block)
    if isinstance(block, Figure):
        return _figure_view(block, for_print)
    return {"kind": "unknown", "name": type(block).__name__}


def _section_view(section: Section, for_print: bool) -> dict[str, Any]:
    return {"section": section, "blocks": [_block_view(b, for_print) for b in section.blocks]}


def css_string(text: str) -> str:
    """A CSS string literal (for @page footers); no way to close the style element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return '"' + escaped.replace("<", "\\3c ").replace(">", "\\3e ") + '"'


def footer_text(doc: ReportDocument) -> str:
    flag = " — SYNTHETIC data" if doc.synthetic else ""
    return f"{doc.title} — as of {doc.as_of.isoformat()}{flag}"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("qoima.adapters", "report_templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True)


@cache
def _plotly_js() -> str:
    return str(get_plotlyjs())


def stylesheet() -> str:
    loader = _environment().loader
    assert loader is not None
    return loader.get_source(_environment(), "report.css")[0]


def render_html(doc: ReportDocument, *, for_print: bool = False) -> str:
    """The whole report as one HTML page; ``for_print`` fixes chart sizes for A4 and
    makes the charts static (no modebar, no hover), for Chromium's print-to-PDF."""
    sections = [_section_view(s, for_print) for s in doc.sections]
    drawn = any(b["kind"] == "figure" and b["spec"] for s in sections for b in s["blocks"])
    notices = sorted_notices(doc.notices)
    return _environment().get_template("report.html.j2").render(
        doc=doc, sections=sections, notices=notices, level_words=LEVEL_WORDS,
        problem=NoticeLevel.PROBLEM, for_print=for_print, css=stylesheet(),
        page_footer=css_string(footer_text(doc)),
        plotly_js=_plotly_js() if drawn else "")
