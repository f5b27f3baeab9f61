"""Report renderers without a browser: HTML structure, formats, escaping, CSV, reportlab PDF."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import stat
import subprocess
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageStat

from qoima.adapters.report_charts import plotly_figure, sunburst_branch_values
from qoima.adapters.report_csv import write_tables_csv
from qoima.adapters.report_html import format_number, render_html, sorted_notices
from qoima.adapters.report_pdf import (
    ReportRenderError,
    chromium_pdf,
    find_browser,
    render_pdf,
)
from qoima.adapters.report_static_charts import figure_png
from qoima.domain.errors import ConfigurationError, InvalidInput
from qoima.report.document import Column, FigureKind, NoticeLevel, Series, Table
from tests.adapters.report_fixture import (
    BROKEN_FIGURE_ID,
    FIGURE_IDS,
    HOLDINGS,
    SECTION_IDS,
    TABLE_IDS,
    figures,
    sample_document,
)

EVIL = "<script>alert('x')</script>"


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside each id'd element."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def attr(self, name: str) -> list[str]:
        return [a[name] for _, a in self.tags if name in a]


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(sample_document())


def chunk(html: str, start_marker: str, end_marker: str) -> str:
    start = html.index(start_marker)
    return html[start:html.index(end_marker, start)]


def test_every_section_figure_and_table_is_there(html: str) -> None:
    page = parse(html)
    assert [i for i in page.attr("id") if i.startswith("section-")] == [
        f"section-{s}" for s in SECTION_IDS]
    assert page.attr("data-figure-id") == [*FIGURE_IDS, BROKEN_FIGURE_ID]
    assert page.attr("data-table-id") == list(TABLE_IDS)
    toc = chunk(html, '<nav id="toc"', "</nav>")
    assert all(f'href="#section-{s}"' in toc for s in SECTION_IDS)


def test_banner_notices_and_provenance(html: str) -> None:
    assert 'id="synthetic-banner"' in html and "SYNTHETIC DATA." in html
    notices = chunk(html, '<section id="notices"', "</section>")
    assert "this run is degraded" in notices
    order = [notices.index(w) for w in ("Problem", "Warning", "Information")]
    assert order == sorted(order)  # PROBLEM first, though the document lists it last
    caption = "As of 2026-12-04; source: demo market set (qoima demo) — SYNTHETIC market data"
    assert html.count(caption) == 5  # the five figures from the market set
    assert html.count("source: qoima ledger, run 2026-12-04-01") == 5  # 3 figures + 2 tables


def test_sorted_notices_keeps_run_order_within_a_level() -> None:
    doc = sample_document()
    levels = [n.level for n in sorted_notices(doc.notices)]
    assert levels == [NoticeLevel.PROBLEM, NoticeLevel.WARNING, NoticeLevel.INFO]


def test_plotly_is_inlined_once_and_nothing_is_fetched(html: str) -> None:
    assert html.count("* plotly.js v") == 1
    library = chunk(html, "<script>/**", "</script>")
    ours = html.replace(library, "")
    assert "<script src" not in ours and "<link" not in ours and "http" not in ours
    assert len(library) > 1_000_000  # the full bundle, not a loader stub
    assert '<html lang="en">' in html
    assert html.count('<th scope="col"') == sum(len(t.columns) for t in sample_document().tables())


def test_failed_section_shows_its_message(html: str) -> None:
    managers = chunk(html, '<section id="section-managers"', "</section>")
    assert "This section could not be produced." in managers
    assert "statement for hf-c is missing" in managers


def test_figure_with_nan_is_not_drawn(html: str) -> None:
    broken = chunk(html, f'data-figure-id="{BROKEN_FIGURE_ID}"', "</figure>")
    assert "Figure not drawn:" in broken and "holds NaN or infinity" in broken
    assert "plot-spec" not in broken
    specs = parse(html).attr("data-plot-for")
    assert specs == [f"plot-{i}" for i in FIGURE_IDS]
    assert "NaN" not in "".join(chunk(html, f'data-plot-for="plot-{i}"', "</script>")
                                for i in FIGURE_IDS)


def test_everything_is_escaped() -> None:
    doc = sample_document()
    evil_table = replace(HOLDINGS, title=EVIL, rows=((EVIL, "core", 1.0, 2.0, 0.1, None),))
    evil_figure = replace(figures()["monthly-returns"], title=EVIL,
                          series=(Series(f"</script>{EVIL}", (0.1, 0.2, 0.3, 0.4, 0.5)),))
    section = replace(doc.sections[0], title=EVIL, blocks=(evil_table, evil_figure))
    doc = replace(doc, title=EVIL, label=EVIL, sections=(section,),
                  notices=(replace(doc.notices[0], text=EVIL),))
    for for_print in (False, True):
        out = render_html(doc, for_print=for_print)
        assert EVIL not in out and "</script><script>alert" not in out
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in out
        assert "\\u003c/script\\u003e" in out  # inside the chart's JSON


def test_table_cells_are_formatted_by_column_kind(html: str) -> None:
    holdings = chunk(html, 'data-table-id="holdings"', "</table>")
    assert '<td class="num">1,234,567,890.13</td>' in holdings
    assert '<td class="num">12,345.6789</td>' in holdings
    assert '<td class="num">42.1%</td>' in holdings
    assert '<td class="num">-1,234.50</td>' in holdings
    assert '<th scope="row">BTC</th>' in holdings
    assert '<td class="date">—</td>' in holdings and '<td class="num">—</td>' in holdings


@pytest.mark.parametrize(("value", "kind", "places", "shown"), [
    (Decimal("1234567.005"), "money", 2, "1,234,567.01"),  # half-up, not banker's
    (2.675, "money", 2, "2.68"),  # exact decimal of the float's shortest repr
    ("-0.001", "money", 2, "0.00"),  # never "-0.00"
    (-1234.5, "money", 0, "-1,235"),
    (0.05, "percent", 2, "5.00%"),
    (0.4213, "percent", 1, "42.1%"),
    (1_000_000, "number", 0, "1,000,000"),
    (None, "money", 2, "—"),
    (math.nan, "number", 2, "—"),
    (math.inf, "percent", 2, "—"),
    ("n/a", "money", 2, "n/a"),
])
def test_format_number(value: object, kind: str, places: int, shown: str) -> None:
    assert format_number(value, kind, places) == shown


@given(st.decimals(min_value=-10**12, max_value=10**12, places=4, allow_nan=False),
       st.integers(min_value=0, max_value=4))
def test_money_text_reads_back_to_the_rounded_value(value: Decimal, places: int) -> None:
    text = format_number(value, "money", places)
    expected = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    assert Decimal(text.replace(",", "")) == expected
    assert text.count(",") == max(0, (len(str(abs(int(expected)))) - 1) // 3)


def test_print_layout_is_static_and_fixed_width() -> None:
    out = render_html(sample_document(), for_print=True)
    spec = json.loads(chunk(out, 'data-plot-for="plot-nav-line">', "</script>").split(">", 1)[1])
    assert spec["config"]["staticPlot"] is True and spec["config"]["displayModeBar"] is False
    assert spec["layout"]["width"] == 680 and spec["layout"]["xaxis"]["type"] == "date"
    assert 'class="print' in out


def test_ragged_table_is_not_drawn() -> None:
    bad = replace(HOLDINGS, rows=(("BTC", "core"),))
    doc = sample_document()
    doc = replace(doc, sections=(replace(doc.sections[0], blocks=(bad,)),))
    out = render_html(doc)
    assert "Table not drawn:" in out and "row 1 has 2 cells for 6 columns" in out


def test_chart_specs_follow_the_figure_kind() -> None:
    figs = figures()
    heat = plotly_figure(figs["correlation"]).data[0]
    assert (heat.zmin, heat.zmax, heat.zmid) == (-1.0, 1.0, 0.0)
    assert heat.texttemplate == "%{z:.2f}"
    scaled = replace(figs["correlation"], z=tuple(tuple(v * 3 for v in r) for r in
                                                  figs["correlation"].z))
    assert plotly_figure(scaled).data[0].zmin is None  # not a correlation: no fixed scale
    assert sunburst_branch_values(figs["allocation-sunburst"]) == "total"
    shrunk = replace(figs["allocation-sunburst"], series=(Series("value", (1.0,) * 10),))
    assert sunburst_branch_values(shrunk) == "remainder"
    hbar = plotly_figure(figs["risk-contribution"])
    assert hbar.data[0].orientation == "h" and hbar.layout.xaxis.tickformat == ".0%"
    assert plotly_figure(figs["nav-line"]).layout.yaxis.exponentformat == "B"
    rng = plotly_figure(figs["btc-sleeve-range"])
    assert [t.name for t in rng.data] == ["policy range", "value", "target", "last month"]
    assert rng.data[1].text == ("54.3%",)


@pytest.mark.parametrize("figure_id", FIGURE_IDS)
def test_static_charts_draw_every_kind(figure_id: str) -> None:
    png = figure_png(figures()[figure_id])
    assert png.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(png)).convert("L")
    assert ImageStat.Stat(image).stddev[0] > 10  # not a blank canvas
    assert {f.kind for f in figures().values()} == set(FigureKind)


def test_csv_round_trip(tmp_path: Path) -> None:
    doc = sample_document()
    paths = write_tables_csv(doc, tmp_path / "tables")
    assert [p.name for p in paths] == [f"{t}.csv" for t in TABLE_IDS]
    for path, table in zip(paths, doc.tables(), strict=True):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == [c.key for c in table.columns]
        assert len(rows) == len(table.rows) + 1
        for read, original in zip(rows[1:], table.rows, strict=True):
            for text, value in zip(read, original, strict=True):
                if value is None:
                    assert text == ""
                elif isinstance(value, float):
                    assert float(text) == value  # full precision, no separators
                else:
                    assert text == str(value)
    assert not list((tmp_path / "tables").glob(".*.tmp"))


def test_csv_refuses_unsafe_or_ragged_tables_and_writes_nothing(tmp_path: Path) -> None:
    doc = sample_document()
    for bad in (replace(HOLDINGS, id="../escape"),
                replace(HOLDINGS, id="limits-table"),
                replace(HOLDINGS, rows=((1, 2),))):
        broken = replace(doc, sections=(*doc.sections, replace(doc.sections[0], blocks=(bad,))))
        with pytest.raises(InvalidInput):
            write_tables_csv(broken, tmp_path / "out")
        assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_unicode_survives_csv(tmp_path: Path) -> None:
    table = Table("fx", "FX", (Column("name", "Name"), Column("rate", "Rate", "number")),
                  (("Tenge ₸ — Qazaqstan", 1 / 3),), HOLDINGS.provenance)
    doc = sample_document()
    doc = replace(doc, sections=(replace(doc.sections[0], blocks=(table,)),))
    path = write_tables_csv(doc, tmp_path)[0]
    expected = "name,rate\r\nTenge ₸ — Qazaqstan,0.3333333333333333\r\n"
    assert path.read_bytes().decode("utf-8") == expected


def without_not_drawn_lines(text: str) -> str:
    """The text less the "not drawn" boxes, which name the NaN that stopped a figure."""
    return "\n".join(line for line in text.splitlines() if "not drawn:" not in line)


def pdf_text(data: bytes, tmp_path: Path) -> str | None:
    if shutil.which("pdftotext") is None:
        return None
    target = tmp_path / "report.pdf"
    target.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(target), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_reportlab_pdf_without_a_browser(tmp_path: Path) -> None:
    doc = sample_document()
    out = render_pdf(doc, browser=None)
    assert out.renderer == "reportlab" and "reportlab" in out.note
    assert out.data.startswith(b"%PDF-") and out.data.rstrip().endswith(b"%%EOF")
    text = pdf_text(out.data, tmp_path)
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: text checks skipped")
    for section in doc.sections:
        assert section.title in text
    assert "SYNTHETIC DATA." in text and "Figure not drawn:" in text
    assert "1,234,567,890.13" in text and "Page 1 of" in text
    assert "as of 2026-12-04" in text
    assert "NaN" not in without_not_drawn_lines(text)


def test_find_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="is not an executable file"):
        find_browser(str(tmp_path / "missing"))
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(ConfigurationError):
        find_browser(str(fake))  # not executable yet
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    assert find_browser(str(fake)) == fake
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_browser() == fake


@pytest.mark.parametrize(("script", "message"), [
    ("echo 'cannot open display' >&2; exit 3", "exit 3"),
    ("exit 0", "0 bytes written"),
])
def test_chromium_failure_is_a_clear_error(tmp_path: Path, script: str, message: str) -> None:
    fake = tmp_path / "fake-chromium"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(ReportRenderError, match="print-to-PDF failed") as caught:
        chromium_pdf(sample_document(), fake)
    assert message in str(caught.value)


def test_chromium_timeout_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "slow-chromium"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(ReportRenderError, match="did not print the report within 1 s"):
        chromium_pdf(sample_document(), fake, timeout_s=1)


def test_long_table_breaks_across_pages_with_its_header(tmp_path: Path) -> None:
    rows = tuple((f"asset {i}", "core", float(i), i * 1000.5, i / 1000, "2026-12-04")
                 for i in range(150))
    doc = sample_document()
    doc = replace(doc, sections=(replace(doc.sections[1], blocks=(replace(HOLDINGS,
                                                                          rows=rows),)),))
    text = pdf_text(render_pdf(doc, browser=None).data, tmp_path)
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 3
    assert all("Market value" in page for page in pages[1:])  # header row repeated
    assert "asset 149" in pages[-1]


def test_column_widths_fit_the_page() -> None:
    from qoima.adapters.report_pdf import WIDTH, column_widths

    texts = [["many short words " * 8, "core", "12,345,678.90"]]
    table = replace(HOLDINGS, columns=HOLDINGS.columns[:3], rows=())
    widths, size = column_widths(table, texts)
    assert sum(widths) == pytest.approx(WIDTH) and size == 8.0
    wide = replace(HOLDINGS, columns=tuple(Column(f"c{i}", f"Column {i}", "money")
                                           for i in range(16)), rows=())
    widths, size = column_widths(wide, [["1,234,567,890.12"] * 16])
    assert sum(widths) == pytest.approx(WIDTH) and 5.5 <= size < 8.0


def test_an_empty_report_still_renders() -> None:
    doc = replace(sample_document(), notices=(), sections=(), synthetic=False, meta=())
    out = render_html(doc)
    assert "Every step of the run completed without notices." in out
    assert "synthetic-banner" not in out and "* plotly.js v" not in out  # no charts, no library
    assert render_pdf(doc, browser=None).data.startswith(b"%PDF")
    empty = replace(HOLDINGS, rows=())
    doc = replace(doc, sections=(replace(sample_document().sections[0], blocks=(empty,)),))
    assert "No rows." in render_html(doc)
    assert render_pdf(doc, browser=None).data.startswith(b"%PDF")
