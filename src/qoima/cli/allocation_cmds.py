"""``qoima optimize``, ``size``, ``gate``, ``tranche`` and ``backtest deploy``: how much,
in what, and when."""

from __future__ import annotations

import os
import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from qoima.allocation.cvar import start_solver
from qoima.allocation.optimizers import OptimizationMethod
from qoima.app.allocation import MixRequest
from qoima.app.deployment import DeployRequest
from qoima.bootstrap.engines import ENGINES, compute_engine
from qoima.cli.allocation_render import (
    composition_summary,
    deployment_summary,
    gate_summary,
    plan_summary,
    print_composition,
    print_deployment,
    print_gate,
    print_plan,
    print_sizing,
    sizing_summary,
)
from qoima.cli.context import state
from qoima.cli.options import Json
from qoima.cli.options import parse_date as _date
from qoima.cli.render import console, errors, print_json, table
from qoima.domain.enums import VehicleKind

tranche_app = typer.Typer(no_args_is_help=True, help="Tranche plans: the target in steps, "
                          "each released by the stability gate; orders drafted for approval.")
backtest_app = typer.Typer(no_args_is_help=True, help="Backtests of entry strategies.")

AsOf = Annotated[str | None, typer.Option("--as-of", help="Date YYYY-MM-DD (default: the "
                                          "latest date with market data).")]
Vehicle = Annotated[str | None, typer.Option("--vehicle", help="The vehicle (default: the "
                                             "only digital-asset sleeve).")]
Method = Annotated[str, typer.Option("--method", help="Optimizer: " + ", ".join(
    m.value for m in OptimizationMethod) + ".")]
Instruments = Annotated[list[str] | None, typer.Option(
    "--instrument", "-i", help="A candidate (repeat); default: the policy's allow list.")]
Level = Annotated[float, typer.Option("--level", help="CVaR confidence of the optimizer.")]
Window = Annotated[int, typer.Option("--window", help="Scenarios: periods of history.")]




def _as_of(ctx: typer.Context, text: str | None) -> date:
    return _date(text, "--as-of") or state(ctx).reserve().allocation.default_as_of()


def _usd(text: str | None, hint: str) -> Decimal | None:
    if text is None:
        return None
    cleaned = text.replace("_", "").replace(",", "").strip()
    factor = {"k": 1_000, "m": 1_000_000, "bn": 1_000_000_000}
    multiplier = 1
    for suffix, value in sorted(factor.items(), key=lambda kv: -len(kv[0])):
        if cleaned.lower().endswith(suffix):
            cleaned, multiplier = cleaned[: -len(suffix)], value
            break
    try:
        amount = Decimal(cleaned) * multiplier
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not an amount (e.g. 250000000 or 250M)",
                                 param_hint=hint) from None
    if not amount.is_finite() or amount <= 0:
        raise typer.BadParameter(f"{text!r} must be a positive amount", param_hint=hint)
    return amount


def _vehicle(ctx: typer.Context, given: str | None, *, optional: bool = False) -> str | None:
    """The vehicle named, else the only digital-asset sleeve; ``optional``: None when the
    workspace has no sleeve (the gate then reads the market alone, under the default gate)."""
    if given is not None:
        return given
    with state(ctx).reserve().units(write=False) as uow:
        sleeves = [v.code for v in uow.reference.list_vehicles()
                   if v.kind is VehicleKind.DIGITAL_ASSET_SLEEVE]
    if optional and not sleeves:
        return None
    if len(sleeves) != 1:
        raise typer.BadParameter(f"{len(sleeves)} digital-asset sleeves "
                                 f"({', '.join(sleeves) or 'none'}): name one",
                                 param_hint="--vehicle")
    return sleeves[0]


def _sleeve(ctx: typer.Context, given: str | None) -> str:
    name = _vehicle(ctx, given)
    assert name is not None
    return name


def _method(text: str) -> OptimizationMethod:
    try:
        return OptimizationMethod(text.replace("-", "_").lower())
    except ValueError:
        raise typer.BadParameter(f"{text!r}: one of {', '.join(OptimizationMethod)}",
                                 param_hint="--method") from None


def _weights(text: str | None) -> dict[str, float] | None:
    if text is None:
        return None
    result: dict[str, float] = {}
    for part in text.split(","):
        code, _, value = part.partition("=")
        try:
            share = float(value.strip().removesuffix("%")) / (100 if "%" in value else 1)
        except ValueError:
            raise typer.BadParameter(f"{part!r}: write CODE=WEIGHT (IBIT=0.6 or IBIT=60%)",
                                     param_hint="--weights") from None
        result[code.strip()] = share
    return result


