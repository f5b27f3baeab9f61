"""The report document as an A4 PDF: Chromium prints the HTML, or reportlab builds it.

With a browser the PDF is the very page the committee opens, charts made static. A
machine with nothing but Python still gets a PDF: reportlab lays out the same document
with matplotlib images for the charts. Both carry page numbers and the as-of date in the
footer, and both show the SYNTHETIC banner, notices and "not drawn" boxes.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import registerFontFamily
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable

from qoima.adapters.report_html import (
    LEVEL_WORDS,
    NUMERIC_KINDS,
    footer_text,
    format_cell,
    paragraphs,
    render_html,
    sorted_notices,
    table_problems,
)
from qoima.adapters.report_static_charts import figure_png
from qoima.domain.errors import ConfigurationError, QoimaError
from qoima.report.document import (
    Figure,
    KeyFigures,
    NoticeLevel,
    ReportDocument,
    Section,
    Table,
    Text,
    figure_problems,
)

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_TIMEOUT_S = 120
CELL_PAD = 8.0  # points of left plus right padding in a table cell
MARGIN = 12 * mm
WIDTH = A4[0] - 2 * MARGIN
NAVY, INK = colors.HexColor("#102a43"), colors.HexColor("#1f2933")
MUTED, BAND, RULE = colors.HexColor("#52606d"), colors.HexColor("#f5f7fa"), colors.HexColor(
    "#d9dee4")
TONES = {"good": "#1e7b34", "bad": "#b42318", "warn": "#b7791f", "neutral": "#52606d"}
NOTICE_COLOURS = {NoticeLevel.PROBLEM: ("#b42318", "#fdecea"),
                  NoticeLevel.WARNING: ("#b7791f", "#fff8e6"),
                  NoticeLevel.INFO: ("#52606d", "#f5f7fa")}


class ReportRenderError(QoimaError):
    """The PDF could not be produced (the browser failed, timed out or wrote nothing)."""

    code = "report_render_error"


@dataclass(frozen=True, slots=True)
class PdfOutput:
    data: bytes
    renderer: Literal["chromium", "reportlab"]
    note: str


def find_browser(explicit: str | None = None) -> Path | None:
    """The explicit path, else a Chromium or Chrome on PATH, else /usr/bin/chromium.

    An explicit path that is not an executable file is an error, not a silent fallback:
    whoever named a browser expects the Chromium-printed PDF.
    """
    if explicit:
        path = Path(explicit)
        if not path.is_file() or not os.access(path, os.X_OK):
            raise ConfigurationError(f"browser {explicit!r} is not an executable file",
                                     field="browser")
        return path
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    fallback = Path("/usr/bin/chromium")
    return fallback if fallback.is_file() else None


def render_pdf(doc: ReportDocument, *, browser: Path | None) -> PdfOutput:
    """Chromium's print of the HTML when ``browser`` is given, else reportlab's layout."""
    if browser is None:
        return PdfOutput(reportlab_pdf(doc), "reportlab",
                         "no browser: laid out with reportlab, charts drawn by matplotlib")
    return PdfOutput(chromium_pdf(doc, browser), "chromium",
                     f"printed by {browser.name} from the HTML report (charts static)")


def chromium_pdf(doc: ReportDocument, browser: Path, timeout_s: int = CHROMIUM_TIMEOUT_S) -> bytes:
    with tempfile.TemporaryDirectory(prefix="qoima-report-") as folder:
        page, target = Path(folder) / "report.html", Path(folder) / "report.pdf"
        page.write_text(render_html(doc, for_print=True), encoding="utf-8")
        command = [str(browser), "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                   f"--user-data-dir={Path(folder) / 'profile'}", "--no-pdf-header-footer",
                   f"--print-to-pdf={target}", "--virtual-time-budget=20000",
                   page.as_uri()]
        try:
            done = subprocess.run(  # noqa: S603 (the configured browser, no shell)
                command, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as error:
            raise ReportRenderError(f"{browser} did not print the report within {timeout_s} s",
                                    browser=str(browser)) from error
        except OSError as error:
            raise ReportRenderError(f"cannot run {browser}: {error}",
                                    browser=str(browser)) from error
        data = target.read_bytes() if target.is_file() else b""
        if done.returncode != 0 or not data.startswith(b"%PDF"):
            lines = [ln for ln in done.stderr.splitlines() if "dbus" not in ln][-3:]
            raise ReportRenderError(
                f"{browser} print-to-PDF failed (exit {done.returncode}, "
                f"{len(data)} bytes written): {' | '.join(lines) or 'no message'}",
                browser=str(browser))
        return data


@cache
def _fonts() -> tuple[str, str]:
    """DejaVu Sans from matplotlib's own data: every glyph we print (—, ≥, €) exists."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    try:
        pdfmetrics.registerFont(TTFont("QoimaSans", str(folder / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("QoimaSans-Bold", str(folder / "DejaVuSans-Bold.ttf")))
        registerFontFamily("QoimaSans", normal="QoimaSans", bold="QoimaSans-Bold",
                           italic="QoimaSans", boldItalic="QoimaSans-Bold")
    except Exception:  # a matplotlib without its fonts: the core fonts still work
        return "Helvetica", "Helvetica-Bold"
    return "QoimaSans", "QoimaSans-Bold"


@cache
def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    base = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=13, textColor=INK)
    text = ParagraphStyle("text", base, spaceAfter=5)
    return {
        "body": base,
        "text": text,
        "label": ParagraphStyle("label", base, fontName=bold, fontSize=8, textColor=MUTED),
        "title": ParagraphStyle("title", base, fontName=bold, fontSize=20, leading=25,
                                textColor=NAVY, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=11.5, leading=15, textColor=MUTED),
        "h2": ParagraphStyle("h2", base, fontName=bold, fontSize=14, leading=18, textColor=NAVY,
                             spaceBefore=14, spaceAfter=6, keepWithNext=True),
        "h3": ParagraphStyle("h3", base, fontName=bold, fontSize=10, leading=13, textColor=NAVY,
                             spaceBefore=8, spaceAfter=2, keepWithNext=True),
        "caption": ParagraphStyle("caption", base, fontSize=7.5, leading=10, textColor=MUTED),
        "kf_value": ParagraphStyle("kf_value", base, fontName=bold, fontSize=14, leading=18,
                                   textColor=NAVY),
    }


def _p(text: str, style: str, bold: str = "") -> Paragraph:
    head = f"<b>{escape(bold)}</b> " if bold else ""
    return Paragraph(head + escape(text).replace("\n", "<br/>"), _styles()[style])


def _box(content: list[Flowable] | Paragraph, edge: str, fill: str,
         dashed: bool = False) -> PdfTable:
    box = PdfTable([[content]], colWidths=[WIDTH])
    rules: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(fill)),
        ("BOX", (0, 0), (-1, -1), 1.2, colors.HexColor(edge), None, (3, 2) if dashed else None),
        ("LEFTPADDING", (0, 0), (-1, -1), 8), ("RIGHTPADDING", (0, 0), (-1, -1), 8),
        ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]
    box.setStyle(TableStyle(rules))
    return box


