"""Allocation results as plain data: the shape ``--json`` prints and the API returns.

They sit below both entry points so the API never imports the CLI.
"""

from __future__ import annotations

import math
from typing import Any

from qoima.app.allocation import Composition, GateCheck, Sizing, gate_payload
from qoima.app.deployment import DeployOutcome
from qoima.app.tranche_plans import PlanView


def _f(value: float) -> float | None:
    """JSON has no infinity or NaN: a use of inf (nothing sellable) prints as null."""
    return float(value) if math.isfinite(value) else None


def composition_summary(c: Composition) -> dict[str, Any]:
    r = c.result
    lots = {line.code: line for line in c.lots.lines}
    return {
        "vehicle": c.vehicle_code, "as_of": c.as_of, "size_usd": c.size_usd,
        "method": r.method.value, "level": r.level, "policy_version": c.policy_version,
        "policy_hash": c.policy_hash, "synthetic_market": c.synthetic,
        "window": {"from": c.window[0], "to": c.window[1], "periods": c.window[2]},
        "objective": r.objective, "expected_return": r.expected_return,
        "volatility": r.volatility, "var": r.var, "cvar": r.cvar,
        "risk_measure": r.risk_measure.value, "solver": r.solver, "iterations": r.iterations,
        "status": r.status,
        "weights": [{
            "code": code, "weight": float(w), "amount_usd": lots[code].amount_usd,
            "quantity": lots[code].quantity, "price_usd": lots[code].price_usd,
            "risk_contribution": float(rc), "risk_share": float(share)}
            for code, w, rc, share in zip(r.codes, r.weights, r.risk_contributions,
                                          r.risk_shares, strict=True)],
        "cash_left_usd": c.lots.cash_usd,
        "excluded": [{"code": e.code, "limit": e.limit_id, "reason": e.reason}
                     for e in c.excluded],
        "notes": list(c.notes),
        "findings": [f.message for f in r.findings],
        "provenance": {"inputs_hash": r.provenance.inputs_hash,
                       "parameters_hash": r.provenance.parameters_hash,
                       "versions": dict(r.provenance.versions)},
    }


def sizing_summary(s: Sizing) -> dict[str, Any]:
    r = s.result
    return {
        "vehicle": s.vehicle_code, "as_of": s.as_of, "policy_version": s.policy_version,
        "status": r.status.value, "recommended_usd": r.recommended_usd,
        "binding": list(r.binding), "message": r.message,
        "range_usd": [r.min_usd, r.max_usd], "level": r.level,
        "total_reserves_usd": s.total_reserves_usd, "sleeve_usd": s.sleeve_usd,
        "breached_at_minimum": list(r.breached_at_minimum),
        "mix": {code: float(w) for code, w in zip(s.composition.result.codes,
                                                  s.composition.result.weights, strict=True)},
        "mix_method": s.composition.result.method.value,
        "synthetic_market": s.composition.synthetic,
        "boundaries": [{"budget": b.name, "max_size_usd": _f(b.max_size_usd)
                        if b.max_size_usd is not None else None} for b in r.boundaries],
        "curve": [{"size_usd": row.size_usd, "feasible": row.feasible,
                   "uses": {u.name: {"kind": u.kind.value, "value": _f(u.value),
                                     "cap": _f(u.cap), "use": _f(u.use)} for u in row.uses}}
                  for row in r.curve],
        "findings": [f.message for f in r.provenance.warnings],
        "provenance": {"inputs_hash": r.provenance.inputs_hash},
    }


def gate_summary(check: GateCheck, recorded: dict[str, Any] | None = None) -> dict[str, Any]:
    payload = gate_payload(check)
    payload["signals"] = [{**s, "value": _value(s["value"])} for s in payload["signals"]]
    if recorded is not None:
        payload["recorded"] = recorded
    return payload


def _value(text: Any) -> Any:
    try:
        return float(text) if isinstance(text, str) else text
    except ValueError:
        return text


def plan_summary(view: PlanView) -> dict[str, Any]:
    states = {s.tranche_id: s for s in view.states}
    tranche_of = {order_id: tranche for tranche, order_id in view.record.orders}
    return {
        "plan_id": view.record.plan_id, "vehicle": view.record.vehicle_code,
        "as_of": view.record.as_of_date, "target_usd": view.record.target_usd,
        "deployed_usd": view.plan.deployed_usd, "status": view.record.status,
        "policy_version": view.record.policy_version,
        "gate": view.gate.decision.verdict.value, "gate_reasons": list(view.gate.decision.reasons),
        "tranches": [{
            "id": t.id, "cumulative_target_usd": t.cumulative_target_usd,
            "amount_usd": t.amount_usd, "requires_gate": t.requires_gate,
            "status": states[t.id].status.value, "reason": states[t.id].reason,
            "executed_usd": states[t.id].executed_usd, "remaining_usd": states[t.id].remaining_usd,
            "earliest_start": t.earliest_start, "earliest_end": t.earliest_end,
            "sessions": t.days,
            "lines": [{"instrument": o.instrument, "weight": o.weight, "quantity": o.quantity,
                       "cost_usd": o.cost_usd, "daily_max_quantity": o.daily_max_quantity,
                       "sessions": o.days} for o in t.orders]} for t in view.plan.tranches],
        "orders": [{"order_id": o.order_id, "tranche": tranche_of.get(o.order_id),
                    "instrument": o.terms.instrument_code, "quantity": o.terms.quantity,
                    "status": o.status.value} for o in view.orders],
        "created_orders": [o.order_id for o in view.created],
        "warnings": [f.message for f in view.plan.warnings],
    }


def deployment_summary(outcome: DeployOutcome) -> dict[str, Any]:
    result, s = outcome.result, outcome.result.summary
    stats = list(s.statistics)
    mean, median, p95 = stats.index("mean"), stats.index("median"), stats.index("p95")
    rows = []
    for i, p in enumerate(result.params):
        rows.append({
            "label": p.label or p.strategy.value, "strategy": p.strategy.value,
            "tranches": p.tranches, "spacing_days": p.spacing_days,
            "gate": None if p.gate is None else outcome.gate_labels[p.gate],
            "entry_vs_vwap_mean": _f(s.entry_vs_vwap[i, mean]),
            "entry_vs_vwap_median": _f(s.entry_vs_vwap[i, median]),
            "drawdown_mean": _f(s.drawdown[i, mean]), "drawdown_p95": _f(s.drawdown[i, p95]),
            "days_to_full_median": _f(s.time_to_full_days[i, median]),
            "completion_rate": float(s.completion_rate[i]),
            "regret_mean": _f(s.regret[i, mean]), "regret_p95": _f(s.regret[i, p95])})
    rows.sort(key=lambda row: (row["regret_mean"] is None, row["regret_mean"] or 0.0))
    return {
        "series": outcome.request.series, "start_dates": len(result.start_dates),
        "from": result.start_dates[0], "to": result.start_dates[-1],
        "horizon_days": result.horizon_days, "benchmark": result.benchmark,
        "synthetic_market": outcome.synthetic, "parameter_sets": len(result.params),
        "runs": int(result.entry_price.size), "strategies": rows,
        "provenance": {"inputs_hash": result.provenance.inputs_hash},
    }