def quiet_solver() -> None:
    """HiGHS prints a banner on its first use, at the C level: send file descriptor 1 to
    the null device while the first solver is made (``--json`` must stay pure JSON)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            start_solver()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _spinner(what: str) -> Progress:
    quiet_solver()
    progress = Progress(SpinnerColumn(), TextColumn(what), TimeElapsedColumn(),
                        console=errors, transient=True)  # stderr: --json stays clean
    progress.add_task(what, total=None)
    return progress


def _request(method: str, instruments: list[str] | None, level: float, window: int,
             size: str | None = None, weights: str | None = None,
             params: dict[str, Any] | None = None) -> MixRequest:
    return MixRequest(method=_method(method), level=level, codes=tuple(instruments or ()),
                      weights=_weights(weights), size_usd=_usd(size, "--size"),
                      params=params or {}, window=window)


def optimize_command(
        ctx: typer.Context, vehicle: Vehicle = None, method: Method = "min_cvar",
        instrument: Instruments = None,
        size: Annotated[str | None, typer.Option("--size", help="Sleeve size in USD the mix "
                                                 "is for (default: the policy maximum).")] = None,
        level: Level = 0.95,
        risk_aversion: Annotated[float | None, typer.Option(
            "--risk-aversion", help="mean_cvar: maximize return - this x CVaR.")] = None,
        target_return: Annotated[float | None, typer.Option(
            "--target-return", help="mean_cvar: minimum expected return per period.")] = None,
        window: Window = 500, as_of: AsOf = None, json: Json = False) -> None:
    """Compose the sleeve: weights, USD amounts, shares rounded to lots, risk contributions,
    with the policy's eligibility, caps and liquidity as constraints."""
    params = {k: v for k, v in (("risk_aversion", risk_aversion),
                                ("target_return", target_return)) if v is not None}
    request = _request(method, instrument, level, window, size, params=params)
    reserve, day = state(ctx).reserve(), _as_of(ctx, as_of)
    with _spinner("optimizing"):
        composition = reserve.allocation.compose(_sleeve(ctx, vehicle), day, request)
    if json:
        print_json(composition_summary(composition))
    else:
        print_composition(console, composition)


def size_command(
        ctx: typer.Context, vehicle: Vehicle = None, method: Method = "min_cvar",
        instrument: Instruments = None,
        weights: Annotated[str | None, typer.Option(
            "--weights", help="A fixed mix instead of the optimizer: IBIT=0.6,FBTC=0.4.")] = None,
        level: Level = 0.95, window: Window = 500, as_of: AsOf = None,
        json: Json = False) -> None:
    """The largest sleeve inside the policy range that keeps every risk budget, the binding
    one, and each budget's use from the range minimum to the maximum."""
    request = _request(method, instrument, level, window, weights=weights)
    reserve, day = state(ctx).reserve(), _as_of(ctx, as_of)
    with _spinner("sizing"):
        sizing = reserve.allocation.size(_sleeve(ctx, vehicle), day, request)
    if json:
        print_json(sizing_summary(sizing))
    else:
        print_sizing(console, sizing)


def gate_command(
        ctx: typer.Context, vehicle: Vehicle = None, as_of: AsOf = None,
        record: Annotated[bool, typer.Option(
            "--record", help="Record the decision and its inputs in the audit trail.")] = False,
        json: Json = False) -> None:
    """The stability gate: GO or WAIT, with every signal and the reason for each."""
    reserve, day = state(ctx).reserve(), _as_of(ctx, as_of)
    name = _vehicle(ctx, vehicle, optional=not record)
    recorded: dict[str, Any] | None = None
    if record:
        assert name is not None
        check, stored, new = reserve.allocation.record_gate(name, day, actor=state(ctx).actor)
        recorded = {"id": stored.id, "decision_hash": stored.decision_hash, "new": new,
                    "recorded_by": stored.recorded_by, "recorded_at": stored.recorded_at}
    else:
        check = reserve.allocation.gate(name, day)
    if json:
        print_json(gate_summary(check, recorded))
    else:
        print_gate(console, check)
        if recorded is not None:
            console.print(("recorded" if recorded["new"] else "already recorded") +
                          f" as decision {recorded['id']} ({str(recorded['decision_hash'])[:12]})",
                          highlight=False)
    if not check.decision.go:
        raise typer.Exit(3)  # scripts can branch on WAIT


@tranche_app.command("plan")
def plan(ctx: typer.Context, vehicle: Vehicle = None,
         target: Annotated[str | None, typer.Option(
             "--target", help="Total to deploy in USD (default: the sizing recommendation).")
         ] = None,
         method: Method = "min_cvar", instrument: Instruments = None, level: Level = 0.95,
         window: Window = 500, as_of: AsOf = None,
         key: Annotated[str | None, typer.Option("--key", help="Idempotency key (default: "
                                                 "vehicle, date and the plan's content).")] = None,
         json: Json = False) -> None:
    """Plan the tranches and draft the orders of the tranche the gate releases."""
    request = _request(method, instrument, level, window)
    reserve, day = state(ctx).reserve(), _as_of(ctx, as_of)
    with _spinner("planning tranches"):
        view = reserve.tranches.plan(_sleeve(ctx, vehicle), day, actor=state(ctx).actor,
                                     target_usd=_usd(target, "--target"), request=request,
                                     idempotency_key=key)
    print_json(plan_summary(view)) if json else print_plan(console, view)