def _problem(headline: str, text: str) -> PdfTable:
    """The red dashed box that replaces what could not be drawn."""
    return _box(_p(text, "body", bold=headline), "#b42318", "#fdecea", dashed=True)


def _notices(doc: ReportDocument) -> list[Flowable]:
    title = "Notices — this run is degraded" if doc.degraded else "Notices"
    items = sorted_notices(doc.notices)
    if not items:
        return [_p(title, "h3"), _p("Every step of the run completed without notices.", "body")]
    rows = [[_p(f"({n.step}) {n.text}", "body", bold=LEVEL_WORDS[n.level])] for n in items]
    table = PdfTable(rows, colWidths=[WIDTH])
    style: list[tuple[Any, ...]] = [("TOPPADDING", (0, 0), (-1, -1), 4),
                                    ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]
    for i, n in enumerate(items):
        edge, fill = NOTICE_COLOURS.get(n.level, ("#52606d", "#f5f7fa"))
        style += [("BACKGROUND", (0, i), (0, i), colors.HexColor(fill)),
                  ("LINEBEFORE", (0, i), (0, i), 4, colors.HexColor(edge))]
    table.setStyle(TableStyle(style))
    return [_p(title, "h3"), table]


def _key_figures(block: KeyFigures) -> Flowable:
    if not block.items:
        return Spacer(1, 0)
    per_row = 4
    width = WIDTH / per_row
    cards = [[_p(k.label, "caption"), _p(k.value, "kf_value"),
              *([_p(k.detail, "caption")] if k.detail else [])] for k in block.items]
    rows: list[list[Any]] = [cards[i:i + per_row] for i in range(0, len(cards), per_row)]
    rows[-1] += [""] * (per_row - len(rows[-1]))
    table = PdfTable(rows, colWidths=[width] * per_row)
    style: list[tuple[Any, ...]] = [("VALIGN", (0, 0), (-1, -1), "TOP"),
                                    ("TOPPADDING", (0, 0), (-1, -1), 5),
                                    ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]
    for i, k in enumerate(block.items):
        cell = (i % per_row, i // per_row)
        style += [("BACKGROUND", cell, cell, BAND),
                  ("LINEBEFORE", cell, cell, 4, colors.HexColor(TONES.get(k.tone, "#52606d")))]
    table.setStyle(TableStyle(style))
    return table


def column_widths(table: Table, texts: list[list[str]],
                  width: float = WIDTH) -> tuple[list[float], float]:
    """Column widths that fill ``width``, and the font size (points) that lets them fit.

    Numbers and dates never wrap; a text column may shrink to its longest word. Spare
    room is shared out in proportion. A table too wide even then gets a smaller font
    (down to 5.5 pt) before anything wraps.
    """
    regular, bold = _fonts()

    def measure(text: str, font: str = regular) -> float:  # at 8 pt, padding not included
        return pdfmetrics.stringWidth(text, font, 8) + 1.0

    wants, floors = [], []
    for i, column in enumerate(table.columns):
        cells = [row[i] for row in texts]
        longest = max([measure(c) for c in cells], default=1.0)
        title_word = max((measure(w, bold) for w in column.title.split()), default=1.0)
        wants.append(max(longest, measure(column.title, bold)))
        if column.kind in NUMERIC_KINDS or column.kind == "date":
            floors.append(max(longest, title_word))
        else:
            words = [measure(w) for c in cells for w in c.split()]
            floors.append(max([title_word, *words, 30.0]))
    room = width - CELL_PAD * len(table.columns)
    if sum(wants) <= room:
        return [w * room / sum(wants) + CELL_PAD for w in wants], 8.0
    if sum(floors) >= room:
        scale = max(room / sum(floors), 5.5 / 8)
        return [f * room / sum(floors) + CELL_PAD for f in floors], 8.0 * scale
    give = [w - f for w, f in zip(wants, floors, strict=True)]
    shrink = (sum(wants) - room) / sum(give)
    return [w - g * shrink + CELL_PAD for w, g in zip(wants, give, strict=True)], 8.0


@cache
def _cell_style(role: str, size: float) -> ParagraphStyle:
    """Cell styles at a table's font size: role is head|cell plus "_num" when right-aligned."""
    _, bold = _fonts()
    style = ParagraphStyle(f"{role}-{size}", _styles()["body"], fontSize=size,
                           leading=size * 1.25,
                           alignment=TA_RIGHT if role.endswith("_num") else 0)
    if role.startswith("head"):
        style.fontName, style.textColor = bold, colors.white
    return style


def _table(table: Table) -> list[Flowable]:
    title = [_p(table.title, "h3"), _p(table.provenance.caption(), "caption")]
    problems = table_problems(table)
    if problems:
        return [*title, _problem("Table not drawn:", "; ".join(problems))]
    numeric = [c.kind in NUMERIC_KINDS for c in table.columns]
    texts = [[format_cell(v, c) for v, c in zip(row, table.columns, strict=True)]
             for row in table.rows]
    widths, size = column_widths(table, texts)

    def cell(text: str, role: str, right: bool) -> Paragraph:
        return Paragraph(escape(text), _cell_style(role + ("_num" if right else ""), size))

    head = [cell(c.title, "head", n) for c, n in zip(table.columns, numeric, strict=True)]
    body: list[list[Any]] = [
        [cell(t, "cell", n) for t, n in zip(row, numeric, strict=True)] for row in texts
    ] or [[cell("No rows.", "cell", False)] + [""] * (len(table.columns) - 1)]
    grid = PdfTable([head, *body], colWidths=widths, repeatRows=1)
    grid.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), NAVY), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, BAND]),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD / 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD / 2)]))
    note = [Spacer(1, 3), _p(table.note, "caption")] if table.note else []
    return [*title, grid, *note, Spacer(1, 8)]


