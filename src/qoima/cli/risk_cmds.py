"""``qoima risk`` and ``qoima stress``: the risk engine from the command line."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from qoima.adapters.price_files import read_fomc_decisions
from qoima.adapters.scenario_files import read_ara_inputs, read_stress_scenarios
from qoima.app.risk import RiskRequest, resolve_scenarios
from qoima.bootstrap.engines import ENGINES, compute_engine
from qoima.cli.context import state
from qoima.cli.render import console, print_json, table
from qoima.cli.risk_render import (
    assessment_summary,
    backtest_summary,
    exposure_summary,
    money,
    pct,
    print_backtest,
    print_stress,
    print_var,
    stress_summary,
    var_summary,
)
from qoima.risk.assessment import AssessmentSettings, RiskAssessment
from qoima.risk.checks import check_horizon, check_level
from qoima.risk.scenarios import BUILTIN_SCENARIOS
from qoima.risk.scopes import METHODS, TOTAL
from qoima.risk.stress import reverse_stress

risk_app = typer.Typer(no_args_is_help=True, help="Risk: VaR/CVaR, regimes, correlations, "
                       "Fed reaction, liquidity, backtests.")
stress_app = typer.Typer(no_args_is_help=True, help="Stress tests: historical replays, "
                         "hypothetical shocks, reverse stress.")

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="Valuation date YYYY-MM-DD "
                                          "(default: the latest date with market data).")]
Engine = Annotated[str | None, typer.Option(
    "--engine", help=f"Where Monte Carlo and stress grids run: {', '.join(ENGINES)} "
    "(default: QOIMA_ENGINE or numpy).")]
Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", help="Dask scheduler address tcp://host:port (default: a local cluster).")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of every random draw.")]
Window = Annotated[int, typer.Option("--window", help="Periods of history (trading days).")]


def _as_of(ctx: typer.Context, text: str | None) -> date:
    if text is None:
        return state(ctx).reserve().risk.default_as_of()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)",
                                 param_hint="--as-of") from None


def _levels(values: list[float] | None) -> tuple[float, ...]:
    try:
        return tuple(check_level(v) for v in values) if values else (0.95, 0.99)
    except Exception as error:
        raise typer.BadParameter(str(error), param_hint="--level") from None


def _horizons(values: list[int] | None) -> tuple[int, ...]:
    try:
        return tuple(check_horizon(v) for v in values) if values else (1, 10)
    except Exception as error:
        raise typer.BadParameter(str(error), param_hint="--horizon") from None


def _methods(values: list[str] | None) -> tuple[str, ...]:
    chosen = tuple(values) if values else METHODS
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise typer.BadParameter(f"unknown method {unknown[0]!r}; methods: {', '.join(METHODS)}",
                                 param_hint="--method")
    return chosen


@risk_app.command("report")
def report(ctx: typer.Context, as_of: AsOf = None, window: Window = 500, seed: Seed = 20_260_101,
           mc_scenarios: Annotated[int, typer.Option("--mc-scenarios")] = 100_000,
           fomc: Annotated[Path | None, typer.Option(
               "--fomc", help="FOMC decisions CSV (date,change_bps,upper_bound_pct); default: "
               "hikes and cuts read off the stored DFEDTARU series.")] = None,
           scenarios: Annotated[Path | None, typer.Option(
               "--scenarios", help="Extra stress scenarios (YAML).")] = None,
           ara: Annotated[Path | None, typer.Option(
               "--ara", help="Reserve-adequacy inputs (YAML) for the IMF ARA metric.")] = None,
           engine: Engine = None, scheduler: Scheduler = None, json: Json = False) -> None:
    """The full risk report of the whole reserve at one date."""
    day = _as_of(ctx, as_of)
    extra = read_stress_scenarios(scenarios) if scenarios else ()
    request = RiskRequest(
        settings=AssessmentSettings(window=window, seed=seed, mc_scenarios=mc_scenarios),
        scenarios=(*BUILTIN_SCENARIOS, *extra),
        decisions=read_fomc_decisions(fomc) if fomc else None,
        ara=read_ara_inputs(ara) if ara else None)
    reserve = state(ctx).reserve()
    with compute_engine(engine, scheduler, state(ctx).settings) as chosen, Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} "
            "steps"), TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("risk report", total=None)

        def step(name: str) -> None:
            progress.update(task, description=name, advance=1)
        result = reserve.risk.assess(day, request, engine=chosen, step=step)
    if json:
        print_json(assessment_summary(result))
        return
    _print_report(result)


def _print_report(a: RiskAssessment) -> None:
    label = " — SYNTHETIC market data" if a.synthetic else ""
    console.print(f"[bold]Risk report as of {a.as_of_date}{label}[/]")
    if a.window:
        console.print(f"historical window {a.window[0]} .. {a.window[1]} ({a.window[2]} "
                      "periods); VaR and CVaR are positive losses")
    console.print(table("Scopes", [("scope", "l"), ("value USD", "r")],
                        [[n, money(v)] for n, v in a.scopes]))
    main = [r for r in a.var if r.horizon_days == 1 and r.level == 0.99]
    print_var(console, main, "VaR / CVaR, 99 %, 1 day (every method)")
    ten = [r for r in a.var if r.horizon_days == 10 and r.method == "historical"]
    print_var(console, ten, "VaR / CVaR, 10 days, historical")
    for scope, c in a.contributions.items():
        order = sorted(range(len(c.keys)), key=lambda i: -c.cvar_component[i])[:10]
        console.print(table(f"CVaR 99 % contributions (Euler), {scope}", [
            ("position", "l"), ("CVaR USD", "r"), ("share", "r"), ("marginal per USD", "r")],
            [[c.keys[i], money(c.cvar_component[i]), pct(c.cvar_percent[i]),
              f"{c.cvar_marginal_per_unit[i]:.4f}"] for i in order]))
    if a.incremental:
        console.print(f"digital assets add {money(a.incremental.var_added)} USD of VaR and "
                      f"{money(a.incremental.cvar_added)} USD of CVaR (99 %, 1 day) to the rest "
                      "of the book")
    if a.regime and a.volatility:
        console.print(f"BTC regime: [bold]{a.regime.current_label}[/] "
                      f"(p={a.regime.current_probability:.2f}, {a.regime.method}); GARCH vol "
                      f"{pct(a.volatility.garch_volatility, 1)} (pct "
                      f"{a.volatility.garch_percentile:.0f}), realized 30d "
                      f"{pct(a.volatility.realized.current, 1)}")
    if a.correlations:
        corr = a.correlations
        console.print(table("Correlation (beta) to macro factors", [
            ("exposure", "l"), *[(f, "r") for f in corr.factors]], [
            [e, *[f"{corr.value(e, f):+.2f} ({corr.beta_of(e, f):+.2f})" for f in corr.factors]]
            for e in corr.exposures]))
    if a.fed and not a.fed.summaries:
        console.print("Fed reaction: no decision kind with two or more events that have enough "
                      "history around them (see the findings)")
    elif a.fed:
        console.print(table("Fed reaction: mean CAR around FOMC decisions", [
            ("asset", "l"), ("kind", "l"), ("events", "r"), ("mean CAR", "r"), ("95 % CI", "l"),
            ("p", "r")], [[s.asset, str(s.kind), str(s.n_events), pct(s.mean_car),
                           f"{pct(s.ci_low)} .. {pct(s.ci_high)}", f"{s.p_value:.3f}"]
                          for s in a.fed.summaries]))
    if a.stress:
        print_stress(console, a.stress)
    if a.reverse:
        move = ("not reachable (BTC −99 % loses "
                f"{money(a.reverse.loss_at_floor_usd)} USD)" if not a.reverse.reachable
                else f"BTC {pct(a.reverse.btc_move, 1)}")
        console.print(f"reverse stress: loss of {money(a.reverse.loss_limit_usd)} USD "
                      f"({a.reverse.scope}): {move}")
    if a.performance:
        console.print(table("Performance and drawdowns (window)", [
            ("series", "l"), ("ann. return", "r"), ("ann. vol", "r"), ("Sharpe", "r"),
            ("Sortino", "r"), ("max drawdown", "r"), ("Calmar", "r")], [
            [p.series, pct(p.annual_return, 1), pct(p.annual_volatility, 1),
             f"{p.sharpe_ratio:.2f}", "—" if p.sortino_ratio is None else f"{p.sortino_ratio:.2f}",
             pct(p.max_drawdown, 1), "—" if p.calmar_ratio is None else f"{p.calmar_ratio:.2f}"]
            for p in a.performance]))
    if a.operational:
        console.print(table("Operational scenarios", [
            ("scenario", "l"), ("loss USD", "r"), ("unavailable USD", "r"), ("positions", "r")],
            [[o.description, money(o.total_loss_usd), money(o.total_unavailable_usd),
              str(len(o.positions))] for o in a.operational]))
    if a.adequacy:
        ara = a.adequacy
        console.print(table(f"Reserve adequacy (IMF ARA, metric {money(ara.metric.metric_usd)} "
                            "USD)", [("case", "l"), ("reserves USD", "r"), ("ratio", "r"),
                                     ("band", "l")],
                            [[x.label, money(x.reserves_usd), pct(x.ratio, 0), str(x.band)]
                             for x in (ara.before_sleeve, ara.after_sleeve,
                                       *ara.under_stress)]))
        for note in ara.notes:
            console.print(f"[dim]{note}[/]", highlight=False)
    if a.liquidity:
        ladder = a.liquidity.ladder
        console.print(table("Liquidity ladder (share of value liquidatable)", [
            (f"{d} d", "r") for d in ladder.days], [[pct(s, 1) for s in ladder.total_share]]))
    for b in a.backtests:
        print_backtest(console, b)
    for finding in a.findings:
        colour = "yellow" if str(finding.severity) in ("warning", "error") else "dim"
        console.print(f"[{colour}]{finding.severity}[/] {finding.subject}: {finding.message}",
                      highlight=False)


@risk_app.command("var")
def var(ctx: typer.Context, as_of: AsOf = None,
        scope: Annotated[str | None, typer.Option(
            "--scope", help="total, digital-assets or a vehicle code (default: all).")] = None,
        method: Annotated[list[str] | None, typer.Option(
            "--method", help=f"One or more of {', '.join(METHODS)} (default: all).")] = None,
        level: Annotated[list[float] | None, typer.Option("--level")] = None,
        horizon: Annotated[list[int] | None, typer.Option("--horizon")] = None,
        currency: Annotated[list[str] | None, typer.Option("--currency")] = None,
        window: Window = 500, seed: Seed = 20_260_101,
        mc_scenarios: Annotated[int, typer.Option("--mc-scenarios")] = 100_000,
        engine: Engine = None, scheduler: Scheduler = None, json: Json = False) -> None:
    """VaR and CVaR by scope, method, level and horizon (USD and KZT)."""
    day = _as_of(ctx, as_of)
    currencies = tuple(c.upper() for c in currency) if currency else ("USD", "KZT")
    bad = [c for c in currencies if c not in ("USD", "KZT")]
    if bad:
        raise typer.BadParameter(f"{bad[0]!r}: USD or KZT", param_hint="--currency")
    settings = AssessmentSettings(levels=_levels(level), horizons=_horizons(horizon),
                                  methods=_methods(method), currencies=currencies,
                                  window=window, seed=seed, mc_scenarios=mc_scenarios)
    with compute_engine(engine, scheduler, state(ctx).settings) as chosen, Progress(
            SpinnerColumn(), TextColumn("computing VaR"), TimeElapsedColumn(), console=console,
            transient=True) as progress:
        progress.add_task("var", total=None)
        mapped, rows = state(ctx).reserve().risk.var(day, RiskRequest(settings=settings),
                                                     scope=scope, engine=chosen)
    if json:
        print_json({"as_of": day, "synthetic_market": mapped.history.synthetic,
                    "exposures": exposure_summary(mapped), "var": var_summary(rows)})
        return
    print_var(console, rows, f"VaR / CVaR as of {day}" + (
        " (SYNTHETIC market data)" if mapped.history.synthetic else ""))


@risk_app.command("backtest")
def backtest(ctx: typer.Context, as_of: AsOf = None,
             scope: Annotated[str, typer.Option(
                 "--scope", help="total, digital-assets, a vehicle, or a factor series such as "
                 "BTC or IBIT.")] = TOTAL,
             window: Annotated[list[int] | None, typer.Option(
                 "--window", help="Rolling window of the historical VaR (repeatable; "
                 "default 250).")] = None,
             level: Annotated[list[float] | None, typer.Option(
                 "--level", help="Confidence level (repeatable; default 0.99).")] = None,
             start: Annotated[str | None, typer.Option("--from", help="First date YYYY-MM-DD.")
                              ] = None, engine: Engine = None, scheduler: Scheduler = None,
             json: Json = False) -> None:
    """Backtest rolling historical VaR: exceedances, Kupiec, Christoffersen, Basel zone."""
    day = _as_of(ctx, as_of)
    first = None
    if start is not None:
        try:
            first = date.fromisoformat(start)
        except ValueError:
            raise typer.BadParameter(f"{start!r} is not a date", param_hint="--from") from None
    windows = window or [250]
    if any(w < 1 for w in windows):
        raise typer.BadParameter("a window is a whole number of periods >= 1",
                                 param_hint="--window")
    with compute_engine(engine, scheduler, state(ctx).settings) as chosen:
        results = state(ctx).reserve().risk.backtest(
            day, scope=scope, windows=windows, levels=_levels(level or [0.99]), start=first,
            engine=chosen)
    if json:
        summaries = [backtest_summary(r) for r in results]
        print_json(summaries[0] if len(summaries) == 1 else summaries)
        return
    for result in results:
        print_backtest(console, result)


@stress_app.command("list")
def list_scenarios(scenarios: Annotated[Path | None, typer.Option(
        "--file", help="Also list the scenarios of this YAML file.")] = None,
        json: Json = False) -> None:
    """The built-in scenario library (and a file's scenarios)."""
    extra = read_stress_scenarios(scenarios) if scenarios else ()
    items = [(s.name, "historical" if hasattr(s, "start_date") else "hypothetical",
              s.description) for s in (*BUILTIN_SCENARIOS, *extra)]
    if json:
        print_json([{"name": n, "kind": k, "description": d} for n, k, d in items])
        return
    console.print(table("Stress scenarios", [("name", "l"), ("kind", "l"),
                                             ("description", "l")],
                        [list(item) for item in items]))


@stress_app.command("run")
def run(ctx: typer.Context, as_of: AsOf = None,
        scenario: Annotated[list[str] | None, typer.Option(
            "--scenario", help="Scenario name (repeatable; default: every built-in one, or "
            "the file's).")] = None,
        file: Annotated[Path | None, typer.Option(
            "--file", help="Hypothetical or historical scenarios in YAML.")] = None,
        engine: Engine = None, scheduler: Scheduler = None,
        positions: Annotated[bool, typer.Option(
            "--positions", help="Show P&L per position.")] = False, json: Json = False) -> None:
    """Replay historical windows and hypothetical shocks on today's holdings."""
    day = _as_of(ctx, as_of)
    extra = read_stress_scenarios(file) if file else ()
    chosen_scenarios = resolve_scenarios(scenario or [], extra)
    with compute_engine(engine, scheduler, state(ctx).settings) as chosen:
        grid = state(ctx).reserve().risk.stress(day, chosen_scenarios, engine=chosen)
    if json:
        print_json({"as_of": day, "scenarios": stress_summary(grid.results)})
        return
    print_stress(console, grid, f"Stress scenarios on the holdings of {day}")
    if positions:
        for result in grid.results:
            console.print(table(f"{result.scenario}: P&L by position", [
                ("position", "l"), ("P&L USD", "r")],
                [[p.key, money(p.pnl_usd)] for p in result.positions]))


@stress_app.command("reverse")
def reverse(ctx: typer.Context, loss_limit_usd: Annotated[float, typer.Option(
        "--loss-limit-usd", help="The loss that must not be reached.")],
        as_of: AsOf = None,
        vehicle: Annotated[str | None, typer.Option("--vehicle")] = None,
        crypto_only: Annotated[bool, typer.Option(
            "--digital-assets", help="Only the digital-asset positions.")] = False,
        json: Json = False) -> None:
    """The smallest BTC fall (other crypto moving with it) that reaches a loss limit."""
    day = _as_of(ctx, as_of)
    if loss_limit_usd <= 0:
        raise typer.BadParameter("must be > 0", param_hint="--loss-limit-usd")
    _, mapped = state(ctx).reserve().risk.exposures(day)
    result = reverse_stress(mapped.book, loss_limit_usd, vehicle=vehicle,
                            crypto=True if crypto_only else None)
    if json:
        print_json({"as_of": day, "loss_limit_usd": loss_limit_usd, "scope": result.scope,
                    "reachable": result.reachable, "btc_move": result.btc_move,
                    "factor_moves": dict(result.factor_moves),
                    "loss_at_floor_usd": result.loss_at_floor_usd})
        return
    if result.reachable:
        console.print(f"a BTC move of {pct(result.btc_move, 2)} (with "
                      f"{', '.join(f'{k} {pct(v, 1)}' for k, v in result.factor_moves.items())})"
                      f" loses {money(loss_limit_usd)} USD on {result.scope}")
    else:
        console.print(f"not reachable: even BTC −99 % loses only "
                      f"{money(result.loss_at_floor_usd)} USD on {result.scope}")
