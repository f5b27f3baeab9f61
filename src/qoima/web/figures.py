"""The dashboard's charts as report figure specs, drawn by the report's own plotly code.

Specs (:class:`~qoima.report.document.Figure`) keep one look for the committee report and
the dashboard, and :func:`~qoima.report.document.figure_problems` refuses NaN or empty data
before anything is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from qoima.domain.reference import Instrument
from qoima.managers.oversight import Scorecard
from qoima.portfolio.snapshot import PortfolioSnapshot
from qoima.report.asset_classes import asset_class_totals, sunburst_levels
from qoima.report.document import Figure, FigureKind, Provenance, Series
from qoima.risk.scopes import VarRow
from qoima.risk.stress import StressResult

BOOK = "qoima book of record"


def allocation(snapshot: PortfolioSnapshot, instruments: Mapping[str, Instrument],
               scope: str) -> Figure:
    """The holdings of ``snapshot`` by asset class, then instrument (USD)."""
    labels, parents, values = sunburst_levels(asset_class_totals(snapshot, instruments))
    return Figure(f"allocation-{scope}", f"Allocation of {scope} by asset class and "
                  "instrument (USD)", FigureKind.SUNBURST,
                  Provenance(snapshot.as_of_date, BOOK, snapshot.synthetic_market),
                  x=labels, parents=parents, series=(Series("USD", values),),
                  value_format="money")


def size_range(vehicle: str, nav_usd: Decimal, low: Decimal, high: Decimal, as_of: date,
               synthetic: bool) -> Figure:
    """The vehicle's NAV against its policy's size range (what the size rule measures)."""
    return Figure(f"range-{vehicle}", f"{vehicle}: NAV against the policy range (USD)",
                  FigureKind.RANGE, Provenance(as_of, BOOK, synthetic),
                  series=(Series("value", (float(nav_usd),)), Series("low", (float(low),)),
                          Series("high", (float(high),))),
                  markers=(("minimum", float(low)), ("maximum", float(high))),
                  value_format="money")


def var_by_scope(rows: Sequence[VarRow], level: float, horizon: int, as_of: date,
                 synthetic: bool) -> Figure:
    """VaR per scope, one bar per method, at one level and horizon."""
    chosen = [r for r in rows if r.level == level and r.horizon_days == horizon]
    scopes = list(dict.fromkeys(r.scope for r in chosen))
    methods = list(dict.fromkeys(r.method for r in chosen))
    found = {(r.scope, r.method): r.var for r in chosen}
    series = tuple(Series(m, tuple(found.get((s, m)) for s in scopes)) for m in methods)
    currency = chosen[0].currency if chosen else "USD"
    return Figure("var-by-scope", f"{level:.0%} VaR over {horizon} day(s) by scope "
                  f"({currency})", FigureKind.BAR, Provenance(as_of, "qoima risk", synthetic),
                  x=tuple(scopes), series=series, y_title=f"loss ({currency})",
                  value_format="money")


def stress_losses(results: Sequence[StressResult], columns: Sequence[str],
                  pnl: Mapping[str, Mapping[str, float | None]], as_of: date,
                  synthetic: bool) -> Figure:
    """P&L per scenario for each shown column (the reserve, or the viewer's vehicles)."""
    names = tuple(r.scenario for r in results)
    series = tuple(Series(column, tuple(pnl[r.scenario].get(column) for r in results))
                   for column in columns)
    return Figure("stress-pnl", "Stress P&L by scenario (USD; negative is a loss)",
                  FigureKind.HBAR, Provenance(as_of, "qoima stress library", synthetic),
                  x=names, series=series, x_title="P&L (USD)", value_format="money")


def manager_returns(cards: Sequence[Scorecard], as_of: date) -> Figure:
    """Time-weighted return per manager (those with enough statements)."""
    shown = [c for c in cards if c.twr is not None]
    return Figure("manager-twr", "Time-weighted return since inception, by manager",
                  FigureKind.HBAR, Provenance(as_of, "manager statements"),
                  x=tuple(c.manager_code for c in shown),
                  series=(Series("TWR", tuple(c.twr for c in shown)),),
                  value_format="percent")
