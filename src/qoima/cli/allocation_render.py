"""Allocation results as plain data (``--json``) and Rich tables."""

from __future__ import annotations

import math
from decimal import Decimal

from rich.console import Console

from qoima.adapters.allocation_summaries import (
    composition_summary,
    deployment_summary,
    gate_summary,
    plan_summary,
    sizing_summary,
)
from qoima.allocation.gate_signals import format_value
from qoima.app.allocation import Composition, GateCheck, Sizing
from qoima.app.deployment import DeployOutcome
from qoima.app.tranche_plans import PlanView
from qoima.cli.render import quantity, table

# The summaries moved below both entry points; the commands still import them from here.
__all__ = [
    "composition_summary",
    "deployment_summary",
    "gate_summary",
    "plan_summary",
    "sizing_summary",
]


def usd(value: float | Decimal | None) -> str:
    return "—" if value is None or (isinstance(value, float) and not math.isfinite(value)) \
        else f"{value:,.0f}"


def pct(value: float | None, places: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value * 100:.{places}f}%"


def _synthetic(flag: bool) -> str:
    return " (SYNTHETIC market data)" if flag else ""


# -- composition -------------------------------------------------------------------------


def print_composition(console: Console, c: Composition) -> None:
    r = c.result
    lots = {line.code: line for line in c.lots.lines}
    console.print(table(
        f"{r.method.value} mix of {c.vehicle_code} for USD {usd(c.size_usd)} as of {c.as_of}"
        + _synthetic(c.synthetic),
        [("instrument", "l"), ("weight", "r"), ("USD", "r"), ("quantity", "r"),
         ("risk share", "r")],
        [[code, pct(float(w)), usd(lots[code].amount_usd), quantity(lots[code].quantity),
          pct(float(share))] for code, w, share in zip(r.codes, r.weights, r.risk_shares,
                                                        strict=True)],
        caption=(f"{r.level:.0%} CVaR {pct(r.cvar)} and VaR {pct(r.var)} per period, "
                 f"volatility {pct(r.volatility)}; solver {r.solver}; cash left USD "
                 f"{usd(c.lots.cash_usd)}; window {c.window[0]}..{c.window[1]} "
                 f"({c.window[2]} periods)")), highlight=False)
    for e in c.excluded:
        console.print(f"excluded {e.code} ({e.limit_id}): {e.reason}", highlight=False)
    for note in c.notes:
        console.print(f"note: {note}", highlight=False)


# -- sizing --------------------------------------------------------------------------------


def print_sizing(console: Console, s: Sizing) -> None:
    r = s.result
    names = [u.name for u in r.curve[0].uses] if r.curve else []
    console.print(table(
        f"Sizing {s.vehicle_code} as of {s.as_of}: budget use by sleeve size"
        + _synthetic(s.composition.synthetic),
        [("size USD", "r"), *[(name, "r") for name in names], ("ok", "l")],
        [[usd(row.size_usd), *[pct(u.use, 0) for u in row.uses],
          "yes" if row.feasible else "NO"] for row in r.curve],
        caption="use = budget consumed (100% = at the limit)"), highlight=False)
    mix = ", ".join(f"{c} {w:.0%}" for c, w in zip(s.composition.result.codes,
                                                  s.composition.result.weights, strict=True)
                    if w > 5e-5)
    console.print(f"mix ({s.composition.result.method.value}): {mix}", highlight=False)
    if r.recommended_usd is None:
        console.print(f"[bold red]NO SIZE[/] {r.message}", highlight=False)
    else:
        console.print(f"[bold]recommended: USD {usd(r.recommended_usd)}[/] — binding: "
                      f"{', '.join(r.binding)}. {r.message}", highlight=False)


# -- the gate ------------------------------------------------------------------------------


