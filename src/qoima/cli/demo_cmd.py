"""``qoima demo``: build the illustrative demo reserve, then run the daily run on it.

The main job of the README's first command: the demo book and its SYNTHETIC market, the
managers' statements, the people and policies in force, one order waiting for approval,
then ``qoima run`` — ending with the path of the committee report.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from qoima.adapters.demo_policy_files import demo_policies
from qoima.adapters.entry_export import write_entries
from qoima.app.daily_run import RunRequest, RunResult
from qoima.app.demo.build import (
    LABEL,
    SLEEVE,
    SLEEVE_RANGE_USD,
    DemoSize,
    build_demo,
    load_demo,
)
from qoima.app.demo.governance import govern_demo
from qoima.app.demo.managers import demo_manager_book, load_demo_managers
from qoima.cli.context import state
from qoima.cli.render import console, errors, money, print_json
from qoima.cli.run_cmds import EXIT_DEGRADED, StepProgress, versions
from qoima.cli.valuation_cmds import print_holdings, print_nav

DEFAULT_DIR = Path("demo-reserve")
RUN_AS = "risk"  # the demo's risk officer starts the daily run
SMALL_HOLDINGS = 60  # print every holding only when there are this few


def demo(ctx: typer.Context,
         directory: Annotated[Path, typer.Option("--dir", help="Workspace directory to create.",
                                                 file_okay=False)] = DEFAULT_DIR,
         json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
         size: Annotated[DemoSize, typer.Option(
             "--size", help="full: ~1,000 positions on 10 years of market history; small: "
                            "21 positions on one year.")] = DemoSize.FULL,
         no_run: Annotated[bool, typer.Option(
             "--no-run", help="Build the book, market and managers' statements only: no "
                              "people, no policies in force, no daily run.")] = False,
         ) -> None:
    """Build the demo reserve (idempotent) and run the daily run on it: NAV by vehicle,
    then the run's steps and the path of the committee report (exit 4 if degraded)."""
    cli = state(ctx)
    cli.workspace = directory
    steps = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                     console=errors, disable=json)
    with steps:
        task = steps.add_task("opening workspace", total=None)
        reserve = cli.reserve(create=True)
        steps.update(task, description="generating the demo book and SYNTHETIC market")
        content = build_demo(size)
        built = bool(reserve.users.list())  # people are added last: the book is loaded
        loaded: Any = "already built" if built else None
        if not built:
            steps.update(task, description=f"posting {len(content.entries)} entries and "
                                           f"{len(content.prices) + len(content.fx)} quotes, "
                                           f"{len(content.series)} market series")
            loaded = load_demo(reserve.book, reserve.market_data, content, actor=cli.actor)
            steps.update(task, description="importing the managers' statements")
            load_demo_managers(reserve.managers, demo_manager_book(
                content.reference, content.entries, content.prices), actor=cli.actor)
        if not no_run:
            steps.update(task, description="people, policies in force, an order to approve")
            govern_demo(reserve.users, reserve.policies, reserve.orders, demo_policies(),
                        content.as_of_date)
            if reserve.audit.latest_checkpoint() is None:
                reserve.audit.checkpoint(actor="ops")
        steps.update(task, description="valuing the reserve")
        snapshot = reserve.valuation.snapshot(content.as_of_date)
        entries_file = directory / "entries" / "demo-entries.yaml"
        if not entries_file.exists():
            steps.update(task, description="exporting entries")
            entries_file.parent.mkdir(parents=True, exist_ok=True)
            write_entries(content.entries, entries_file)
    result = None
    if not no_run:
        request = RunRequest(content.as_of_date, versions=versions(), salt_key=os.urandom(32),
                             label=LABEL)
        with StepProgress(json) as report:
            result = reserve.daily.run(request, actor=RUN_AS, progress=report)
    if json:
        print_json({"workspace": reserve.location, "label": LABEL, "loaded": loaded,
                    "as_of": content.as_of_date, "vehicles": snapshot.vehicles,
                    "positions": len(snapshot.positions),
                    "total_usd": snapshot.total_usd, "total_kzt": snapshot.total_kzt,
                    "synthetic_market": snapshot.synthetic_market,
                    "entries_file": str(entries_file), "run": _run_json(result)})
    else:
        _print(directory, snapshot, loaded, entries_file, result, reserve.location)
    if result is not None and result.degraded:
        raise typer.Exit(EXIT_DEGRADED)


def _run_json(result: RunResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    s = result.summary
    return {"run_id": result.run_id, "status": result.status, "seconds": s["seconds"],
            "folder": s["folder"], "report": str(Path(s["folder"]) / "report.html"),
            "steps": s["steps"], "notices": s["notices"]}


def _print(directory: Path, snapshot: Any, loaded: Any, entries_file: Path,
           result: RunResult | None, location: str) -> None:
    console.rule(f"[bold]qoima demo reserve[/] — {LABEL}")
    print_nav(snapshot)
    if len(snapshot.positions) <= SMALL_HOLDINGS:
        print_holdings(snapshot)
    else:
        console.print(f"{len(snapshot.positions)} positions (`qoima --dir {directory} "
                      "holdings --vehicle VEHICLE` lists them)")
    sleeve = snapshot.vehicle(SLEEVE)
    low, high = SLEEVE_RANGE_USD
    console.print(f"Digital-asset sleeve: {money(sleeve.nav_usd)} USD; policy range "
                  f"{money(low, 0)}–{money(high, 0)} USD; invested only once the stability "
                  "gate says GO.")
    if not isinstance(loaded, str):
        console.print(f"Loaded: {loaded.entries_posted} entries posted, "
                      f"{loaded.entries_replayed} already present, {loaded.created_reference} "
                      "reference records created.")
    console.print(f"Workspace: {location}\nEntries (YAML, re-postable): {entries_file}")
    if result is not None:
        s = result.summary
        colour = "green" if result.status == "ok" else "yellow"
        console.print(f"Daily run {result.run_id}: [{colour}]{result.status.upper()}[/] in "
                      f"{s['seconds']:.1f} s")
        for notice in s["notices"]:
            if notice["level"] == "problem":
                console.print(f"[red]PROBLEM[/] ({notice['step']}) {notice['text']}")
        console.print(f"Committee report: {Path(s['folder']) / 'report.html'}")
