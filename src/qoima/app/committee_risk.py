"""The committee report's risk, stress and liquidity sections, from one risk assessment."""

from __future__ import annotations

import math

import numpy as np

from qoima.report.document import (
    Block,
    Column,
    Figure,
    FigureKind,
    KeyFigure,
    KeyFigures,
    Provenance,
    Section,
    Series,
    Table,
    Text,
)
from qoima.risk.assessment import RiskAssessment

TOTAL = "total"
#: The seeds' comparison set: the dollar, gold, oil and equities (factor -> label).
CORRELATION_FACTORS = {"DXY": "USD (DXY)", "XAU": "Gold", "WTI": "Oil (WTI)", "SPX": "S&P 500"}
SOURCE = "qoima risk engine"


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _prov(a: RiskAssessment, source: str = SOURCE) -> Provenance:
    return Provenance(a.as_of_date, source, a.synthetic)


def risk_section(a: RiskAssessment) -> Section:
    prov = _prov(a)
    total = dict(a.scopes).get(TOTAL, 0.0)
    rows = []
    for r in sorted(a.var, key=lambda r: (r.horizon_days, r.level, r.method)):
        if r.scope != TOTAL or r.currency != "USD":
            continue
        rows.append((r.method, r.level, r.horizon_days, _finite(r.var), _finite(r.cvar),
                     _finite(r.var / total) if total else None, r.n_obs))
    var_table = Table("var", "Value at risk and expected shortfall of the whole reserve (USD)", (
        Column("method", "Method"), Column("level", "Level", "percent", 1),
        Column("horizon", "Horizon (days)", "number", 0), Column("var", "VaR", "money", 0),
        Column("cvar", "CVaR (ES)", "money", 0), Column("share", "VaR / reserves", "percent"),
        Column("n", "Observations", "number", 0)), tuple(rows), prov,
        "Positive numbers are losses. " + (f"Historical window {a.window[0]} .. {a.window[1]} "
                                           f"({a.window[2]} periods)." if a.window else ""))
    blocks: list[Block] = [_risk_keys(a), var_table]
    contributions = a.contributions.get(TOTAL)
    if contributions is not None:
        order = np.argsort(-np.asarray(contributions.cvar_component))[:15]
        blocks.append(Table(
            "cvar_contributions", f"Largest contributions to CVaR {contributions.level:.0%}, "
            f"{contributions.horizon_days} day (Euler)", (
                Column("position", "Position"), Column("cvar", "CVaR component", "money", 0),
                Column("share", "Share of CVaR", "percent"),
                Column("marginal", "Marginal per USD", "number", 4)),
            tuple((contributions.keys[i], _finite(contributions.cvar_component[i]),
                   _finite(contributions.cvar_percent[i]),
                   _finite(contributions.cvar_marginal_per_unit[i])) for i in order), prov,
            "Components of all positions sum exactly to the total CVaR."))
    if a.incremental is not None:
        blocks.append(Text(f"The digital assets add USD {a.incremental.var_added:,.0f} of VaR "
                           f"and USD {a.incremental.cvar_added:,.0f} of CVaR (99 %, 1 day) "
                           "to the rest of the reserve."))
    blocks.extend(_correlation_figures(a))
    return Section("risk", "Risk", tuple(blocks))


def _risk_keys(a: RiskAssessment) -> KeyFigures:
    items = []
    main = a.var_row(TOTAL, "historical", 0.99)
    if main is not None:
        items.append(KeyFigure("1-day 99 % historical VaR", f"USD {main.var:,.0f}",
                               f"CVaR USD {main.cvar:,.0f}"))
    if a.regime is not None:
        tone = {"calm": "good", "crisis": "bad"}.get(str(a.regime.current_label), "warn")
        items.append(KeyFigure("BTC volatility regime", str(a.regime.current_label),
                               f"probability {a.regime.current_probability:.2f} "
                               f"({a.regime.method})", tone))
    if a.volatility is not None:
        items.append(KeyFigure("BTC volatility (GARCH, annual)",
                               f"{a.volatility.garch_volatility:.1%}",
                               f"percentile {a.volatility.garch_percentile:.0f}; realized 30d "
                               f"{a.volatility.realized.current:.1%}"))
    return KeyFigures(tuple(items))


