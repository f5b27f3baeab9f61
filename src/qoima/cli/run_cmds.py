"""``qoima run``: the daily run (value, risk, stress, policy, gate, sizing, audit, reports),
its replay, and the list of recorded runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from qoima.adapters.library_versions import versions as versions  # demo_cmd imports it here
from qoima.adapters.scenario_files import read_stress_scenarios
from qoima.app.daily_run import RunRequest, RunResult
from qoima.app.run_numbers import RunSettings
from qoima.cli.allocation_cmds import quiet_solver
from qoima.cli.context import state
from qoima.cli.options import Json, parse_date
from qoima.cli.render import console, errors, print_json, table
from qoima.domain.errors import InvalidInput
from qoima.report.document import Notice, NoticeLevel
from qoima.risk.scenarios import Scenario

EXIT_DEGRADED = 4  # the run finished, but a step failed or an input is broken
EXIT_REPLAY_DIFFERS = 5  # a replay did not reproduce every number

DEFAULTS = RunSettings()
runs_app = typer.Typer(no_args_is_help=True, help="Recorded daily runs.")


def run(ctx: typer.Context,
        as_of: Annotated[str | None, typer.Option(
            "--as-of", help="Valuation date (default: the latest date with prices).")] = None,
        replay: Annotated[str | None, typer.Option(
            "--replay", help="Run RUN_ID again with its recorded date, settings and seed, and "
            "say whether every number is the same.")] = None,
        scenario: Annotated[list[str] | None, typer.Option(
            "--scenario", help="Stress scenario to run (repeat); default: the whole "
            "library.")] = None,
        scenarios_file: Annotated[Path | None, typer.Option(
            "--scenarios", help="Extra stress scenarios (YAML).")] = None,
        seed: Annotated[int, typer.Option("--seed")] = DEFAULTS.seed,
        window: Annotated[int, typer.Option("--window")] = DEFAULTS.window,
        mc_scenarios: Annotated[int, typer.Option("--mc-scenarios")] = DEFAULTS.mc_scenarios,
        json: Json = False) -> None:
    """The daily run: value every vehicle, measure risk and stress, check every policy,
    evaluate the stability gate, tranches and sizing, verify the audit trail, and write
    the committee report (HTML, PDF), the public transparency report, CSVs and
    summary.json into a dated run folder. Exit 4 when the run is degraded."""
    cli = state(ctx)
    problems: list[Notice] = []
    extra: tuple[Scenario, ...] = ()
    if scenarios_file is not None:
        try:
            extra = read_stress_scenarios(scenarios_file)
        except InvalidInput as error:  # the run goes on without them, and says so
            problems.append(Notice(NoticeLevel.PROBLEM, "risk",
                                   f"Stress scenario file not used: {error}"))
    request = RunRequest(
        parse_date(as_of, "--as-of"),
        RunSettings(window, seed, mc_scenarios, tuple(scenario or ())), extra,
        tuple(problems), versions(), os.urandom(32))
    reserve = cli.reserve()
    with StepProgress(json) as report:
        if replay is not None:
            result, comparison = reserve.runs.replay(replay, request, actor=cli.actor,
                                                     progress=report)
        else:
            result, comparison = reserve.daily.run(request, actor=cli.actor,
                                                   progress=report), None
    if json:
        payload: dict[str, Any] = {k: v for k, v in result.summary.items() if k != "tables"}
        if comparison is not None:
            payload["replay"] = {"identical": comparison.identical,
                                 "inputs_changed": list(comparison.inputs_changed),
                                 "differences": list(comparison.differences),
                                 "numbers_compared": comparison.compared}
        print_json(payload)
    else:
        _print(result)
        if comparison is not None:
            if comparison.identical:
                console.print(f"[green]replay of {replay}: all {comparison.compared} numbers "
                              "reproduced exactly[/]")
            else:
                console.print(f"[red]replay of {replay} differs[/]")
                for part in comparison.inputs_changed:
                    console.print(f"  inputs changed since the run: {part}")
                for line in comparison.differences:
                    console.print(f"  {line}")
    if comparison is not None and not comparison.identical:
        raise typer.Exit(EXIT_REPLAY_DIFFERS)
    if result.degraded:
        raise typer.Exit(EXIT_DEGRADED)


class StepProgress:
    """Step-by-step progress on stderr: a spinner on the running step, a line per step."""

    def __init__(self, quiet: bool) -> None:
        self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                             TimeElapsedColumn(), console=errors, disable=quiet, transient=True)
        self._quiet = quiet
        self._task: Any = None

    def __enter__(self) -> StepProgress:
        quiet_solver()  # sizing starts HiGHS, whose banner must not reach --json output
        self._bar.__enter__()
        self._task = self._bar.add_task("daily run", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)

    def __call__(self, title: str, status: str) -> None:
        if status == "start":
            self._bar.update(self._task, description=title)
        elif not self._quiet:
            mark = {"ok": "[green]✓[/]", "failed": "[red]✗[/]"}.get(status, "·")
            self._bar.console.print(f"{mark} {title}")


def _print(result: RunResult) -> None:
    s = result.summary
    colour = "green" if result.status == "ok" else "yellow"
    console.rule(f"[bold]Daily run {result.run_id}[/] as of {s['as_of']} — "
                 f"[{colour}]{result.status.upper()}[/]")
    for n in s["notices"]:
        style = {"problem": "red", "warning": "yellow"}.get(n["level"], "dim")
        console.print(f"[{style}]{n['level'].upper()}[/] ({n['step']}) {n['text']}")
    console.print(table("Steps", [("step", "l"), ("status", "l"), ("seconds", "r"),
                                  ("message", "l")],
                        [[x["title"], x["status"], f"{x['seconds']:.2f}", x["message"][:90]]
                         for x in s["steps"]]))
    h = s["headline"]
    if "total_usd" in h:
        console.print(f"Reserve NAV: USD {float(h['total_usd']):,.0f}" + (
            f"; KZT {float(h['total_kzt']):,.0f}" if h.get("total_kzt") else ""))
    for vehicle, verdict in h.get("gate", {}).items():
        console.print(f"Stability gate {vehicle}: {verdict.upper()}")
    console.print(f"Run folder: {s['folder']}")
    if s["folder"]:
        console.print(f"Report: {Path(s['folder']) / 'report.html'}")


@runs_app.command("list")
def list_runs(ctx: typer.Context,
              limit: Annotated[int, typer.Option("--limit")] = 20, json: Json = False) -> None:
    """Recorded runs, newest first."""
    records = state(ctx).reserve().runs.list(limit)
    rows: list[dict[str, Any]] = [{
             "run_id": r.run_id, "as_of": r.as_of_date.isoformat(), "status": r.status,
             "replay_of": r.replay_of, "inputs_hash": r.inputs_hash,
             "numbers_hash": r.numbers_hash, "folder": r.folder, "run_by": r.run_by,
             "seconds": (r.finished_at - r.started_at).total_seconds()} for r in records]
    if json:
        print_json(rows)
        return
    console.print(table("Daily runs", [("run", "l"), ("as of", "l"), ("status", "l"),
                                       ("replay of", "l"), ("seconds", "r"), ("folder", "l")],
                        [[r["run_id"], r["as_of"], r["status"], r["replay_of"] or "",
                          f"{r['seconds']:.1f}", r["folder"]] for r in rows]))
