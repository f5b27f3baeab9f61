"""Risk and stress pages: VaR and CVaR by scope and method, and the stress library.

Computed on request with the risk service (the fast methods: historical, normal,
Student-t, Cornish-Fisher; filtered historical simulation and Monte Carlo are in the daily
run's committee report). Figures of the whole reserve need read access on every vehicle;
anyone else sees the vehicles they read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from qoima.app.risk import RiskRequest
from qoima.bootstrap.engines import compute_engine
from qoima.bootstrap.settings import Settings
from qoima.risk.assessment import AssessmentSettings
from qoima.risk.scenarios import BUILTIN_SCENARIOS
from qoima.risk.scopes import TOTAL, VarRow
from qoima.web import figures
from qoima.web.render import chart, page
from qoima.web.session import Viewer, ViewerDep
from qoima.web.site import web_router

router = web_router()
FAST_METHODS = ("historical", "normal", "student-t", "cornish-fisher")
DIGITAL = "digital-assets"
LEVELS = (0.95, 0.99)
HORIZONS = (1, 10)
CURRENCIES = ("USD", "KZT")


@dataclass(frozen=True, slots=True)
class VarLine:
    scope: str
    value: float
    cells: dict[tuple[str, float, int], VarRow]


def _scope_visible(viewer: Viewer, scope: str) -> bool:
    if scope in (TOTAL, DIGITAL):
        return viewer.reads_everything
    return viewer.reads(scope)


def _pick(value: str | None, allowed: tuple[Any, ...], default: Any) -> Any:
    for option in allowed:
        if value is not None and str(option) == value:
            return option
    return default


@router.get("/risk")
def risk_page(request: Request, viewer: ViewerDep, currency: str | None = None,
              level: str | None = None, horizon: str | None = None) -> HTMLResponse:
    reserve = viewer.reserve
    chosen_currency = _pick(currency, CURRENCIES, "USD")
    chosen_level = _pick(level, LEVELS, 0.99)
    chosen_horizon = _pick(horizon, HORIZONS, 1)
    day = reserve.risk.default_as_of()
    settings = AssessmentSettings(levels=LEVELS, horizons=HORIZONS,
                                  currencies=(chosen_currency,), methods=FAST_METHODS)
    with compute_engine(None, None, Settings()) as engine:
        mapped, rows = reserve.risk.var(day, RiskRequest(settings=settings), engine=engine)
    shown = [r for r in rows if r.currency == chosen_currency
             and _scope_visible(viewer, r.scope)]
    lines: dict[str, VarLine] = {}
    for row in shown:
        line = lines.setdefault(row.scope, VarLine(row.scope, row.value, {}))
        line.cells[(row.method, row.level, row.horizon_days)] = row
    synthetic = mapped.history.synthetic
    drawn = chart(figures.var_by_scope(shown, chosen_level, chosen_horizon, day, synthetic))
    return page(request, "risk.html.j2", viewer, title="Risk", day=day, lines=list(
        lines.values()), methods=FAST_METHODS, levels=LEVELS, horizons=HORIZONS,
        currencies=CURRENCIES, currency=chosen_currency, level=chosen_level,
        horizon=chosen_horizon, chart=drawn, synthetic=synthetic, uses_charts=True)


@router.get("/stress")
def stress_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    reserve = viewer.reserve
    day = reserve.risk.default_as_of()
    with compute_engine(None, None, Settings()) as engine:
        grid = reserve.risk.stress(day, BUILTIN_SCENARIOS, engine=engine)
    results = list(grid.results)
    vehicles = sorted({v for r in results for v in r.vehicle_pnl_usd if viewer.reads(v)})
    columns = (["reserve", "digital assets"] if viewer.reads_everything else []) + vehicles
    pnl = {r.scenario: {"reserve": r.total_pnl_usd, "digital assets": r.crypto_pnl_usd,
                        **{v: r.vehicle_pnl_usd.get(v) for v in vehicles}} for r in results}
    chart_columns = columns[:2] if viewer.reads_everything else vehicles
    synthetic = reserve.valuation.snapshot(day).synthetic_market
    drawn = chart(figures.stress_losses(results, chart_columns, pnl, day, synthetic))
    return page(request, "stress.html.j2", viewer, title="Stress tests", day=day,
                results=results, columns=columns, pnl=pnl, chart=drawn,
                everything=viewer.reads_everything, synthetic=synthetic, uses_charts=True)