def _correlation_figures(a: RiskAssessment) -> list[Figure]:
    figures = []
    c = a.correlations
    if c is not None:
        keep = [j for j, f in enumerate(c.factors) if f in CORRELATION_FACTORS] or list(
            range(len(c.factors)))
        z = tuple(tuple(_finite(float(c.correlation[i, j])) for j in keep)
                  for i in range(len(c.exposures)))
        figures.append(Figure(
            "correlation", "Correlation of the crypto exposures with the dollar, gold, oil and "
            "equities", FigureKind.HEATMAP, Provenance(c.end_date, SOURCE, a.synthetic),
            x=tuple(CORRELATION_FACTORS.get(c.factors[j], c.factors[j]) for j in keep),
            y=tuple(c.exposures), z=z,
            note=f"{c.method} correlation of daily returns, {c.start_date} .. {c.end_date} "
                 f"({c.n_obs} observations)."))
    if a.rolling is not None and a.rolling.pairs:
        pairs = [p for p in a.rolling.pairs if p.factor in CORRELATION_FACTORS][:6] or list(
            a.rolling.pairs[:6])
        dates = pairs[0].dates
        series = tuple(Series(f"{p.exposure}–{CORRELATION_FACTORS.get(p.factor, p.factor)}", tuple(
            _finite(float(v)) for v in p.correlation)) for p in pairs if p.dates == dates)
        figures.append(Figure(
            "rolling_correlation", f"Rolling {a.rolling.window}-day correlation",
            FigureKind.LINE, _prov(a), x=tuple(d.isoformat() for d in dates), series=series,
            y_title="correlation"))
    return figures


def stress_section(a: RiskAssessment) -> Section:
    prov = _prov(a, "qoima stress library")
    blocks: list[Block] = []
    if a.stress is not None:
        results = sorted(a.stress.results, key=lambda r: r.total_pnl_usd)
        blocks.append(Table("stress", "Stress scenarios: profit and loss of today's reserve", (
            Column("scenario", "Scenario"), Column("kind", "Kind"),
            Column("window", "Window"), Column("crypto", "Crypto P&L", "money", 0),
            Column("total", "Total P&L", "money", 0),
            Column("share", "Share of reserves", "percent", 3)),
            tuple((r.scenario, r.kind, f"{r.window[0]} .. {r.window[1]}" if r.window else "",
                   _finite(r.crypto_pnl_usd), _finite(r.total_pnl_usd),
                   _finite(r.total_pnl_usd / r.total_reserves_usd)
                   if r.total_reserves_usd else None) for r in results), prov))
        worst = results[:10]
        blocks.append(Figure("stress_losses", "Stress P&L by scenario (USD)", FigureKind.HBAR,
                             prov, x=tuple(r.scenario for r in worst),
                             series=(Series("total P&L", tuple(
                                 _finite(r.total_pnl_usd) for r in worst)),),
                             value_format="money"))
    if a.reverse is not None:
        blocks.extend(_reverse(a))
    return Section("stress", "Stress tests and reverse stress", tuple(blocks))


def _reverse(a: RiskAssessment) -> list[Block]:
    r = a.reverse
    assert r is not None
    moves = sorted(r.factor_moves.items(), key=lambda kv: kv[1])
    text = (f"Reverse stress: a loss of USD {r.loss_limit_usd:,.0f} "
            f"({a.reverse and 'scope ' + r.scope}) ")
    text += (f"is reached when BTC falls {-r.btc_move:.1%} with the other factors moving with "
             "it as in the historical co-movement." if r.btc_move is not None else
             f"is not reached even at the floor (loss at the floor USD "
             f"{r.loss_at_floor_usd:,.0f}).")
    figure = Figure("reverse_stress", "Reverse stress: factor moves that reach the loss limit",
                    FigureKind.HBAR, _prov(a), x=tuple(k for k, _ in moves),
                    series=(Series("move", tuple(_finite(v) for _, v in moves)),),
                    value_format="percent")
    return [Text(text), figure]


def liquidity_section(a: RiskAssessment) -> Section:
    if a.liquidity is None:
        return Section("liquidity", "Liquidity", (Text("No liquidity profile was computed."),))
    ladder = a.liquidity.ladder
    prov = _prov(a, "qoima liquidity model")
    labels = tuple(f"{d} d" for d in ladder.days)
    table = Table("liquidity_ladder", "Liquidity ladder: what can be turned into cash, by day", (
        Column("days", "Within (days)", "number", 0), Column("usd", "Cash (USD)", "money", 0),
        Column("share", "Share of reserves", "percent")),
        tuple((d, _finite(u), _finite(s)) for d, u, s in zip(
            ladder.days, ladder.total_usd, ladder.total_share, strict=True)), prov,
        f"At {a.liquidity.participation:.0%} of average daily volume per day; fund interests "
        "by their redemption terms; seized assets only after forfeiture.")
    series = tuple(Series(v, tuple(_finite(x) for x in shares))
                   for v, shares in sorted(ladder.vehicle_share.items()))
    figure = Figure("liquidity_ladder_chart", "Share of each vehicle that is cash by day",
                    FigureKind.BAR, prov, x=labels, series=series, value_format="percent")
    return Section("liquidity", "Liquidity", (table, figure))