def _figure(figure: Figure) -> list[Flowable]:
    parts: list[Flowable] = [_p(figure.title, "h3")]
    problems = figure_problems(figure)
    png = b""
    if not problems:
        try:
            png = figure_png(figure)
        except ValueError as error:
            problems = [str(error)]
    if problems:
        parts += [_problem("Figure not drawn:", "; ".join(problems)), Spacer(1, 3)]
    else:
        image = Image(io.BytesIO(png))
        scale = WIDTH / image.imageWidth
        image.drawWidth, image.drawHeight = WIDTH, image.imageHeight * scale
        parts.append(image)
    parts.append(_p(figure.provenance.caption(), "caption"))
    if figure.note:
        parts.append(_p(figure.note, "caption"))
    parts.append(Spacer(1, 6))
    return parts


def _block(block: object) -> tuple[list[Flowable], bool]:
    """The block's flowables, and whether they must stay on one page."""
    if isinstance(block, Text):
        return [_p(p, "text") for p in paragraphs(block.text)], False
    if isinstance(block, KeyFigures):
        return [_key_figures(block), Spacer(1, 6)], False
    if isinstance(block, Table):
        return _table(block), len(block.rows) <= 25  # a long table breaks, header repeated
    if isinstance(block, Figure):
        return _figure(block), True
    return [_problem("Block not drawn:", f"unknown block {type(block).__name__}")], False


