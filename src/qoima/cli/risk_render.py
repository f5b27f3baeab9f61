"""Risk results as JSON-ready summaries and Rich tables (presentation only)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from qoima.adapters.risk_summaries import (
    assessment_summary,
    backtest_summary,
    exposure_summary,
    stress_summary,
    var_summary,
)
from qoima.cli.render import table
from qoima.risk.backtest import VarBacktest
from qoima.risk.scopes import VarRow
from qoima.risk.stress import StressGrid

# The summaries moved below both entry points; the commands still import them from here.
__all__ = [
    "assessment_summary",
    "backtest_summary",
    "exposure_summary",
    "stress_summary",
    "var_summary",
]


def money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def pct(value: float | None, places: int = 2) -> str:
    return "—" if value is None else f"{value * 100:.{places}f}%"


def print_var(console: Console, rows: Sequence[VarRow], title: str) -> None:
    console.print(table(title, [
        ("scope", "l"), ("ccy", "l"), ("method", "l"), ("level", "r"), ("days", "r"),
        ("VaR", "r"), ("CVaR", "r"), ("VaR % of value", "r")], [
        [r.scope, r.currency, r.method, f"{r.level:.0%}", str(r.horizon_days), money(r.var),
         money(r.cvar), pct(r.var_share)] for r in rows]))


def print_stress(console: Console, grid: StressGrid, title: str = "Stress scenarios") -> None:
    console.print(table(title, [
        ("scenario", "l"), ("kind", "l"), ("window", "l"), ("P&L USD", "r"),
        ("digital assets USD", "r"), ("% of reserves", "r"), ("proxied factors", "l")], [
        [s.scenario, s.kind, f"{s.window[0]}..{s.window[1]}" if s.window else "—",
         money(s.total_pnl_usd), money(s.crypto_pnl_usd), pct(s.share_of_reserves, 3),
         ", ".join(s.proxied_factors[:6]) + ("…" if len(s.proxied_factors) > 6 else "")]
        for s in grid.results]))


def print_backtest(console: Console, b: VarBacktest) -> None:
    console.print(table(f"VaR backtest: {b.series} at {b.level:.0%} ({b.provenance.method})", [
        ("observations", "r"), ("exceedances", "r"), ("expected", "r"), ("zone", "l"),
        ("Kupiec p", "r"), ("independence p", "r"), ("cond. coverage p", "r")], [[
            str(b.n_obs), str(b.n_exceedances), f"{b.expected_exceedances:.1f}", str(b.zone),
            f"{b.kupiec.p_value:.3f}", f"{b.independence.p_value:.3f}",
            f"{b.conditional_coverage.p_value:.3f}"]]))
