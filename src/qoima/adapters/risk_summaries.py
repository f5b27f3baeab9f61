"""Risk results as JSON-ready summaries (the shape ``--json`` prints and the API returns).

They sit below both entry points so the API never imports the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qoima.risk.assessment import RiskAssessment
from qoima.risk.backtest import VarBacktest
from qoima.risk.exposures import ExposureMap
from qoima.risk.scopes import VarRow
from qoima.risk.stress import StressResult


def _r(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(float(value), places)


def var_summary(rows: Iterable[VarRow]) -> list[dict[str, Any]]:
    return [{"scope": r.scope, "currency": r.currency, "method": r.method, "level": r.level,
             "horizon_days": r.horizon_days, "var": _r(r.var), "cvar": _r(r.cvar),
             "value": _r(r.value), "var_share": _r(r.var_share, 6),
             "cvar_share": _r(r.cvar_share, 6), "n_obs": r.n_obs} for r in rows]


def exposure_summary(mapped: ExposureMap) -> list[dict[str, Any]]:
    return [{"instrument": e.instrument_code, "method": e.method,
             "loadings": {lo.factor: _r(lo.beta, 6) for lo in e.loadings},
             "residual": e.residual, "window": list(e.window) if e.window else None,
             "n_obs": e.n_obs, "r_squared": _r(e.r_squared, 4),
             "units_per_share": e.units_per_share,
             "tracking_difference_annual": _r(e.tracking_difference_annual, 6),
             "tracking_error_annual": _r(e.tracking_error_annual, 6),
             "fee_drag_annual": _r(e.fee_drag_annual, 6), "note": e.note}
            for e in mapped.estimates]


def stress_summary(results: Iterable[StressResult]) -> list[dict[str, Any]]:
    return [{"scenario": s.scenario, "kind": s.kind, "window": list(s.window) if s.window
             else None, "total_pnl_usd": _r(s.total_pnl_usd),
             "crypto_pnl_usd": _r(s.crypto_pnl_usd), "total_pnl_kzt": _r(s.total_pnl_kzt),
             "share_of_reserves": _r(s.share_of_reserves, 6),
             "vehicle_pnl_usd": {k: _r(v) for k, v in s.vehicle_pnl_usd.items()},
             "factor_moves": {k: _r(v, 6) for k, v in s.factor_moves.items()},
             "move_sources": dict(s.move_sources),
             "positions": [{"key": p.key, "pnl_usd": _r(p.pnl_usd)} for p in s.positions]}
            for s in results]


def backtest_summary(result: VarBacktest) -> dict[str, Any]:
    return {"series": result.series, "method": result.provenance.method,
            "level": result.level, "n_obs": result.n_obs,
            "exceedances": result.n_exceedances,
            "expected": _r(result.expected_exceedances, 3), "zone": str(result.zone),
            "kupiec": {"statistic": _r(result.kupiec.statistic, 6),
                       "p_value": _r(result.kupiec.p_value, 6)},
            "independence": {"statistic": _r(result.independence.statistic, 6),
                             "p_value": _r(result.independence.p_value, 6)},
            "conditional_coverage": {"statistic": _r(result.conditional_coverage.statistic, 6),
                                     "p_value": _r(result.conditional_coverage.p_value, 6)},
            "exceedance_dates": [d.isoformat() for d in result.exceedance_dates]}


def assessment_summary(a: RiskAssessment) -> dict[str, Any]:
    """Everything a reader or a report needs, as plain JSON values."""
    summary: dict[str, Any] = {
        "as_of": a.as_of_date.isoformat(), "synthetic_market": a.synthetic,
        "window": None if a.window is None else {
            "start": a.window[0].isoformat(), "end": a.window[1].isoformat(),
            "periods": a.window[2]},
        "scopes": {name: _r(value) for name, value in a.scopes},
        "exposures": exposure_summary(a.exposures), "var": var_summary(a.var),
        "contributions": {scope: [
            {"position": key, "var": _r(c.var_component[i]), "cvar": _r(c.cvar_component[i]),
             "cvar_share": _r(c.cvar_percent[i], 6),
             "cvar_marginal_per_usd": _r(c.cvar_marginal_per_unit[i], 8)}
            for i, key in enumerate(c.keys)] for scope, c in a.contributions.items()},
        "incremental": None if a.incremental is None else {
            "level": a.incremental.level, "var_without": _r(a.incremental.var_without),
            "var_with": _r(a.incremental.var_with), "var_added": _r(a.incremental.var_added),
            "cvar_added": _r(a.incremental.cvar_added)},
        "regime": None if a.regime is None else {
            "method": a.regime.method, "current": str(a.regime.current_label),
            "probability": _r(a.regime.current_probability, 4),
            "volatility_by_regime": {str(k): _r(v, 6)
                                     for k, v in a.regime.regime_volatility.items()}},
        "volatility": None if a.volatility is None else {
            "garch_annual": _r(a.volatility.garch_volatility, 6),
            "garch_percentile": _r(a.volatility.garch_percentile, 2),
            "realized_annual": _r(a.volatility.realized.current, 6),
            "realized_percentile": _r(a.volatility.realized.current_percentile, 2)},
        "correlations": None if a.correlations is None else {
            e: {f: {"correlation": _r(a.correlations.value(e, f), 4),
                    "beta": _r(a.correlations.beta_of(e, f), 4)}
                for f in a.correlations.factors} for e in a.correlations.exposures},
        "calm_vs_stress": None if a.conditional is None else [
            {"exposure": e, "factor": f, "base": c.base, "other": c.other,
             "difference": _r(float(c.difference[i, j]), 4),
             "p_value": _r(float(c.p_value[i, j]), 4)}
            for c in a.conditional.comparisons
            for i, e in enumerate(a.conditional.exposures)
            for j, f in enumerate(a.conditional.factors)],
        "rolling_correlations": None if a.rolling is None else [
            {"exposure": pair.exposure, "factor": pair.factor, "window": a.rolling.window,
             "windows": len(pair.dates),
             "last": _r(float(pair.correlation[-1]), 4) if len(pair.dates) else None,
             "min": _r(float(pair.correlation.min()), 4) if len(pair.dates) else None,
             "max": _r(float(pair.correlation.max()), 4) if len(pair.dates) else None}
            for pair in a.rolling.pairs],
        "fed": None if a.fed is None else [
            {"asset": s.asset, "kind": str(s.kind), "events": s.n_events,
             "mean_car": _r(s.mean_car, 6), "ci": [_r(s.ci_low, 6), _r(s.ci_high, 6)],
             "p_value": _r(s.p_value, 4)} for s in a.fed.summaries],
        "performance": [{"series": p.series, "annual_return": _r(p.annual_return, 6),
                         "annual_volatility": _r(p.annual_volatility, 6),
                         "sharpe": _r(p.sharpe_ratio, 4), "sortino": _r(p.sortino_ratio, 4),
                         "max_drawdown": _r(p.max_drawdown, 6),
                         "calmar": _r(p.calmar_ratio, 4)} for p in a.performance],
        "backtests": [backtest_summary(b) for b in a.backtests],
        "stress": [] if a.stress is None else stress_summary(a.stress.results),
        "reverse_stress": None if a.reverse is None else {
            "loss_limit_usd": _r(a.reverse.loss_limit_usd), "btc_move": _r(a.reverse.btc_move, 6),
            "reachable": a.reverse.reachable, "scope": a.reverse.scope},
        "liquidity_ladder": None if a.liquidity is None else {
            "days": list(a.liquidity.ladder.days),
            "total_usd": [_r(v) for v in a.liquidity.ladder.total_usd],
            "total_share": [_r(v, 6) for v in a.liquidity.ladder.total_share]},
        "liquidity_adjusted_var": None if a.lvar is None else {
            "var_usd": _r(a.lvar.var_usd), "lvar_usd": _r(a.lvar.lvar_usd)},
        "operational": [{"scenario": o.scenario, "description": o.description,
                         "loss_usd": _r(o.total_loss_usd),
                         "unavailable_usd": _r(o.total_unavailable_usd),
                         "loss_share": _r(o.loss_share, 6),
                         "positions": [p.key for p in o.positions]} for o in a.operational],
        "adequacy": None if a.adequacy is None else {
            "metric_usd": _r(a.adequacy.metric.metric_usd),
            "assessments": [{"label": x.label, "reserves_usd": _r(x.reserves_usd),
                             "ratio": _r(x.ratio, 4), "band": str(x.band)}
                            for x in (a.adequacy.before_sleeve, a.adequacy.after_sleeve,
                                      *a.adequacy.under_stress)],
            "notes": list(a.adequacy.notes)},
        "findings": [{"rule": f.rule, "severity": str(f.severity), "subject": f.subject,
                      "message": f.message} for f in a.findings],
        "provenance": {"inputs_hash": a.provenance.inputs_hash, "seed": a.provenance.seed,
                       "versions": dict(a.provenance.versions)},
    }
    return summary