def print_gate(console: Console, check: GateCheck) -> None:
    d = check.decision
    colour = "green" if d.go else "bold red"
    subject = f"{check.vehicle_code} " if check.vehicle_code else ""
    console.print(f"[{colour}]{d.verdict.value.upper()}[/] {subject}on {d.as_of} ("
                  + (f"policy version {check.policy_version}" if check.policy_version
                     else "default gate: no policy in force") + ")"
                  + _synthetic(check.synthetic), highlight=False)
    console.print(table("Signals", [("signal", "l"), ("series", "l"), ("value", "r"),
                                    ("threshold", "l"), ("result", "l"), ("why", "l")],
                        [[r.id + ("" if r.required else " (info)"), r.series,
                          _shown(check, r.id, r.value), r.threshold,
                          "n/a" if r.passed is None else ("pass" if r.passed else "FAIL"),
                          r.reason] for r in d.readings]), highlight=False)
    for reason in d.reasons:
        console.print(f"WAIT because: {reason}", highlight=False)


def _shown(check: GateCheck, signal_id: str, value: float | str | None) -> str:
    signal = check.gate.find_signal(signal_id)
    if value is None or signal is None:
        return "—"
    return value if isinstance(value, str) else format_value(signal, value)


# -- tranche plans ---------------------------------------------------------------------------


def print_plan(console: Console, view: PlanView) -> None:
    states = {s.tranche_id: s for s in view.states}
    console.print(f"plan {view.record.plan_id} for {view.record.vehicle_code}: target USD "
                  f"{usd(view.record.target_usd)} ({view.record.status}); gate "
                  f"{view.gate.decision.verdict.value.upper()}", highlight=False)
    console.print(table("Tranches", [
        ("tranche", "l"), ("up to USD", "r"), ("amount USD", "r"), ("executed USD", "r"),
        ("sessions", "r"), ("earliest", "l"), ("status", "l"), ("why", "l")],
        [[t.id, usd(t.cumulative_target_usd), usd(t.amount_usd),
          usd(states[t.id].executed_usd), str(t.days), str(t.earliest_start),
          states[t.id].status.value, states[t.id].reason] for t in view.plan.tranches]),
        highlight=False)
    rows = [[t.id, o.instrument, quantity(o.quantity), usd(o.cost_usd),
             "—" if o.daily_max_quantity is None else quantity(o.daily_max_quantity), str(o.days)]
            for t in view.plan.tranches for o in t.orders]
    console.print(table("Execution schedule (at most the policy's share of ADV a day)", [
        ("tranche", "l"), ("instrument", "l"), ("quantity", "r"), ("USD", "r"),
        ("max a day", "r"), ("sessions", "r")], rows), highlight=False)
    for order in view.created:
        console.print(f"drafted order {order.order_id}: buy {quantity(order.terms.quantity)} "
                      f"{order.terms.instrument_code} (submit it for four-eyes approval)",
                      highlight=False)
    for warning in view.plan.warnings:
        console.print(f"warning: {warning.message}", highlight=False)


# -- deployment backtests --------------------------------------------------------------------


def print_deployment(console: Console, outcome: DeployOutcome, top: int) -> None:
    summary = deployment_summary(outcome)
    rows = summary["strategies"][:top]
    console.print(table(
        f"Entry strategies on {summary['series']}, start dates {summary['from']}.."
        f"{summary['to']} ({summary['start_dates']}), horizon {summary['horizon_days']} days"
        + _synthetic(outcome.synthetic),
        [("strategy", "l"), (f"entry vs {summary['benchmark'].upper()} (mean)", "r"),
         ("median", "r"), ("worst drawdown (mean)", "r"), ("p95", "r"),
         ("days to full (median)", "r"), ("completed", "r"), ("regret (mean)", "r")],
        [[r["label"], pct(r["entry_vs_vwap_mean"]), pct(r["entry_vs_vwap_median"]),
          pct(r["drawdown_mean"]), pct(r["drawdown_p95"]),
          "—" if r["days_to_full_median"] is None else f"{r['days_to_full_median']:.0f}",
          pct(r["completion_rate"], 0), pct(r["regret_mean"])] for r in rows],
        caption=f"{summary['parameter_sets']} parameter sets x {summary['start_dates']} start "
                f"dates = {summary['runs']:,} runs; sorted by mean regret (entry price above "
                "the best strategy's on the same start date)"), highlight=False)