def _section(section: Section) -> list[Flowable]:
    head: list[Flowable] = [_p(section.title, "h2")]
    if section.failed:
        head += [_problem("This section could not be produced.", section.failed), Spacer(1, 6)]
    blocks = [_block(b) for b in section.blocks]
    # the heading never ends a page alone: it travels with the first block (not nested in
    # a second KeepTogether: an inner one reports a huge height and forces a page break)
    first = blocks[0][0] if blocks else []
    story: list[Flowable] = [_Anchor(section.title), KeepTogether([*head, *first])]
    for parts, keep in blocks[1:]:
        story += [KeepTogether(parts)] if keep else parts
    return story


class _Anchor(Flowable):
    """Adds a PDF outline entry (the reader's sidebar) where a section starts."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title, self.width, self.height = title, 0, 0

    def draw(self) -> None:
        key = f"s{id(self)}"
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(self.title, key, level=0)


def _story(doc: ReportDocument) -> list[Flowable]:
    story: list[Flowable] = [_p(doc.label.upper(), "label"), _p(doc.title, "title")]
    if doc.subtitle:
        story.append(_p(doc.subtitle, "subtitle"))
    story += [_p(f"As of {doc.as_of.isoformat()}", "body", bold=""), Spacer(1, 8)]
    if doc.synthetic:
        story += [_box(_p("This report is built from synthetic market data; its figures are "
                          "illustrative and describe no real holdings.", "body",
                          bold="SYNTHETIC DATA."), "#b7791f", "#fff4cc"), Spacer(1, 6)]
    story += _notices(doc)
    story += [_p("Contents", "h2"), *[_p(f"{i}. {s.title}" + (" (not available)"
                                                             if s.failed else ""), "body")
                                      for i, s in enumerate(doc.sections, start=1)]]
    for section in doc.sections:
        story += _section(section)
    story.append(Spacer(1, 14))
    if doc.footer:
        story.append(_p(doc.footer, "caption"))
    if doc.meta:
        story.append(_p(" · ".join(f"{k}: {v}" for k, v in doc.meta), "caption"))
    return story


def _numbered_canvas(footer: str) -> type[Canvas]:
    """A canvas that knows the page count, for "Page 3 of 7" on every page."""
    regular, _ = _fonts()

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]

        def save(self) -> None:
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.setFont(regular, 7.5)
                self.setFillColor(MUTED)
                self.drawString(MARGIN, 9 * mm, footer)
                self.drawRightString(A4[0] - MARGIN, 9 * mm, f"Page {number} of "
                                                             f"{len(self._pages)}")
                super().showPage()
            super().save()

    return NumberedCanvas


def reportlab_pdf(doc: ReportDocument) -> bytes:
    """The document laid out by reportlab: no browser, no network, same content."""
    buffer = io.BytesIO()
    template = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                                 topMargin=14 * mm, bottomMargin=16 * mm, title=doc.title,
                                 subject=f"as of {doc.as_of.isoformat()}", author="qoima",
                                 creator="qoima (reportlab)")
    template.build(_story(doc), canvasmaker=_numbered_canvas(footer_text(doc)))
    return buffer.getvalue()