@tranche_app.command("status")
def status(ctx: typer.Context, plan_id: str, as_of: AsOf = None, json: Json = False) -> None:
    """Each tranche: planned, released, in progress, executed or blocked (and why)."""
    view = state(ctx).reserve().tranches.status(plan_id, _as_of(ctx, as_of))
    print_json(plan_summary(view)) if json else print_plan(console, view)


@tranche_app.command("release")
def release(ctx: typer.Context, plan_id: str, as_of: AsOf = None, json: Json = False) -> None:
    """Draft the orders of every tranche released today that has none yet."""
    view = state(ctx).reserve().tranches.release(plan_id, _as_of(ctx, as_of),
                                                 actor=state(ctx).actor)
    print_json(plan_summary(view)) if json else print_plan(console, view)


@tranche_app.command("list")
def list_plans(ctx: typer.Context, vehicle: Vehicle = None, json: Json = False) -> None:
    """Recorded tranche plans."""
    records = state(ctx).reserve().tranches.plans(vehicle)
    rows = [{"plan_id": r.plan_id, "vehicle": r.vehicle_code, "as_of": r.as_of_date,
             "target_usd": r.target_usd, "status": r.status, "orders": len(r.orders),
             "created_by": r.created_by} for r in records]
    if json:
        print_json(rows)
        return
    console.print(table("Tranche plans", [(k, "l") for k in rows[0]] if rows else
                        [("plan_id", "l")], [[str(v) for v in row.values()] for row in rows]))


def _decimals(text: str | None, hint: str) -> tuple[Decimal, ...]:
    if not text:
        return ()
    try:
        return tuple(Decimal(p.strip().removesuffix("%")) / (100 if "%" in p else 1)
                     for p in text.split(","))
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r}: comma-separated numbers (0.6,0.8 or 60%,80%)",
                                 param_hint=hint) from None


def _ints(text: str, hint: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"{text!r}: comma-separated whole numbers",
                                 param_hint=hint) from None


@backtest_app.command("deploy")
def deploy(ctx: typer.Context,
           series: Annotated[str, typer.Option("--series", help="Stored price series bought "
                                               "(import real data with `qoima data import`).")
                             ] = "BTC",
           vehicle: Annotated[str | None, typer.Option(
               "--vehicle", help="Use this vehicle's policy gate (default: the default gate).")
           ] = None,
           start: Annotated[str | None, typer.Option("--from", help="First start date.")] = None,
           end: Annotated[str | None, typer.Option("--to", help="Last start date.")] = None,
           horizon: Annotated[int, typer.Option("--horizon", help="Days to deploy in.")] = 365,
           tranches: Annotated[str, typer.Option("--tranches")] = "2,3,4,6,12",
           spacing: Annotated[str, typer.Option("--spacing", help="Days between tranches.")
                              ] = "7,30",
           vol: Annotated[str | None, typer.Option(
               "--vol-max", help="Gate variants: realized-volatility maxima (0.6,0.8,1.0).")
           ] = None,
           drawdown: Annotated[str | None, typer.Option(
               "--drawdown-max", help="Gate variants: drawdown maxima (0.25,0.35,0.5).")
           ] = None,
           top: Annotated[int, typer.Option("--top", help="Rows shown.")] = 20,
           engine: Annotated[str | None, typer.Option(
               "--engine", help=f"{', '.join(ENGINES)} (default: QOIMA_ENGINE or numpy).")
           ] = None,
           scheduler: Annotated[str | None, typer.Option("--scheduler")] = None,
           json: Json = False) -> None:
    """Lump sum, equal tranches, gated tranches and wait-for-stability from every start date:
    entry price versus VWAP, drawdown while deploying, time to deploy, regret."""
    request = DeployRequest(series, _date(start, "--from"), _date(end, "--to"), horizon,
                            _ints(tranches, "--tranches"), _ints(spacing, "--spacing"),
                            _decimals(vol, "--vol-max"), _decimals(drawdown, "--drawdown-max"))
    reserve = state(ctx).reserve()
    with compute_engine(engine, scheduler, state(ctx).settings) as chosen, \
            _spinner("backtesting entry strategies"):
        outcome = reserve.deployment.run(vehicle, request, engine=chosen)
    if json:
        print_json(deployment_summary(outcome))
    else:
        print_deployment(console, outcome, top)
