"""A sample report document with every block and figure kind, for the renderer tests.

Numbers are made up but shaped like the committee report: a SYNTHETIC demo reserve, a
PROBLEM notice (a degraded run), a failed section and one figure that must not be drawn.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

from qoima.report.document import (
    Column,
    Figure,
    FigureKind,
    KeyFigure,
    KeyFigures,
    Notice,
    NoticeLevel,
    Provenance,
    ReportDocument,
    Section,
    Series,
    Table,
    Text,
)

AS_OF = date(2026, 12, 4)
PROV = Provenance(as_of=AS_OF, source="demo market set (qoima demo)", synthetic=True)
LEDGER = Provenance(as_of=AS_OF, source="qoima ledger, run 2026-12-04-01", synthetic=True)

SECTION_IDS = ("headline", "allocation", "performance", "risk", "managers", "limits")
FIGURE_IDS = ("allocation-pie", "allocation-sunburst", "nav-line", "monthly-returns",
              "correlation", "risk-contribution", "btc-sleeve-range")
BROKEN_FIGURE_ID = "drawdown-broken"
TABLE_IDS = ("holdings", "limits-table")

HOLDINGS = Table(
    id="holdings",
    title="Holdings by instrument",
    columns=(
        Column("instrument", "Instrument"),
        Column("sleeve", "Sleeve"),
        Column("quantity", "Quantity", kind="number", places=4),
        Column("market_value", "Market value (USD)", kind="money"),
        Column("weight", "Weight", kind="percent", places=1),
        Column("priced_on", "Priced on", kind="date"),
    ),
    rows=(
        ("BTC", "core", 12_345.6789, 1_234_567_890.126, 0.4213, "2026-12-04"),
        ("ETH", "core", 98_000.5, 345_678_901.5, 0.1180, "2026-12-04"),
        ("USDC", "liquidity", 250_000_000, 249_975_000.0, 0.0853, "2026-12-04"),
        ("Hedge fund A (hf-a)", "external managers", 1, 410_000_000.0, 0.1399, "2026-11-30"),
        ("Venture fund F (vc-f)", "venture", 1, 95_500_000.0, 0.0326, None),
        ("Gold ETF (tracker)", "diversifiers", 1_200_000, -1_234.5, None, "2026-12-03"),
    ),
    provenance=LEDGER,
    note="Fund interests are marked at the last manager statement.",
)

LIMITS = Table(
    id="limits-table",
    title="Policy limits",
    columns=(
        Column("limit", "Limit"),
        Column("value", "Value", kind="percent"),
        Column("threshold", "Threshold", kind="percent"),
        Column("status", "Status"),
    ),
    rows=(
        ("Single asset concentration", 0.4213, 0.45, "within"),
        ("Liquidity sleeve minimum", 0.0853, 0.10, "BREACH"),
        ("Counterparty exposure", 0.061, 0.15, "within"),
    ),
    provenance=LEDGER,
)

LABELS = ("core", "BTC", "ETH", "liquidity", "USDC", "external managers", "hf-a", "hf-b",
          "venture", "vc-f")
PARENTS = ("", "core", "core", "", "liquidity", "", "external managers",
           "external managers", "", "venture")
SUNBURST_VALUES = (1580.2, 1234.6, 345.6, 250.0, 250.0, 610.0, 410.0, 200.0, 95.5, 95.5)


def _dates(count: int) -> tuple[str, ...]:
    start = AS_OF - timedelta(days=count - 1)
    return tuple((start + timedelta(days=i)).isoformat() for i in range(count))


def _nav(count: int) -> tuple[float, ...]:
    return tuple(2_900_000_000 * (1 + 0.08 * math.sin(i / 9) + 0.001 * i) for i in range(count))


def _correlation() -> tuple[tuple[str, ...], tuple[tuple[float | None, ...], ...]]:
    names = ("BTC", "ETH", "SOL", "Gold", "UST 10y")
    base = ((1.0, 0.82, 0.71, 0.12, -0.25), (0.82, 1.0, 0.77, 0.08, -0.31),
            (0.71, 0.77, 1.0, 0.05, -0.18), (0.12, 0.08, 0.05, 1.0, 0.35),
            (-0.25, -0.31, -0.18, 0.35, 1.0))
    return names, base


def figures() -> dict[str, Figure]:
    dates = _dates(90)
    names, matrix = _correlation()
    items = [
        Figure(id="allocation-pie", title="Allocation by sleeve", kind=FigureKind.PIE,
               provenance=LEDGER, x=("core", "liquidity", "external managers", "venture"),
               series=(Series("value", (1580.2, 250.0, 610.0, 95.5)),), value_format="money",
               note="Values in USD millions."),
        Figure(id="allocation-sunburst", title="Allocation: sleeves and holdings",
               kind=FigureKind.SUNBURST, provenance=LEDGER, x=LABELS, parents=PARENTS,
               series=(Series("value", SUNBURST_VALUES),), value_format="money"),
        Figure(id="nav-line", title="Net asset value, last 90 days", kind=FigureKind.LINE,
               provenance=PROV, x=dates, series=(Series("NAV", _nav(90)),),
               y_title="USD", value_format="money"),
        Figure(id="monthly-returns", title="Monthly return: reserve vs benchmark",
               kind=FigureKind.BAR, provenance=PROV, x=("Jul", "Aug", "Sep", "Oct", "Nov"),
               series=(Series("Reserve", (0.021, -0.034, 0.012, 0.055, -0.008)),
                       Series("Benchmark", (0.018, -0.041, 0.015, 0.049, None))),
               value_format="percent", y_title="Return"),
        Figure(id="correlation", title="Correlation of daily returns (1 year)",
               kind=FigureKind.HEATMAP, provenance=PROV, x=names, y=names, z=matrix),
        Figure(id="risk-contribution", title="Contribution to 1-day 99 % VaR",
               kind=FigureKind.HBAR, provenance=PROV, x=("BTC", "ETH", "SOL", "Funds", "Cash"),
               series=(Series("VaR share", (0.58, 0.24, 0.09, 0.08, 0.01)),),
               value_format="percent"),
        Figure(id="btc-sleeve-range", title="Core sleeve weight against its policy range",
               kind=FigureKind.RANGE, provenance=LEDGER,
               series=(Series("value", (0.5426,)), Series("low", (0.40,)),
                       Series("high", (0.60,))),
               markers=(("target", 0.50), ("last month", 0.515)), value_format="percent"),
        Figure(id=BROKEN_FIGURE_ID, title="Drawdown (input broken)", kind=FigureKind.LINE,
               provenance=PROV, x=_dates(3), series=(Series("drawdown", (0.0, math.nan, -0.1)),),
               value_format="percent"),
    ]
    return {f.id: f for f in items}


def sample_document() -> ReportDocument:
    """Every block and figure kind, notices in mixed order, a failed section."""
    figs = figures()
    headline = KeyFigures((
        KeyFigure("Net asset value", "USD 2.94 bn", "+1.2 % on the day", tone="good"),
        KeyFigure("1-day 99 % VaR", "USD 131.6 m", "4.5 % of NAV", tone="warn"),
        KeyFigure("Limit breaches", "1", "liquidity sleeve below minimum", tone="bad"),
        KeyFigure("Liquid within 7 days", "71 %"),
    ))
    sections = (
        Section("headline", "Headline", (headline, Text(
            "The reserve rose on the day, led by the core sleeve.\n\n"
            "The liquidity sleeve is below its policy minimum; see the limits section."))),
        Section("allocation", "Allocation", (figs["allocation-pie"], figs["allocation-sunburst"],
                                            HOLDINGS)),
        Section("performance", "Performance", (figs["nav-line"], figs["monthly-returns"])),
        Section("risk", "Risk", (figs["correlation"], figs["risk-contribution"],
                                 figs["btc-sleeve-range"], figs[BROKEN_FIGURE_ID])),
        Section("managers", "External managers", (),
                failed="the managers step failed: statement for hf-c is missing (due 2026-12-01)"),
        Section("limits", "Policy limits", (LIMITS, Text("One breach is open (case 2026-117)."))),
    )
    notices = (
        Notice(NoticeLevel.INFO, "market", "Prices for 2026-12-04 loaded for 14 instruments."),
        Notice(NoticeLevel.WARNING, "risk", "VaR history is 250 days; 500 are preferred."),
        Notice(NoticeLevel.PROBLEM, "managers",
               "The managers step failed; the external managers section is missing."),
    )
    return ReportDocument(
        title="Daily reserve report", subtitle="State digital-asset reserve — committee edition",
        as_of=AS_OF, label="ILLUSTRATIVE DEMO", synthetic=True, notices=notices,
        sections=sections, footer="Prepared by qoima for the investment committee.",
        meta=(("run id", "2026-12-04-01"), ("qoima", "0.1.0")))


def clean_document() -> ReportDocument:
    """The sample without the broken figure: every figure in it must draw."""
    doc = sample_document()
    sections = tuple(
        replace(s, blocks=tuple(b for b in s.blocks
                                if not (isinstance(b, Figure) and b.id == BROKEN_FIGURE_ID)))
        for s in doc.sections)
    return replace(doc, sections=sections)
